"""A small, believable clinic for the demo. Idempotent: running it twice changes nothing.

Demo goals, medicines and notes are written through each app's services (as the people who
would write them), so they are audited like any other write.
"""

from datetime import date, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from core.models import CareTeamMembership, Patient, Practice, Role, User

DEMO_PASSWORD = "concord-demo"  # noqa: S105 - printed in the README: demo only, refused in production

PRACTICES = [
    ("Riverside Psychiatry", Practice.Kind.PSYCHIATRY),
    ("Harbor Counseling", Practice.Kind.THERAPY),
]

# What each practice's patients are told out of hours (555-01xx numbers are fictional).
AFTER_HOURS = {
    "Riverside Psychiatry": {
        "after_hours_phone": "(555) 010-0199",
        "after_hours_instructions": "Call our main number and press 2: the psychiatrist on "
        "call answers every night and weekend.",
        "reply_time": "within one business day",
    },
    "Harbor Counseling": {
        "after_hours_instructions": "We have no after-hours line. Use 988 or 911.",
        "reply_time": "by the end of the next working day",
    },
}

# email, name, role, practice
STAFF = [
    ("admin@example.org", "Alex Morgan", Role.ADMIN, None),
    ("prescriber@example.org", "Dr. Priya Raman", Role.PRESCRIBER, "Riverside Psychiatry"),
    ("prescriber2@example.org", "Dr. Samuel Okafor", Role.PRESCRIBER, "Riverside Psychiatry"),
    ("therapist@example.org", "Jordan Lee, LCSW", Role.THERAPIST, "Harbor Counseling"),
    ("therapist2@example.org", "Maria Alvarez, PhD", Role.THERAPIST, "Harbor Counseling"),
]

# given, family, preferred, born, login e-mail (or ""), prescriber, therapist
PATIENTS = [
    (
        "Daniel",
        "Brooks",
        "Dan",
        date(1986, 3, 14),
        "patient@example.org",
        "prescriber@example.org",
        "therapist@example.org",
    ),
    (
        "Aisha",
        "Karim",
        "",
        date(1994, 11, 2),
        "",
        "prescriber@example.org",
        "therapist@example.org",
    ),
    (
        "Thomas",
        "Nguyen",
        "Tom",
        date(1979, 6, 30),
        "",
        "prescriber@example.org",
        "therapist2@example.org",
    ),
    (
        "Grace",
        "Whitfield",
        "",
        date(2001, 1, 19),
        "",
        "prescriber2@example.org",
        "therapist@example.org",
    ),
    (
        "Marcus",
        "Ellison",
        "",
        date(1968, 9, 5),
        "",
        "prescriber2@example.org",
        "therapist2@example.org",
    ),
    ("Lena", "Park", "", date(1990, 4, 23), "", "prescriber@example.org", None),
]


