"""Clinic settings (issue 19): a clinic admin invites clinicians and admins with the single-use
invitation patients have, deactivates and reactivates accounts (never deletes them), resets a
second factor with a reason; each change audited, and nobody but the admins of that practice
gets any of it."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core import mail
from django.test import Client
from django.urls import reverse

from core.models import ApiToken, AuditEvent, Invitation, Role, User
from stories import services as stories
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-password-9"


@pytest.fixture
def clinic_admin(prescriber):
    """The admin of the prescriber's practice (Riverside): not a superuser."""
    return factories.AdminFactory(
        full_name="Ada Okafor", practice=prescriber.practice, is_superuser=False, is_staff=False
    )


@pytest.fixture
def admin_client(client, clinic_admin):
    client.force_login(clinic_admin)
    return client


def _invite(client, practice, **fields):
    data = {
        "full_name": "Sam Rivera",
        "email": "Sam.Rivera@riverside.example",
        "role": "therapist",
        "practice": str(practice.uuid),
    } | fields
    return client.post(reverse("console_invite"), data)


def _code(response) -> str:
    return re.search(r'class="invite-code__code"[^>]*>([A-Z0-9-]+)<', response.content.decode())[1]


def _link_path(message) -> str:
    return "/invite/" + re.search(r"/invite/([^/\s]+)/", message.body)[1] + "/"


