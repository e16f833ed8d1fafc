"""Visits: booking, what the patient sees, the visit screen and Today, the reminder the day
before, the calendar file, and the patient's request to move or cancel one."""

import json
import zoneinfo
from datetime import datetime, timedelta

import icalendar
import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from appointments import selectors, services
from appointments.models import Visit
from core import nudges
from core.dates import us_date
from core.models import AuditEvent, NotificationPreference, Nudge
from tests import factories

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def at(day: str, hour: int = 10, minute: int = 0):
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour, minute, tzinfo=NEW_YORK)


def book(prescriber, patient, when, **extra):
    return services.visit_book(
        actor=prescriber,
        patient=patient,
        clinician=extra.pop("clinician", prescriber),
        kind=extra.pop("kind", Visit.Kind.MEDICATION),
        starts_at=when,
        place=extra.pop("place", "Riverside, room 4"),
        **extra,
    )


class TestBooking:
    def test_the_prescriber_books_and_the_patient_sees_it_on_their_home(
        self, client, prescriber, patient, patient_user
    ):
        client.force_login(prescriber)
        soon = timezone.localdate() + timedelta(days=5)
        response = client.post(
            reverse("visit_book", args=[patient.uuid]),
            {
                "kind": "medication",
                "also_with": "",
                "on": soon.isoformat(),
                "at": "14:30",
                "minutes": "30",
                "place": "Riverside, room 4",
                "video_link": "",
            },
        )
        assert response.status_code == 302
        visit = Visit.objects.get(patient=patient)
        assert (visit.clinician, visit.author, visit.status) == (
            prescriber,
            prescriber,
            "booked",
        )
        assert timezone.localtime(visit.starts_at).strftime("%H:%M") == "14:30"
        assert AuditEvent.objects.filter(
            actor=prescriber, category="visits", action="create", outcome="allowed"
        ).exists()
        # The patient is told (a title and a link) and sees it on their home.
        assert Nudge.objects.filter(kind="visit_booked", recipient=patient_user).exists()
        client.force_login(patient_user)
        home = client.get(reverse("patient_home")).content.decode()
        assert "My next visits" in home
        assert "Medication visit with Dr. Priya Raman" in home
        assert reverse("visit_detail", args=[visit.uuid]) in home

    def test_a_patient_cannot_book_and_the_refusal_is_audited(self, client, patient, patient_user):
        client.force_login(patient_user)
        page = client.get(reverse("patient_visits", args=[patient.uuid])).content.decode()
        assert "Book a visit" not in page
        assert "Your clinic books them" in page
        response = client.post(
            reverse("visit_book", args=[patient.uuid]),
            {"clinician": "x", "kind": "medication", "on": "2030-01-01", "at": "10:00"},
        )
        assert response.status_code == 404
        assert not Visit.objects.exists()
        assert AuditEvent.objects.filter(
            actor=patient_user, category="visits", action="create", outcome="denied"
        ).exists()

    def test_a_clinician_off_the_team_sees_no_visit(self, client, prescriber, patient):
        visit = book(prescriber, patient, timezone.now() + timedelta(days=3))
        outsider = factories.PrescriberFactory()
        client.force_login(outsider)
        for name in ("visit_detail", "visit_calendar"):
            assert client.get(reverse(name, args=[visit.uuid])).status_code == 404
        assert client.get(reverse("patient_visits", args=[patient.uuid])).status_code == 404

    def test_a_visit_needs_a_place_or_a_link_and_someone_on_the_team(
        self, client, prescriber, patient
    ):
        client.force_login(prescriber)
        data = {
            "kind": "medication",
            "on": (timezone.localdate() + timedelta(days=2)).isoformat(),
            "at": "10:00",
            "minutes": "30",
            "place": "",
            "video_link": "",
        }
        response = client.post(reverse("visit_book", args=[patient.uuid]), data)
        assert response.status_code == 400
        assert "Say where the visit is, or give the video link." in response.content.decode()
        stranger = factories.PrescriberFactory()
        response = client.post(
            reverse("visit_book", args=[patient.uuid]),
            {**data, "place": "Room 4", "also_with": str(stranger.uuid)},
        )
        assert response.status_code == 400
        assert "Choose someone on the patient&#x27;s care team." in response.content.decode()
        assert not Visit.objects.exists()

    def test_a_clinician_books_their_own_visits_not_a_colleague_s(
        self, prescriber, therapist, patient
    ):
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError, match="Book your own visits"):
            book(therapist, patient, timezone.now() + timedelta(days=3), clinician=prescriber)
        joint = book(
            therapist,
            patient,
            timezone.now() + timedelta(days=3),
            clinician=therapist,
            kind=Visit.Kind.JOINT,
            also_with=prescriber,
        )
        assert (joint.clinician, joint.author, joint.also_with) == (
            therapist,
            therapist,
            prescriber,
        )

    def test_the_visit_of_one_practice_crosses_to_another_only_under_a_release(
        self, prescriber, therapist, patient
    ):
        visit = book(prescriber, patient, timezone.now() + timedelta(days=3))
        assert selectors.visit_list(actor=therapist, patient=patient) == []
        assert [v.pk for v in selectors.visit_list(actor=prescriber, patient=patient)] == [visit.pk]


