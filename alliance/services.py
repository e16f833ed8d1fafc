"""Every write of check-ins, flags, acknowledgements, consultations and instrument imports.

Access is checked (and audited) before each transaction opens, so a refusal's audit row stays.
"""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core import access, audit, nudges, resubmit
from core import selectors as core_selectors
from core import services as core_services
from core.access import Action, Category
from core.exceptions import NotAllowed
from core.models import Role

from . import scoring
from .models import AllianceSettings, CheckIn, Consultation, Flag, Instrument
from .selectors import category_of, flag_category

SHIPPED_FOLDER = Path(__file__).resolve().parent / "instruments"


# --- Instruments -----------------------------------------------------------------------------


@transaction.atomic
def instrument_import(*, definition: dict) -> Instrument:
    """Add an instrument version from its definition (with its licence note). Raises ValidationError.

    A version, once imported, never changes: responses keep pointing at what they were given with.
    """
    try:
        scoring.validate_definition(definition)
    except scoring.DefinitionError as error:
        raise ValidationError(f"This instrument definition cannot be used: {error}") from None
    if Instrument.objects.filter(key=definition["key"], version=definition["version"]).exists():
        raise ValidationError(
            f"{definition['name']} version {definition['version']} is already installed; give the new one a new version."
        )
    return Instrument.objects.create(
        key=definition["key"],
        version=definition["version"],
        name=definition["name"],
        kind=definition["kind"],
        licence_note=definition["licence_note"],
        definition=definition,
    )


def install_shipped() -> None:
    """Install the instruments Concord ships, if missing (the migration does this too)."""
    for path in sorted(SHIPPED_FOLDER.glob("*.json")):
        definition = json.loads(path.read_text())
        if not Instrument.objects.filter(
            key=definition["key"], version=definition["version"]
        ).exists():
            instrument_import(definition=definition)


# --- Check-ins -------------------------------------------------------------------------------


def _relationship_ok(patient, clinician) -> bool:
    return core_selectors.is_on_care_team(patient=patient, clinician=clinician)


def _relationship(patient, instrument: Instrument, clinician):
    """The clinician a check-in of this instrument is about (None when it is about nobody);
    ValidationError for an instrument no longer offered or a clinician not on the team."""
    if not instrument.active:
        raise ValidationError("This questionnaire is no longer offered.")
    if not instrument.about_clinician:
        return None
    if clinician is None or not _relationship_ok(patient, clinician):
        raise ValidationError("Choose one of the clinicians on your care team.")
    return clinician


def _draft_of(patient, instrument: Instrument, clinician) -> CheckIn | None:
    return CheckIn.objects.filter(
        patient=patient, instrument=instrument, clinician=clinician, status=CheckIn.Status.DRAFT
    ).first()


def check_in_start(
    *, actor, patient, instrument: Instrument, clinician=None, answers=None, open_answer=""
) -> CheckIn:
    """Begin (or resume) a check-in; one draft per instrument and relationship. Check-ins are
    the patient's own answers: the policy gives nobody else their creation.

    With `answers` ("save and finish later" on a page that had no draft yet), the draft keeps
    them: a new one is written with them, or the one begun meanwhile (another tab) takes them.
    """
    permit = access.guard(actor, Action.CREATE, category_of(instrument), patient)
    clinician = _relationship(patient, instrument, clinician)
    kept = None
    if answers is not None:
        kept = {
            "answers": _clean_answers(instrument, answers),
            "open_answer": (open_answer or "").strip()[:3000],
        }
    with transaction.atomic():
        # The unique constraint keeps one draft per relationship, but NULLs (no clinician) are
        # distinct to it: two tabs starting the same questionnaire wait here for each other.
        resubmit.hold(patient.pk)
        draft = _draft_of(patient, instrument, clinician)
        if draft is not None:
            if kept is None:
                return draft
            CheckIn.objects.filter(pk=draft.pk).update(**kept)
            for name, value in kept.items():
                setattr(draft, name, value)
            permit.done(draft, action=Action.UPDATE)
            return draft
        try:
            with transaction.atomic():
                check_in = CheckIn.objects.create(
                    patient=patient,
                    author=actor,
                    instrument=instrument,
                    clinician=clinician,
                    **(kept or {}),
                )
                permit.done(check_in)
                return check_in
        except IntegrityError:
            # A second tab started the same check-in at the same moment: resume that one.
            return CheckIn.objects.get(
                patient=patient,
                instrument=instrument,
                clinician=clinician,
                status=CheckIn.Status.DRAFT,
            )


