"""Canary: a patient whose every detail is a unique word, taken through a week of real use by
everyone around them, bad input and refusals included. None of those words may reach a log
line, an e-mail (subject or body) or a URL (a link, a form's action, a redirect)."""

import logging
import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from core.models import Patient
from prescribing import services as rx
from referrals import services as referrals
from stories import services as stories
from tests import factories
from tests.proof.figures import report

pytestmark = pytest.mark.django_db

CANARIES = [
    "Zqcanarygiven",
    "Zqcanaryfamily",
    "Zqcanaryfamily@",  # the patient's e-mail address
    "Zqcanarydrug",
    "Zqcanarygoal",
    "Zqcanarynote",
    "Zqcanarypurpose",
    "Zqcanarysubject",
    "Zqcanarymessage",
    "Zqcanaryvisitnote",
    "1979-02-03",
]
# A calendar file leaves Concord for phones and shared calendars: beyond the patient's
# details, it names no kind of visit, no clinician and no medicine.
CLINICAL_WORDS = [
    "Zqcanarydrug",
    "medication",
    "therapy",
    "therapist",
    "prescri",
    "Raman",
    "Jordan",
]


class Everything(logging.Handler):
    """Keeps every record, formatted with its traceback, from every logger."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        if record.name.split(".")[0] in ("factory", "faker"):  # the tests' own tooling
            return
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text}")


@pytest.fixture
def every_log_line(settings):
    """What the log would hold with LOG_LEVEL=DEBUG: the root at DEBUG, the levels our
    settings pin kept, a handler on every logger (some do not propagate)."""
    handler = Everything()
    root = logging.getLogger()
    loggers = [root] + [logging.getLogger(name) for name in list(logging.Logger.manager.loggerDict)]
    saved_root = root.level
    root.setLevel(logging.DEBUG)
    for lg in loggers:
        lg.addHandler(handler)
    yield handler.lines
    for lg in loggers:
        lg.removeHandler(handler)
    root.setLevel(saved_root)


def _urls(response) -> list[str]:
    urls = [response.get("Location", "")]
    if "html" in response.get("Content-Type", ""):
        urls += re.findall(r'(?:href|src|action)="([^"]*)"', response.content.decode())
    return urls


def test_no_patient_detail_reaches_logs_emails_or_urls(
    client, every_log_line, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to("2026-03-01 09:00")
    prescriber = factories.PrescriberFactory(full_name="Dr. Priya Raman")
    therapist = factories.TherapistFactory(full_name="Jordan Lee")
    outsider = factories.TherapistFactory(
        full_name="Olly Outsider", practice=factories.PracticeFactory(name="Elsewhere")
    )
    user = factories.PatientUserFactory(
        full_name="Zqcanarygiven Zqcanaryfamily", email="Zqcanaryfamily@example.test"
    )
    patient: Patient = factories.PatientFactory(
        given_name="Zqcanarygiven",
        family_name="Zqcanaryfamily",
        date_of_birth=date(1979, 2, 3),
        user=user,
    )
    factories.MembershipFactory(patient=patient, clinician=prescriber)
    factories.MembershipFactory(patient=patient, clinician=therapist)
    urls: list[str] = []
    calendars: list[str] = []

    def visit(who, method, name, *args, data=None, **kw):
        client.force_login(who)
        url = name if name.startswith("/") else reverse(name, args=args)
        response = getattr(client, method)(url, data=data, **kw)
        urls.extend(_urls(response))
        return response

    with django_capture_on_commit_callbacks(execute=True):
        medication = rx.medication_start(
            serves_no_goal=True,
            no_goal_reason="No goal written yet.",
            needs=["patient_request"],
            need_reflection="What the patient asked for.",
            actor=prescriber,
            patient=patient,
            drug_name="Zqcanarydrug",
            not_coded=True,  # not in the formulary: free text
            schedule="none",
            strength="50 mg",
            form="tablet",
            dose="1",
            directions="daily",
            reason="r",
        )
        prescription = rx.prescription_write(
            actor=prescriber,
            medication=medication,
            quantity=30,
            days_supply=30,
            refills_authorised=2,
        )
        rx.fill_record(actor=prescriber, prescription=prescription, filled_on=date(2026, 3, 1))
        stories.goal_create(actor=user, patient=patient, what="Zqcanarygoal")
        stories.note_create(
            actor=therapist,
            patient=patient,
            kind="clinician",
            audience="care_team",
            body="Zqcanarynote",
        )
        referrals.release_sign(
            actor=user,
            patient=patient,
            discloser=prescriber,
            recipient=therapist,
            categories=["medications", "observations"],
            purpose="Zqcanarypurpose",
            expires_on=date(2026, 6, 1),
            signed_name="Zqcanarygiven Zqcanaryfamily",
        )
        referrals.referral_create(
            actor=therapist,
            patient=patient,
            to_clinician=factories.PrescriberFactory(full_name="Dr. New"),
            reason="Zqcanarynote",
        )
        referrals.thread_post(
            actor=therapist, patient=patient, kind="question", text="Zqcanarynote"
        )

        p = patient.uuid
        for who in (prescriber, therapist, user):
            for name in ("patient_detail", "visit", "medications", "goals", "notes", "releases"):
                visit(who, "get", name, p)
            visit(who, "get", "api_fhir_export", p)
        visit(prescriber, "get", "visit_pdf", p)
        visit(user, "get", "patient_home")
        visit(user, "post", "refill_request", medication.uuid, data={"note": "Zqcanarynote"})
        # Bad input, on pages and the API, and refusals.
        visit(user, "post", "goal_create", p, data={"what": ""})
        visit(prescriber, "post", "note_create", p, data={"kind": "nonsense", "body": ""})
        visit(
            prescriber,
            "post",
            "api_goal_list",
            p,
            data={"what": ""},
            content_type="application/json",
        )
        visit(outsider, "get", "patient_detail", p)
        visit(outsider, "get", "api_medication_list", p)
        visit(
            outsider,
            "post",
            "api_note_list",
            p,
            data={"body": "x"},
            content_type="application/json",
        )
        # A secure message and its answer: the notice and its e-mail carry a link only.
        visit(
            user,
            "post",
            "message_compose",
            p,
            data={"to": "team", "subject": "Zqcanarysubject", "text": "Zqcanarymessage"},
        )
        visit(user, "post", "message_compose", p, data={"to": "team", "subject": "", "text": ""})
        conversation = f"/messages/{_conversation_of(patient)}/"
        visit(prescriber, "get", "messages_inbox")
        visit(prescriber, "get", conversation)
        visit(prescriber, "post", conversation, data={"text": "Zqcanarymessage answered"})
        visit(prescriber, "post", conversation, data={"text": ""})
        visit(user, "get", conversation)
        visit(outsider, "get", conversation)
        # The message made a goal proposal in one step; a second record of it is refused.
        first = _first_message_of(patient)
        for make, fields in (
            ("goal", {"what": "Zqcanarygoal from a message"}),
            ("refill_request", {"medication": str(medication.uuid), "note": "Zqcanarynote"}),
        ):
            visit(
                prescriber,
                "post",
                f"{conversation}record/",
                data={"make": make, "message": first, **fields},
            )
        # A second message nobody opens: overdue past the practice's promise, the team reminded.
        prescriber.practice.reply_days = 1
        prescriber.practice.save()
        visit(
            user,
            "post",
            "message_compose",
            p,
            data={
                "to": str(prescriber.uuid),
                "subject": "Zqcanarysubject 2",
                "text": "Zqcanarymessage 2",
            },
        )
        from core import nudges

        # A visit booked, asked to be moved (in the patient's words), moved, and downloaded
        # as a calendar file by the patient before and after.
        visit(
            prescriber,
            "post",
            "visit_book",
            p,
            data={
                "kind": "medication",
                "also_with": str(therapist.uuid),
                "on": "2026-03-20",
                "at": "11:00",
                "minutes": "30",
                "place": "Riverside, 2nd floor",
            },
        )
        visit(prescriber, "post", "visit_book", p, data={"kind": "nonsense", "on": "x"})
        booked = _visit_of(patient)
        calendars.append(visit(user, "get", "visit_calendar", booked).content.decode())
        visit(user, "post", "visit_change_ask", booked, data={"change": "move", "note": ""})
        visit(
            user,
            "post",
            "visit_change_ask",
            booked,
            data={"change": "move", "note": "Zqcanaryvisitnote"},
        )
        visit(prescriber, "get", "today")
        visit(prescriber, "get", "visit_detail", booked)
        visit(
            prescriber,
            "post",
            "visit_change_confirm",
            booked,
            data={"answer": "confirm", "on": "2026-03-23", "at": "11:00"},
        )
        visit(outsider, "get", "visit_calendar", booked)
        calendars.append(visit(user, "get", "visit_calendar", booked).content.decode())
        nudges.deliver()
        client.logout()
        urls.extend(_urls(client.get(reverse("patient_detail", args=[p]))))
        urls.extend(
            _urls(
                client.post(
                    reverse("account_login"),
                    {"login": "Zqcanaryfamily@example.test", "password": "wrong"},
                )
            )
        )
        # Reminders go out by e-mail when the refill falls due.
        time_machine.move_to("2026-03-22 10:00")
        from prescribing.tasks import sweep_refill_nudges

        sweep_refill_nudges()
        nudges.sweep()  # the visit of the 23rd: reminded on the 22nd, from 09:00
        nudges.deliver()
        time_machine.move_to(timezone_now_plus(days=1))
        sweep_refill_nudges()
        visit(prescriber, "get", "today")
        nudges.sweep()
        nudges.deliver()

    assert len(mail.outbox) >= 2, "the week should have sent e-mails (refill request, reminder)"
    assert any("message" in m.subject for m in mail.outbox), "and told of the messages"
    assert any("waiting past" in m.subject for m in mail.outbox), "and of the one left unread"
    assert len(every_log_line) >= 5, "the week should have logged (refusals, bad input)"
    places = {
        "a log line": every_log_line,
        "an e-mail": [
            m.subject + "\n" + m.body + "".join(a[0] for a in getattr(m, "alternatives", []))
            for m in mail.outbox
        ],
        "a URL": urls,
    }
    leaks = [
        f"{canary} in {where}: {text[:200]!r}"
        for where, texts in places.items()
        for text in texts
        for canary in CANARIES
        if canary.lower() in text.lower()
    ]
    assert not leaks, "\n".join(leaks)
    assert len(calendars) == 2 and all("BEGIN:VEVENT" in c for c in calendars)
    assert any("visit tomorrow" in m.subject for m in mail.outbox), "and reminded of the visit"
    in_calendars = [
        f"{word} in a calendar file"
        for text in calendars
        for word in CANARIES + CLINICAL_WORDS
        if word.lower() in text.lower()
    ]
    assert not in_calendars, "\n".join(in_calendars)
    report(
        f"canary: {len(every_log_line)} log lines, {len(mail.outbox)} e-mails, {len(urls)} URLs, "
        f"{len(leaks)} with patient information"
    )


def _visit_of(patient):
    from appointments.models import Visit

    return Visit.objects.get(patient=patient).uuid


def _conversation_of(patient):
    from messaging.models import Conversation

    return Conversation.objects.get(patient=patient).uuid


def _first_message_of(patient):
    from messaging.models import Message

    return str(Message.objects.filter(patient=patient).order_by("created_at").first().uuid)


def timezone_now_plus(days):
    from django.utils import timezone

    return timezone.now() + timedelta(days=days)
