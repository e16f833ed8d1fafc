"""Right-to-left override characters (U+202A–U+202E, U+2066–U+2069) cannot spoof text.

Names and short fields (a goal, a note's title, a drug name or dose) refuse them with a
message; long text (a note's body) keeps them as stored but shows the text in its stored
order. Plain right-to-left writing (Hebrew, Arabic) needs none of them and is kept as is.
"""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from prescribing import services as rx_services
from stories import markdown, services
from stories.models import Goal, NarrativeNote

pytestmark = pytest.mark.django_db

CONTROLS = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]


@pytest.mark.parametrize("control", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_a_goal_with_a_bidi_control_gets_a_form_message_and_saves_nothing(
    client, patient, patient_user, control
):
    client.force_login(patient_user)
    response = client.post(
        reverse("goal_create", args=[patient.uuid]), {"what": f"Walk {control}yliad"}
    )
    assert response.status_code == 400
    assert "Remove the invisible text-direction characters" in response.content.decode()
    assert not Goal.objects.exists()


def test_the_api_refuses_them_in_short_fields_too(client, patient, patient_user):
    client.force_login(patient_user)
    goal = client.post(
        reverse("api_goal_list", args=[patient.uuid]),
        {"what": "Walk \u202eyliad"},
        content_type="application/json",
    )
    assert goal.status_code == 400
    assert "text-direction characters" in str(goal.json()["what"])
    note = client.post(
        reverse("api_note_list", args=[patient.uuid]),
        {"kind": "story", "audience": "care_team", "title": "\u202etxt.exe", "body": "x"},
        content_type="application/json",
    )
    assert note.status_code == 400
    assert "text-direction characters" in str(note.json()["title"])
    assert not Goal.objects.exists()
    assert not NarrativeNote.objects.exists()


def test_a_drug_name_or_dose_with_an_override_is_refused(patient, prescriber):
    with pytest.raises(ValidationError, match="text-direction characters"):
        rx_services.medication_start(
            serves_no_goal=True,
            no_goal_reason="No goal written yet.",
            needs=["patient_request"],
            need_reflection="What the patient asked for.",
            actor=prescriber,
            patient=patient,
            drug_name="Sertraline",
            strength="\u202egm 05",
            form="tablet",
            dose="1 tablet",
            directions="once a day",
            reason="Sleep",
        )


def test_a_note_body_keeps_the_stored_text_but_shows_it_in_stored_order(
    client, patient, patient_user, prescriber
):
    note = services.note_create(
        actor=patient_user,
        patient=patient,
        kind="story",
        audience="care_team",
        body="Dose is \u202e05 gm\u202c today",
    )
    assert "\u202e" in NarrativeNote.objects.get().body  # the record is what was written
    client.force_login(prescriber)
    for url in (reverse("notes", args=[patient.uuid]), reverse("note_edit", args=[note.uuid])):
        page = client.get(url).content.decode()
        assert "Dose is 05 gm today" in page
        assert "\u202e" not in page
        assert "\u202c" not in page


def test_right_to_left_writing_itself_is_kept():
    goal_text = "לישון טוב"  # Hebrew: "to sleep well"
    assert markdown.render(goal_text) == f"<p>{goal_text}</p>\n"


def test_a_goal_in_hebrew_is_accepted(patient, patient_user):
    goal = services.goal_create(actor=patient_user, patient=patient, what="לישון טוב")
    assert goal.what == "לישון טוב"


def test_names_of_people_refuse_them(patient, patient_user):
    patient.family_name = "Brooks\u202e"
    with pytest.raises(ValidationError, match="text-direction characters"):
        patient.full_clean()
    patient_user.full_name = "\u2067Dan Brooks"
    with pytest.raises(ValidationError, match="text-direction characters"):
        patient_user.full_clean()


def test_the_invitation_form_refuses_them_in_the_patients_own_name():
    from core.forms import InvitationAcceptForm

    form = InvitationAcceptForm(
        {
            "date_of_birth": "1980-04-02",
            "code": "ABCD-7K3M",
            "full_name": "Dan \u202eskoorB",
            "password": "a long passphrase 42",
            "password_again": "a long passphrase 42",
        }
    )
    assert not form.is_valid()
    assert "text-direction characters" in str(form.errors["full_name"])