def _clean_answers(instrument: Instrument, answers: dict) -> dict:
    """Keep only valid answers to known items, as integers."""
    definition = instrument.definition
    cleaned = {}
    for item in definition["items"]:
        raw = answers.get(item["id"])
        if raw in (None, ""):
            continue
        try:
            value = int(raw)
        except (TypeError, ValueError):
            continue
        if value in scoring.item_values(definition, item):
            cleaned[item["id"]] = value
    return cleaned


def check_in_save(*, actor, check_in: CheckIn, answers: dict, open_answer: str = "") -> CheckIn:
    """Keep the answers so far (resumable). Submitted check-ins cannot change. Only its
    patient answers a check-in (the record rule `patient_answers`)."""
    permit = access.guard(actor, Action.UPDATE, category_of(check_in.instrument), check_in)
    cleaned = _clean_answers(check_in.instrument, answers)
    with transaction.atomic():
        updated = CheckIn.objects.filter(pk=check_in.pk, status=CheckIn.Status.DRAFT).update(
            answers=cleaned, open_answer=(open_answer or "").strip()[:3000]
        )
        if not updated:
            raise ValidationError("This check-in was already sent; thank you.")
        # What the update wrote is what the check-in now holds: no need to read it back.
        check_in.answers, check_in.open_answer = cleaned, (open_answer or "").strip()[:3000]
        permit.done(check_in)
    return check_in


def unanswered(instrument: Instrument, answers: dict) -> list[dict]:
    """The items of the instrument these answers leave unanswered (or answered out of range)."""
    return scoring.missing_items(instrument.definition, _clean_answers(instrument, answers))


class Incomplete(ValidationError):
    """Some questions are unanswered; carries them so the page can point at each."""

    def __init__(self, items):
        self.items = items
        super().__init__(
            f"Please answer every question before sending: {len(items)} still unanswered."
        )


def check_in_submit(*, actor, check_in: CheckIn, answers: dict, open_answer: str = "") -> CheckIn:
    """Score and send a complete check-in, exactly once; then raise any flag it calls for.

    Raises Incomplete (and stores nothing) when a question is unanswered. A second submit
    of the same check-in returns it unchanged, with `answers_not_sent` true when its answers
    differed from those recorded.
    """
    permit = access.guard(actor, Action.UPDATE, category_of(check_in.instrument), check_in)
    definition = check_in.instrument.definition
    cleaned = _clean_answers(check_in.instrument, answers)
    missing = unanswered(check_in.instrument, answers)
    if missing:
        raise Incomplete(missing)
    result = scoring.score(definition, cleaned)
    sent = _sent_fields(cleaned, open_answer, result)
    with transaction.atomic():
        # The conditional UPDATE is the claim: of two simultaneous submits, one wins.
        claimed = CheckIn.objects.filter(pk=check_in.pk, status=CheckIn.Status.DRAFT).update(**sent)
        if claimed:
            # The claim wrote these: the check-in holds them now, without reading it back.
            for name, value in sent.items():
                setattr(check_in, name, value)
            permit.done(check_in)
            _raise_flags(check_in, result)
        else:
            check_in.refresh_from_db()  # what the other tab (or the first click) sent
    # Sent already (another tab, or a second click): these answers were not recorded. Say so
    # when they differ from what the care team has, so that nobody believes otherwise.
    check_in.answers_not_sent = not claimed and (
        check_in.answers != cleaned or check_in.open_answer != sent["open_answer"]
    )
    return check_in


