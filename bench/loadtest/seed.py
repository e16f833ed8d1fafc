"""A clinic for the load test, written through the domain services as the people who would
write it (so it is audited like any other write). Call after `django.setup()`.

Every clinician has TOTP set up, as production requires; the load test signs in with a code.
Passwords go through the configured hasher; all accounts share one password, hashed once
(Argon2 is deliberately slow, and hashing it a hundred times would be the slowest part of
the set-up).
"""

import base64
import secrets
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

FIRST_NAMES = [
    "Daniel", "Aisha", "Thomas", "Grace", "Marcus", "Lena", "Omar", "Rosa", "Kevin", "Mei",
    "Jamal", "Sofia", "Ethan", "Priya", "Lucas", "Hannah", "Diego", "Nora", "Samuel", "Ivy",
]  # fmt: skip
FAMILY_NAMES = [
    "Brooks", "Karim", "Nguyen", "Whitfield", "Ellison", "Park", "Haddad", "Alvarez", "Walsh",
    "Chen", "Carter", "Rossi", "Murphy", "Shah", "Moreau", "Becker", "Ortiz", "Lind", "Adeyemi",
    "Kowalski",
]  # fmt: skip
MEDICINES = [
    ("Sertraline", "50 mg", "tablet", "once a day in the morning", "To take the edge off"),
    ("Prazosin", "1 mg", "capsule", "at bedtime", "Fewer nightmares, so I can stay asleep"),
    ("Bupropion", "150 mg", "tablet", "once a day", "Energy to get going in the morning"),
    ("Lamotrigine", "100 mg", "tablet", "twice a day", "Fewer crashes after good weeks"),
]
TEAMS = 5  # patients and clinicians are split into this many teams


def _totp_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode()


