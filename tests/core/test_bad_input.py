"""Bad input answers a clear 400 or a form message and changes nothing: never a server error.

The review's cases (finding 11): a NUL byte in the patient search (page and API), a malformed
uuid to mark-as-read, JSON nested 1,000 or 5,000 deep, a fill and a prescription dated
0001-01-01. Each is tested here as the class it belongs to: any value with NUL or a lone
surrogate, any JSON body nested too deep, any date outside core.dates' range.
"""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from alliance.models import Consultation
from core import dates
from core.models import AuditEvent, Notification
from prescribing import services as rx_services
from prescribing.models import Fill, Observation, Prescription
from stories.models import Goal, NarrativeNote

pytestmark = pytest.mark.django_db

UNSTORABLE = ["Dan\x00", "\x00", "Dan\ud800", "\udfff"]


@pytest.fixture
def medication(patient, prescriber):
    return rx_services.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Sertraline",
        strength="50 mg",
        form="tablet",
        dose="1 tablet",
        directions="once a day",
        reason="Sleep",
    )


@pytest.fixture
def prescription(medication, prescriber):
    return rx_services.prescription_write(
        actor=prescriber, medication=medication, quantity=30, days_supply=30
    )


# --- NUL bytes and lone surrogates, in any query or form value ------------------------------


@pytest.mark.parametrize("value", ["Dan\x00", "\x00"])
def test_nul_in_the_patient_search_page_is_a_400_page(client, prescriber, value):
    client.force_login(prescriber)
    response = client.get(reverse("patient_list"), {"q": value})
    assert response.status_code == 400
    assert "a NUL byte or an unpaired surrogate" in response.content.decode()
    assert "<html" in response.content.decode()


def test_nul_in_the_patient_search_api_is_a_400_with_a_message(client, prescriber):
    client.force_login(prescriber)
    response = client.get(reverse("api_patient_list"), {"q": "Dan\x00"})
    assert response.status_code == 400
    assert "NUL byte" in response.json()["detail"]


def test_nul_in_a_parameter_name_or_a_posted_form_is_refused(client, patient, patient_user):
    client.force_login(patient_user)
    assert client.get(reverse("patient_list"), {"q\x00": "x"}).status_code == 400
    response = client.post(
        reverse("note_create", args=[patient.uuid]),
        {"kind": "story", "audience": "care_team", "body": "fine", "title": "a\x00b"},
    )
    assert response.status_code == 400
    assert not NarrativeNote.objects.exists()


