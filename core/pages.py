"""One way for a page to turn a service's error into what the person sees.

    with pages.attempt(request, form) as result:
        services.goal_update(...)
    if result.ok:
        return redirect(...)
    return render(..., status=result.status)

A conflict (someone else changed it) keeps what the person typed and gives 409 with the
message in `result.conflict`, for the page to show beside the record as it is now; a refusal
the person may know about (NotAllowed) gives 403 with the reason; bad input gives 400, its
messages on the form's fields (or on the page, without a form). Nothing else is caught.
`quiet=True`: the page shows `result.message` where it belongs (a goal's card), not among the
page's messages; with a form, a refusal is said on the form, beside what was typed.

`versioned_edit` below is the whole of a page that edits one record guarded by its version.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import render

from .exceptions import Conflict, NotAllowed


class attempt:
    def __init__(self, request, form=None, *, quiet=False):
        self.request = request
        self.form = form
        self.quiet = quiet
        self.ok = False
        self.status = 200
        self.conflict: str | None = None
        self.error: str | None = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None:
            self.ok = True
            return False
        if isinstance(exc, Conflict):
            self.conflict, self.status = exc.message, 409
            if self.form is None:
                self._say(exc.message)
            return True
        if isinstance(exc, NotAllowed):
            self.error, self.status = exc.message, 403
            if self.quiet and self.form is not None:
                self.form.add_error(None, exc.message)  # beside what was typed
            else:
                self._say(exc.message)
            return True
        if isinstance(exc, ValidationError):
            self.status = 400
            self._show(exc)
            return True
        return False

    def _show(self, error: ValidationError) -> None:
        form = self.form
        if form is not None and hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                target = field if field in form.fields else None
                for message in (m for e in errors for m in e.messages):
                    form.add_error(target, message)
            return
        if form is not None:
            form.add_error(None, error.messages)
            return
        self.error = (
            error.messages[0] if error.messages else "Something was wrong; nothing was saved."
        )
        self._say(self.error)

    def _say(self, message: str) -> None:
        if not self.quiet:
            messages.error(self.request, message)

    @property
    def message(self) -> str:
        """What went wrong, in one line: the conflict, the refusal or the form's own errors."""
        if self.conflict is not None:
            return self.conflict
        if self.error is not None:
            return self.error
        if self.form is not None:
            return " ".join(self.form.non_field_errors())
        return ""


def versioned_edit(
    request, record, *, form, save, success, template, context, reread=None, warnings=()
):
    """The page that edits one record guarded by its `version` (a goal, a note, the summary,
    a medicine's purpose): the form, the save through the service, and every way it can end.

        return pages.versioned_edit(
            request,
            goal,
            form=lambda data: GoalForm(data, initial=...),
            save=lambda data: services.goal_update(actor=..., goal=goal, **data),
            success=lambda saved: redirect(...),
            template="stories/goal_edit.html",
            context=lambda goal: {"goal": goal, ...},
        )

    - `record`: what is edited, as the page loaded it through a door (None: not written yet).
    - `form(data)`: the form bound to `data` (None when the page is first shown), its initial
      values taken from the record.
    - `save(cleaned_data)`: the service's write; what it returns goes to `success(saved)`, the
      response after a save (a redirect, with its message).
    - `context(record)`: what the template shows beside `form` and `conflict`.

    A GET shows the form (200); a form that does not validate is shown again (400). Around the
    save, `attempt` maps the service's errors: a refusal is 403 with its reason, bad input 400
    on the form's fields, and a conflict (someone else saved first) 409 with `conflict` its
    message, the record re-read as it is now (`reread()`, by default `refresh_from_db`) and the
    form bound again to what the person typed against the version now current, so that nothing
    they wrote is lost and sending it again saves it. `warnings`: exception classes the page
    explains in its own way rather than as form errors (the summary's clinical terms): 400,
    nothing saved, the exception in the template as `warning`.
    """
    data = request.POST if request.method == "POST" else None
    bound = form(data)
    result = attempt(request, bound)
    warning = None
    if data is not None and not bound.is_valid():
        result.status = 400
    elif data is not None:
        with result:
            try:
                saved = save(bound.cleaned_data)
            except warnings as exc:
                warning = exc
        if warning is not None:
            result.ok, result.status = False, 400
        if result.ok:
            return success(saved)
        if result.conflict is not None:
            record = reread() if reread is not None else _refreshed(record)
            again = data.copy()
            again["version"] = getattr(record, "version", 0)
            bound = form(again)
            bound.is_valid()
    page = {"form": bound, "conflict": result.conflict, "warning": warning, **context(record)}
    return render(request, template, page, status=result.status)


def _refreshed(record):
    record.refresh_from_db()
    return record
