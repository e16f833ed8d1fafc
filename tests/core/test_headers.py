"""Headers every patient page carries, and no patient information where it should not be."""

import pytest
from django.core import mail
from django.urls import reverse

from core import services

pytestmark = pytest.mark.django_db


def test_patient_pages_are_not_cached_framed_or_sniffed(client, prescriber, patient):
    client.force_login(prescriber)
    response = client.get(reverse("patient_detail", args=[patient.uuid]))
    assert response["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_api_answers_are_not_cached(client, prescriber, patient):
    client.force_login(prescriber)
    assert client.get(reverse("api_patient_list"))["Cache-Control"] == "no-store"


def test_no_patient_name_in_urls_or_notification_emails(
    client, prescriber, patient, django_capture_on_commit_callbacks
):
    """Canary: the patient's name never appears in a URL we link to, nor in an e-mail body."""
    client.force_login(prescriber)
    page = client.get(reverse("patient_list")).content.decode()
    import re

    for href in re.findall(r'href="([^"]+)"', page):
        assert "Brooks" not in href and "Daniel" not in href, href
    with django_capture_on_commit_callbacks(execute=True):
        services.notification_send(
            recipient=prescriber,
            kind="x",
            title="A refill request is waiting for you",
            link=f"/patients/{patient.uuid}/",
        )
    assert "Brooks" not in mail.outbox[0].body