class TestWhatBecameOfIt:
    def test_attended_or_missed_only_once_it_began_and_then_never_changed(
        self, prescriber, patient
    ):
        from django.core.exceptions import ValidationError

        visit = book(prescriber, patient, timezone.now() + timedelta(days=1))
        with pytest.raises(ValidationError, match="not begun"):
            services.visit_record(actor=prescriber, visit=visit, status="attended")
        Visit.objects.filter(pk=visit.pk).update(starts_at=timezone.now() - timedelta(hours=2))
        visit.refresh_from_db()
        assert visit.needs_recording
        services.visit_record(actor=prescriber, visit=visit, status="missed")
        with pytest.raises(ValidationError, match="missed already"):
            services.visit_record(actor=prescriber, visit=visit, status="attended")

    def test_the_patient_cannot_record_a_visit(self, client, prescriber, patient, patient_user):
        visit = book(prescriber, patient, timezone.now() - timedelta(hours=2))
        client.force_login(patient_user)
        response = client.post(reverse("visit_record", args=[visit.uuid]), {"status": "attended"})
        assert response.status_code == 404
        visit.refresh_from_db()
        assert visit.status == "booked"


class TestOverdue:
    """Every 4 weeks from the last attended visit on 2 Nov: due on 30 Nov."""

    @pytest.fixture
    def seen_on_2_november(self, prescriber, patient):
        with time_machine.travel(at("2026-11-02", 9), tick=False):
            visit = book(prescriber, patient, at("2026-11-02", 8))
            services.visit_record(actor=prescriber, visit=visit, status="attended")
            services.cadence_set(actor=prescriber, patient=patient, every_weeks=4)
        return visit

    @pytest.mark.parametrize(
        "day, listed, says",
        [
            ("2026-11-29", False, ""),
            ("2026-11-30", True, "due today"),
            ("2026-12-01", True, "1 day overdue"),
        ],
    )
    def test_today_lists_a_patient_from_the_day_the_cadence_comes_round(
        self, client, prescriber, patient, seen_on_2_november, day, listed, says
    ):
        with time_machine.travel(at(day, 12), tick=False):
            overdue = selectors.overdue_patients(actor=prescriber)
            assert [o.patient for o in overdue] == ([patient] if listed else [])
            client.force_login(prescriber)
            page = client.get(reverse("today")).content.decode()
        section = page.split('id="visits-due-h"')[1].split("</section>")[0]
        assert (patient.display_name in section) is listed
        if says:
            assert says in section

    def test_a_visit_booked_takes_the_patient_off_the_list_and_a_missed_one_does_not(
        self, prescriber, patient, seen_on_2_november
    ):
        with time_machine.travel(at("2026-12-01", 12), tick=False):
            later = book(prescriber, patient, at("2026-12-03"))
            assert selectors.overdue_patients(actor=prescriber) == []
        with time_machine.travel(at("2026-12-04", 12), tick=False):
            services.visit_record(actor=prescriber, visit=later, status="missed")
            assert [o.patient for o in selectors.overdue_patients(actor=prescriber)] == [patient]

    def test_someone_else_s_cadence_is_not_on_my_today(
        self, therapist, patient, seen_on_2_november
    ):
        with time_machine.travel(at("2026-12-01", 12), tick=False):
            assert selectors.overdue_patients(actor=therapist) == []


