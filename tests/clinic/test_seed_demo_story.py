"""The demo reads as four months of care, not one day: every record on its own date, a story in
the check-ins (a dip with Dr. Raman, a consultation, the repair), and an audit trail that still
verifies. Loading it twice adds nothing; loading it takes seconds."""

import io
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from alliance.models import CheckIn, Consultation, Flag
from core.models import AuditEvent, Patient
from prescribing.models import DecisionRecord, Fill, Observation, RefillRequest
from stories.models import GoalRating, NarrativeNote

pytestmark = pytest.mark.django_db

STORY = (
    CheckIn,
    Flag,
    Consultation,
    DecisionRecord,
    Fill,
    Observation,
    RefillRequest,
    GoalRating,
    NarrativeNote,
    AuditEvent,
)


@pytest.fixture
def seeded():
    started = time.monotonic()
    call_command("seed_demo", stdout=io.StringIO())
    elapsed = time.monotonic() - started
    return Patient.objects.get(user__email="patient@example.org"), elapsed


def days_ago(moment) -> int:
    day = moment if not hasattr(moment, "tzinfo") else timezone.localtime(moment).date()
    return (timezone.localdate() - day).days


def test_the_story_spans_four_months_on_real_dates(seeded):
    dan, _ = seeded
    submitted = [days_ago(c.submitted_at) for c in CheckIn.objects.filter(patient=dan)]
    assert max(submitted) >= 115 and min(submitted) <= 7
    # Weekly with Jordan: about seventeen check-ins, a week apart.
    weekly = sorted(
        days_ago(c.submitted_at)
        for c in CheckIn.objects.filter(patient=dan, clinician__email="therapist@example.org")
    )
    assert len(weekly) >= 16
    assert {b - a for a, b in zip(weekly, weekly[1:], strict=False)} == {7}
    decisions = sorted(
        (days_ago(d.decided_on), d.kind, d.medication.drug_name)
        for d in DecisionRecord.objects.filter(patient=dan)
    )
    assert decisions == [
        (14, "dose_change", "Prazosin"),
        (44, "start", "Prazosin"),
        (62, "dose_change", "Sertraline"),
        (120, "start", "Sertraline"),
    ]
    fills = sorted(days_ago(f.filled_on) for f in Fill.objects.filter(prescription__patient=dan))
    assert fills == [4, 14, 33, 44, 62, 91, 120]
    for fill in Fill.objects.filter(prescription__patient=dan):
        assert timezone.localtime(fill.created_at).date() == fill.filled_on
    requests = RefillRequest.objects.filter(patient=dan).order_by("requested_at")
    assert [days_ago(r.requested_at) for r in requests] == [36, 7]
    assert all(r.status == "sent" and r.sent_at > r.requested_at for r in requests)
    ratings = [days_ago(r.rated_at) for r in GoalRating.objects.filter(patient=dan)]
    assert max(ratings) >= 98 and min(ratings) <= 7
    notes = [days_ago(n.created_at) for n in NarrativeNote.objects.filter(patient=dan)]
    assert max(notes) >= 100
    observed = [days_ago(o.created_at) for o in Observation.objects.filter(patient=dan)]
    assert sorted(observed) == sorted(
        days_ago(o.observed_on) for o in Observation.objects.filter(patient=dan)
    )


def test_the_alliance_dips_is_talked_through_and_recovers(seeded):
    dan, _ = seeded
    with_priya = list(
        CheckIn.objects.filter(
            patient=dan,
            clinician__email="prescriber@example.org",
            instrument__key="concord-alliance",
        ).order_by("submitted_at")
    )
    totals = [c.total for c in with_priya]
    lowest = totals.index(min(totals))
    assert 0 < lowest < len(totals) - 1
    assert min(totals) < 6 <= totals[0] and totals[-1] >= totals[0]
    flags = list(Flag.objects.filter(patient=dan, clinician__email="prescriber@example.org"))
    consultation = Consultation.objects.get(patient=dan)
    assert consultation.audience == "clinicians"
    dip_day = timezone.localtime(with_priya[lowest].submitted_at).date()
    repair_day = timezone.localtime(with_priya[lowest + 1].submitted_at).date()
    assert dip_day < consultation.held_on < repair_day
    # The concerns were raised by the dipping check-ins, and taken up on the consultation day.
    assert with_priya[lowest].submitted_at in {f.created_at for f in flags}
    for flag in flags:
        assert flag.check_in.submitted_at == flag.created_at
        assert timezone.localtime(flag.acknowledged_at).date() == consultation.held_on


def test_loading_twice_changes_nothing_quickly_and_the_trail_verifies(seeded):
    _, elapsed = seeded
    before = {model.__name__: model.objects.count() for model in STORY}
    call_command("seed_demo", stdout=io.StringIO())
    assert {model.__name__: model.objects.count() for model in STORY} == before
    assert elapsed < 20  # seconds; a few on a developer's machine
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "intact" in out.getvalue()


def test_decisions_keep_the_moment_they_were_written(seeded):
    """Decisions are append-only: their day is the visit's, written so from the start; the
    moment they were entered stays true (today), as the audit trail says."""
    dan, _ = seeded
    for decision in DecisionRecord.objects.filter(patient=dan):
        assert timezone.localtime(decision.created_at).date() == timezone.localdate()
        assert decision.decided_on < timezone.localdate() - timedelta(days=7)


def test_every_demo_patient_has_months_of_fills_not_one_day(seeded):
    # The README's six (Dr. Okafor's imported caseload has medicines, not a pharmacy's fills).
    from clinic.management.commands.seed_demo import PATIENTS

    named = Q()
    for given, family, *_ in PATIENTS:
        named |= Q(given_name=given, family_name=family)
    for patient in Patient.objects.filter(named).exclude(user__email="patient@example.org"):
        fills = sorted(
            days_ago(f.filled_on) for f in Fill.objects.filter(prescription__patient=patient)
        )
        assert len(fills) >= 3, patient
        assert fills[-1] >= 80 and fills[0] <= 30, patient
        started = DecisionRecord.objects.get(patient=patient, kind="start")
        assert days_ago(started.decided_on) == fills[-1]


def test_the_demo_caseload_lists_a_patient_not_on_track_first(seeded, client):
    """Dr. Raman's caseload starts with Tom: fourteen weeks of PHQ-9s that never moved by a
    reliable amount. Dan, whose PHQ-9 fell from 17 to 7, is on track and has responded."""
    from django.urls import reverse

    from core.models import User

    client.force_login(User.objects.get(email="prescriber@example.org"))
    rows = client.get(reverse("caseload")).context["load"].rows
    assert rows[0].patient.preferred_name == "Tom"
    assert rows[0].reasons == ["no_reliable_improvement"]
    dan = next(r for r in rows if r.patient.preferred_name == "Dan")
    assert not dan.reasons
    assert dan.phq9.change.reliable_improvement and dan.phq9.change.response
