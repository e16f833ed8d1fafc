"""The alliance page and the pieces of it the visit screen shows (`trends`, `open_flags`) cost a
fixed number of queries however long the patient's history, and read each instrument's
definition (kilobytes of JSON) once, not once per check-in or flag."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliance import selectors, services
from core import access, audit
from tests.alliance.conftest import answer_all

pytestmark = pytest.mark.django_db

# What the alliance page reads for a patient with sent check-ins, an open safety alert and an
# open concern: the session and the user; the patient and the decision (the care team, whose
# members' grants are judged from it and who hold a consultation; the releases); each
# series' newest check-ins, their instruments, the flags, the consultations; the header's
# notices (two). (The audit rows it writes are not counted: in a test's transaction they are
# written one by one, in a request once at the end.)
ALLIANCE_PAGE_READS = 11


def _send(patient_user, patient, instrument, answers, clinician=None):
    check_in = services.check_in_start(
        actor=patient_user, patient=patient, instrument=instrument, clinician=clinician
    )
    return services.check_in_submit(actor=patient_user, check_in=check_in, answers=answers)


def _history(instruments, patient, patient_user, prescriber, *, scale: int) -> None:
    """`scale` × (10 PHQ-9 check-ins and an alliance one): the last PHQ-9 raises a safety
    alert, the last alliance check-in a concern."""
    phq9, alliance = instruments["phq-9"], instruments["concord-alliance"]
    count = 10 * scale
    for i in range(count):
        answers = {f"phq9_{n}": (i + n) % 4 for n in range(1, 9)}
        answers["phq9_9"] = 1 if i == count - 1 else 0
        _send(patient_user, patient, phq9, answers)
    for i in range(scale):
        _send(
            patient_user,
            patient,
            alliance,
            answer_all(alliance, 2 if i == scale - 1 else 9),
            prescriber,
        )


def _reads(captured) -> list[str]:
    """The queries that read, without those writing the audit trail."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if "core_audit" not in q["sql"] and not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]


def _page_queries(client, patient) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("alliance", args=[patient.uuid]))
    assert response.status_code == 200
    return _reads(captured)


def _reads_definition(sql: str) -> bool:
    return '"alliance_instrument"."definition"' in sql


def test_the_alliance_page_costs_the_same_queries_for_a_long_history(
    client, instruments, patient, patient_user, prescriber
):
    _history(instruments, patient, patient_user, prescriber, scale=1)
    client.force_login(prescriber)
    client.get(reverse("alliance", args=[patient.uuid]))
    short = _page_queries(client, patient)
    _history(instruments, patient, patient_user, prescriber, scale=9)  # ten times the history
    long = _page_queries(client, patient)
    assert len(long) == len(short)
    assert len(long) <= ALLIANCE_PAGE_READS, "\n".join(long)


def test_the_alliance_page_reads_each_definition_once_never_per_check_in(
    client, instruments, patient, patient_user, prescriber
):
    _history(instruments, patient, patient_user, prescriber, scale=2)
    client.force_login(prescriber)
    queries = _page_queries(client, patient)
    definitions = [q for q in queries if _reads_definition(q)]
    # One query for the instruments of the check-ins and the flags (the PHQ-9, the alliance
    # instrument), and none of the check-ins' or flags' own queries joins them.
    assert len(definitions) == 1, definitions
    assert "alliance_checkin" not in definitions[0].split("FROM", 1)[1].split("WHERE", 1)[0]


def test_the_visit_screen_pieces_read_a_fixed_number_of_queries_and_no_definition_per_row(
    instruments, patient, patient_user, prescriber
):
    """`trends` and `open_flags`, as the visit screen asks them in one request: the check-ins in
    one query, the flags (both kinds) in one, each instrument once for both."""
    _history(instruments, patient, patient_user, prescriber, scale=2)
    with audit.batch(), access.request_scope():
        selectors.trends(actor=prescriber, patient=patient)  # the decisions, remembered
        access.memo(("alliance", "instruments"), dict).clear()
        with CaptureQueriesContext(connection) as captured:
            series = selectors.trends(actor=prescriber, patient=patient)
            flags = selectors.open_flags(actor=prescriber, patient=patient)
        queries = _reads(captured)
        assert len([q for q in queries if 'FROM "alliance_checkin"' in q]) == 1
        assert len([q for q in queries if 'FROM "alliance_flag"' in q]) == 1
        assert len([q for q in queries if _reads_definition(q)]) == 1
        assert len(queries) == 3, "\n".join(queries)
        # What the visit screen reads of them costs nothing more.
        with CaptureQueriesContext(connection) as more:
            seen = [
                (s.instrument.key, s.instrument.kind, s.clinician and s.clinician.full_name)
                for s in series
            ]
            seen += [(c.total, c.submitted_at, c.open_answer) for s in series for c in s.check_ins]
            seen += [
                (f.kind, f.check_in.instrument.key, f.clinician_id, f.check_in.uuid) for f in flags
            ]
        assert more.captured_queries == []
    assert [f.kind for f in flags] == ["safety", "alliance_concern"]  # urgent first
    assert [(s.instrument.key, len(s.check_ins)) for s in series] == [
        ("concord-alliance", 2),
        ("phq-9", 20),
    ]


def test_the_page_lists_every_score_newest_first(
    client, instruments, patient, patient_user, prescriber
):
    alliance = instruments["concord-alliance"]
    answers = {"bond": 8, "goals": 7, "tasks": 7, "fit": 8}
    older = _send(patient_user, patient, alliance, answers, prescriber)
    newer = _send(patient_user, patient, alliance, answer_all(alliance, 9), prescriber)
    client.force_login(prescriber)
    page = client.get(reverse("alliance", args=[patient.uuid])).content.decode()
    table = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    link = reverse("check_in", args=[older.uuid])
    assert table.index(reverse("check_in", args=[newer.uuid])) < table.index(link)
    assert f'<a href="{link}">' in table
    assert "<td>7.5" in table and "<td>9" in table


def test_the_page_lists_the_newest_scores_and_links_to_them_all(
    client, instruments, patient, patient_user, prescriber
):
    """Each series lists its newest ROWS_SHOWN scores, says how many there are in all, and
    links to the page listing every one of them (the chart draws the newest either way)."""
    phq9 = instruments["phq-9"]
    total = selectors.ROWS_SHOWN + 5
    sent = [
        _send(patient_user, patient, phq9, {f"phq9_{n}": 0 for n in range(1, 10)})
        for _ in range(total)
    ]
    client.force_login(prescriber)
    url = reverse("alliance", args=[patient.uuid])

    def listed(page):
        table = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        return [c for c in sent if reverse("check_in", args=[c.uuid]) in table]

    page = client.get(url).content.decode()
    assert listed(page) == sent[-selectors.ROWS_SHOWN :]
    assert f"Newest {selectors.ROWS_SHOWN} scores of {total}" in page
    assert f'<a href="?scores=all#trend-outcome-1">All {total} scores</a>' in page
    every = client.get(url, {"scores": "all"}).content.decode()
    assert listed(every) == sent
    assert "<details open><summary>All scores</summary>" in every
    assert "?scores=all" not in every