def _sent_fields(cleaned: dict, open_answer: str, result: scoring.Score) -> dict:
    """What a sent check-in holds: its answers, its score, and when it was sent."""
    return {
        "status": CheckIn.Status.SUBMITTED,
        "answers": cleaned,
        "open_answer": (open_answer or "").strip()[:3000],
        "total": result.total,
        "subscales": result.subscales,
        "band": result.band,
        "submitted_at": timezone.now(),
    }


def check_in_submit_new(
    *, actor, patient, instrument: Instrument, clinician=None, answers: dict, open_answer: str = ""
) -> CheckIn:
    """Start and send a check-in at once: the patient answered every question on one page.
    One transaction writes it, its one audit row and any flag it calls for.

    Raises Incomplete (and stores nothing, audits no write) when a question is unanswered. A
    draft of the same relationship begun meanwhile (another tab) is the one sent, so that one
    check-in stays one. The same answers sent again within two minutes (a double click, a
    browser resending) return the check-in already sent instead of a second one.
    """
    permit = access.guard(actor, Action.CREATE, category_of(instrument), patient)
    clinician = _relationship(patient, instrument, clinician)
    cleaned = _clean_answers(instrument, answers)
    missing = scoring.missing_items(instrument.definition, cleaned)
    if missing:
        raise Incomplete(missing)
    result = scoring.score(instrument.definition, cleaned)
    sent = _sent_fields(cleaned, open_answer, result)
    check_in = CheckIn(patient=patient, author=actor, instrument=instrument, clinician=clinician)
    for name, value in sent.items():
        setattr(check_in, name, value)
    with transaction.atomic():
        earlier = resubmit.earlier_copy(
            check_in, "instrument_id", "clinician_id", "answers", "open_answer", at="submitted_at"
        )
        if earlier is not None:
            earlier.answers_not_sent = False
            return earlier
        draft = _draft_of(patient, instrument, clinician)
        if draft is not None and CheckIn.objects.filter(
            pk=draft.pk, status=CheckIn.Status.DRAFT
        ).update(**sent):
            for name, value in sent.items():
                setattr(draft, name, value)
            check_in = draft
            permit.done(check_in, action=Action.UPDATE)
        else:
            check_in.save()
            permit.done(check_in)
        _raise_flags(check_in, result)
    check_in.answers_not_sent = False
    return check_in


def _previous_totals(check_in: CheckIn) -> list[float]:
    earlier = CheckIn.objects.filter(
        patient=check_in.patient,
        instrument__key=check_in.instrument.key,
        clinician=check_in.clinician,
        status=CheckIn.Status.SUBMITTED,
        submitted_at__lt=check_in.submitted_at,
    ).order_by("submitted_at")
    return list(earlier.values_list("total", flat=True))


def _raise_flags(check_in: CheckIn, result: scoring.Score) -> None:
    """Call inside the submit's transaction. Notifications go out after commit."""
    instrument = check_in.instrument
    if result.safety_alert:
        alert = Flag.objects.create(
            patient=check_in.patient,
            author=check_in.author,
            check_in=check_in,
            kind=Flag.Kind.SAFETY,
            reasons=["safety_item"],
            score=result.total,
        )
        team = [m.clinician for m in core_selectors.care_team_for(patient=check_in.patient)]
        # Essential (see apps.py): no opt-out, no quiet hours; once per clinician.
        _alert(team, "safety_alert", alert)
        if check_in.patient.user_id:
            # The patient's own copy of the crisis help: in the app only, never by e-mail,
            # where a family member or an employer might read it.
            core_services.notification_send(
                recipient=check_in.patient.user,
                kind="crisis_help",
                title="If you need help now: crisis lines and your clinic's after-hours help",
                link=reverse("crisis_help"),
                email=False,
            )
    if instrument.kind != Instrument.Kind.ALLIANCE:
        return
    decision = scoring.flag(instrument.definition, result.total, _previous_totals(check_in))
    if not decision.raised:
        return
    concern = Flag.objects.create(
        patient=check_in.patient,
        author=check_in.author,
        check_in=check_in,
        kind=Flag.Kind.ALLIANCE_CONCERN,
        clinician=check_in.clinician,
        reasons=decision.reasons,
        score=result.total,
        baseline=decision.baseline,
    )
    _alert([check_in.clinician], "alliance_concern", concern)