class TestVisitScreen:
    def test_it_shows_the_last_and_next_visit_and_offers_what_happened_since_the_last(
        self, client, prescriber, patient, patient_user
    ):
        from prescribing import services as rx

        now = timezone.now()
        with time_machine.travel(now - timedelta(days=50)):
            last = book(prescriber, patient, timezone.now() + timedelta(hours=1))
        with time_machine.travel(now - timedelta(days=49)):
            services.visit_record(actor=prescriber, visit=last, status="attended")
            med = rx.medication_start(
                actor=prescriber,
                patient=patient,
                drug_name="Sertraline",
                strength="50 mg",
                form="tablet",
                dose="1",
                directions="daily",
                reason="r",
                **factories.WHOSE_NEED,
            )
        with time_machine.travel(now - timedelta(days=40)):
            rx.observation_create(
                actor=patient_user, medication=med, kind="response", text="Sleeping better"
            )
        missed = book(prescriber, patient, timezone.now() - timedelta(days=3))
        services.visit_record(actor=prescriber, visit=missed, status="missed")
        nxt = book(prescriber, patient, timezone.now() + timedelta(days=4))
        client.force_login(prescriber)
        url = reverse("visit", args=[patient.uuid])
        # A first look counts the last 30 days as new: the observation is older.
        page = client.get(url).content.decode()
        assert f"Last visit {us_date(last.starts_at)}" in page
        assert reverse("visit_detail", args=[nxt.uuid]) in page
        assert "Missed visit" in page and "none attended since" in page
        assert "What happened since the last visit" in page
        assert "Sleeping better" not in page
        page = client.get(url + "?since=last-visit").content.decode()
        assert "changes since the last visit" in page
        assert "Sleeping better" in page

    def test_visits_add_at_most_two_queries_to_the_visit_screen(
        self, client, prescriber, patient, django_assert_max_num_queries
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client.force_login(prescriber)
        url = reverse("visit", args=[patient.uuid])
        client.get(url)
        with CaptureQueriesContext(connection) as without:
            client.get(url)
        book(prescriber, patient, timezone.now() + timedelta(days=1))
        with CaptureQueriesContext(connection) as one:
            client.get(url)
        for days in range(-27, 60, 3):
            visit = book(prescriber, patient, timezone.now() + timedelta(days=days, hours=1))
            if days < 0:
                services.visit_record(actor=prescriber, visit=visit, status="attended")
        services.cadence_set(actor=prescriber, patient=patient, every_weeks=4)
        with CaptureQueriesContext(connection) as with_visits:
            client.get(url)
        # Visits cost the screen their two queries (run either way) and the audit row of
        # what they showed (written with the request's other rows); forty ask no more than one.
        assert len(one) == len(without)
        assert len(with_visits) == len(one)
        visits = [q["sql"] for q in with_visits.captured_queries if "appointments_" in q["sql"]]
        assert len(visits) <= 2, visits
        with django_assert_max_num_queries(38):
            client.get(url + "?since=last-visit")


class TestReminder:
    @pytest.fixture
    def tomorrow_at_ten(self, prescriber, patient):
        with time_machine.travel(at("2026-12-07", 8), tick=False):
            return book(prescriber, patient, at("2026-12-08", 10))

    def test_sent_once_the_day_before_from_nine_in_the_patient_s_zone(
        self, tomorrow_at_ten, patient_user
    ):
        with time_machine.travel(at("2026-12-07", 8, 45), tick=False):
            nudges.sweep()
            assert not Nudge.objects.filter(kind="visit_tomorrow").exists()
        for minute in (0, 15, 30):
            with time_machine.travel(at("2026-12-07", 9, minute), tick=False):
                nudges.sweep()
                nudges.deliver()
        with time_machine.travel(at("2026-12-08", 9), tick=False):  # the day itself
            nudges.sweep()
            nudges.deliver()
        sent = Nudge.objects.filter(kind="visit_tomorrow")
        assert list(sent.values_list("recipient", "status")) == [(patient_user.pk, "sent")]
        reminders = [m for m in mail.outbox if "visit tomorrow" in m.subject]
        assert len(reminders) == 1
        assert str(tomorrow_at_ten.uuid) in reminders[0].body  # a link, nothing else
        assert "Medication" not in reminders[0].body and "Raman" not in reminders[0].body

    def test_quiet_hours_hold_it_and_turning_visits_off_keeps_it_in_concord(
        self, tomorrow_at_ten, patient_user
    ):
        NotificationPreference.objects.create(
            user=patient_user, quiet_from="08:00", quiet_until="12:00", email_off=["visits"]
        )
        reminder = Nudge.objects.filter(kind="visit_tomorrow")
        with time_machine.travel(at("2026-12-07", 9, 5), tick=False):
            nudges.sweep()
            nudges.deliver()
            assert reminder.get().status == "pending"
        with time_machine.travel(at("2026-12-07", 12, 1), tick=False):
            nudges.deliver()
            assert reminder.get().status == "sent"
        assert patient_user.notifications.filter(kind="visit_tomorrow").count() == 1
        assert not [m for m in mail.outbox if "visit tomorrow" in m.subject]

    def test_a_cancelled_visit_is_not_reminded(self, tomorrow_at_ten, prescriber):
        with time_machine.travel(at("2026-12-07", 8, 50), tick=False):
            services.visit_record(actor=prescriber, visit=tomorrow_at_ten, status="cancelled")
        with time_machine.travel(at("2026-12-07", 9, 30), tick=False):
            nudges.sweep()
        assert not Nudge.objects.filter(kind="visit_tomorrow").exists()


CLINICAL_WORDS = ["medication", "therapy", "prescri", "psychiat", "raman", "brooks", "daniel"]


class TestCalendarFile:
    def test_it_parses_and_says_only_appointment_time_and_place(
        self, client, prescriber, patient, patient_user
    ):
        visit = book(prescriber, patient, at("2030-03-05", 14, 30))
        client.force_login(patient_user)
        response = client.get(reverse("visit_calendar", args=[visit.uuid]))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/calendar")
        calendar = icalendar.Calendar.from_ical(response.content)
        (event,) = calendar.walk("VEVENT")
        assert str(event["summary"]) == "Appointment"
        assert event.decoded("dtstart") == visit.starts_at
        assert event.decoded("dtend") == visit.starts_at + timedelta(minutes=30)
        assert str(event["location"]) == "Riverside, room 4"
        assert str(event["uid"]) == f"{visit.uuid}@concord"
        text = response.content.decode().lower()
        for word in CLINICAL_WORDS:
            assert word not in text, word
        assert AuditEvent.objects.filter(
            actor=patient_user, category="visits", action="export", outcome="allowed"
        ).exists()


class TestMoveOrCancel:
    def test_the_patient_asks_to_move_and_the_clinician_confirms_a_new_time(
        self, client, prescriber, patient, patient_user
    ):
        visit = book(prescriber, patient, timezone.now() + timedelta(days=3))
        client.force_login(patient_user)
        response = client.post(
            reverse("visit_change_ask", args=[visit.uuid]),
            {"change": "move", "note": "Any morning next week"},
            follow=True,
        )
        page = response.content.decode()
        assert "stays as booked until your clinic confirms" in page
        visit.refresh_from_db()
        assert (visit.change_asked, visit.status) == ("move", "booked")
        assert Nudge.objects.filter(kind="visit_change_asked", recipient=prescriber).exists()
        # The prescriber sees it waiting on Today, and moves it.
        client.force_login(prescriber)
        today = client.get(reverse("today")).content.decode()
        assert "asked to move the visit" in today
        new_day = timezone.localdate() + timedelta(days=9)
        response = client.post(
            reverse("visit_change_confirm", args=[visit.uuid]),
            {"answer": "confirm", "on": new_day.isoformat(), "at": "09:30"},
        )
        assert response.status_code == 302
        visit.refresh_from_db()
        assert visit.change_asked == ""
        assert timezone.localtime(visit.starts_at).date() == new_day
        assert Nudge.objects.filter(kind="visit_changed", recipient=patient_user).exists()

    def test_a_cancellation_asked_and_confirmed_says_the_patient_cancelled(
        self, client, prescriber, patient, patient_user
    ):
        visit = book(prescriber, patient, timezone.now() + timedelta(days=3))
        services.visit_change_ask(actor=patient_user, visit=visit, change="cancel")
        services.visit_change_confirm(actor=prescriber, visit=visit)
        visit.refresh_from_db()
        assert (visit.status, visit.cancelled_by) == ("cancelled", patient_user)
        client.force_login(patient_user)
        page = client.get(reverse("visit_detail", args=[visit.uuid])).content.decode()
        assert "Cancelled by you" in page

    def test_only_the_patient_asks_and_only_the_team_confirms(
        self, client, prescriber, therapist, patient, patient_user
    ):
        visit = book(prescriber, patient, timezone.now() + timedelta(days=3))
        client.force_login(prescriber)
        response = client.post(
            reverse("visit_change_ask", args=[visit.uuid]), {"change": "cancel", "note": ""}
        )
        assert response.status_code == 404
        services.visit_change_ask(actor=patient_user, visit=visit, change="cancel")
        client.force_login(patient_user)
        response = client.post(
            reverse("visit_change_confirm", args=[visit.uuid]), {"answer": "confirm"}
        )
        assert response.status_code == 404
        visit.refresh_from_db()
        assert (visit.status, visit.change_asked) == ("booked", "cancel")

    def test_a_move_needs_a_time_that_suits_and_bad_input_changes_nothing(
        self, client, prescriber, patient, patient_user
    ):
        visit = book(prescriber, patient, timezone.now() + timedelta(days=3))
        client.force_login(patient_user)
        response = client.post(
            reverse("visit_change_ask", args=[visit.uuid]), {"change": "move", "note": " "}
        )
        assert response.status_code == 400
        assert "Say which days or times would suit you." in response.content.decode()
        visit.refresh_from_db()
        assert visit.change_asked == ""


class TestApiAndFhir:
    def test_the_team_books_through_the_api_and_the_patient_asks_to_move(
        self, client, prescriber, patient, patient_user
    ):
        client.force_login(prescriber)
        url = reverse("api_patient_visits", args=[patient.uuid])
        response = client.post(
            url,
            {
                "kind": "therapy",
                "starts_at": "2030-03-05T14:30:00-05:00",
                "video_link": "https://video.example.test/room/7",
            },
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        visit = response.json()
        assert (visit["status"], visit["minutes"], visit["clinician"]) == (
            "booked",
            30,
            "Dr. Priya Raman",
        )
        client.force_login(patient_user)
        refused = client.post(
            url,
            {"kind": "therapy", "starts_at": visit["starts_at"]},
            content_type="application/json",
        )
        assert refused.status_code == 404
        listed = client.get(url).json()
        assert [v["uuid"] for v in listed["results"]] == [visit["uuid"]]
        asked = client.post(
            reverse("api_visit_change", args=[visit["uuid"]]),
            {"change": "move", "note": "A week later"},
            content_type="application/json",
        )
        assert asked.status_code == 200
        assert asked.json()["change_asked"] == "move"

    def test_the_fhir_export_carries_each_visit_as_an_appointment(
        self, client, prescriber, patient, patient_user
    ):
        from fhir.resources.R4B.bundle import Bundle

        attended = book(prescriber, patient, timezone.now() - timedelta(days=7))
        services.visit_record(actor=prescriber, visit=attended, status="attended")
        missed = book(prescriber, patient, timezone.now() - timedelta(days=2))
        services.visit_record(actor=prescriber, visit=missed, status="missed")
        cancelled = book(prescriber, patient, timezone.now() + timedelta(days=2))
        services.visit_change_ask(actor=patient_user, visit=cancelled, change="cancel")
        services.visit_change_confirm(actor=prescriber, visit=cancelled)
        booked = book(prescriber, patient, timezone.now() + timedelta(days=9))
        client.force_login(patient_user)
        response = client.get(reverse("fhir_export", args=[patient.uuid]))
        bundle = Bundle.model_validate(json.loads(response.content))
        appointments = {
            e.resource.id: e.resource
            for e in bundle.entry
            if e.resource.__resource_type__ == "Appointment"
        }
        assert {k: a.status for k, a in appointments.items()} == {
            str(attended.uuid): "fulfilled",
            str(missed.uuid): "noshow",
            str(cancelled.uuid): "cancelled",
            str(booked.uuid): "booked",
        }
        assert appointments[str(cancelled.uuid)].cancelationReason.text == (
            "Cancelled by the patient"
        )
        assert AuditEvent.objects.filter(
            actor=patient_user, category="visits", action="export", object_type="fhir.Bundle"
        ).exists()
