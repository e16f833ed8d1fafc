"""The account matrix, Clinic settings part (issue 19): who may open the console, invite
staff, deactivate or reactivate an account, reset a second factor or withdraw an invitation —
every actor × every console action, through the real pages, compared with a hand-written
table.

Riverside Psychiatry is run by its clinic admin; Lakeside has an admin of its own; a
clinic-wide admin (no practice) runs both. Noor is a Riverside therapist with an
authenticator app; Pat, a Riverside prescriber already deactivated; an invitation to
Riverside waits. "allowed" means the effect was stored (the invitation made, the account
deactivated or reactivated, the authenticators gone, the invitation closed) or the page was
shown; a refusal changes nothing. Every request that reaches a decision leaves an audit row
naming the actor and the outcome; anonymous requests stop at the sign-in page, before any
decision. `make proof` prints the figures."""

import pytest
from allauth.mfa.models import Authenticator
from django.db.models import Max
from django.test import Client
from django.urls import reverse

from alliance.models import AllianceSettings
from alliance.selectors import show_scores_to_patients
from core import services
from core.models import AuditEvent, Invitation, User
from prescribing.models import SupplyPolicy
from stories.models import SummaryTerm
from tests import factories
from tests.proof.figures import report

pytestmark = pytest.mark.django_db

ACTORS = [
    "anonymous",
    "patient",
    "prescriber",  # Riverside: a colleague of Noor's, not an admin
    "therapist",  # Harbor
    "noor",  # the therapist it is about: not her own admin either
    "lakeside_admin",  # an admin, of another practice
    "riverside_admin",
    "clinic_wide_admin",  # an admin with no practice: runs every practice
    # A superuser who is also Riverside's clinic admin: being a superuser gives nothing more
    # here (the console asks the role and the practice), and nobody here acts on them.
    "superuser",
]
RUNS_RIVERSIDE = frozenset({"riverside_admin", "clinic_wide_admin", "superuser"})

ALLOWED: dict[str, frozenset[str]] = {
    "open Clinic settings": RUNS_RIVERSIDE | {"lakeside_admin"},
    "open Noor's page": RUNS_RIVERSIDE,
    "invite someone to Riverside": RUNS_RIVERSIDE,
    "deactivate Noor": RUNS_RIVERSIDE,
    "reactivate Pat": RUNS_RIVERSIDE,
    "reset Noor's two-factor": RUNS_RIVERSIDE,
    "withdraw the invitation to Riverside": RUNS_RIVERSIDE,
    # What holds for every practice: a clinic-wide admin's alone.
    "set New York's schedule II limits": frozenset({"clinic_wide_admin"}),
    "keep alliance scores from patients": frozenset({"clinic_wide_admin"}),
    "add a word the summary warns about": frozenset({"clinic_wide_admin"}),
    # Nobody acts on themselves from here, nor on a superuser.
    "deactivate oneself": frozenset(),
    "deactivate the superuser": frozenset(),
}


class World:
    made = 0

    def __init__(self):
        World.made += 1
        n = World.made
        riverside = factories.PracticeFactory(name=f"Riverside {n}")
        lakeside = factories.PracticeFactory(name=f"Lakeside {n}", kind="therapy")
        harbor = factories.PracticeFactory(name=f"Harbor {n}", kind="therapy")
        self.riverside = riverside
        self.users = {
            "patient": factories.PatientUserFactory(),
            "prescriber": factories.PrescriberFactory(practice=riverside),
            "therapist": factories.TherapistFactory(practice=harbor),
            "noor": factories.TherapistFactory(practice=riverside, full_name="Noor Haddad"),
            "lakeside_admin": factories.AdminFactory(practice=lakeside, is_superuser=False),
            "riverside_admin": factories.AdminFactory(practice=riverside, is_superuser=False),
            "clinic_wide_admin": factories.AdminFactory(practice=None, is_superuser=False),
            "superuser": factories.AdminFactory(practice=riverside, is_superuser=True),
        }
        factories.PatientFactory(user=self.users["patient"])
        SupplyPolicy.objects.filter(state="NY").delete()
        AllianceSettings.objects.all().delete()
        factories.totp_device(self.users["noor"])
        self.pat = factories.PrescriberFactory(practice=riverside, is_active=False)
        self.invitation, _, _ = services.staff_invitation_create(
            actor=self.users["riverside_admin"],
            email=f"waiting{n}@example.test",
            full_name="Waiting Person",
            role="therapist",
            practice=riverside,
        )

    def state(self):
        return {
            "noor_active": User.objects.get(pk=self.users["noor"].pk).is_active,
            "pat_active": User.objects.get(pk=self.pat.pk).is_active,
            "noor_authenticators": Authenticator.objects.filter(user=self.users["noor"]).count(),
            "invitations": Invitation.objects.filter(patient__isnull=True).count(),
            "waiting_open": Invitation.objects.get(pk=self.invitation.pk).is_usable(),
            "actives": dict(User.objects.values_list("pk", "is_active")),
            "ny_policies": SupplyPolicy.objects.filter(state="NY").count(),
            "scores_shown": show_scores_to_patients(),
            "terms": SummaryTerm.objects.count(),
        }


REASON = "A reason for the audit"


