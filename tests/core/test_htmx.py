"""htmx answers: parts for swaps, whole pages for Back, and a full-page move on redirects."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_history_restore_gets_the_whole_page(client, prescriber, patient):
    client.force_login(prescriber)
    url = reverse("patient_list")
    swap = client.get(url, HTTP_HX_REQUEST="true")
    restore = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" not in swap.content.decode()
    assert "<html" in restore.content.decode()
    assert "HX-Request" in swap["Vary"]


def test_timed_out_htmx_request_moves_the_whole_page_to_sign_in(
    client, prescriber, settings, time_machine
):
    time_machine.move_to(timezone.now())
    client.post("/accounts/login/", {"login": prescriber.email, "password": "a-long-test-password"})
    time_machine.shift(settings.CONCORD_IDLE_TIMEOUT + timedelta(seconds=5))
    response = client.get(reverse("patient_list"), {"q": "bro"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/accounts/login/?next=%2Fpatients%2F%3Fq%3Dbro")
    assert response.content == b""


def test_anonymous_htmx_request_moves_the_whole_page(client):
    response = client.get(reverse("patient_list"), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"].startswith("/accounts/login/")
