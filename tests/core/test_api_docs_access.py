"""The OpenAPI schema and the API docs are for signed-in users: anonymous callers get none."""

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

OPENAPI = "application/vnd.oai.openapi+json"


def test_anonymous_gets_no_schema_and_no_docs(client):
    schema = client.get(reverse("api_schema"), HTTP_ACCEPT=OPENAPI)
    assert schema.status_code in (401, 403)
    assert b"paths" not in schema.content
    docs = client.get(reverse("api_docs"))
    assert docs.status_code == 302
    assert docs["Location"].startswith(reverse("account_login"))


def test_a_made_up_token_gets_no_schema(client):
    response = client.get(
        reverse("api_schema"),
        HTTP_ACCEPT=OPENAPI,
        HTTP_AUTHORIZATION="Token concord_000000000000_" + "0" * 43,
    )
    assert response.status_code in (401, 403)
    assert b"paths" not in response.content


@pytest.mark.parametrize("who", ["patient_user", "prescriber", "therapist"])
def test_signed_in_users_get_schema_and_docs(who, request, client):
    client.force_login(request.getfixturevalue(who))
    schema = client.get(reverse("api_schema"), HTTP_ACCEPT=OPENAPI)
    assert schema.status_code == 200
    assert "/api/v1/me/" in schema.json()["paths"]
    docs = client.get(reverse("api_docs"))
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_an_api_token_gets_the_schema(client, patient_user):
    response = client.get(
        reverse("api_schema"),
        HTTP_ACCEPT=OPENAPI,
        HTTP_AUTHORIZATION=f"Token {factories.api_token(patient_user)}",
    )
    assert response.status_code == 200
    assert "/api/v1/me/" in response.json()["paths"]
