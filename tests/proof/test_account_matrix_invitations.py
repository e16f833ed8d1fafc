"""The account matrix: who may invite a patient, change the address an invitation goes to,
attach an address to an account, or get past the invitation's questions — every actor ×
every account action, through the real pages, compared with a hand-written table.

Two people are in care: Aisha has no sign-in yet (her invitation and address on file are at
stake); Dan signs in (he is "the patient"). An allowed case is one whose effect is stored
(an invitation sent to the address on file, the address changed or its confirmation sent); a
refusal must change nothing. Every request that reaches a decision leaves an audit row
naming the actor (or no actor, on the public invitation link) and the outcome; anonymous
requests to clinic pages stop at the sign-in page, before any decision. `make proof` prints
the figures."""

from datetime import date

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db.models import Max
from django.test import Client
from django.urls import reverse

from core import services
from core.models import AuditEvent, Invitation, Patient, PatientEmailChange, User
from tests import factories
from tests.proof.figures import report

pytestmark = pytest.mark.django_db

ACTORS = [
    "anonymous",
    "patient",  # Dan, who signs in
    "other_patient",
    "prescriber",  # treating, on both care teams
    "unrelated_prescriber",
    "therapist",  # treating, another practice
    "admin",
]

# ---- The table: who may, per action ------------------------------------------------------
# Written by hand from the issue, not read from the code.
ALLOWED: dict[str, frozenset[str]] = {
    # Aisha, not yet signed up.
    "send Aisha's invitation": frozenset({"prescriber", "therapist"}),
    "change Aisha's address on file, verified in person": frozenset({"prescriber", "therapist"}),
    "change Aisha's address on file, confirmed from the old address": frozenset(
        {"prescriber", "therapist"}
    ),
    "accept Aisha's invitation with a wrong date of birth": frozenset(),
    "accept Aisha's invitation with a wrong code": frozenset(),
    # Dan, who signs in: nobody invites him again, and his address is his own to change.
    "send Dan's invitation again": frozenset(),
    "change Dan's address on file at the clinic": frozenset(),
    "attach Dan's address to one's own account": frozenset(),
    "make Dan's address one's primary address": frozenset(),
}

AISHA_BORN = date(1994, 11, 2)


class World:
    """One clinic per case, so that no case sees what another one did."""

    made = 0

    def __init__(self):
        World.made += 1
        n = World.made
        riverside = factories.PracticeFactory(name=f"Riverside Psychiatry {n}")
        harbor = factories.PracticeFactory(name=f"Harbor Counseling {n}", kind="therapy")
        self.users = {
            "patient": factories.PatientUserFactory(full_name="Dan Brooks"),
            "other_patient": factories.PatientUserFactory(full_name="Lena Park"),
            "prescriber": factories.PrescriberFactory(practice=riverside),
            "unrelated_prescriber": factories.PrescriberFactory(practice=riverside),
            "therapist": factories.TherapistFactory(practice=harbor),
            "admin": factories.AdminFactory(),
        }
        self.dan = factories.PatientFactory(
            given_name="Daniel",
            family_name="Brooks",
            user=self.users["patient"],
            email=self.users["patient"].email,
        )
        factories.PatientFactory(
            given_name="Lena",
            family_name="Park",
            user=self.users["other_patient"],
            email=self.users["other_patient"].email,
        )
        self.aisha = factories.PatientFactory(
            given_name="Aisha",
            family_name="Karim",
            date_of_birth=AISHA_BORN,
            email=f"aisha{n}@example.test",
        )
        for person in (self.dan, self.aisha):
            factories.MembershipFactory(patient=person, clinician=self.users["prescriber"])
            factories.MembershipFactory(patient=person, clinician=self.users["therapist"])
        # Aisha's invitation, sent by her prescriber: the link and the code she was given.
        _invitation, link, self.code = services.invitation_create(
            actor=self.users["prescriber"], patient=self.aisha
        )
        self.accept_path = "/invite/" + link.rsplit("/invite/", 1)[1]


def _client(world, actor, capture):
    client = Client()
    if actor != "anonymous":
        client.force_login(world.users[actor])
    post = client.post

    def run(*args, **kwargs):
        with capture(execute=True):
            return post(*args, **kwargs)

    client.post = run
    return client


def _state(world):
    return {
        "aisha_email": Patient.objects.get(pk=world.aisha.pk).email,
        "dan_email": Patient.objects.get(pk=world.dan.pk).email,
        "dan_login": User.objects.get(pk=world.dan.user_id).email,
        "invitations": Invitation.objects.count(),
        "aisha_user": Patient.objects.get(pk=world.aisha.pk).user_id,
        "changes": PatientEmailChange.objects.count(),
        "foreign_dan_addresses": EmailAddress.objects.filter(email__iexact=world.dan.email)
        .exclude(user_id=world.dan.user_id)
        .count(),
        "logins": {u.pk: u.email for u in User.objects.all()},
    }


def _accept(client, world, **wrong):
    data = {
        "date_of_birth": AISHA_BORN.isoformat(),
        "code": world.code,
        "full_name": "Someone",
        "password": "river-stone-lantern",
        "password_again": "river-stone-lantern",
        **wrong,
    }
    return client.post(world.accept_path, data)


