"""The visit screen against the framework's floor, and 10× history against 1×, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/concord_bench python bench/visit_screen.py

- floor: a signed-in view on the same stack (all middleware, session, CSRF, the base
  template) that runs one query and renders a page of the same size as the visit screen
  (bench/common.py);
- ratio 1: the visit screen's server time for a signed-in prescriber ÷ the floor
  (aim: ≤ 3×, in ≤ 15 queries);
- ratio 2: the visit screen for a patient with 10× the history ÷ the same with 1×
  (aim: ≤ 1.1×, the same number of queries).
Times are medians of many requests through Django's test client (no network), in rounds
that alternate the pages and the floor, in one process. The database named (its name must
contain "bench") is emptied and rebuilt. `make bench` prints these rows with the others.
"""

import os
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CONCORD_PROFILE", "test")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from bench import common  # noqa: E402


def build(scale: int):
    """A patient with the same goals and medicines, and `scale` times the history: ratings,
    decisions, fills, observations and check-ins."""
    from alliance import selectors as alliance_selectors
    from alliance import services as alliance
    from prescribing import services as rx
    from stories import services as stories
    from tests import factories

    alliance.install_shipped()
    instrument = next(
        i for i in alliance_selectors.instruments_offered() if i.key == "concord-alliance"
    )
    prescriber = factories.PrescriberFactory()
    patient_user = factories.PatientUserFactory()
    patient = factories.PatientFactory(user=patient_user)
    factories.MembershipFactory(patient=patient, clinician=prescriber)
    goals = [
        stories.goal_create(actor=patient_user, patient=patient, what=f"Goal {i}") for i in range(3)
    ]
    for goal in goals:
        for r in range(4 * scale):
            stories.goal_rate(actor=patient_user, goal=goal, rating=r % 3 - 1)
    for i in range(3):
        med = rx.medication_start(
            actor=prescriber,
            patient=patient,
            drug_name=f"Medicine {i}",
            not_coded=True,  # not in the formulary: free text
            schedule="none",
            strength="10 mg",
            form="tablet",
            dose="1",
            directions="daily",
            purpose="In my words",
            goal_uuids=[goals[i].uuid],
            needs=["patient_goals"],
            need_reflection="In their words",
            reason="r",
        )
        for j in range(3 * scale):
            rx.medication_change_dose(
                actor=prescriber,
                medication=med,
                version=med.version + j,
                dose=f"{j + 2}",
                reason="r",
                goal_uuids=[goals[i].uuid],
                needs=["patient_goals"],
                need_reflection="r",
            )
        prescription = rx.prescription_write(
            actor=prescriber,
            medication=med,
            quantity=30,
            days_supply=30,
            refills_authorised=2,
            written_on=date.today() - timedelta(days=20),
        )
        rx.fill_record(
            actor=prescriber, prescription=prescription, filled_on=date.today() - timedelta(days=20)
        )
        for _ in range(2 * scale):
            rx.observation_create(actor=patient_user, medication=med, kind="response", text="ok")
    for _ in range(4 * scale):
        check_in = alliance.check_in_start(
            actor=patient_user, patient=patient, instrument=instrument, clinician=prescriber
        )
        alliance.check_in_submit(
            actor=patient_user,
            check_in=check_in,
            answers={"bond": 8, "goals": 8, "tasks": 7, "fit": 8},
        )
    return prescriber, patient


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@common.served()
def measure(*, rounds: int = 0, per_round: int = 0, empty: bool = True) -> list[dict]:
    """The visit screen's rows: 1× history ÷ the floor, 10× ÷ 1×."""
    if empty:
        common.empty_database()
    prescriber, small = build(1)
    _, large = build(10)
    from core.models import CareTeamMembership

    CareTeamMembership.objects.filter(patient=large).update(clinician=prescriber)
    client = client_for(prescriber)
    small_url, large_url = f"/patients/{small.uuid}/visit/", f"/patients/{large.uuid}/visit/"
    size = common.size_floor_as(client, small_url)
    large_size = len(client.get(large_url).content)
    ms = common.interleaved(
        {
            "1×": common.get(client, small_url),
            "floor": common.floor_operation(client, small_url),
            "10×": common.get(client, large_url),
        },
        rounds,
        per_round,
    )
    small_queries = common.queries(common.get(client, small_url))
    large_queries = common.queries(common.get(client, large_url))
    return [
        common.row(
            "visit screen ÷ floor",
            ms["1×"],
            ms["floor"],
            target="≤ 3×, ≤ 15 q",
            passed=ms["1×"] <= 3 * ms["floor"] and small_queries <= 15,
            queries=small_queries,
            detail=f"prescriber, 1× history; {size:,} bytes, floor padded to the same",
        ),
        common.row(
            "visit screen 10× history ÷ 1×",
            ms["10×"],
            ms["1×"],
            target="≤ 1.1×, = q",
            passed=ms["10×"] <= 1.1 * ms["1×"] and large_queries == small_queries,
            queries=f"{large_queries} vs {small_queries}",
            detail=f"{large_size:,} bytes against {size:,}",
        ),
    ]


def main():
    label = common.scratch_database()
    common.migrate()
    common.print_table(
        f"visit screen, {label}; Django test client in-process, medians, one run",
        [("visit screen", measure())],
    )


if __name__ == "__main__":
    main()