def _alert(users, kind: str, flag: Flag) -> None:
    """One nudge per clinician, committed with the flag; a worker delivers it after commit,
    never this (the patient's) request."""
    nudges.send(
        kind, subject=flag.uuid, recipient_ids=[u.pk for u in users], patient=flag.patient.uuid
    )


def flag_acknowledge(*, actor, flag: Flag, note: str = "") -> Flag:
    """A clinician has seen the flag (audited); a safety alert stops showing once acknowledged.

    The care team acknowledges; a concern is about one relationship, and only the clinician it
    is about takes it up (the record rule `concern_of_its_clinician`).
    """
    permit = access.guard(actor, Action.ACKNOWLEDGE, flag_category(flag), flag)
    now = timezone.now()
    with transaction.atomic():
        acknowledged = Flag.objects.filter(pk=flag.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=actor,
            acknowledged_at=now,
            acknowledgement_note=(note or "").strip()[:500],
        )
        if acknowledged:
            flag.acknowledged_by, flag.acknowledged_at, flag.acknowledgement_note = (
                actor,
                now,
                (note or "").strip()[:500],
            )
            permit.done(flag)
        else:
            # Someone else acknowledged it first: theirs stands, and this wrote nothing.
            flag.refresh_from_db()
    return flag


# --- Consultations ---------------------------------------------------------------------------


def consultation_create(
    *,
    actor,
    patient,
    prescriber,
    therapist,
    issues: str,
    actions: str,
    held_on=None,
    audience: str = Consultation.Audience.CLINICIANS,
) -> Consultation:
    """Record a prescriber–therapist alliance consultation about one patient, read by the
    patient only when its audience says so."""
    permit = access.guard(actor, Action.CREATE, Category.CONSULTATIONS, patient)
    if not (
        access.may_care_for(prescriber, Role.PRESCRIBER) and _relationship_ok(patient, prescriber)
    ):
        raise ValidationError({"prescriber": "Choose the patient's prescriber."})
    if not (
        access.may_care_for(therapist, Role.THERAPIST) and _relationship_ok(patient, therapist)
    ):
        raise ValidationError({"therapist": "Choose the patient's therapist."})
    if actor.pk not in (prescriber.pk, therapist.pk):
        raise NotAllowed("Only the prescriber or the therapist in it records a consultation.")
    held_on = held_on or timezone.localdate()
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": "A consultation is recorded once it has been held."})
    with transaction.atomic():
        consultation = Consultation(
            patient=patient,
            practice=actor.practice,
            author=actor,
            prescriber=prescriber,
            therapist=therapist,
            issues=(issues or "").strip(),
            actions=(actions or "").strip(),
            held_on=held_on,
            audience=audience,
        )
        consultation.full_clean()
        earlier = resubmit.earlier_copy(
            consultation, "prescriber", "therapist", "issues", "actions", "held_on", "audience"
        )
        if earlier is not None:
            return earlier
        consultation.save()
        permit.done(consultation)
    return consultation


def alliance_settings_update(*, actor, show_alliance_scores_to_patients: bool) -> AllianceSettings:
    """A clinic-wide admin chooses whether patients see their alliance scores (they always see
    their answers). Audited. Raises Http404 (audited) for anyone else."""
    if not access.runs_the_clinic(actor):
        access.refuse_clinic_settings(actor, Action.UPDATE, "alliance settings")
    with transaction.atomic():
        settings = AllianceSettings.objects.select_for_update().first() or AllianceSettings()
        settings.show_alliance_scores_to_patients = show_alliance_scores_to_patients
        settings.full_clean()
        settings.save()
        audit.record(
            actor=actor,
            patient=None,
            category=Category.PRACTICE,
            action=Action.UPDATE,
            object_type="alliance.AllianceSettings",
            object_id=str(settings.pk),
            via="clinic admin: alliance scores "
            + ("shown to patients" if show_alliance_scores_to_patients else "kept from patients"),
        )
    return settings