class Command(BaseCommand):
    help = "Load the demo clinic (two practices, staff, six patients). Refused in the production profile."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError(
                "seed_demo loads demo accounts with a published password: refused in production."
            )
        with transaction.atomic():
            practices = {
                name: Practice.objects.get_or_create(name=name, defaults={"kind": kind})[0]
                for name, kind in PRACTICES
            }
            for name, crisis_help in AFTER_HOURS.items():
                Practice.objects.filter(name=name, reply_time="").update(**crisis_help)
            staff = {}
            for email, name, role, practice in STAFF:
                user = User.objects.filter(email=email).first()
                if user is None:
                    user = User.objects.create_user(
                        email,
                        DEMO_PASSWORD,
                        full_name=name,
                        role=role,
                        practice=practices.get(practice),
                        is_staff=role == Role.ADMIN,
                        is_superuser=role == Role.ADMIN,
                    )
                staff[email] = user
            since = timezone.localdate() - timedelta(days=120)
            for given, family, preferred, born, login, prescriber, therapist in PATIENTS:
                patient, _ = Patient.objects.get_or_create(
                    given_name=given,
                    family_name=family,
                    date_of_birth=born,
                    defaults={"preferred_name": preferred},
                )
                if login and patient.user_id is None:
                    user = User.objects.filter(email=login).first() or User.objects.create_user(
                        login,
                        DEMO_PASSWORD,
                        full_name=f"{preferred or given} {family}",
                        role=Role.PATIENT,
                    )
                    patient.user = user
                    patient.email = login
                    patient.save(update_fields=["user", "email"])
                for email in (prescriber, therapist):
                    if not email:
                        continue
                    clinician = staff[email]
                    CareTeamMembership.objects.get_or_create(
                        patient=patient,
                        clinician=clinician,
                        defaults={
                            "role": clinician.role,
                            "practice": clinician.practice,
                            "since": since,
                        },
                    )
        self._story_of_dan(staff)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo clinic ready. Sign in with any of these (password: concord-demo):"
            )
        )
        for email, _name, role, _practice in STAFF[:2] + STAFF[3:4]:
            self.stdout.write(f"  {email:<26} {role.label}")
        self.stdout.write(f"  {'patient@example.org':<26} Patient")

    def _story_of_dan(self, staff) -> None:
        """Goals, a summary, medicines and notes for the demo patient, once."""
        from django.apps import apps

        patient = Patient.objects.get(user__email="patient@example.org")
        if apps.get_model("stories", "Goal").objects.filter(patient=patient).exists():
            return
        from prescribing import services as rx
        from stories import services as stories

        dan = patient.user
        priya = staff["prescriber@example.org"]
        jordan = staff["therapist@example.org"]
        today = timezone.localdate()
        stories.summary_save(
            actor=priya,
            patient=patient,
            version=None,
            text=(
                "Dan is a carpenter and the father of two girls. He served in the Army and came home wanting "
                "quiet mornings, time in his workshop, and to be present for his daughters. Being alert and in "
                "control matters to him; anything that makes him feel foggy worries him."
            ),
        )
        sleep = stories.goal_create(
            actor=dan,
            patient=patient,
            what="Sleep through most nights",
            why="So I have patience with my girls in the morning",
            levels={
                "level_minus2": "Up most nights",
                "level_0": "Four good nights a week",
                "level_plus2": "Sleeping well every night",
            },
        )
        workshop = stories.goal_create(
            actor=dan,
            patient=patient,
            what="Get back to the workshop on weekends",
            why="It is where I feel like myself",
        )
        for goal, ratings in ((sleep, (-1, 0, 1)), (workshop, (0, 0))):
            for value in ratings:
                stories.goal_rate(actor=dan, goal=goal, rating=value)
        stories.goal_create(
            actor=jordan, patient=patient, what="Practise grounding when I feel on guard"
        )
        sertraline = rx.medication_start(
            actor=priya,
            patient=patient,
            drug_name="Sertraline",
            strength="50 mg",
            form="tablet",
            dose="1 tablet",
            directions="once a day in the morning",
            purpose="To take the edge off, so I am not always on guard",
            hopes="Calmer days, and getting to sleep",
            worries="Feeling foggy or not myself",
            concerns=["control"],
            goal_uuids=[sleep.uuid, workshop.uuid],
            reason="Hypervigilance and poor sleep; Dan wants to feel less on guard",
            patient_preference="Nothing that makes me foggy at work",
            decided_together=True,
            participants="Dan, Dr. Raman",
            start_date=today - timedelta(days=70),
        )
        rx.medication_change_dose(
            actor=priya,
            medication=sertraline,
            version=sertraline.version,
            strength="100 mg",
            reason="Partial response after six weeks; no fogginess",
            decided_together=True,
            patient_preference="Willing to go up if it stays clear-headed",
        )
        prescription = rx.prescription_write(
            actor=priya,
            medication=sertraline,
            quantity=30,
            days_supply=30,
            refills_authorised=3,
            written_on=today - timedelta(days=25),
        )
        rx.fill_record(actor=priya, prescription=prescription, filled_on=today - timedelta(days=25))
        prazosin = rx.medication_start(
            actor=priya,
            patient=patient,
            drug_name="Prazosin",
            strength="1 mg",
            form="capsule",
            dose="1 capsule",
            directions="at bedtime",
            purpose="Fewer nightmares, so I can stay asleep",
            goal_uuids=[sleep.uuid],
            reason="Nightmares most nights",
            decided_together=True,
            start_date=today - timedelta(days=30),
        )
        prescription = rx.prescription_write(
            actor=priya,
            medication=prazosin,
            quantity=30,
            days_supply=30,
            refills_authorised=2,
            written_on=today - timedelta(days=12),
        )
        rx.fill_record(actor=priya, prescription=prescription, filled_on=today - timedelta(days=12))
        rx.observation_create(
            actor=dan,
            medication=prazosin,
            kind="response",
            text="Fewer nightmares this week. Still wake at 3 am sometimes.",
        )
        stories.note_create(
            actor=dan,
            patient=patient,
            kind="story",
            audience="care_team",
            title="The workshop",
            body="Went out to the workshop on Saturday for the first time since spring. Sanded a chair for an hour.",
        )
        stories.note_create(
            actor=jordan,
            patient=patient,
            kind="clinician",
            audience="care_team",
            body="Dan describes mornings as easier. We practised a grounding exercise he can use at work.",
        )
        self._check_ins(dan, patient, priya, jordan)

    def _check_ins(self, dan, patient, priya, jordan) -> None:
        """A few weeks of alliance and PHQ-9 check-ins; the last one with Dr. Raman dips."""
        from alliance import selectors as alliance_selectors
        from alliance import services as alliance

        alliance.install_shipped()
        offered = {i.key: i for i in alliance_selectors.instruments_offered()}

        def send(instrument, values, clinician=None, open_answer=""):
            check_in = alliance.check_in_start(
                actor=dan, patient=patient, instrument=instrument, clinician=clinician
            )
            answers = dict(
                zip([item["id"] for item in instrument.definition["items"]], values, strict=True)
            )
            alliance.check_in_submit(
                actor=dan, check_in=check_in, answers=answers, open_answer=open_answer
            )

        for values in ((9, 8, 8, 9), (9, 9, 8, 9)):
            send(offered["concord-alliance"], values, jordan)
        for values in ((9, 8, 8, 9), (8, 8, 8, 8), (7, 6, 5, 6)):
            send(
                offered["concord-alliance"],
                values,
                priya,
                open_answer="The last visit felt rushed.",
            )
        for values in ((2, 2, 2, 2, 1, 1, 1, 0, 0), (1, 1, 2, 1, 1, 1, 1, 0, 0)):
            send(offered["phq-9"], values)