def _do(action, client, world, actor):
    noor = world.users["noor"]
    if action == "open Clinic settings":
        return client.get(reverse("console_home"))
    if action == "open Noor's page":
        return client.get(reverse("console_person", args=[noor.uuid]))
    if action == "invite someone to Riverside":
        return client.post(
            reverse("console_invite"),
            {
                "full_name": "Sam Rivera",
                "email": f"sam.{actor}.{World.made}@example.test",
                "role": "therapist",
                "practice": str(world.riverside.uuid),
            },
        )
    if action == "deactivate Noor":
        return client.post(
            reverse("console_person_active", args=[noor.uuid]),
            {"active-reason": REASON, "active": "0"},
        )
    if action == "reactivate Pat":
        return client.post(
            reverse("console_person_active", args=[world.pat.uuid]),
            {"active-reason": REASON, "active": "1"},
        )
    if action == "reset Noor's two-factor":
        return client.post(
            reverse("console_person_mfa_reset", args=[noor.uuid]), {"mfa-reason": REASON}
        )
    if action == "withdraw the invitation to Riverside":
        return client.post(reverse("console_invitation_withdraw", args=[world.invitation.uuid]))
    if action == "set New York's schedule II limits":
        return client.post(
            reverse("console_supply_edit") + "?state=NY&schedule=II",
            {"lead_days": "7", "max_refills": "0"},
        )
    if action == "keep alliance scores from patients":
        return client.post(reverse("console_alliance"), {})
    if action == "add a word the summary warns about":
        return client.post(reverse("console_terms"), {"text": f"frequent flyer {World.made}"})
    if action == "deactivate oneself":
        me = world.users.get(actor) or world.pat
        return client.post(
            reverse("console_person_active", args=[me.uuid]),
            {"active-reason": REASON, "active": "0"},
        )
    if action == "deactivate the superuser":
        return client.post(
            reverse("console_person_active", args=[world.users["superuser"].uuid]),
            {"active-reason": REASON, "active": "0"},
        )
    raise AssertionError(action)


def _effect(action, response, before, after) -> bool:
    if action.startswith("open"):
        return response.status_code == 200
    if action == "invite someone to Riverside":
        return after["invitations"] == before["invitations"] + 1
    if action == "deactivate Noor":
        return before["noor_active"] and not after["noor_active"]
    if action == "reactivate Pat":
        return after["pat_active"] and not before["pat_active"]
    if action == "reset Noor's two-factor":
        return before["noor_authenticators"] > 0 and after["noor_authenticators"] == 0
    if action == "withdraw the invitation to Riverside":
        return before["waiting_open"] and not after["waiting_open"]
    if action == "set New York's schedule II limits":
        return after["ny_policies"] == before["ny_policies"] + 1
    if action == "keep alliance scores from patients":
        return before["scores_shown"] and not after["scores_shown"]
    if action == "add a word the summary warns about":
        return after["terms"] == before["terms"] + 1
    if action in ("deactivate oneself", "deactivate the superuser"):
        return after["actives"] != before["actives"]
    raise AssertionError(action)


def test_console_matrix():
    cases = wrong = unaudited = server_errors = 0
    mistakes = []
    for action, allowed_actors in ALLOWED.items():
        for actor in ACTORS:
            world = World()
            client = Client()
            if actor != "anonymous":
                client.force_login(world.users[actor])
            before = world.state()
            last_row = AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0
            response = _do(action, client, world, actor)
            after = world.state()
            cases += 1
            if response.status_code >= 500:
                server_errors += 1
                mistakes.append(f"{actor:18} {action}: {response.status_code}")
                continue
            allowed = actor in allowed_actors
            took_effect = _effect(action, response, before, after)
            if took_effect != allowed:
                wrong += 1
                mistakes.append(
                    f"{actor:18} {action}: expected {'allowed' if allowed else 'refused'}, "
                    f"got {'allowed' if took_effect else 'refused'} ({response.status_code})"
                )
            if actor == "anonymous":
                if not response.url.startswith(reverse("account_login")):
                    mistakes.append(f"{actor:18} {action}: not sent to sign in")
                continue
            if action.startswith("open") and allowed:
                continue  # a page with no patient information: shown, not audited
            outcome = "allowed" if allowed else "denied"
            rows = AuditEvent.objects.filter(
                id__gt=last_row, actor=world.users[actor], outcome=outcome
            )
            # A refusal by the invitation form itself (a practice not offered) is said on the
            # form, before any service: it changes nothing and is not a decision of the policy.
            said_on_form = (
                action == "invite someone to Riverside"
                and actor == "lakeside_admin"
                and response.status_code == 400
            )
            if not rows.exists() and not said_on_form:
                unaudited += 1
                mistakes.append(f"{actor:18} {action}: no audit row saying {outcome}")
    report(
        f"console matrix: {cases} cases ({len(ACTORS)} actors × {len(ALLOWED)} Clinic settings "
        f"actions: open, invite, deactivate, reactivate, reset two-factor, withdraw, supply "
        f"policies, alliance settings, the summary's words), "
        f"{wrong} wrong, {unaudited} unaudited, {server_errors} server errors"
    )
    assert not mistakes, "\n".join(mistakes)
    assert cases == len(ACTORS) * len(ALLOWED)
