"""A check-in answered on one page is started and sent by one request, in one transaction: one
allowed audit row for the write, none for a send that stored nothing. The safety alert, the
crisis help shown first, the double-click protection, the errors that keep what was typed and
"save and finish later" work as they do for a draft; the API sends one in one call too. And a
service that claims a row with a conditional UPDATE does not read it back."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliance import services
from alliance.models import CheckIn, Flag
from core.models import AuditEvent
from tests.alliance.conftest import answer_all

pytestmark = pytest.mark.django_db


def _new(patient, instrument, clinician=None) -> str:
    url = reverse("check_in_new", args=[patient.uuid]) + f"?instrument={instrument.pk}"
    return url + (f"&clinician={clinician.uuid}" if clinician else "")


def _form(instrument, value, clinician=None, **more) -> dict:
    data = {"instrument": instrument.pk, **{k: str(v) for k, v in value.items()}, **more}
    if clinician:
        data["clinician"] = str(clinician.uuid)
    return data


def _writes(since: int):
    """Audit rows of writes (not reads) after row `since`."""
    return AuditEvent.objects.filter(pk__gt=since).exclude(action__in=["read", "list"])


def _last_audit() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_the_check_ins_page_opens_the_questions_without_storing_anything(
    client, instruments, patient, patient_user, prescriber
):
    client.force_login(patient_user)
    page = client.get(reverse("check_ins", args=[patient.uuid])).content.decode()
    assert f'action="{reverse("check_in_new", args=[patient.uuid])}"' in page
    form = client.get(_new(patient, instruments["concord-alliance"], prescriber))
    assert form.status_code == 200
    assert f"I feel heard, understood and respected by {prescriber.full_name}." in (
        form.content.decode()
    )
    assert not CheckIn.objects.exists()


def test_one_post_starts_and_sends_the_check_in_with_one_audited_write(
    client, instruments, patient, patient_user, prescriber
):
    alliance = instruments["concord-alliance"]
    client.force_login(patient_user)
    since = _last_audit()
    answers = {"bond": 8, "goals": 7, "tasks": 7, "fit": 8}
    sent = client.post(
        reverse("check_in_new", args=[patient.uuid]),
        _form(alliance, answers, prescriber, open_answer=" More time ", action="submit"),
    )
    check_in = CheckIn.objects.get()
    assert sent.status_code == 302
    assert sent["Location"] == reverse("check_in", args=[check_in.uuid])
    assert (check_in.status, check_in.total, check_in.clinician) == ("submitted", 7.5, prescriber)
    assert (check_in.answers, check_in.open_answer, check_in.author) == (
        answers,
        "More time",
        patient_user,
    )
    writes = list(_writes(since))
    assert [(w.action, w.outcome, w.object_id) for w in writes] == [
        ("create", "allowed", str(check_in.uuid))
    ]
    page = client.get(sent["Location"]).content.decode()
    assert "Thank you. Your answers are with your care team." in page


def test_an_incomplete_send_keeps_what_was_typed_and_stores_nothing(
    client, instruments, patient, patient_user, prescriber
):
    alliance = instruments["concord-alliance"]
    client.force_login(patient_user)
    since = _last_audit()
    refused = client.post(
        reverse("check_in_new", args=[patient.uuid]),
        _form(alliance, {"bond": 3}, prescriber, open_answer="Rushed", action="submit"),
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "Please answer every question before sending: 3 still unanswered." in page
    assert 'name="bond" value="3" checked' in page
    assert ">Rushed</textarea>" in page
    assert 'id="q-goals"' in page and "Please answer this question." in page
    # Sent again from the same page: it still knows the instrument and the clinician.
    assert f'name="instrument" value="{alliance.pk}"' in page
    assert f'name="clinician" value="{prescriber.uuid}"' in page
    assert not CheckIn.objects.exists()
    assert not _writes(since).filter(outcome="allowed").exists()


def test_a_self_harm_answer_alerts_the_team_and_the_page_shows_crisis_help_first(
    client, instruments, patient, patient_user, prescriber, therapist
):
    phq9 = instruments["phq-9"]
    answers = answer_all(phq9, 1)
    client.force_login(patient_user)
    sent = client.post(
        reverse("check_in_new", args=[patient.uuid]), _form(phq9, answers, action="submit")
    )
    check_in = CheckIn.objects.get()
    flag = Flag.objects.get()
    assert (flag.kind, flag.check_in) == ("safety", check_in)
    page = client.get(sent["Location"]).content.decode()
    assert "Thank you for telling us." in page
    assert "Thank you. Your answers are with your care team." not in page
    assert page.index("crisis-told") < page.index("<h1")
    assert prescriber.full_name in page and therapist.full_name in page


def test_a_double_click_sends_one_check_in(client, instruments, patient, patient_user):
    phq9 = instruments["phq-9"]
    client.force_login(patient_user)
    url = reverse("check_in_new", args=[patient.uuid])
    form = _form(phq9, answer_all(phq9, 0), action="submit")
    first = client.post(url, form)
    second = client.post(url, form)
    assert CheckIn.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert AuditEvent.objects.filter(action="create", object_type="alliance.CheckIn").count() == 1


def test_save_and_finish_later_keeps_a_draft_with_the_answers(
    client, instruments, patient, patient_user
):
    gad7 = instruments["gad-7"]
    client.force_login(patient_user)
    saved = client.post(
        reverse("check_in_new", args=[patient.uuid]),
        _form(gad7, {"gad7_1": 2, "gad7_2": 9}, action="save"),
        follow=True,
    )
    assert "Saved. You can finish it later from your check-ins." in saved.content.decode()
    draft = CheckIn.objects.get()
    assert (draft.status, draft.answers) == ("draft", {"gad7_1": 2})
    assert f'href="{reverse("check_in", args=[draft.uuid])}"' in saved.content.decode()


def test_a_draft_begun_in_another_tab_is_the_one_sent(client, instruments, patient, patient_user):
    phq9 = instruments["phq-9"]
    draft = services.check_in_start(actor=patient_user, patient=patient, instrument=phq9)
    client.force_login(patient_user)
    client.post(
        reverse("check_in_new", args=[patient.uuid]),
        _form(phq9, answer_all(phq9, 0), action="submit"),
    )
    draft.refresh_from_db()
    assert CheckIn.objects.get() == draft
    assert (draft.status, draft.total) == ("submitted", 0)


def test_the_api_sends_a_check_in_in_one_call(
    client, instruments, patient, patient_user, prescriber
):
    client.force_login(patient_user)
    url = reverse("api_check_in_send", args=[patient.uuid])
    incomplete = client.post(
        url,
        {
            "instrument": "concord-alliance",
            "clinician": str(prescriber.uuid),
            "answers": {"bond": 5},
        },
        content_type="application/json",
    )
    assert incomplete.status_code == 400
    assert not CheckIn.objects.exists()
    body = {
        "instrument": "concord-alliance",
        "clinician": str(prescriber.uuid),
        "answers": {"bond": 3, "goals": 3, "tasks": 3, "fit": 3},
    }
    sent = client.post(url, body, content_type="application/json")
    assert sent.status_code == 201
    assert (sent.json()["status"], sent.json()["total"]) == ("submitted", 3)
    again = client.post(url, body, content_type="application/json")
    assert again.json()["uuid"] == sent.json()["uuid"]
    assert CheckIn.objects.count() == 1
    assert Flag.objects.get().kind == "alliance_concern"


def test_only_the_patient_sends_their_check_in(client, instruments, patient, prescriber):
    client.force_login(prescriber)
    phq9 = instruments["phq-9"]
    refused = client.post(
        reverse("check_in_new", args=[patient.uuid]),
        _form(phq9, answer_all(phq9, 0), action="submit"),
    )
    assert refused.status_code == 404
    assert not CheckIn.objects.exists()


def _reads_of(table: str, queries) -> list[str]:
    """Reads of `table`'s rows (not the lookups the flags make through it)."""
    return [q["sql"] for q in queries if q["sql"].startswith(f'SELECT "{table}"."id"')]


