"""The five printed documents, read back as a person holding the paper would: on every page
the clinic's name and how to reach it, and "Page i of n"; the release's signature never alone
on a page; the two redisclosure statements each saying which records they govern."""

import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from pypdf import PdfReader

from core.models import Practice
from referrals import services as referrals
from referrals import statements
from referrals.models import Release
from stories import services as stories
from stories.models import SafetyPlan

pytestmark = pytest.mark.django_db

LONG = "Walk the long way round the harbor wall and call my brother. " * 6


def _pages(response) -> list[str]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def _release(patient, patient_user, prescriber, therapist, *, part2: bool) -> Release:
    return referrals.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=therapist,
        categories=["medications", "substance_use"] if part2 else ["medications"],
        part2_consent=part2,
        purpose="So my team can treat me together.",
        expires_on=date.today() + timedelta(days=90),
        signed_name="Daniel Brooks",
    )


@pytest.fixture
def documents(client, patient, patient_user, prescriber, therapist):
    """Every document, as its reader fetches it: name → pages of text."""
    Practice.objects.filter(pk=prescriber.practice_id).update(after_hours_phone="(555) 010-0199")
    stories.safety_plan_save(
        actor=patient_user,
        patient=patient,
        based_on=0,
        sections={name: LONG for name, _label in SafetyPlan.SECTIONS},
    )
    plain = _release(patient, patient_user, prescriber, therapist, part2=False)
    part2 = _release(patient, patient_user, prescriber, therapist, part2=True)
    client.force_login(patient_user)
    docs = {
        "my medicines": _pages(client.get(reverse("medications_pdf", args=[patient.uuid]))),
        "safety plan": _pages(client.get(reverse("safety_plan_pdf", args=[patient.uuid]))),
        "release": _pages(client.get(reverse("release_pdf", args=[plain.uuid]))),
        "Part 2 consent": _pages(client.get(reverse("release_pdf", args=[part2.uuid]))),
    }
    client.force_login(prescriber)
    docs["visit summary"] = _pages(client.get(reverse("visit_pdf", args=[patient.uuid])))
    return docs


def test_every_page_names_the_clinic_and_counts_its_pages(documents):
    assert len(documents) == 5
    for name, pages in documents.items():
        for number, text in enumerate(pages, start=1):
            where = f"{name}, page {number}"
            assert f"Page {number} of {len(pages)}" in text, where
            assert "Riverside Psychiatry" in text, where
            assert "after hours (555) 010-0199" in text, where
            assert "Harbor Counseling" in text, where  # the rest of the care team


def test_the_signature_stays_with_the_statement_before_it(documents):
    for name, last_statement in (
        ("release", "Redisclosure of other health information"),
        ("Part 2 consent", "Notice to the recipient about the substance use disorder records"),
    ):
        pages = documents[name]
        signed_on = [i for i, text in enumerate(pages) if "SIGNATURE" in text.upper()]
        assert len(signed_on) == 1, name
        page = pages[signed_on[0]]
        assert "Signed electronically by the patient".upper() in page.upper(), name
        assert last_statement in page, f"{name}: the signature is on a page of its own"
        # The statement is on that page whole, not its last line only.
        assert page.index(last_statement) < page.upper().index("SIGNATURE"), name
        assert "Signed content fingerprint" in page, name
    # A release without substance use information fits on one page.
    assert len(documents["release"]) == 1


def test_the_part2_notice_and_the_hipaa_statement_each_say_which_records_they_govern(documents):
    text = " ".join(documents["Part 2 consent"])
    hipaa = text.index("may be redisclosed")
    part2 = text.index("prohibit you from making any further disclosure")
    assert hipaa < part2
    # The permissive sentence excludes the Part 2 records in the same sentence it permits in.
    sentence = text[text.rindex(".", 0, hipaa) + 1 : text.index(".", hipaa)]
    assert "other than substance use disorder records protected by 42 CFR part 2" in sentence
    # The prohibition is introduced as governing those records, and the HIPAA one as not.
    notice = text[text.index("Notice to the recipient") : part2]
    assert "governs the substance use disorder records" in notice
    assert "the HIPAA redisclosure statement above does not apply to them" in notice


def test_a_release_signed_on_the_first_statements_prints_the_words_its_patient_read(
    client, patient, patient_user, prescriber, therapist
):
    signed = _release(patient, patient_user, prescriber, therapist, part2=True)
    # Stored as one signed before version 2 was written (rows are append-only: a new row).
    release = Release.objects.create(
        **{
            f.name: getattr(signed, f.name)
            for f in Release._meta.concrete_fields
            if f.name not in ("id", "uuid", "statement_version")
        },
        statement_version=1,
    )
    client.force_login(patient_user)
    text = " ".join(_pages(client.get(reverse("release_pdf", args=[release.uuid]))))
    first = dict(statements.statements(substance_use=True, version=1))
    assert first["Redisclosure"] in text
    assert "other than substance use disorder records" not in text
    assert "statements version 1" in text


def test_dates_on_the_documents_are_written_one_way(documents):
    """Month in letters, US order ("Dec 7, 2026"): never "7 December 2026" or 7/12."""
    today = date.today()
    us = f"{today:%b} {today.day}, {today.year}"
    for name in ("my medicines", "safety plan", "release", "visit summary"):
        text = " ".join(documents[name])
        assert us in text, name
        assert f"{today.day} {today:%B} {today.year}" not in text, name
        assert f"{today.day} {today:%b} {today.year}" not in text, name
