"""The alliance API offers what the pages offer (check-ins, flags and their acknowledgement,
consultations, a patient's alliance history), on the access bases: lists paginate the same
way, refusals come from the exception handler, and the schema documents each answer."""

import pytest
from django.urls import reverse

from alliance import services
from alliance.models import Consultation, Flag
from core.models import AuditEvent
from tests import factories
from tests.alliance.conftest import answer_all

pytestmark = pytest.mark.django_db

JSON = {"content_type": "application/json"}


@pytest.fixture
def concern(instruments, patient, patient_user, prescriber):
    alliance = instruments["concord-alliance"]
    for value in (9, 2):
        check_in = services.check_in_start(
            actor=patient_user, patient=patient, instrument=alliance, clinician=prescriber
        )
        services.check_in_submit(
            actor=patient_user, check_in=check_in, answers=answer_all(alliance, value)
        )
    return Flag.objects.get(kind=Flag.Kind.ALLIANCE_CONCERN)


def test_every_list_pages_by_limit_and_offset(client, concern, patient, prescriber):
    client.force_login(prescriber)
    for name, args in (
        ("api_instruments", []),
        ("api_check_ins", [patient.uuid]),
        ("api_alliance", [patient.uuid]),
        ("api_flags", [patient.uuid]),
        ("api_consultations", [patient.uuid]),
    ):
        body = client.get(reverse(name, args=args), {"limit": 1}).json()
        assert set(body) == {"count", "next", "previous", "results"}, name
        assert len(body["results"]) <= 1, name
        assert client.get(reverse(name, args=args), {"limit": "-1"}).status_code == 400, name
    check_ins = client.get(reverse("api_check_ins", args=[patient.uuid]), {"limit": 1}).json()
    assert check_ins["count"] == 2 and check_ins["next"]


def test_the_alliance_history_is_the_pages_trends_with_their_flags(
    client, concern, patient, patient_user, prescriber, therapist
):
    client.force_login(prescriber)
    [series] = client.get(reverse("api_alliance", args=[patient.uuid])).json()["results"]
    assert (series["instrument"], series["kind"], series["clinician"]) == (
        "concord-alliance",
        "alliance",
        str(prescriber.uuid),
    )
    assert [c["total"] for c in series["check_ins"]] == [9, 2]
    assert [f["uuid"] for f in series["flags"]] == [str(concern.uuid)]
    # The therapist (another practice, no release) does not get the prescriber's relationship;
    # the patient gets their own series, without the flags waiting for a clinician.
    client.force_login(therapist)
    assert client.get(reverse("api_alliance", args=[patient.uuid])).json()["results"] == []
    client.force_login(patient_user)
    [own] = client.get(reverse("api_alliance", args=[patient.uuid])).json()["results"]
    assert own["flags"] == [] and len(own["check_ins"]) == 2
    client.force_login(factories.TherapistFactory())
    assert client.get(reverse("api_alliance", args=[patient.uuid])).status_code == 404


def test_acknowledging_a_concern_is_the_clinician_it_is_about(client, concern, patient, prescriber):
    colleague = factories.PrescriberFactory(practice=prescriber.practice)
    factories.MembershipFactory(patient=patient, clinician=colleague)
    url = reverse("api_flag_acknowledge", args=[concern.uuid])
    client.force_login(colleague)
    refused = client.post(url, {"note": "mine?"}, **JSON)
    assert refused.status_code == 403
    assert "Only the clinician this check-in is about" in refused.json()["detail"]
    assert AuditEvent.objects.filter(
        actor=colleague, action="acknowledge", outcome="denied", object_id=str(concern.uuid)
    ).exists()
    assert not AuditEvent.objects.filter(
        actor=colleague, action="acknowledge", outcome="allowed"
    ).exists()
    client.force_login(prescriber)
    done = client.post(url, {"note": "Longer visit"}, **JSON)
    assert done.status_code == 200 and done.json()["acknowledged_at"]
    assert (
        AuditEvent.objects.filter(
            actor=prescriber, action="acknowledge", outcome="allowed", object_id=str(concern.uuid)
        ).count()
        == 1
    )
    assert client.get(reverse("api_flags", args=[patient.uuid])).json()["results"] == []


def test_consultations_list_and_create_through_the_api(
    client, patient, patient_user, prescriber, therapist
):
    url = reverse("api_consultations", args=[patient.uuid])
    client.force_login(prescriber)
    made = client.post(
        url, {"issues": "Rushed visits", "actions": "Zq-longer", "audience": "patient"}, **JSON
    )
    assert made.status_code == 201
    assert (made.json()["prescriber"], made.json()["therapist"]) == (
        prescriber.full_name,
        therapist.full_name,
    )
    client.post(url, {"issues": "Between us", "actions": "Zq-ours"}, **JSON)
    assert client.get(url).json()["count"] == 2
    client.force_login(patient_user)
    assert [c["actions"] for c in client.get(url).json()["results"]] == ["Zq-longer"]
    # A consultation is the clinicians' to record: not found for the patient, and audited.
    refused = client.post(url, {"issues": "i", "actions": "Zq-mine"}, **JSON)
    assert refused.status_code == 404
    assert not Consultation.objects.filter(actions="Zq-mine").exists()
    assert AuditEvent.objects.filter(
        actor=patient_user, action="create", category="consultations", outcome="denied"
    ).exists()


def test_answering_someone_elses_check_in_is_refused(
    client, instruments, patient, patient_user, prescriber
):
    gad7 = instruments["gad-7"]
    check_in = services.check_in_start(actor=patient_user, patient=patient, instrument=gad7)
    client.force_login(prescriber)
    # A draft is the patient's own: not even found.
    for method, name in (("patch", "api_check_in"), ("post", "api_check_in_submit")):
        response = getattr(client, method)(
            reverse(name, args=[check_in.uuid]), {"answers": answer_all(gad7, 1)}, **JSON
        )
        assert response.status_code == 404
    assert not AuditEvent.objects.filter(actor=prescriber, outcome="allowed").exists()


def test_the_schema_documents_the_alliance_operations_and_their_errors(client, patient_user):
    client.force_login(patient_user)
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    lists = [
        "/api/v1/instruments/",
        "/api/v1/patients/{patient_uuid}/check-ins/",
        "/api/v1/patients/{patient_uuid}/alliance/",
        "/api/v1/patients/{patient_uuid}/flags/",
        "/api/v1/patients/{patient_uuid}/consultations/",
    ]
    for path in lists:
        get = paths[path]["get"]
        assert {"limit", "offset"} <= {p["name"] for p in get["parameters"]}, path
        assert "400" in get["responses"], path
        ok = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ok.split("/")[-1].startswith("Paginated"), path
    writes = {
        ("/api/v1/patients/{patient_uuid}/check-ins/", "post"): {"400", "403", "404"},
        ("/api/v1/check-ins/{check_in_uuid}/", "patch"): {"400", "403", "404"},
        ("/api/v1/check-ins/{check_in_uuid}/submit/", "post"): {"400", "403", "404", "409"},
        ("/api/v1/flags/{flag_uuid}/acknowledge/", "post"): {"400", "403", "404"},
        ("/api/v1/patients/{patient_uuid}/consultations/", "post"): {"400", "403", "404"},
    }
    for (path, method), codes in writes.items():
        assert codes <= set(paths[path][method]["responses"]), (path, method)
