"""Pages of visits: a patient's visits (booking and the cadence, for the care team), one visit
(what became of it, the patient's request to move or cancel it, the clinic's answer) and its
calendar file. The visit screen and Today, which show visits beside everything else, are
clinic's."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core import access, pages
from core.access import Action, Category

from . import calendar, selectors, services
from .forms import NOBODY, BookForm, CadenceForm, ChangeAskForm, ConfirmForm, RecordForm


def _visits_context(request, patient, **extra):
    team = selectors.bookable_clinicians(patient=patient)
    mine = access.is_self(request.user, patient)
    around = selectors.visits_around(actor=request.user, patient=patient)
    context = {
        "patient": patient,
        "mine": mine,
        "visits": selectors.visit_list(actor=request.user, patient=patient),
        "around": around,
        "may_book": access.can(request.user, Action.CREATE, Category.VISITS, patient),
        "book_form": BookForm(team=team),
        "cadence_form": CadenceForm(
            initial={"every_weeks": around.cadence.every_weeks if around.cadence else ""}
        ),
        "nav": "home" if mine else "patients",
        "section": "visits",
        "clinic_now": timezone.now(),  # for the clinic's time zone, named beside the times
    }
    context.update(extra)
    return context


@login_required
@require_GET
@access.patient_view(Category.VISITS, Action.LIST)
def patient_visits(request, patient):
    """A patient's visits, upcoming first; for the care team, booking and the cadence."""
    return render(request, "appointments/patient_visits.html", _visits_context(request, patient))


@login_required
@require_POST
@access.patient_view(Category.VISITS, Action.CREATE)
def visit_book(request, patient):
    """Book a visit with a clinician of the care team (the service guards and audits it)."""
    team = selectors.bookable_clinicians(patient=patient)
    form = BookForm(request.POST, team=team)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        by_uuid = {str(m.clinician.uuid): m.clinician for m in team}
        with pages.attempt(request, form, quiet=True) as result:
            visit = services.visit_book(
                actor=request.user,
                patient=patient,
                clinician=request.user,
                also_with=by_uuid.get(data["also_with"]) if data["also_with"] != NOBODY else None,
                kind=data["kind"],
                starts_at=form.starts_at(),
                minutes=data["minutes"],
                place=data["place"],
                video_link=data["video_link"],
            )
        if result.ok:
            messages.success(request, "Booked. The patient has been told.")
            return redirect("visit_detail", visit_uuid=visit.uuid)
        status = result.status
    context = _visits_context(request, patient, book_form=form, booking=True)
    return render(request, "appointments/patient_visits.html", context, status=status)


@login_required
@require_POST
@access.patient_view(Category.VISITS, Action.UPDATE)
def cadence_set(request, patient):
    """How often the clinician wants to see the patient."""
    form = CadenceForm(request.POST)
    status = 400
    if form.is_valid():
        with pages.attempt(request, form, quiet=True) as result:
            services.cadence_set(
                actor=request.user, patient=patient, every_weeks=form.cleaned_data["every_weeks"]
            )
        if result.ok:
            messages.success(request, "Saved.")
            return redirect("patient_visits", patient_uuid=patient.uuid)
        status = result.status
    context = _visits_context(request, patient, cadence_form=form)
    return render(request, "appointments/patient_visits.html", context, status=status)


def _visit_context(request, visit, **extra):
    return {
        "visit": visit,
        "patient": visit.patient,
        "mine": access.is_self(request.user, visit.patient),
        "may_ask": access.can(request.user, Action.ANSWER, Category.VISITS, visit),
        "may_update": access.can(request.user, Action.UPDATE, Category.VISITS, visit),
        "ask_form": ChangeAskForm(),
        "confirm_form": ConfirmForm(),
        "nav": "home" if access.is_self(request.user, visit.patient) else "patients",
        **extra,
    }


@login_required
@require_GET
@access.record_view(selectors.VISITS, Category.VISITS, Action.READ, uuid="visit_uuid")
def visit_detail(request, visit):
    """One visit: when, where, with whom, what became of it, and what may be done now."""
    return render(request, "appointments/visit_detail.html", _visit_context(request, visit))


@login_required
@require_GET
@access.record_view(selectors.VISITS, Category.VISITS, Action.EXPORT, uuid="visit_uuid")
def visit_calendar(request, visit):
    """The visit as a calendar file: a time, a place and a link; nothing clinical."""
    response = HttpResponse(calendar.visit_ics(visit), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response


@login_required
@require_POST
@access.record_view(selectors.VISITS, Category.VISITS, Action.UPDATE, uuid="visit_uuid")
def visit_record(request, visit):
    """Say whether the patient came (or cancel the visit, for the clinic)."""
    form = RecordForm(request.POST)
    status = 400
    if form.is_valid():
        with pages.attempt(request, form, quiet=True) as result:
            done = services.visit_record(
                actor=request.user, visit=visit, status=form.cleaned_data["status"]
            )
        if result.ok:
            messages.success(request, f"Recorded: {done.get_status_display().lower()}.")
            return redirect("visit_detail", visit_uuid=visit.uuid)
        status = result.status
    context = _visit_context(request, visit, record_form=form)
    return render(request, "appointments/visit_detail.html", context, status=status)


@login_required
@require_POST
@access.record_view(selectors.VISITS, Category.VISITS, Action.ANSWER, uuid="visit_uuid")
def visit_change_ask(request, visit):
    """The patient asks to move or cancel a visit; the clinic confirms."""
    form = ChangeAskForm(request.POST)
    status = 400
    if form.is_valid():
        with pages.attempt(request, form, quiet=True) as result:
            services.visit_change_ask(
                actor=request.user,
                visit=visit,
                change=form.cleaned_data["change"],
                note=form.cleaned_data["note"],
            )
        if result.ok:
            messages.success(
                request, "Sent to your clinic. Your visit stays as booked until they confirm."
            )
            return redirect("visit_detail", visit_uuid=visit.uuid)
        status = result.status
    context = _visit_context(request, visit, ask_form=form)
    return render(request, "appointments/visit_detail.html", context, status=status)


@login_required
@require_POST
@access.record_view(selectors.VISITS, Category.VISITS, Action.UPDATE, uuid="visit_uuid")
def visit_change_confirm(request, visit):
    """The clinic answers the patient's request to move or cancel the visit."""
    form = ConfirmForm(request.POST)
    status = 400
    if form.is_valid():
        with pages.attempt(request, form, quiet=True) as result:
            services.visit_change_confirm(
                actor=request.user,
                visit=visit,
                starts_at=form.starts_at(),
                decline=form.cleaned_data["answer"] == "decline",
            )
        if result.ok:
            messages.success(request, "Answered. The patient has been told.")
            return redirect("visit_detail", visit_uuid=visit.uuid)
        status = result.status
    context = _visit_context(request, visit, confirm_form=form)
    return render(request, "appointments/visit_detail.html", context, status=status)