@pytest.mark.parametrize("value", UNSTORABLE, ids=["nul", "nul alone", "surrogate", "low"])
def test_unstorable_text_in_json_is_a_400_and_saves_nothing(client, patient, patient_user, value):
    client.force_login(patient_user)
    # json.dumps writes the surrogate as a \ud800 escape, as an attacker's client would.
    body = json.dumps({"kind": "story", "audience": "care_team", "body": value})
    response = client.post(
        reverse("api_note_list", args=[patient.uuid]), body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "cannot store" in response.json()["detail"]
    assert not NarrativeNote.objects.exists()


def test_unstorable_text_as_a_json_key_is_refused(client, patient, patient_user):
    client.force_login(patient_user)
    body = json.dumps({"kind": "story", "audience": "care_team", "body": "x", "\x00": 1})
    response = client.post(
        reverse("api_note_list", args=[patient.uuid]), body, content_type="application/json"
    )
    assert response.status_code == 400
    assert not NarrativeNote.objects.exists()


# --- a malformed uuid to mark-as-read ----------------------------------------------------


def test_malformed_uuid_to_mark_as_read_is_a_400_and_marks_nothing(client, patient_user):
    Notification.objects.create(recipient=patient_user, kind="x", title="Hello")
    client.force_login(patient_user)
    for bad in ["not-a-uuid", "1' OR '1'='1", "0" * 40]:
        response = client.post(reverse("notifications_read"), {"uuid": bad})
        assert response.status_code == 400
        assert "Nothing was marked read." in response.content.decode()
    assert Notification.objects.filter(read_at__isnull=True).count() == 1
    # The good cases still work: one by its uuid, and all at once.
    note = Notification.objects.get()
    assert client.post(reverse("notifications_read"), {"uuid": str(note.uuid)}).status_code == 302
    assert Notification.objects.filter(read_at__isnull=True).count() == 0


# --- deep JSON ----------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [33, 1000, 5000])
@pytest.mark.parametrize("bracket", ["[]", "{}"])
def test_deeply_nested_json_is_a_400_with_a_message(client, patient, patient_user, levels, bracket):
    client.force_login(patient_user)
    opening, closing = bracket
    inner = (
        '{"a":' * levels + "1" + "}" * levels if bracket == "{}" else "[" * levels + "]" * levels
    )
    assert 66 <= len(inner) <= 31_000
    body = '{"kind": "story", "audience": "care_team", "body": ' + inner + "}"
    response = client.post(
        reverse("api_note_list", args=[patient.uuid]), body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested more than 32 levels" in response.json()["detail"]
    assert not NarrativeNote.objects.exists()


def test_json_of_ordinary_depth_still_reaches_the_view(client, patient, patient_user):
    client.force_login(patient_user)
    body = json.dumps({"kind": "story", "audience": "care_team", "body": "A fine day"})
    response = client.post(
        reverse("api_note_list", args=[patient.uuid]), body, content_type="application/json"
    )
    assert response.status_code == 201
    # Deep but refused for its type, not its depth: the serializer's own message.
    nested = {"kind": "story", "audience": "care_team", "body": [[["x"]]]}
    response = client.post(
        reverse("api_note_list", args=[patient.uuid]), nested, content_type="application/json"
    )
    assert response.status_code == 400
    assert "body" in response.json()


# --- dates outside the sensible range ----------------------------------------------------

EXTREME = ["0001-01-01", "1899-12-31", "9999-12-31"]


@pytest.mark.parametrize("day", EXTREME)
def test_a_fill_dated_out_of_range_gets_a_form_message(
    client, prescriber, medication, prescription, day
):
    client.force_login(prescriber)
    response = client.post(
        reverse("fill_create", args=[medication.uuid]),
        {"prescription": str(prescription.uuid), "filled_on": day},
    )
    assert response.status_code == 400
    assert "Enter a date between 1900-01-01 and" in response.content.decode()
    assert not Fill.objects.exists()


@pytest.mark.parametrize("day", EXTREME)
def test_a_prescription_dated_out_of_range_gets_a_form_message(client, prescriber, medication, day):
    client.force_login(prescriber)
    for field in ("written_on", "earliest_fill_on"):
        data = {"quantity": "30", "days_supply": "30", "refills_authorised": "0"}
        data["written_on"] = "2026-01-01"
        data[field] = day
        response = client.post(reverse("prescription_create", args=[medication.uuid]), data)
        assert response.status_code == 400
        assert "Enter a date between 1900-01-01 and" in response.content.decode()
    assert not Prescription.objects.exists()


def test_services_refuse_out_of_range_dates_too(prescriber, medication, prescription):
    for day in (datetime.date(1, 1, 1), datetime.date(9999, 12, 31)):
        with pytest.raises(ValidationError, match="filled_on"):
            rx_services.fill_record(actor=prescriber, prescription=prescription, filled_on=day)
    with pytest.raises(ValidationError, match="Enter a date between"):
        rx_services.prescription_write(
            actor=prescriber,
            medication=medication,
            quantity=30,
            days_supply=30,
            written_on=datetime.date(1, 1, 1),
        )
    assert not Fill.objects.exists()
    assert Prescription.objects.count() == 1


def test_observation_api_refuses_an_out_of_range_date(client, patient_user, medication):
    client.force_login(patient_user)
    url = reverse("api_observations", args=[medication.uuid])
    response = client.post(
        url,
        {"kind": "side_effect", "text": "Dizzy", "observed_on": "0001-01-01"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "Enter a date between" in str(response.json()["observed_on"])
    assert not Observation.objects.exists()


def test_goal_target_date_out_of_range_page_and_api(client, patient, patient_user):
    client.force_login(patient_user)
    page = client.post(
        reverse("goal_create", args=[patient.uuid]), {"what": "Walk", "target_date": "0001-01-01"}
    )
    assert page.status_code == 400
    assert "Enter a date between" in page.content.decode()
    api = client.post(
        reverse("api_goal_list", args=[patient.uuid]),
        {"what": "Walk", "target_date": "9999-12-31"},
        content_type="application/json",
    )
    assert api.status_code == 400
    assert "Enter a date between" in str(api.json()["target_date"])
    assert not Goal.objects.exists()


def test_the_range_itself(time_machine):
    time_machine.move_to("2028-02-29 12:00")
    assert dates.latest() == datetime.date(2038, 2, 28)
    dates.sensible_date(datetime.date(1900, 1, 1))
    dates.sensible_date(datetime.date(2038, 2, 28))
    for day in (datetime.date(1899, 12, 31), datetime.date(2038, 3, 1), datetime.date.min):
        with pytest.raises(ValidationError):
            dates.sensible_date(day)


def test_consultation_out_of_range_is_refused_by_the_model():
    field = Consultation._meta.get_field("held_on")
    with pytest.raises(ValidationError, match="Enter a date between"):
        field.run_validators(datetime.date(1, 1, 1))


def test_bad_input_writes_no_audit_rows_of_patient_data(client, prescriber):
    client.force_login(prescriber)
    before = AuditEvent.objects.count()
    client.get(reverse("patient_list"), {"q": "\x00"})
    assert AuditEvent.objects.count() == before


def test_anonymous_callers_get_the_same_400_page(client):
    response = client.get(reverse("account_login"), {"next": "/\x00"})
    assert response.status_code == 400
    assert "a NUL byte or an unpaired surrogate" in response.content.decode()
    response = client.post(
        reverse("account_login"), {"login": "a\x00@example.org", "password": "x"}
    )
    assert response.status_code == 400
