"""The clinician's alliance page (a long PHQ-9 history) and the patient's check-in submit,
against the framework's floor, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/concord_bench python bench/alliance_pages.py

- floor: a signed-in view on the same stack (all middleware, session, CSRF, the base
  template) that runs one query and renders a page of the same size as the page compared;
- history: the alliance page of a patient with 50 PHQ-9 check-ins (the last one raising a
  safety alert) and 5 alliance check-ins about the prescriber (the last one raising a
  concern), for the prescriber; its queries, and the same page for a patient with a tenth of
  that history (the count must not grow with the history);
- submit: a PHQ-9 sent by the patient from the page that shows its questions: one POST when
  the page sends the answers with the check-in (`check_in_new`), otherwise the two POSTs it
  takes to start a draft and then send it.
Times are medians of many requests through Django's test client (no network), measured in
the same process one after the other. The database named is emptied and rebuilt.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CONCORD_PROFILE", "test")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.template import engines  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, include, path, reverse  # noqa: E402

FLOOR_TEMPLATE = engines["django"].from_string(
    '{% extends "base.html" %}{% block content %}<div>{{ filler }}</div>{% endblock %}'
)
FLOOR_SIZE = {"bytes": 0}
RUNS = 60


def floor(request):
    from core.models import Patient

    Patient.objects.filter(pk=1).exists()  # the one query
    filler = "x" * max(FLOOR_SIZE["bytes"] - 3000, 0)
    return HttpResponse(FLOOR_TEMPLATE.render({"filler": filler}, request))


urlpatterns = [path("bench-floor/", floor), path("", include("config.urls"))]


def _phq9(i: int, item_9: int = 0) -> dict:
    """PHQ-9 answers that differ from one call to the next (a resend of the same answers is
    a double click, and returns the earlier check-in instead of writing another)."""
    answers = {f"phq9_{n}": (i + n) % 4 for n in range(1, 9)}
    answers["phq9_9"] = item_9
    return answers


def build(scale: int):
    """A patient of the prescriber with `scale` × (10 PHQ-9 check-ins and one alliance one)."""
    from alliance import selectors as alliance_selectors
    from alliance import services as alliance
    from tests import factories

    alliance.install_shipped()
    offered = {i.key: i for i in alliance_selectors.instruments_offered()}
    prescriber = factories.PrescriberFactory()
    patient_user = factories.PatientUserFactory()
    patient = factories.PatientFactory(user=patient_user)
    factories.MembershipFactory(patient=patient, clinician=prescriber)

    def send(instrument, answers, clinician=None):
        draft = alliance.check_in_start(
            actor=patient_user, patient=patient, instrument=instrument, clinician=clinician
        )
        alliance.check_in_submit(actor=patient_user, check_in=draft, answers=answers)

    count = 10 * scale
    for i in range(count):
        send(offered["phq-9"], _phq9(i, item_9=1 if i == count - 1 else 0))
    alliance_answers = {"bond": 8, "goals": 8, "tasks": 7, "fit": 8}
    for i in range(scale):
        low = i == scale - 1
        send(
            offered["concord-alliance"],
            {k: 3 if low else v for k, v in alliance_answers.items()},
            clinician=prescriber,
        )
    return prescriber, patient_user, patient, offered


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _get(client, url):
    def call():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return call


def against_floor(client, page, runs=RUNS) -> tuple[float, float]:
    """Medians (ms) of `page()` and of the floor, one of each in turn, so that a machine
    busy with other work slows both alike."""
    floor_call = _get(client, "/bench-floor/")
    page(0), floor_call()  # warm
    pages, floors = [], []
    for i in range(1, runs + 1):
        pages.append(_timed(lambda i=i: page(i)))
        floors.append(_timed(floor_call))
    return statistics.median(pages) * 1000, statistics.median(floors) * 1000


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def sender(client, patient, instrument):
    """`send(i)` sends one PHQ-9 (answers differing with i): one request if the page sends
    the answers with the check-in, otherwise start a draft then send it. And how."""
    try:
        one = reverse("check_in_new", args=[patient.uuid])
    except NoReverseMatch:
        one = None
    start = reverse("check_in_start", args=[patient.uuid])

    def send(i):
        answers = {k: str(v) for k, v in _phq9(i).items()}
        if one:
            response = client.post(one, {"instrument": instrument.pk, **answers})
            assert response.status_code == 302, response.status_code
            return
        response = client.post(start, {"instrument": instrument.pk})
        assert response.status_code == 302, response.status_code
        response = client.post(response["Location"], {**answers, "action": "submit"})
        assert response.status_code == 302, response.status_code

    return send, "one POST" if one else "two POSTs (start, then send)"


def _empty_scratch_database():
    """The benchmark's own database starts empty: flush TRUNCATEs the append-only tables too,
    which their guard refuses, so lift the guards around it (here only, never in the app)."""
    from core.db import APPEND_ONLY_TABLES, drop_append_only, install_append_only

    for table in APPEND_ONLY_TABLES:
        drop_append_only(table)
    try:
        call_command("flush", verbosity=0, interactive=False)
    finally:
        for table in APPEND_ONLY_TABLES:
            install_append_only(table)


@override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"], DEBUG=False)
def main():
    call_command("migrate", verbosity=0)
    if connection.vendor == "postgresql":
        _empty_scratch_database()
    prescriber, _, small, _ = build(1)
    _, patient_user, large, offered = build(5)
    from core.models import CareTeamMembership

    CareTeamMembership.objects.filter(patient=small).update(clinician=prescriber)
    CareTeamMembership.objects.filter(patient=large).update(clinician=prescriber)

    clinician = Client()
    clinician.force_login(prescriber)
    page = _get(clinician, f"/patients/{large.uuid}/alliance/")
    size = len(page().content)
    history_queries = queries(page)
    small_queries = queries(_get(clinician, f"/patients/{small.uuid}/alliance/"))
    FLOOR_SIZE["bytes"] = size
    floor_size = len(_get(clinician, "/bench-floor/")().content)
    history, floor_history = against_floor(clinician, lambda i: page())

    patient = Client()
    patient.force_login(patient_user)
    send, how = sender(patient, large, offered["phq-9"])
    sent_queries = queries(lambda: send(RUNS + 1))
    FLOOR_SIZE["bytes"] = 0
    floor_small_size = len(_get(patient, "/bench-floor/")().content)
    sent, floor_small = against_floor(patient, send)

    print(
        f"alliance pages ({connection.vendor}), medians of {RUNS} requests, each in turn with the floor's"
    )
    print(
        f"  alliance page, 50 PHQ-9 + 5 alliance ({size:,} bytes): {history:7.2f} ms"
        f"   floor ({floor_size:,} bytes) {floor_history:6.2f} ms"
        f"   ratio {history / floor_history:.2f}"
        f"   queries {history_queries} (a tenth of the history: {small_queries})"
    )
    print(
        f"  PHQ-9 sent, {how}: {sent:7.2f} ms"
        f"   floor ({floor_small_size:,} bytes) {floor_small:6.2f} ms"
        f"   ratio {sent / floor_small:.2f}   queries {sent_queries}"
    )


if __name__ == "__main__":
    main()