def test_a_claimed_submit_and_a_claimed_acknowledgement_are_not_read_back(
    instruments, patient, patient_user, prescriber
):
    alliance = instruments["concord-alliance"]
    draft = services.check_in_start(
        actor=patient_user, patient=patient, instrument=alliance, clinician=prescriber
    )
    with CaptureQueriesContext(connection) as captured:
        sent = services.check_in_submit(
            actor=patient_user, check_in=draft, answers=answer_all(alliance, 2)
        )
    claim = next(
        i for i, q in enumerate(captured.captured_queries) if q["sql"].startswith("UPDATE")
    )
    assert _reads_of("alliance_checkin", captured.captured_queries[claim + 1 :]) == []
    stored = CheckIn.objects.get(pk=draft.pk)
    assert (sent.status, sent.total, sent.band, sent.submitted_at) == (
        stored.status,
        stored.total,
        stored.band,
        stored.submitted_at,
    )
    flag = Flag.objects.get()
    with CaptureQueriesContext(connection) as captured:
        acknowledged = services.flag_acknowledge(actor=prescriber, flag=flag, note=" Call ")
    assert _reads_of("alliance_flag", captured.captured_queries) == []
    stored = Flag.objects.get()
    assert (acknowledged.acknowledged_at, acknowledged.acknowledgement_note) == (
        stored.acknowledged_at,
        "Call",
    )
    assert acknowledged.acknowledged_by == prescriber