class TestInvitation:
    def test_an_invited_clinician_signs_up_once_and_the_link_then_dies(
        self, admin_client, clinic_admin, prescriber, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = _invite(admin_client, prescriber.practice)
        assert response.status_code == 200
        code = _code(response)
        (message,) = mail.outbox
        assert message.to == ["sam.rivera@riverside.example"]
        # The mailbox alone is not enough: the e-mail never carries the code.
        assert code not in message.body and code.replace("-", "") not in message.body
        link = _link_path(message)

        newcomer = Client()
        page = newcomer.get(link).content.decode()
        assert "joining Riverside Psychiatry as a therapist" in page
        assert "date of birth" not in page.lower()
        wrong = newcomer.post(
            link,
            {
                "code": "AAAA-AAAA",
                "full_name": "Sam Rivera",
                "password": NEW_PASSWORD,
                "password_again": NEW_PASSWORD,
            },
        )
        assert wrong.status_code == 400
        assert "The code does not match" in wrong.content.decode()
        done = newcomer.post(
            link,
            {
                "code": code.lower(),
                "full_name": "Sam Rivera",
                "password": NEW_PASSWORD,
                "password_again": NEW_PASSWORD,
            },
        )
        assert done.status_code == 302
        sam = User.objects.get(email="sam.rivera@riverside.example")
        assert (sam.role, sam.practice, sam.is_active) == (
            Role.THERAPIST,
            prescriber.practice,
            True,
        )
        assert EmailAddress.objects.get(user=sam).verified
        assert newcomer.get(reverse("home")).status_code == 302  # signed in, sent to start

        # Used once, the link is dead, for the newcomer and for anyone else.
        assert newcomer.get(link).status_code == 410
        again = Client().post(
            link,
            {
                "code": code,
                "full_name": "Someone",
                "password": NEW_PASSWORD,
                "password_again": NEW_PASSWORD,
            },
        )
        assert again.status_code == 410
        assert User.objects.filter(email="sam.rivera@riverside.example").count() == 1

        sent = AuditEvent.objects.get(actor=clinic_admin, category="staff", action="create")
        assert sent.outcome == "allowed" and sent.object_type == "core.Invitation"
        made = AuditEvent.objects.get(actor=sam, category="staff", action="create")
        assert str(sam.uuid) in made.via
        # The admin hears the account was set up, and finds them in Clinic settings.
        listing = admin_client.get(reverse("console_home")).content.decode()
        assert "Sam Rivera" in listing and "Two-factor not set up" in listing

    def test_five_wrong_codes_close_a_staff_invitation_and_tell_the_admin(
        self, admin_client, clinic_admin, prescriber, django_capture_on_commit_callbacks
    ):
        from core.models import Notification

        with django_capture_on_commit_callbacks(execute=True):
            response = _invite(admin_client, prescriber.practice)
        code = _code(response)
        link = _link_path(mail.outbox[0])
        stranger = Client()
        wrong = {"code": "WXYZ-WXYZ", "full_name": "X", "password": NEW_PASSWORD}
        wrong["password_again"] = NEW_PASSWORD
        for _ in range(Invitation.MAX_ATTEMPTS):
            last = stranger.post(link, wrong)
        assert last.status_code == 410
        # Closed for good: the right code no longer works either.
        assert stranger.post(link, wrong | {"code": code}).status_code == 410
        assert not User.objects.filter(email="sam.rivera@riverside.example").exists()
        assert Notification.objects.filter(recipient=clinic_admin, kind="invitation_closed").get()
        denied = AuditEvent.objects.filter(category="staff", action="create", outcome="denied")
        assert denied.count() == Invitation.MAX_ATTEMPTS

    def test_an_invitation_to_an_address_already_in_use_is_refused_with_the_reason(
        self, admin_client, prescriber
    ):
        response = _invite(admin_client, prescriber.practice, email=prescriber.email.upper())
        assert response.status_code == 400
        assert "already belongs to a Concord account" in response.content.decode()
        assert not Invitation.objects.filter(patient__isnull=True).exists()
        assert mail.outbox == []

    def test_bad_input_says_what_is_wrong_and_sends_nothing(self, admin_client, prescriber):
        response = _invite(
            admin_client, prescriber.practice, email="not an address", role="patient"
        )
        page = response.content.decode()
        assert response.status_code == 400
        assert "Enter a whole e-mail address" in page and "Choose one of the roles" in page
        assert not Invitation.objects.exists()

    def test_an_admin_invites_only_to_the_practice_they_run(
        self, admin_client, clinic_admin, therapist
    ):
        response = _invite(admin_client, therapist.practice)  # Harbor: not theirs
        assert response.status_code == 400
        assert "Choose one of your practices" in response.content.decode()
        assert not Invitation.objects.exists()

    def test_a_withdrawn_invitation_no_longer_works(
        self, admin_client, prescriber, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            _invite(admin_client, prescriber.practice)
        invitation = Invitation.objects.get()
        response = admin_client.post(reverse("console_invitation_withdraw", args=[invitation.uuid]))
        assert response.status_code == 302
        page = Client().get(_link_path(mail.outbox[0]))
        assert page.status_code == 410 and "withdrew this invitation" in page.content.decode()


class TestDeactivation:
    def test_a_deactivated_account_cannot_sign_in_and_its_records_still_name_it(
        self, admin_client, clinic_admin, prescriber, patient, patient_user
    ):
        stories.goal_create(actor=prescriber, patient=patient, what="Walk to work")
        key = factories.api_token(prescriber)
        signed_in = Client()
        signed_in.force_login(prescriber)
        assert signed_in.get(reverse("patient_list")).status_code == 200

        refused = admin_client.post(
            reverse("console_person_active", args=[prescriber.uuid]),
            {"active-reason": "", "active": "0"},
        )
        assert refused.status_code == 400
        assert "Say why" in refused.content.decode()
        prescriber.refresh_from_db()
        assert prescriber.is_active

        response = admin_client.post(
            reverse("console_person_active", args=[prescriber.uuid]),
            {"active-reason": "Left the practice", "active": "0"},
            follow=True,
        )
        assert "can no longer sign in" in response.content.decode()
        prescriber.refresh_from_db()
        assert not prescriber.is_active
        assert User.objects.filter(pk=prescriber.pk).exists()  # never deleted

        # Their open session ends, a new sign-in fails, their API token is refused.
        assert signed_in.get(reverse("patient_list")).status_code == 302
        fresh = Client()
        fresh.post("/accounts/login/", {"login": prescriber.email, "password": PASSWORD})
        assert "_auth_user_id" not in fresh.session
        me = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")
        assert me.status_code in (401, 403)
        assert ApiToken.objects.get(user=prescriber).revoked_because == "deactivated"

        # What they wrote still names them.
        patient_page = Client()
        patient_page.force_login(patient_user)
        goals = patient_page.get(reverse("goals", args=[patient.uuid])).content.decode()
        assert "Proposed by Dr. Priya Raman" in goals

        row = AuditEvent.objects.get(actor=clinic_admin, category="staff", action="update")
        assert row.object_id == str(prescriber.uuid)
        assert "account deactivated; reason: Left the practice" == row.via

        # And they can come back.
        admin_client.post(
            reverse("console_person_active", args=[prescriber.uuid]),
            {"active-reason": "Back from leave", "active": "1"},
        )
        prescriber.refresh_from_db()
        assert prescriber.is_active
        back = Client()
        back.post("/accounts/login/", {"login": prescriber.email, "password": PASSWORD})
        assert back.session["_auth_user_id"] == str(prescriber.pk)

    def test_an_admin_cannot_deactivate_themselves_nor_a_superuser(
        self, admin_client, clinic_admin, prescriber
    ):
        boss = factories.AdminFactory(practice=prescriber.practice)  # a superuser
        for person in (clinic_admin, boss):
            response = admin_client.post(
                reverse("console_person_active", args=[person.uuid]),
                {"active-reason": "Testing the limits", "active": "0"},
            )
            assert response.status_code == 404
            person.refresh_from_db()
            assert person.is_active
        assert (
            AuditEvent.objects.filter(
                actor=clinic_admin, category="staff", outcome="denied"
            ).count()
            == 2
        )


class TestTwoFactorReset:
    def test_mfa_reset_needs_a_reason_and_is_audited_with_it(
        self, admin_client, clinic_admin, prescriber, django_capture_on_commit_callbacks
    ):
        key = factories.api_token(prescriber)
        factories.totp_device(prescriber)
        Authenticator.objects.create(
            user=prescriber, type=Authenticator.Type.RECOVERY_CODES, data={"seed": "x"}
        )
        url = reverse("console_person_mfa_reset", args=[prescriber.uuid])

        refused = admin_client.post(url, {"mfa-reason": "x"})
        assert refused.status_code == 400
        assert "Say why" in refused.content.decode()
        assert Authenticator.objects.filter(user=prescriber).count() == 2

        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(url, {"mfa-reason": "Lost phone, called me"}, follow=True)
        assert "two-factor authentication was reset" in response.content.decode()
        assert not Authenticator.objects.filter(user=prescriber).exists()
        assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code in (
            401,
            403,
        )
        row = AuditEvent.objects.get(actor=clinic_admin, category="staff", action="delete")
        assert row.object_id == str(prescriber.uuid)
        assert row.via.endswith("reason: Lost phone, called me")
        # The person hears of it at their own address.
        (notice,) = mail.outbox
        assert notice.to == [prescriber.email] and "reset" in notice.subject


# Every route of the console, for the refusals below.
def _routes(person, invitation):
    return [
        ("get", reverse("console_home"), {}),
        ("get", reverse("console_invite"), {}),
        (
            "post",
            reverse("console_invite"),
            {
                "full_name": "Eve",
                "email": "eve@example.test",
                "role": "admin",
                "practice": str(person.practice.uuid),
            },
        ),
        ("get", reverse("console_person", args=[person.uuid]), {}),
        (
            "post",
            reverse("console_person_active", args=[person.uuid]),
            {"active-reason": "Taking over", "active": "0"},
        ),
        (
            "post",
            reverse("console_person_mfa_reset", args=[person.uuid]),
            {"mfa-reason": "Taking over"},
        ),
        ("post", reverse("console_invitation_withdraw", args=[invitation.uuid]), {}),
    ]


@pytest.mark.parametrize("who", ["prescriber", "therapist", "patient_user", "other_admin"])
def test_everyone_but_the_practices_admin_is_refused_every_console_route(
    who, request, prescriber, patient, clinic_admin
):
    from core import services

    invitation, _, _ = services.staff_invitation_create(
        actor=clinic_admin,
        email="new@example.test",
        full_name="New Person",
        role="prescriber",
        practice=prescriber.practice,
    )
    colleague = factories.PrescriberFactory(practice=prescriber.practice, full_name="Col League")
    factories.totp_device(colleague)
    if who == "other_admin":
        actor = factories.AdminFactory(
            practice=factories.PracticeFactory(name="Lakeside"), is_superuser=False
        )
    else:
        actor = request.getfixturevalue(who)
    client = Client()
    client.force_login(actor)
    routes = _routes(colleague, invitation)
    if who == "other_admin":
        # Their own Clinic settings open; Riverside's people and invitations do not, and
        # Riverside is not among the practices their invitation form offers.
        _method, invite_url, invite_data = routes[2]
        wrong_practice = client.post(invite_url, invite_data)
        assert wrong_practice.status_code == 400
        assert "Choose one of your practices" in wrong_practice.content.decode()
        routes = routes[3:]
    for method, url, data in routes:
        before = AuditEvent.objects.filter(actor=actor, outcome="denied").count()
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (who, url)
        assert AuditEvent.objects.filter(actor=actor, outcome="denied").count() == before + 1
    colleague.refresh_from_db()
    invitation.refresh_from_db()
    assert colleague.is_active and Authenticator.objects.filter(user=colleague).exists()
    assert invitation.is_usable()
    assert Invitation.objects.filter(patient__isnull=True).count() == 1


def test_the_console_lists_people_in_a_few_queries(
    admin_client, prescriber, django_assert_max_num_queries
):
    for n in range(8):
        person = factories.TherapistFactory(practice=prescriber.practice, email=f"t{n}@x.test")
        factories.totp_device(person)
    with django_assert_max_num_queries(12):
        page = admin_client.get(reverse("console_home"))
    assert page.status_code == 200
    assert page.content.decode().count("Two-factor on") == 8


class TestPracticeSettings:
    def test_the_state_is_chosen_from_the_list_and_its_change_audited_from_and_to(
        self, admin_client, clinic_admin, prescriber
    ):
        practice = prescriber.practice
        practice.state = "NY"
        practice.save()
        url = reverse("practice_settings", args=[practice.uuid])
        assert "New York" in admin_client.get(url).content.decode()
        refused = admin_client.post(url, {"state": "XX", "reply_time": "today"})
        assert refused.status_code == 400
        assert "Choose a state from the list" in refused.content.decode()
        practice.refresh_from_db()
        assert (practice.state, practice.reply_time) == ("NY", "")

        # Written as the page's own example shows it, brackets first.
        response = admin_client.post(
            url,
            {"state": "NJ", "reply_time": "within a day", "after_hours_phone": "(555) 010-0199"},
        )
        assert response.status_code == 302
        practice.refresh_from_db()
        assert (practice.state, practice.reply_time) == ("NJ", "within a day")
        assert practice.after_hours_tel == "5550100199"
        row = AuditEvent.objects.get(actor=clinic_admin, object_type="core.Practice")
        assert row.via == (
            "clinic admin: practice settings: state NY to NJ, after_hours_phone, reply_time"
        )
        listing = admin_client.get(reverse("console_home")).content.decode()
        assert "State: NJ" in listing and "Replies within a day" in listing


class TestForEveryPractice:
    """The supply policies and the alliance settings hold for every practice: a clinic-wide
    admin's (no practice of their own), not one practice's admin's."""

    @pytest.fixture
    def clinic_wide(self, db):
        return factories.AdminFactory(practice=None, is_superuser=False, is_staff=False)

    def test_a_state_s_limits_are_set_within_federal_law_and_audited(self, client, clinic_wide):
        from prescribing.models import SupplyPolicy

        client.force_login(clinic_wide)
        assert "Supply policies" in client.get(reverse("console_home")).content.decode()
        url = reverse("console_supply_edit") + "?state=NY&schedule=III"
        fields = {"lead_days": "5", "lead_in_business_days": "on", "validity_months": "6"}
        too_many = client.post(url, fields | {"max_refills": "6"})
        assert too_many.status_code == 400
        assert "Federal law allows at most 5" in too_many.content.decode()
        assert not SupplyPolicy.objects.filter(state="NY").exists()

        assert client.post(url, fields | {"max_refills": "2"}).status_code == 302
        policy = SupplyPolicy.objects.get(state="NY", schedule="III")
        assert (policy.lead_days, policy.lead_in_business_days, policy.max_refills) == (5, True, 2)
        row = AuditEvent.objects.get(actor=clinic_wide, object_type="prescribing.SupplyPolicy")
        assert row.via == (
            "clinic admin: supply policy NY:III: lead 5 business days, refills 2, valid 6 months"
        )
        assert "New York · Schedule III" in client.get(reverse("console_supply")).content.decode()

    def test_alliance_scores_kept_from_patients_and_audited(self, client, clinic_wide):
        from alliance import selectors as alliance_selectors

        client.force_login(clinic_wide)
        assert client.post(reverse("console_alliance"), {}).status_code == 302
        assert alliance_selectors.show_scores_to_patients() is False
        row = AuditEvent.objects.get(actor=clinic_wide, object_type="alliance.AllianceSettings")
        assert row.via == "clinic admin: alliance scores kept from patients"
        client.post(reverse("console_alliance"), {"show_alliance_scores_to_patients": "on"})
        assert alliance_selectors.show_scores_to_patients() is True

    def test_a_word_added_to_the_summary_s_list_is_warned_about_until_removed(
        self, client, clinic_wide, prescriber, patient
    ):
        from stories import services as stories_services
        from stories.models import SummaryTerm

        client.force_login(clinic_wide)
        added = client.post(
            reverse("console_terms"),
            {"text": "  frequent   flyer ", "instead": "comes in often, and why"},
        )
        assert added.status_code == 302
        term = SummaryTerm.objects.get(text="frequent flyer")
        again = client.post(reverse("console_terms"), {"text": "Frequent Flyer"})
        assert again.status_code == 400 and "on the list already" in again.content.decode()
        with pytest.raises(stories_services.ClinicalTerms):
            stories_services.summary_save(
                actor=prescriber, patient=patient, text="Dan is a frequent flyer.", version=None
            )
        client.post(reverse("console_term_remove"), {"term": term.pk})
        assert not SummaryTerm.objects.filter(pk=term.pk).exists()
        stories_services.summary_save(
            actor=prescriber, patient=patient, text="Dan is a frequent flyer.", version=None
        )
        vias = list(
            AuditEvent.objects.filter(actor=clinic_wide, object_type="stories.SummaryTerm")
            .order_by("id")
            .values_list("via", flat=True)
        )
        assert vias == [
            "clinic admin: summary term added: frequent flyer",
            "clinic admin: summary term removed: frequent flyer",
        ]

    def test_a_practice_s_admin_and_everyone_else_are_refused(
        self, client, clinic_admin, prescriber, patient_user
    ):
        from alliance import selectors as alliance_selectors
        from prescribing.models import SupplyPolicy

        policies = list(SupplyPolicy.objects.values())
        for person in (clinic_admin, prescriber, patient_user):
            client.force_login(person)
            if person is clinic_admin:
                home = client.get(reverse("console_home")).content.decode()
                assert reverse("console_supply") not in home
            for response in (
                client.get(reverse("console_supply")),
                client.post(
                    reverse("console_supply_edit") + "?state=&schedule=II", {"lead_days": "9"}
                ),
                client.post(reverse("console_alliance"), {}),
                client.get(reverse("console_terms")),
                client.post(reverse("console_terms"), {"text": "labile"}),
                client.post(reverse("console_term_remove"), {"term": "1"}),
            ):
                assert response.status_code == 404
            assert AuditEvent.objects.filter(actor=person, outcome="denied").count() == 6
        assert list(SupplyPolicy.objects.values()) == policies
        assert alliance_selectors.show_scores_to_patients() is True


class TestClinicLead:
    def test_a_clinician_named_clinic_lead_sees_the_equity_view_and_no_longer_after(
        self, admin_client, clinic_admin, prescriber, patient, patient_user
    ):
        signed_in = Client()
        signed_in.force_login(prescriber)
        assert signed_in.get(reverse("equity")).status_code == 404
        url = reverse("console_person_lead", args=[prescriber.uuid])
        refused = admin_client.post(url, {"lead-reason": "", "lead": "1"})
        assert refused.status_code == 400
        prescriber.refresh_from_db()
        assert not prescriber.is_clinic_lead
        response = admin_client.post(
            url, {"lead-reason": "Leads our quality meetings", "lead": "1"}, follow=True
        )
        assert "is now clinic lead" in response.content.decode()
        assert signed_in.get(reverse("equity")).status_code == 200
        assert AuditEvent.objects.filter(
            actor=clinic_admin, category="staff", object_id=str(prescriber.uuid)
        ).exists()
        admin_client.post(url, {"lead-reason": "Handed over", "lead": "0"})
        assert signed_in.get(reverse("equity")).status_code == 404

    def test_a_patient_cannot_be_clinic_lead_and_a_clinician_cannot_name_one(
        self, admin_client, prescriber, therapist, patient_user
    ):
        response = Client()
        response.force_login(therapist)
        refused = response.post(
            reverse("console_person_lead", args=[prescriber.uuid]),
            {"lead-reason": "Me, please", "lead": "1"},
        )
        assert refused.status_code == 404
        prescriber.refresh_from_db()
        assert not prescriber.is_clinic_lead
        other_admin = factories.UserFactory(role=Role.ADMIN, practice=prescriber.practice)
        answer = admin_client.post(
            reverse("console_person_lead", args=[other_admin.uuid]),
            {"lead-reason": "An admin sees it already", "lead": "1"},
        )
        assert answer.status_code == 400
        assert "Only a prescriber or a therapist" in answer.content.decode()