def _do(action, client, world, actor):
    """Make the request; return what the page answered."""
    if action == "send Aisha's invitation":
        return client.post(reverse("patient_invite", args=[world.aisha.uuid]))
    if action == "change Aisha's address on file, verified in person":
        return client.post(
            reverse("patient_email_change", args=[world.aisha.uuid]),
            {
                "new_email": f"aisha.{actor}.{World.made}@example.test",
                "method": "in_person",
                "proof": "photo_id",
            },
        )
    if action == "change Aisha's address on file, confirmed from the old address":
        return client.post(
            reverse("patient_email_change", args=[world.aisha.uuid]),
            {"new_email": f"aisha.{actor}.{World.made}@example.test", "method": "old_address"},
        )
    if action == "accept Aisha's invitation with a wrong date of birth":
        return _accept(client, world, date_of_birth="1990-01-01")
    if action == "accept Aisha's invitation with a wrong code":
        return _accept(client, world, code="WXYZ-WXYZ")
    if action == "send Dan's invitation again":
        return client.post(reverse("patient_invite", args=[world.dan.uuid]))
    if action == "change Dan's address on file at the clinic":
        return client.post(
            reverse("patient_email_change", args=[world.dan.uuid]),
            {"new_email": "dan.new@example.test", "method": "in_person", "proof": "photo_id"},
        )
    if action == "attach Dan's address to one's own account":
        return client.post("/accounts/email/", {"email": world.dan.email, "action_add": ""})
    if action == "make Dan's address one's primary address":
        if actor not in ("anonymous", "patient"):
            # As the old code allowed: the address left unverified on the actor's account.
            EmailAddress.objects.get_or_create(
                user=world.users[actor], email=world.dan.email, defaults={"verified": False}
            )
        return client.post("/accounts/email/", {"email": world.dan.email, "action_primary": ""})
    raise AssertionError(action)


def _effect(action, before, after, world, actor) -> bool:
    """Did the action take effect (the thing an allowed case stores)?"""
    if action == "send Aisha's invitation":
        sent = [m for m in mail.outbox if "/invite/" in m.body]
        return after["invitations"] == before["invitations"] + 1 and all(
            m.to == [before["aisha_email"]] for m in sent
        )
    if action == "change Aisha's address on file, verified in person":
        return after["aisha_email"] == f"aisha.{actor}.{World.made}@example.test"
    if action == "change Aisha's address on file, confirmed from the old address":
        confirmations = [m for m in mail.outbox if "/email-change/" in m.body]
        return (
            after["changes"] == before["changes"] + 1
            and after["aisha_email"] == before["aisha_email"]
            and [m.to for m in confirmations] == [[before["aisha_email"]]]
        )
    if action.startswith("accept Aisha's invitation"):
        return after["aisha_user"] is not None
    if action == "send Dan's invitation again":
        return after["invitations"] != before["invitations"]
    if action == "change Dan's address on file at the clinic":
        return (
            after["dan_email"] != before["dan_email"] or after["dan_login"] != before["dan_login"]
        )
    if action in (
        "attach Dan's address to one's own account",
        "make Dan's address one's primary address",
    ):
        return after["logins"] != before["logins"] or after["foreign_dan_addresses"] > (
            1
            if action == "make Dan's address one's primary address"
            and actor not in ("anonymous", "patient")
            else 0
        )
    raise AssertionError(action)


def _decided(action, actor) -> bool:
    """Does this request reach a decision (and so owe an audit row)?"""
    if action.startswith("accept Aisha's invitation"):
        return True
    return actor != "anonymous"


def test_account_matrix(django_capture_on_commit_callbacks):
    cases = wrong = unaudited = server_errors = 0
    mistakes = []
    for action, allowed_actors in ALLOWED.items():
        for actor in ACTORS:
            world = World()
            client = _client(world, actor, django_capture_on_commit_callbacks)
            mail.outbox.clear()
            before = _state(world)
            last_row = AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0
            response = _do(action, client, world, actor)
            after = _state(world)
            cases += 1
            if response.status_code >= 500:
                server_errors += 1
                mistakes.append(f"{actor:20} {action}: {response.status_code}")
                continue
            allowed = actor in allowed_actors
            took_effect = _effect(action, before, after, world, actor)
            if took_effect != allowed:
                wrong += 1
                mistakes.append(
                    f"{actor:20} {action}: expected {'allowed' if allowed else 'refused'}, "
                    f"got {'allowed' if took_effect else 'refused'} ({response.status_code})"
                )
            if _decided(action, actor):
                rows = list(AuditEvent.objects.filter(id__gt=last_row))
                actor_id = None if actor == "anonymous" else world.users[actor].pk
                outcome = "allowed" if allowed else "denied"
                if action.startswith("accept Aisha's invitation"):
                    # The public link: the refusal is recorded against Aisha, with no actor.
                    ok = any(r.outcome == "denied" and r.patient_id == world.aisha.pk for r in rows)
                else:
                    ok = any(r.actor_id == actor_id and r.outcome == outcome for r in rows)
                if not ok:
                    unaudited += 1
                    mistakes.append(f"{actor:20} {action}: no audit row saying {outcome}")
    report(
        f"account matrix: {cases} cases ({len(ACTORS)} actors × {len(ALLOWED)} account actions: "
        f"invite, change the address on file, attach or promote an address, accept with wrong "
        f"answers), {wrong} wrong, {unaudited} unaudited, {server_errors} server errors"
    )
    assert not mistakes, "\n".join(mistakes)
    assert cases == len(ACTORS) * len(ALLOWED)
