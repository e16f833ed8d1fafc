"""The API base: /api/v1/me/, /api/v1/patients/, schema and docs, session and token auth."""

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


def test_me_needs_sign_in(client):
    response = client.get(reverse("api_me"))
    assert response.status_code in (401, 403)


def test_me_with_token(client, prescriber):
    key = factories.api_token(prescriber)
    response = client.get(reverse("api_me"), HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert response.json()["email"] == prescriber.email
    assert response.json()["role"] == "prescriber"


def test_bad_token_is_refused(client):
    response = client.get(reverse("api_me"), HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code in (401, 403)
    assert "email" not in response.json()


def test_patients_lists_only_what_the_caller_may_see(
    client, prescriber, patient, django_assert_max_num_queries
):
    for _ in range(5):
        factories.PatientFactory()
    client.force_login(prescriber)
    client.get(reverse("api_patient_list"))
    # Session, user, count, page, team, audit append (5), and why each listed patient is
    # shown (one query per grant provider, whatever the number of patients).
    with django_assert_max_num_queries(16):
        response = client.get(reverse("api_patient_list"))
    body = response.json()
    assert body["count"] == 1
    assert body["results"][0]["uuid"] == str(patient.uuid)
    assert {m["role"] for m in body["results"][0]["care_team"]} == {"prescriber", "therapist"}


def test_patient_sees_only_themselves(client, patient_user, patient):
    factories.PatientFactory()
    client.force_login(patient_user)
    assert [p["uuid"] for p in client.get(reverse("api_patient_list")).json()["results"]] == [
        str(patient.uuid)
    ]


def test_admin_sees_no_patients(client, patient):
    client.force_login(factories.AdminFactory())
    assert client.get(reverse("api_patient_list")).json()["count"] == 0
    assert client.get(reverse("api_patient_detail", args=[patient.uuid])).status_code == 404


def test_schema_and_docs(client, prescriber):
    client.force_login(prescriber)
    schema = client.get(reverse("api_schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/me/", "/api/v1/patients/", "/api/v1/patients/{patient_uuid}/"} <= set(paths)
    docs = client.get(reverse("api_docs"))
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()


def test_patients_query_count_does_not_grow(client, prescriber):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(prescriber)
    client.get(reverse("api_patient_list"))

    def queries_after_adding(n):
        for _ in range(n):
            factories.MembershipFactory(clinician=prescriber)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("api_patient_list")).status_code == 200
        return len(ctx.captured_queries)

    assert queries_after_adding(1) == queries_after_adding(30)


def test_an_api_path_no_route_matches_answers_json(client, prescriber):
    client.force_login(prescriber)
    response = client.get("/api/v1/patients/not-a-uuid/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Not found."}


def test_a_page_no_route_matches_is_the_sites_page(client, prescriber):
    client.force_login(prescriber)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
