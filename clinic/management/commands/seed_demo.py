"""A small, believable clinic for the demo. Idempotent: running it twice changes nothing.

Demo goals, medicines and notes are written through each app's services (as the people who
would write them), so they are audited like any other write. Dan's story is four months of
care: the services write each record today, then the record's own dates are moved to the day
it happened (created_at, submitted_at, rated_at…). Decisions are append-only, so they are
written with their real day from the start (decided_on). The audit trail keeps the true
moment of every write: it says the demo was loaded today, which it was.
"""

from datetime import date, datetime, time, timedelta

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
        # In calendar days, so that a message sent on Friday is not overdue on Monday.
        "reply_days": 3,
    },
    "Harbor Counseling": {
        "after_hours_instructions": "We have no after-hours line. Use 988 or 911.",
        "reply_time": "by the end of the next working day",
        "reply_days": 4,
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
        "tom@example.org",
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


# The other patients' medicines: (given, family), drug, strength, form, directions, started
# (days ago), why, and their therapist's first note (fictional people, plain words).
OTHERS = [
    (
        ("Aisha", "Karim"),
        "Escitalopram",
        "10 mg",
        "tablet",
        "once a day",
        105,
        "Worry most days, hard to switch off at night",
        "Aisha wants to worry less about her exams; we are mapping what sets the worry off.",
    ),
    (
        ("Thomas", "Nguyen"),
        "Bupropion",
        "150 mg",
        "tablet",
        "once a day in the morning",
        98,
        "Low energy and no interest in things he used to enjoy",
        "Tom is back on the bike twice a week; he wants the evenings with his son back.",
    ),
    (
        ("Grace", "Whitfield"),
        "Fluoxetine",
        "20 mg",
        "capsule",
        "once a day",
        90,
        "Low mood since the winter; Grace asked to try a medicine",
        "Grace is keeping a short diary of good moments; she brought three this week.",
    ),
    (
        ("Marcus", "Ellison"),
        "Mirtazapine",
        "15 mg",
        "tablet",
        "at bedtime",
        112,
        "Poor sleep and appetite after his wife's death",
        "Marcus talked about his wife's garden; he has started watering it again.",
    ),
    (
        ("Lena", "Park"),
        "Sertraline",
        "50 mg",
        "tablet",
        "once a day",
        84,
        "Panic on the commute; Lena wants to get back to the office",
        "",
    ),
]


# The rest of Dr. Okafor's caseload: given, family, born, race and ethnicity (one category,
# several, "declined", or ""), preferred language, sex, gender identity, medicines.
COHORT = [
    (
        "Ana",
        "Alvarez",
        date(2000, 10, 9),
        "hispanic",
        "es",
        "female",
        "woman",
        [("Sertraline", "100 mg"), ("Trazodone", "50 mg")],
    ),
    (
        "Marcus",
        "Bennett",
        date(1987, 8, 23),
        ["black", "white"],
        "en",
        "male",
        "man",
        [("Bupropion", "150 mg")],
    ),
    (
        "Grace",
        "Chen",
        date(1971, 8, 18),
        "black",
        "en",
        "female",
        "woman",
        [("Escitalopram", "10 mg")],
    ),
    ("Diego", "Diallo", date(1999, 1, 26), "asian", "en", "male", "man", [("Quetiapine", "50 mg")]),
    (
        "Mei",
        "Edwards",
        date(1950, 10, 22),
        "hispanic",
        "es",
        "female",
        "woman",
        [("Sertraline", "100 mg"), ("Trazodone", "50 mg")],
    ),
    (
        "Wei",
        "Flores",
        date(1959, 6, 7),
        "black",
        "en",
        "male",
        "nonbinary",
        [("Fluoxetine", "20 mg")],
    ),
    (
        "Aisha",
        "Garcia",
        date(2003, 11, 19),
        "white",
        "en",
        "female",
        "woman",
        [("Sertraline", "100 mg"), ("Trazodone", "50 mg")],
    ),
    (
        "Omar",
        "Hughes",
        date(2002, 11, 19),
        "black",
        "en",
        "male",
        "man",
        [("Escitalopram", "10 mg"), ("Clonazepam", "0.5 mg")],
    ),
    (
        "Lucia",
        "Ibrahim",
        date(1986, 7, 25),
        "black",
        "en",
        "female",
        "woman",
        [("Lamotrigine", "100 mg")],
    ),
    ("James", "Jackson", date(1983, 5, 2), "black", "en", "male", "man", [("Sertraline", "50 mg")]),
    (
        "Tamika",
        "Kim",
        date(1993, 11, 11),
        "white",
        "en",
        "female",
        "woman",
        [("Lamotrigine", "100 mg")],
    ),
    (
        "Andre",
        "Lopez",
        date(1982, 8, 4),
        "declined",
        "",
        "male",
        "man",
        [("Escitalopram", "10 mg")],
    ),
    (
        "Hannah",
        "Morales",
        date(1980, 3, 7),
        "white",
        "",
        "female",
        "woman",
        [("Fluoxetine", "20 mg")],
    ),
    (
        "Luis",
        "Nguyen",
        date(2004, 4, 12),
        "black",
        "en",
        "male",
        "nonbinary",
        [("Escitalopram", "10 mg"), ("Clonazepam", "0.5 mg")],
    ),
    (
        "Rosa",
        "Okoro",
        date(1952, 5, 20),
        "asian",
        "en",
        "female",
        "woman",
        [("Escitalopram", "10 mg"), ("Clonazepam", "0.5 mg")],
    ),
    (
        "Ethan",
        "Patel",
        date(1992, 7, 3),
        "black",
        "en",
        "male",
        "nonbinary",
        [("Lamotrigine", "100 mg")],
    ),
    (
        "Linh",
        "Quinn",
        date(1970, 2, 21),
        "hispanic",
        "es",
        "female",
        "woman",
        [("Bupropion", "150 mg")],
    ),
    ("Minh", "Rivera", date(2003, 4, 19), "asian", "en", "male", "man", [("Quetiapine", "50 mg")]),
    (
        "Fatima",
        "Sato",
        date(1962, 3, 19),
        "black",
        "en",
        "female",
        "woman",
        [("Sertraline", "50 mg")],
    ),
    ("Samir", "Turner", date(1954, 10, 19), "white", "", "male", "man", [("Sertraline", "50 mg")]),
    (
        "Chloe",
        "Usman",
        date(1997, 5, 21),
        "black",
        "en",
        "female",
        "woman",
        [("Escitalopram", "10 mg")],
    ),
    ("Noah", "Vega", date(1958, 2, 4), "white", "en", "male", "man", [("Lamotrigine", "100 mg")]),
    (
        "Imani",
        "Walker",
        date(1986, 11, 11),
        "black",
        "en",
        "female",
        "woman",
        [("Sertraline", "100 mg"), ("Trazodone", "50 mg")],
    ),
    (
        "Darnell",
        "Young",
        date(1980, 4, 5),
        "hispanic",
        "es",
        "male",
        "man",
        [("Fluoxetine", "20 mg")],
    ),
    (
        "Sofia",
        "Abbott",
        date(1987, 5, 4),
        "white",
        "en",
        "female",
        "woman",
        [("Escitalopram", "10 mg")],
    ),
    (
        "Carlos",
        "Banks",
        date(1971, 7, 2),
        "hispanic",
        "es",
        "male",
        "man",
        [("Bupropion", "150 mg")],
    ),
    (
        "Emily",
        "Castillo",
        date(1963, 11, 11),
        "hispanic",
        "es",
        "female",
        "woman",
        [("Fluoxetine", "20 mg")],
    ),
    ("Liam", "Dawson", date(1993, 1, 2), "white", "en", "male", "man", [("Lamotrigine", "100 mg")]),
    (
        "Keisha",
        "Ellis",
        date(1973, 2, 2),
        "white",
        "en",
        "female",
        "woman",
        [("Bupropion", "150 mg")],
    ),
    ("Tyrone", "Fox", date(1964, 7, 4), "hispanic", "es", "male", "man", [("Bupropion", "150 mg")]),
    (
        "Yuki",
        "Gomez",
        date(2003, 2, 4),
        "white",
        "en",
        "female",
        "woman",
        [("Fluoxetine", "20 mg")],
    ),
    (
        "Kenji",
        "Hart",
        date(1976, 5, 12),
        "hispanic",
        "es",
        "male",
        "man",
        [("Sertraline", "100 mg"), ("Trazodone", "50 mg")],
    ),
    (
        "Maya",
        "Irving",
        date(1961, 4, 23),
        "asian",
        "en",
        "female",
        "woman",
        [("Quetiapine", "50 mg")],
    ),
    ("Owen", "Jones", date(1972, 6, 27), "white", "en", "male", "man", [("Bupropion", "150 mg")]),
    (
        "Olivia",
        "Keller",
        date(1999, 8, 17),
        "white",
        "en",
        "female",
        "woman",
        [("Bupropion", "150 mg")],
    ),
    (
        "Mateo",
        "Lam",
        date(2004, 11, 22),
        "hispanic",
        "es",
        "male",
        "man",
        [("Escitalopram", "10 mg")],
    ),
    (
        "Carmen",
        "Mendez",
        date(1965, 5, 19),
        "white",
        "",
        "female",
        "woman",
        [("Sertraline", "100 mg"), ("Trazodone", "50 mg")],
    ),
    (
        "Jamal",
        "Nash",
        date(1979, 2, 13),
        "white",
        "en",
        "male",
        "man",
        [("Sertraline", "100 mg"), ("Trazodone", "50 mg")],
    ),
    (
        "Nadia",
        "Ortiz",
        date(1953, 7, 27),
        "white",
        "",
        "female",
        "woman",
        [("Escitalopram", "10 mg"), ("Clonazepam", "0.5 mg")],
    ),
    ("Ben", "Price", date(1961, 5, 27), "black", "en", "male", "man", [("Bupropion", "150 mg")]),
    (
        "Ruth",
        "Reyes",
        date(2000, 9, 13),
        "white",
        "en",
        "female",
        "woman",
        [("Sertraline", "50 mg")],
    ),
    (
        "Hector",
        "Shaw",
        date(1984, 11, 1),
        "hispanic",
        "es",
        "male",
        "nonbinary",
        [("Quetiapine", "50 mg")],
    ),
    (
        "Zoe",
        "Tran",
        date(1976, 9, 5),
        "black",
        "en",
        "female",
        "woman",
        [("Escitalopram", "10 mg"), ("Clonazepam", "0.5 mg")],
    ),
    (
        "Isaac",
        "Underwood",
        date(1960, 5, 22),
        "hispanic",
        "en",
        "male",
        "man",
        [("Escitalopram", "10 mg"), ("Clonazepam", "0.5 mg")],
    ),
    (
        "Leah",
        "Vance",
        date(1952, 10, 8),
        "declined",
        "en",
        "female",
        "woman",
        [("Quetiapine", "50 mg")],
    ),
    (
        "Rafael",
        "Wright",
        date(1984, 12, 20),
        "white",
        "",
        "male",
        "man",
        [("Sertraline", "100 mg"), ("Trazodone", "50 mg")],
    ),
    (
        "Ivy",
        "Yates",
        date(1994, 7, 24),
        "black",
        "en",
        "female",
        "woman",
        [("Sertraline", "50 mg")],
    ),
    (
        "Tom",
        "Zamora",
        date(1979, 7, 27),
        "hispanic",
        "es",
        "male",
        "man",
        [("Escitalopram", "10 mg"), ("Clonazepam", "0.5 mg")],
    ),
]
# PHQ-9 totals of the other patients who fill in check-ins, (days ago, total): Tom's has not
# moved by a reliable amount in fourteen weeks, so the caseload lists him as not on track.
OUTCOMES = {
    ("Thomas", "Nguyen"): [
        (98, 16),
        (84, 17),
        (70, 15),
        (56, 16),
        (42, 14),
        (28, 15),
        (14, 16),
        (3, 15),
    ],
}


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
        with transaction.atomic():
            self._story_of_dan(staff)
            self._others(staff)
            self._caseload_of_samuel(staff)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo clinic ready. Sign in with any of these (password: concord-demo):"
            )
        )
        for email, name, role, practice in STAFF:
            where = f", {practice}" if practice else ", both practices"
            self.stdout.write(f"  {email:<26} {name} ({role.label.lower()}{where})")
        self.stdout.write(f"  {'patient@example.org':<26} Dan Brooks (patient)")
        self.stdout.write(f"  {'tom@example.org':<26} Tom Nguyen (patient)")

    def _story_of_dan(self, staff) -> None:
        """Four months of Dan's care, once: visits, medicines, check-ins, goals and notes."""
        from django.apps import apps

        patient = Patient.objects.get(user__email="patient@example.org")
        if apps.get_model("stories", "Goal").objects.filter(patient=patient).exists():
            return
        from prescribing import services as rx
        from prescribing.models import Medication
        from stories import services as stories
        from stories.models import Goal

        dan = patient.user
        priya = staff["prescriber@example.org"]
        jordan = staff["therapist@example.org"]
        today = timezone.localdate()

        def day(ago: int) -> date:
            return today - timedelta(days=ago)

        def at(ago: int, hour: int = 10, minute: int = 0) -> datetime:
            return timezone.make_aware(datetime.combine(day(ago), time(hour, minute)))

        def dated(record, **fields) -> None:
            # Only tables that are not append-only: decisions carry their day from the start.
            type(record).objects.filter(pk=record.pk).update(**fields)

        # Day 120: the first visit with Dr. Raman. Dan's goals, the summary, sertraline.
        summary = stories.summary_save(
            actor=priya,
            patient=patient,
            version=None,
            text=(
                "Dan is a carpenter and the father of two girls. He served in the Army and came home wanting "
                "quiet mornings, time in his workshop, and to be present for his daughters. Being alert and in "
                "control matters to him; anything that makes him feel foggy worries him."
            ),
        )
        dated(summary, updated_at=at(120, 11))
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
        grounding = stories.goal_create(
            actor=jordan, patient=patient, what="Practice grounding when I feel on guard"
        )
        dated(sleep, created_at=at(120, 10, 20), updated_at=at(120, 10, 20))
        dated(workshop, created_at=at(120, 10, 25), updated_at=at(120, 10, 25))
        dated(grounding, created_at=at(117, 15), updated_at=at(117, 15))
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
            needs=["patient_goals", "patient_request"],
            need_reflection="Dan asked for help with being on guard; it is his sleep and his work.",
            reason="Hypervigilance and poor sleep; Dan wants to feel less on guard",
            patient_preference="Nothing that makes me foggy at work",
            decided_together=True,
            participants="Dan, Dr. Raman",
            start_date=day(120),
            decided_on=day(120),
        )
        dated(sertraline, created_at=at(120, 10, 40))
        first = self._prescribe(rx, priya, sertraline, written=120, refills=1, at=at)
        self._fill(rx, priya, first, 120, at)
        self._observe(
            rx,
            dan,
            sertraline,
            113,
            "side_effect",
            "mild",
            at,
            "A bit queasy in the mornings this first week. Better with breakfast.",
        )
        self._fill(rx, priya, first, 91, at)
        self._observe(
            rx,
            dan,
            sertraline,
            70,
            "response",
            "none",
            at,
            "Not much change yet. Still on guard at work, still up at night.",
        )

        # Day 62: the second visit. A partial response, no fog: 100 mg tablets.
        rx.medication_change_dose(
            actor=priya,
            medication=sertraline,
            version=Medication.objects.get(pk=sertraline.pk).version,
            strength="100 mg",
            goal_uuids=[sleep.uuid, workshop.uuid],
            needs=["patient_goals"],
            need_reflection="Still on guard at work: his goals, not my impatience.",
            reason="Partial response after eight weeks; no fogginess",
            decided_together=True,
            patient_preference="Willing to go up if it stays clear-headed",
            participants="Dan, Dr. Raman",
            decided_on=day(62),
        )
        second = self._prescribe(rx, priya, sertraline, written=62, refills=3, at=at)
        self._fill(rx, priya, second, 62, at)

        # Day 44: nightmares, talked through with Jordan, brought to Dr. Raman: prazosin.
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
            needs=["patient_goals"],
            need_reflection="His sleep goal; Jordan and Dan brought the nightmares to me together.",
            reason="Nightmares most nights",
            decided_together=True,
            participants="Dan, Dr. Raman",
            start_date=day(44),
            decided_on=day(44),
        )
        dated(prazosin, created_at=at(44, 10, 40))
        nightly = self._prescribe(rx, priya, prazosin, written=44, refills=0, at=at)
        self._fill(rx, priya, nightly, 44, at)

        # Refills of sertraline, asked for by Dan before each runs out, on their real days.
        self._refill(rx, dan, priya, sertraline, asked=36, answered=35, run_out=32, at=at)
        self._fill(rx, priya, second, 33, at)
        self._observe(
            rx,
            dan,
            prazosin,
            25,
            "response",
            "none",
            at,
            "Fewer nightmares this week. Still wake at 3 am sometimes.",
        )

        # Day 14: a longer visit after the consultation. Prazosin up to two capsules a night,
        # so a new prescription of sixty a month.
        rx.medication_change_dose(
            actor=priya,
            medication=prazosin,
            version=Medication.objects.get(pk=prazosin.pk).version,
            dose="2 capsules",
            goal_uuids=[sleep.uuid],
            needs=["patient_goals", "patient_request"],
            need_reflection="Dan wants to try a little more before anything new.",
            reason="Nightmares down to two or three nights a week; no dizziness on standing",
            decided_together=True,
            patient_preference="Try a little more before anything new",
            participants="Dan, Dr. Raman",
            decided_on=day(14),
        )
        nightly = self._prescribe(rx, priya, prazosin, written=14, refills=2, at=at, quantity=60)
        self._fill(rx, priya, nightly, 14, at)
        self._refill(rx, dan, priya, sertraline, asked=7, answered=6, run_out=3, at=at)
        self._fill(rx, priya, second, 4, at)
        self._observe(
            rx,
            dan,
            sertraline,
            9,
            "response",
            "none",
            at,
            "Mornings are easier. I was in the workshop both days on the weekend.",
        )

        # What Dan rated, as the weeks went.
        for goal, ratings in (
            (sleep, ((105, -2), (77, -1), (49, -1), (35, -1), (21, 0), (7, 1))),
            (workshop, ((98, -2), (56, -1), (28, 0), (7, 1))),
        ):
            for ago, value in ratings:
                rating = stories.goal_rate(actor=dan, goal=goal, rating=value)
                dated(rating, rated_at=at(ago, 20))
        Goal.objects.filter(pk__in=[sleep.pk, workshop.pk]).update(updated_at=at(7, 20))

        # Therapy with Jordan: what he wrote after sessions, and Dan's own story.
        for ago, body in (
            (
                110,
                "First session. Dan talked about coming home, his daughters, and feeling on guard in "
                "crowds. We agreed to start with sleep and with getting back to the workshop.",
            ),
            (
                75,
                "Dan describes mornings as a little easier. We practiced a grounding exercise he can "
                "use at work.",
            ),
            (
                40,
                "Nightmares most nights. Dan would like to ask Dr. Raman about them but says the last "
                "visit felt rushed. We wrote his questions down together.",
            ),
            (
                26,
                "Dan says the longer visit with Dr. Raman helped; he felt listened to. Grounding "
                "practice three times this week.",
            ),
        ):
            note = stories.note_create(
                actor=jordan, patient=patient, kind="clinician", audience="care_team", body=body
            )
            dated(note, created_at=at(ago, 16), updated_at=at(ago, 16))
        story = stories.note_create(
            actor=dan,
            patient=patient,
            kind="story",
            audience="care_team",
            title="The workshop",
            body="Went out to the workshop on Saturday for the first time since spring. Sanded a chair for an hour.",
        )
        dated(story, created_at=at(12, 19), updated_at=at(12, 19))
        self._messages(dan, patient, priya, at)
        self._visits(patient, priya, jordan, at)
        self._check_ins(dan, patient, priya, jordan, at)

    @staticmethod
    def _messages(dan, patient, priya, at) -> None:
        """Dan writes to Dr. Raman about his mornings; she answers the next day."""
        from messaging import services as messaging
        from messaging.models import Conversation, Message, Receipt

        conversation = messaging.conversation_start(
            actor=dan,
            patient=patient,
            clinician=priya,
            subject="Foggy in the mornings",
            text=(
                "Since the higher dose I feel foggy for the first hour at work. It clears by ten. "
                "Should I take it at night instead?"
            ),
        )
        first = conversation.messages.get()
        Message.objects.filter(pk=first.pk).update(created_at=at(3, 7, 40))
        Receipt.objects.create(message=first, reader=priya, read_at=at(2, 8, 55))
        answer = messaging.message_reply(
            actor=priya,
            conversation=conversation,
            text=(
                "Thank you for telling me, Dan. Yes: take it at bedtime from tonight, and tell me "
                "at our visit next week how the mornings are."
            ),
        )
        Message.objects.filter(pk=answer.pk).update(created_at=at(2, 9, 5))
        Receipt.objects.filter(message=first, reader=priya).update(read_at=at(2, 8, 55))
        Conversation.objects.filter(pk=conversation.pk).update(
            created_at=at(3, 7, 40), last_message_at=at(2, 9, 5)
        )

    @staticmethod
    def _visits(patient, priya, jordan, at) -> None:
        """Dan saw Dr. Raman a week ago and sees her again in five days (every four weeks);
        his next session with Jordan is by video. Aisha, due every four weeks with nothing
        booked since the autumn, is on Dr. Raman's Today as overdue."""
        from appointments import services as appointments
        from appointments.models import Cadence

        today = timezone.localdate()
        last = appointments.visit_book(
            actor=priya,
            patient=patient,
            clinician=priya,
            kind="medication",
            starts_at=at(7, 10),
            place="Riverside Psychiatry, 2nd floor, room 4",
        )
        appointments.visit_record(actor=priya, visit=last, status="attended")
        appointments.visit_book(
            actor=priya,
            patient=patient,
            clinician=priya,
            kind="medication",
            starts_at=at(-5, 10, 30),
            minutes=45,
            place="Riverside Psychiatry, 2nd floor, room 4",
        )
        appointments.visit_book(
            actor=jordan,
            patient=patient,
            clinician=jordan,
            kind="therapy",
            starts_at=at(-2, 17),
            minutes=50,
            place="Harbor Counseling",
            video_link="https://video.example.org/harbor/jordan-lee",
        )
        appointments.cadence_set(actor=priya, patient=patient, every_weeks=4)
        aisha = Patient.objects.get(given_name="Aisha", family_name="Karim")
        if CareTeamMembership.objects.filter(patient=aisha, clinician=priya).exists():
            appointments.cadence_set(actor=priya, patient=aisha, every_weeks=4)
            Cadence.objects.filter(patient=aisha, clinician=priya).update(
                set_on=today - timedelta(days=40)
            )

    def _others(self, staff) -> None:
        """The other patients: a medicine each, started months ago, filled every month, and
        a note from their therapist, so the patient list and the refill queue are a clinic's."""
        from prescribing import services as rx
        from prescribing.models import Medication
        from stories import services as stories

        therapists = {
            m.patient_id: m.clinician
            for m in CareTeamMembership.objects.filter(clinician__role=Role.THERAPIST)
        }
        today = timezone.localdate()

        def at(ago, hour=10, minute=0):
            moment = datetime.combine(today - timedelta(days=ago), time(hour, minute))
            return timezone.make_aware(moment)

        for (given, family), drug, strength, form, directions, started, reason, note in OTHERS:
            patient = Patient.objects.get(given_name=given, family_name=family)
            if Medication.objects.filter(patient=patient).exists():
                continue
            prescriber = CareTeamMembership.objects.get(
                patient=patient, clinician__role=Role.PRESCRIBER
            ).clinician
            medication = rx.medication_start(
                actor=prescriber,
                patient=patient,
                drug_name=drug,
                strength=strength,
                form=form,
                dose=f"1 {form}",
                directions=directions,
                reason=reason,
                # Started at intake, before any goal was written with them: the caseload's
                # deprescribing review will ask about it.
                serves_no_goal=True,
                no_goal_reason="Started at intake, before we had written any goals together.",
                needs=["patient_request"],
                need_reflection="They came asking for relief; the goals are still to be found.",
                decided_together=True,
                start_date=today - timedelta(days=started),
                decided_on=today - timedelta(days=started),
            )
            Medication.objects.filter(pk=medication.pk).update(created_at=at(started, 10, 40))
            prescription = self._prescribe(
                rx, prescriber, medication, written=started, refills=5, at=at
            )
            for ago in range(started, 0, -30):
                self._fill(rx, prescriber, prescription, ago, at)
            self._outcomes(patient, OUTCOMES.get((given, family), []), at)
            therapist = therapists.get(patient.pk)
            if therapist and note:
                written = stories.note_create(
                    actor=therapist,
                    patient=patient,
                    kind="clinician",
                    audience="care_team",
                    body=note,
                )
                type(written).objects.filter(pk=written.pk).update(
                    created_at=at(started - 20, 16), updated_at=at(started - 20, 16)
                )

    def _caseload_of_samuel(self, staff) -> None:
        """The rest of Dr. Okafor's caseload, 48 patients with no login of their own: a
        medicine or two each, check-ins entered from the paper forms at their visits, and how
        they describe themselves (most did; some preferred not to say). Enough people for the
        caseload and the equity view to look like a clinic's.

        Written at once, as an import from the clinic's previous system would be: nobody wrote
        these records in Concord, so no one's write is audited, and the first load stays quick.
        """
        import random

        from alliance import services as alliance
        from alliance.models import CheckIn, Instrument
        from core.models import SelfDescription
        from prescribing.models import DecisionRecord, FormularyEntry, Medication

        samuel, maria = staff["prescriber2@example.org"], staff["therapist2@example.org"]
        # The clinic lead: with the clinic admin, the one who sees the equity view.
        User.objects.filter(pk=samuel.pk).update(is_clinic_lead=True)
        given, family, born = COHORT[0][:3]
        if Patient.objects.filter(
            given_name=given, family_name=family, date_of_birth=born
        ).exists():
            return
        alliance.install_shipped()
        instruments = {i.key: i for i in Instrument.objects.filter(active=True)}
        formulary = {
            f.name: f
            for f in FormularyEntry.objects.filter(name__in={d for c in COHORT for d, _ in c[7]})
        }
        today = timezone.localdate()
        chance = random.Random(2026)  # noqa: S311 - the same demo clinic every time, not a secret

        def moment(ago, hour):
            return timezone.make_aware(datetime.combine(today - timedelta(days=ago), time(hour)))

        patients = Patient.objects.bulk_create(
            [Patient(given_name=c[0], family_name=c[1], date_of_birth=c[2]) for c in COHORT]
        )
        teams, described, medicines, decisions, check_ins = [], [], [], [], []
        for n, (patient, row) in enumerate(zip(patients, COHORT, strict=True)):
            race, language, sex, gender, drugs = row[3:]
            since = today - timedelta(days=150 + 3 * n)
            teams += [
                CareTeamMembership(
                    patient=patient,
                    clinician=clinician,
                    role=clinician.role,
                    practice=clinician.practice,
                    since=since,
                )
                for clinician in ((samuel, maria) if n % 3 else (samuel,))
            ]
            if race or language or sex or gender:
                chosen = (
                    []
                    if race == "declined"
                    else list(race)
                    if isinstance(race, list)
                    else [race]
                    if race
                    else []
                )
                described.append(
                    SelfDescription(
                        patient=patient,
                        race_ethnicity=chosen,
                        race_declined=race == "declined",
                        race_group=SelfDescription.group_of(chosen, race == "declined"),
                        preferred_language=language,
                        sex=sex,
                        gender_identity=gender,
                    )
                )
            for drug, strength in drugs:
                started = chance.randint(40, 140)
                entry = formulary.get(drug)
                medicines.append(
                    Medication(
                        patient=patient,
                        practice=samuel.practice,
                        author=samuel,
                        prescriber=samuel,
                        drug_name=drug,
                        rxnorm_code=entry.rxnorm_code if entry else "",
                        formulary=entry,
                        schedule=entry.schedule if entry else "none",
                        strength=strength,
                        form="tablet",
                        dose="1 tablet",
                        directions="once a day",
                        start_date=today - timedelta(days=started),
                        created_at=moment(started, 11),
                    )
                )
            # Entered by Dr. Okafor from the paper forms: the alliance every visit or two,
            # the PHQ-9 at the first visit and the latest.
            for ago in sorted(chance.sample(range(10, 140), chance.randint(1, 3)), reverse=True):
                score = chance.choice([6, 7, 8, 8, 9, 9, 10])
                check_ins.append(
                    self._paper(
                        CheckIn, patient, samuel, instruments["concord-alliance"], ago, score
                    )
                )
            first = chance.randint(12, 22)
            check_ins.append(
                self._paper(CheckIn, patient, samuel, instruments["phq-9"], 140, first, phq9=True)
            )
            if n % 4:
                last = max(0, first - chance.randint(-2, 10))
                check_ins.append(
                    self._paper(CheckIn, patient, samuel, instruments["phq-9"], 14, last, phq9=True)
                )
        CareTeamMembership.objects.bulk_create(teams)
        SelfDescription.objects.bulk_create(described)
        for medication in Medication.objects.bulk_create(medicines):
            decisions.append(
                DecisionRecord(
                    medication=medication,
                    patient=medication.patient,
                    practice=medication.practice,
                    author=samuel,
                    kind=DecisionRecord.Kind.START,
                    after={
                        "drug_name": medication.drug_name,
                        "strength": medication.strength,
                        "dose": medication.dose,
                        "directions": medication.directions,
                        "status": medication.status,
                    },
                    reason="Agreed at the first visit",
                    decided_together=True,
                    decided_on=medication.start_date,
                    created_at=medication.created_at,
                )
            )
        DecisionRecord.objects.bulk_create(decisions)
        CheckIn.objects.bulk_create(check_ins)

    def _paper(self, CheckIn, patient, clinician, instrument, ago, score, *, phq9=False):
        """A check-in entered from the paper form: not saved here (the caller saves them all)."""
        when = timezone.make_aware(
            datetime.combine(timezone.localdate() - timedelta(days=ago), time(15))
        )
        if phq9:
            answers = dict(
                zip(
                    [i["id"] for i in instrument.definition["items"]],
                    self._phq9(score),
                    strict=True,
                )
            )
        else:
            answers = {i["id"]: score for i in instrument.definition["items"]}
        return CheckIn(
            patient=patient,
            practice=clinician.practice,
            author=clinician,
            instrument=instrument,
            clinician=None if phq9 else clinician,
            answers=answers,
            status=CheckIn.Status.SUBMITTED,
            total=score,
            created_at=when,
            submitted_at=when,
        )

    def _outcomes(self, patient, totals, at) -> None:
        """The patient's own PHQ-9s, sent on the days given."""
        from alliance import selectors as alliance_selectors
        from alliance import services as alliance
        from alliance.models import CheckIn

        if not totals or patient.user is None:
            return
        alliance.install_shipped()
        phq9 = {i.key: i for i in alliance_selectors.instruments_offered()}["phq-9"]
        ids = [item["id"] for item in phq9.definition["items"]]
        for ago, total in totals:
            sent = alliance.check_in_submit_new(
                actor=patient.user,
                patient=patient,
                instrument=phq9,
                answers=dict(zip(ids, self._phq9(total), strict=True)),
            )
            CheckIn.objects.filter(pk=sent.pk).update(
                created_at=at(ago, 19, 30), submitted_at=at(ago, 19, 40)
            )

    @staticmethod
    def _prescribe(rx, priya, medication, *, written, refills, at, quantity=30):
        from prescribing.models import Prescription

        prescription = rx.prescription_write(
            actor=priya,
            medication=medication,
            quantity=quantity,
            days_supply=30,
            refills_authorised=refills,
            written_on=timezone.localdate() - timedelta(days=written),
        )
        Prescription.objects.filter(pk=prescription.pk).update(created_at=at(written, 10, 50))
        return prescription

    @staticmethod
    def _fill(rx, priya, prescription, ago, at):
        from prescribing.models import Fill

        fill = rx.fill_record(
            actor=priya,
            prescription=prescription,
            filled_on=timezone.localdate() - timedelta(days=ago),
        )
        Fill.objects.filter(pk=fill.pk).update(created_at=at(ago, 15))

    @staticmethod
    def _observe(rx, author, medication, ago, kind, severity, at, text):
        from prescribing.models import Observation

        observation = rx.observation_create(
            actor=author,
            medication=medication,
            kind=kind,
            severity=severity,
            text=text,
            observed_on=timezone.localdate() - timedelta(days=ago),
        )
        Observation.objects.filter(pk=observation.pk).update(created_at=at(ago, 21))

    @staticmethod
    def _refill(rx, dan, priya, medication, *, asked, answered, run_out, at):
        """Dan asks, Dr. Raman approves the next morning and it is sent to the pharmacy."""
        from prescribing.models import RefillRequest

        request = rx.refill_request_create(actor=dan, medication=medication)
        request = rx.refill_request_decide(actor=priya, request=request, status="approved")
        rx.refill_request_decide(actor=priya, request=request, status="sent")
        today = timezone.localdate()
        RefillRequest.objects.filter(pk=request.pk).update(
            requested_at=at(asked, 8, 30),
            decided_at=at(answered, 9, 15),
            sent_at=at(answered, 9, 20),
            run_out_on=today - timedelta(days=run_out),
            needed_by=today - timedelta(days=run_out + 2),
            late=False,
        )

    def _check_ins(self, dan, patient, priya, jordan, at) -> None:
        """Weekly check-ins. With Jordan, steady. With Dr. Raman, a dip after two rushed
        visits, a concern, a consultation between them, and the repair that followed."""
        from alliance import selectors as alliance_selectors
        from alliance import services as alliance
        from alliance.models import CheckIn, Flag

        alliance.install_shipped()
        offered = {i.key: i for i in alliance_selectors.instruments_offered()}

        def send(ago, instrument, values, clinician=None, open_answer=""):
            check_in = alliance.check_in_start(
                actor=dan, patient=patient, instrument=instrument, clinician=clinician
            )
            answers = dict(
                zip([item["id"] for item in instrument.definition["items"]], values, strict=True)
            )
            alliance.check_in_submit(
                actor=dan, check_in=check_in, answers=answers, open_answer=open_answer
            )
            CheckIn.objects.filter(pk=check_in.pk).update(
                created_at=at(ago, 19, 30), submitted_at=at(ago, 19, 40)
            )
            Flag.objects.filter(check_in=check_in).update(created_at=at(ago, 19, 40))

        events = []
        for week in range(17):
            ago = 117 - 7 * week
            values = (8, 8, 7, 8) if week < 4 else (9, 8, 8, 9) if week < 10 else (9, 9, 9, 9)
            events.append((ago, "concord-alliance", values, jordan, ""))
        for n, ago in enumerate(range(119, 0, -14)):
            # PHQ-9, every two weeks: from moderately severe to mild, a bump during the dip.
            totals = [17, 16, 14, 13, 12, 13, 11, 9, 7][n]
            events.append((ago, "phq-9", self._phq9(totals), None, ""))
        for ago, values, said in (
            (119, (8, 8, 8, 8), ""),
            (91, (9, 8, 8, 9), ""),
            (62, (8, 8, 8, 8), ""),
            (
                48,
                (7, 6, 6, 6),
                "The last visit felt rushed. I did not get to ask about the nightmares.",
            ),
            (34, (5, 5, 4, 5), "The dose went up and I am not sure we talked it through."),
            (13, (8, 7, 8, 8), "Better. We went through my list of questions."),
            (5, (9, 9, 8, 9), ""),
        ):
            events.append((ago, "concord-alliance", values, priya, said))
        consulted = False
        for ago, key, values, clinician, said in sorted(events, key=lambda e: -e[0]):
            if ago < 31 and not consulted:
                consulted = True
                self._consult(alliance, patient, priya, jordan, at)
            send(ago, offered[key], values, clinician, said)

    @staticmethod
    def _phq9(total: int) -> tuple:
        """Nine answers (0–3) adding up to `total`, item 9 always 0."""
        answers = [0] * 9
        for i in range(total):
            answers[i % 8] += 1
        return tuple(answers)

    @staticmethod
    def _consult(alliance, patient, priya, jordan, at) -> None:
        """Day 31: Dr. Raman takes up the concern with Jordan, between the two of them."""
        from alliance.models import Consultation, Flag

        consultation = alliance.consultation_create(
            actor=priya,
            patient=patient,
            prescriber=priya,
            therapist=jordan,
            issues=(
                "Dan's check-ins about visits with Dr. Raman dropped over two visits: he felt rushed, "
                "did not get to ask about the nightmares, and was unsure about the dose increase."
            ),
            actions=(
                "A longer next visit that starts with Dan's own questions; Jordan helps him write them "
                "down. Dr. Raman to go back over why the dose went up and what to expect."
            ),
            held_on=timezone.localdate() - timedelta(days=31),
        )
        Consultation.objects.filter(pk=consultation.pk).update(created_at=at(31, 13))
        for flag in Flag.objects.filter(patient=patient, clinician=priya, acknowledged_at=None):
            alliance.flag_acknowledge(
                actor=priya, flag=flag, note="Talked it through with Jordan; longer visit booked."
            )
            Flag.objects.filter(pk=flag.pk).update(acknowledged_at=at(31, 13, 30))
