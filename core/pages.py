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
"""

from django.contrib import messages
from django.core.exceptions import ValidationError

from .exceptions import Conflict, NotAllowed


class attempt:
    def __init__(self, request, form=None):
        self.request = request
        self.form = form
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
                messages.error(self.request, exc.message)
            return True
        if isinstance(exc, NotAllowed):
            self.error, self.status = exc.message, 403
            messages.error(self.request, exc.message)
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
        messages.error(self.request, self.error)
