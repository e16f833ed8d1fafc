"""Forms a patient fills in speak to the patient ("What is it for, in your words"); the same
forms on a clinician's page speak about the patient. One walk over every form a patient sees."""

import html as markup
import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from alliance import selectors as alliance_selectors
from alliance import services as alliance
from prescribing import services as rx
from referrals import services as referrals
from stories import services as stories

pytestmark = pytest.mark.django_db

# Where a form speaks: labels, legends, help text, placeholders and the choices beside them.
SPOKEN = re.compile(
    r"<label[^>]*>(.*?)</label>|<legend[^>]*>(.*?)</legend>|"
    r'<p class="help"[^>]*>(.*?)</p>|placeholder="([^"]*)"',
    re.S,
)
ABOUT_THE_PATIENT = re.compile(r"\bthe patient\b|\bpatient['’]s\b|\bthe person\b", re.I)


def spoken(html: str) -> list[str]:
    tags = re.compile(r"<[^>]+>")
    return [
        " ".join(markup.unescape(tags.sub(" ", "".join(groups))).split())
        for groups in SPOKEN.findall(html)
    ]


@pytest.fixture
def world(patient, patient_user, prescriber, therapist):
    goal = stories.goal_create(actor=patient_user, patient=patient, what="Sleep through")
    note = stories.note_create(
        actor=patient_user,
        patient=patient,
        kind="story",
        audience="care_team",
        title="Saturday",
        body="The workshop again.",
    )
    medication = rx.medication_start(
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
        reason="Low mood",
        decided_together=True,
    )
    prescription = rx.prescription_write(
        actor=prescriber, medication=medication, quantity=30, days_supply=30, refills_authorised=2
    )
    rx.fill_record(actor=prescriber, prescription=prescription, filled_on=date.today())
    alliance.install_shipped()
    offered = {i.key: i for i in alliance_selectors.instruments_offered()}
    check_in = alliance.check_in_start(
        actor=patient_user,
        patient=patient,
        instrument=offered["concord-alliance"],
        clinician=prescriber,
    )
    release = referrals.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=therapist,
        categories=["medications"],
        purpose="So my prescriber and therapist can treat me together.",
        expires_on=date.today() + timedelta(days=30),
        signed_name="Daniel Brooks",
    )
    return {
        "goal": goal,
        "note": note,
        "medication": medication,
        "check_in": check_in,
        "release": release,
    }


def patient_pages(patient, world) -> list[str]:
    return [
        reverse("medications", args=[patient.uuid]),
        reverse("medication_detail", args=[world["medication"].uuid]),
        reverse("medication_purpose", args=[world["medication"].uuid]),
        reverse("goals", args=[patient.uuid]),
        reverse("goal_edit", args=[world["goal"].uuid]),
        reverse("notes", args=[patient.uuid]),
        reverse("note_edit", args=[world["note"].uuid]),
        reverse("check_ins", args=[patient.uuid]),
        reverse("check_in", args=[world["check_in"].uuid]),
        reverse("releases", args=[patient.uuid]),
        reverse("release_new", args=[patient.uuid]),
        reverse("release", args=[world["release"].uuid]),
        reverse("safety_plan", args=[patient.uuid]),
    ]


def test_every_form_a_patient_sees_speaks_to_them(client, patient, patient_user, world):
    client.force_login(patient_user)
    found = {}
    forms_seen = 0
    for url in patient_pages(patient, world):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        forms_seen += html.count("<form")
        about = [text for text in spoken(html) if ABOUT_THE_PATIENT.search(text)]
        if about:
            found[url] = about
    assert found == {}
    assert forms_seen >= 14  # the walk did reach the forms, not only empty pages


def test_the_purpose_form_asks_in_your_words_for_the_patient_and_about_them_for_the_prescriber(
    client, patient, patient_user, prescriber, world
):
    url = reverse("medication_purpose", args=[world["medication"].uuid])
    client.force_login(patient_user)
    mine = " ".join(spoken(client.get(url).content.decode()))
    assert "What is it for, in your words" in mine
    client.force_login(prescriber)
    theirs = " ".join(spoken(client.get(url).content.decode()))
    assert "in the patient's words" in theirs or "in Dan's words" in theirs