def seed(*, patients: int = 20, prescribers: int = 15, therapists: int = 15) -> dict:
    """Build the clinic; return what the load test needs to sign in and find records."""
    from allauth.mfa.totp.internal.auth import TOTP

    from alliance import selectors as alliance_selectors
    from alliance import services as alliance
    from core.models import CareTeamMembership, Patient, Practice, Role, User
    from prescribing import services as rx
    from referrals import services as referrals
    from stories import services as stories

    password = secrets.token_urlsafe(18)
    encoded = make_password(password)
    today = timezone.localdate()
    since = today - timedelta(days=180)

    with transaction.atomic():
        psychiatry = Practice.objects.create(
            name="Riverside Psychiatry", kind=Practice.Kind.PSYCHIATRY, state="NY"
        )
        therapy = Practice.objects.create(
            name="Harbor Counseling", kind=Practice.Kind.THERAPY, state="NY"
        )

        def person(email, name, role, practice):
            user = User(email=email, full_name=name, role=role, practice=practice)
            user.password = encoded
            return user

        clinicians = [
            person(
                f"prescriber{i:02}@load.example.org",
                f"Dr. Prescriber {i:02}",
                Role.PRESCRIBER,
                psychiatry,
            )
            for i in range(prescribers)
        ] + [
            person(
                f"therapist{i:02}@load.example.org",
                f"Therapist {i:02}, LCSW",
                Role.THERAPIST,
                therapy,
            )
            for i in range(therapists)
        ]
        User.objects.bulk_create(clinicians)
        clinicians = list(
            User.objects.filter(role__in=[Role.PRESCRIBER, Role.THERAPIST]).order_by("email")
        )
        secrets_by_email = {}
        for clinician in clinicians:
            secret = _totp_secret()
            TOTP.activate(clinician, secret)
            secrets_by_email[clinician.email] = secret

        patient_users = [
            person(
                f"patient{i:02}@load.example.org",
                f"{FIRST_NAMES[i % 20]} {FAMILY_NAMES[i % 20]}",
                Role.PATIENT,
                None,
            )
            for i in range(patients)
        ]
        User.objects.bulk_create(patient_users)
        patient_users = list(User.objects.filter(role=Role.PATIENT).order_by("email"))
        records = Patient.objects.bulk_create(
            [
                Patient(
                    given_name=FIRST_NAMES[i % 20],
                    family_name=FAMILY_NAMES[i % 20] + ("" if i < 20 else f"-{i}"),
                    date_of_birth=today.replace(year=today.year - 25 - i % 40, day=1),
                    email=user.email,
                    user=user,
                )
                for i, user in enumerate(patient_users)
            ]
        )
        records = list(Patient.objects.select_related("user").order_by("user__email"))

        # Patient i is cared for by every clinician of team i % TEAMS.
        def team_of(i):
            return [c for n, c in enumerate(clinicians) if n % TEAMS == i % TEAMS]

        CareTeamMembership.objects.bulk_create(
            [
                CareTeamMembership(
                    patient=patient,
                    clinician=clinician,
                    role=clinician.role,
                    practice=clinician.practice,
                    since=since,
                )
                for i, patient in enumerate(records)
                for clinician in team_of(i)
            ]
        )

    alliance.install_shipped()
    offered = {i.key: i for i in alliance_selectors.instruments_offered()}
    out_patients = []
    for i, patient in enumerate(records):
        team = team_of(i)
        prescriber = next(c for c in team if c.role == Role.PRESCRIBER)
        therapist = next(c for c in team if c.role == Role.THERAPIST)
        # The release names the team's last prescriber and therapist: the clinicians the load
        # test's writers sign in as, so that their thread posts have a reader.
        named = (
            next(c for c in reversed(team) if c.role == Role.PRESCRIBER),
            next(c for c in reversed(team) if c.role == Role.THERAPIST),
        )
        me = patient.user
        stories.summary_save(
            actor=prescriber,
            patient=patient,
            version=None,
            text=f"{patient.given_name} works, has a family, and wants steadier weeks.",
        )
        goals = [
            stories.goal_create(
                actor=me,
                patient=patient,
                what=what,
                why="It matters to me",
                levels={"level_minus2": "Much worse", "level_0": "As expected"},
            )
            for what in ("Sleep through most nights", "Back to work full days", "See friends")
        ]
        for goal in goals:
            for value in (-1, 0, 1):
                stories.goal_rate(actor=me, goal=goal, rating=value)
        medications = []
        for n in range(2):
            drug, strength, form, directions, purpose = MEDICINES[(i + n) % len(MEDICINES)]
            medication = rx.medication_start(
                actor=prescriber,
                patient=patient,
                drug_name=drug,
                strength=strength,
                form=form,
                dose="1",
                directions=directions,
                purpose=purpose,
                goal_uuids=[goals[n].uuid],
                needs=["patient_goals"],
                need_reflection="What they want from it.",
                reason="Agreed at the visit",
                decided_together=True,
                start_date=today - timedelta(days=60),
            )
            prescription = rx.prescription_write(
                actor=prescriber,
                medication=medication,
                quantity=30,
                days_supply=30,
                refills_authorised=5,
                written_on=today - timedelta(days=20 + n),
            )
            rx.fill_record(
                actor=prescriber,
                prescription=prescription,
                filled_on=today - timedelta(days=20 + n),
            )
            rx.observation_create(
                actor=me, medication=medication, kind="response", text="A bit better this week."
            )
            medications.append(medication)
        stories.note_create(
            actor=me,
            patient=patient,
            kind="story",
            audience="care_team",
            title="This week",
            body="Went for a walk every day.",
        )
        stories.note_create(
            actor=therapist,
            patient=patient,
            kind="clinician",
            audience="care_team",
            body="Practised a grounding exercise.",
        )
        for values in ((8, 8, 7, 8), (9, 8, 8, 9)):
            check_in = alliance.check_in_start(
                actor=me,
                patient=patient,
                instrument=offered["concord-alliance"],
                clinician=prescriber,
            )
            alliance.check_in_submit(
                actor=me,
                check_in=check_in,
                answers=dict(zip(["bond", "goals", "tasks", "fit"], values, strict=True)),
            )
        phq9 = offered["phq-9"]
        check_in = alliance.check_in_start(actor=me, patient=patient, instrument=phq9)
        alliance.check_in_submit(
            actor=me,
            check_in=check_in,
            answers={
                item["id"]: 1 if n < 4 else 0 for n, item in enumerate(phq9.definition["items"])
            },
        )
        if i % 2 == 0:
            referrals.release_sign(
                actor=me,
                patient=patient,
                discloser=named[0],
                recipient=named[1],
                categories=["medications", "observations", "goals"],
                purpose="So my therapist and prescriber can treat me together",
                expires_on=today + timedelta(days=180),
                signed_name=f"{patient.given_name} {patient.family_name}",
            )
        if i % 2 == 0:
            # Only where the release lets the other practice read it: otherwise it is refused.
            referrals.thread_post(
                actor=named[1],
                patient=patient,
                kind="change",
                text="Seems calmer in sessions since the change.",
                medication_uuid=medications[0].uuid,
                medication_name=f"{medications[0].drug_name} {medications[0].strength}",
            )
        out_patients.append(
            {
                "uuid": str(patient.uuid),
                "email": me.email,
                "medications": [str(m.uuid) for m in medications],
                "goals": [str(g.uuid) for g in goals],
                "clinicians": [str(c.uuid) for c in team],
                "prescriber": str(prescriber.uuid),
                # A release in force lets the two clinicians it names read each other's
                # thread posts (it names people, not practices): only they can post.
                "thread_writers": [str(c.uuid) for c in named] if i % 2 == 0 else [],
            }
        )

    def clinician_entry(clinician):
        return {
            "email": clinician.email,
            "uuid": str(clinician.uuid),
            "role": clinician.role,
            "totp": secrets_by_email[clinician.email],
            "patients": [p["uuid"] for p in out_patients if str(clinician.uuid) in p["clinicians"]],
        }

    # Interleaved, so that any slice of the list holds prescribers and therapists alike.
    by_role = [
        [c for c in clinicians if c.role == Role.PRESCRIBER],
        [c for c in clinicians if c.role == Role.THERAPIST],
    ]
    interleaved = [c for pair in zip(*by_role, strict=False) for c in pair]
    return {
        "password": password,
        "patients": out_patients,
        "clinicians": [clinician_entry(c) for c in interleaved],
    }
