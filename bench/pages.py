"""The PHQ-9 history page, a check-in sent, and the medication page against the framework's
floor, and the history page with 10× the check-ins against 1×, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/concord_bench python bench/pages.py

- history: the clinician's alliance and outcomes page (/patients/<uuid>/alliance/, where a
  PHQ-9's scores are charted and listed) for a patient with 50 PHQ-9 check-ins ÷ the floor
  (aim ≤ 3×); with 500 ÷ with 50 (aim ≤ 1.1×, the same number of queries);
- one check-in sent: the patient sending a PHQ-9 the browser's way, every POST the pages
  make from the offer on "My check-ins" until the answers are sent, timed together as one
  operation ÷ the floor (aim ≤ 2.5×); the pages read between the POSTs are not timed;
- the medication page (/medications/<uuid>/) for the prescriber, one medicine with its
  history ÷ the floor (aim ≤ 2.5×).
The floor (bench/common.py) is padded to the size of each page; times are medians of many
requests through Django's test client (no network), in rounds that alternate page and floor.
The database named (its name must contain "bench") is emptied and rebuilt.
"""

import os
import sys
import time
from contextlib import nullcontext
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CONCORD_PROFILE", "test")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench import common, visit_screen  # noqa: E402

# Where the patient's browser begins sending a PHQ-9: this page, the form on it that names
# the instrument in this hidden field. From there the benchmark posts that form and every
# form the pages lead to until the answers are sent, so it measures whatever the pages do
# (today the offer's Start, then the check-in's Send); a flow that starts elsewhere is this
# one line.
SEND_FROM = ("check_ins", "instrument")

# Answers to every PHQ-9 question: "several days", and "not at all" to question 9 (no
# safety alert, which would add its own work and a page of crisis help).
ANSWERS = {f"phq9_{i}": "1" for i in range(1, 9)} | {"phq9_9": "0"}


class _Forms(HTMLParser):
    """The forms of a page: action, hidden fields, radio groups, named submit buttons."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"action": a.get("action") or "", "method": (a.get("method") or "get").lower()}
                | {"hidden": {}, "radios": set(), "buttons": {}}
            )
            return
        if not self.forms or tag not in ("input", "button"):
            return
        form, kind, name = self.forms[-1], (a.get("type") or "").lower(), a.get("name")
        if tag == "input" and kind == "hidden" and name:
            form["hidden"][name] = a.get("value") or ""
        elif tag == "input" and kind == "radio" and name:
            form["radios"].add(name)
        elif tag == "button" and name:
            form["buttons"].setdefault(name, []).append(a.get("value") or "")


def _forms(response, method: str = "post") -> list[dict]:
    parser = _Forms()
    parser.feed(response.content.decode())
    return [f for f in parser.forms if method in ("any", f["method"])]


def send_check_in(client, patient, instrument, *, counted: list | None = None) -> float:
    """One PHQ-9 sent as the browser sends it: the seconds spent in its POSTs. Each POST's
    queries are appended to `counted` when given (then the time is not meaningful)."""
    url = reverse(SEND_FROM[0], args=[patient.uuid])
    page = client.get(url)
    offers = [
        f for f in _forms(page, "any") if f["hidden"].get(SEND_FROM[1]) == str(instrument.pk)
    ]
    assert len(offers) == 1, f"no single form for {instrument.key} on {url}"
    form, spent = offers[0], 0.0
    if form["method"] == "get":
        # "Start" opens the questions (a page view, not timed); the answers are then sent.
        url = form["action"] or url
        page = client.get(url, form["hidden"])
        assert page.status_code == 200, (url, page.status_code)
        form = next(f for f in _forms(page) if f["radios"])
    for _ in range(4):
        data = dict(form["hidden"])
        data |= {name: ANSWERS[name] for name in form["radios"]}
        if "submit" in form["buttons"].get("action", []):
            data["action"] = "submit"  # Send, not "Save and finish later"
        target = form["action"] or url
        capture = CaptureQueriesContext(connection)
        with capture if counted is not None else nullcontext():
            started = time.perf_counter()
            response = client.post(target, data)
            spent += time.perf_counter() - started
        if counted is not None:
            counted.append(len(capture))
        assert response.status_code == 302, (target, response.status_code)
        url = response["Location"]
        page = client.get(url)  # what the browser shows next: read, not timed
        assert page.status_code == 200, (url, page.status_code)
        answering = [f for f in _forms(page) if f["radios"]]
        if not answering:
            return spent  # sent: no questions left to answer
        form = answering[0]
    raise AssertionError(f"still asked to answer after 4 POSTs, at {url}")


def build_history(n: int, prescriber):
    """A patient of `prescriber`'s with `n` PHQ-9 check-ins sent through the services."""
    from alliance import selectors as alliance_selectors
    from alliance import services as alliance
    from tests import factories

    phq9 = next(i for i in alliance_selectors.instruments_offered() if i.key == "phq-9")
    patient_user = factories.PatientUserFactory()
    patient = factories.PatientFactory(user=patient_user)
    factories.MembershipFactory(patient=patient, clinician=prescriber)
    for i in range(n):
        check_in = alliance.check_in_start(actor=patient_user, patient=patient, instrument=phq9)
        answers = {f"phq9_{q}": (i + q) % 4 for q in range(1, 9)} | {"phq9_9": 0}
        alliance.check_in_submit(actor=patient_user, check_in=check_in, answers=answers)
    return patient_user, patient, phq9


@common.served()
def measure(
    *, history: int = 50, rounds: int = 0, per_round: int = 0, empty: bool = True
) -> list[dict]:
    """The rows: history page ÷ floor and 10× ÷ 1×, a check-in sent ÷ floor, the medication
    page ÷ floor. `history` is the 1× number of PHQ-9 check-ins."""
    if empty:
        common.empty_database()
    prescriber, visit_patient = visit_screen.build(1)
    _, small, phq9 = build_history(history, prescriber)
    _, large, _ = build_history(10 * history, prescriber)
    sender, sending, _ = build_history(0, prescriber)
    clinician = visit_screen.client_for(prescriber)
    patient = visit_screen.client_for(sender)
    from prescribing.models import Medication

    medication = Medication.objects.filter(patient=visit_patient).order_by("pk").first()
    small_url = reverse("alliance", args=[small.uuid])
    large_url = reverse("alliance", args=[large.uuid])
    medication_url = reverse("medication_detail", args=[medication.uuid])
    small_size = len(clinician.get(small_url).content)
    large_size = len(clinician.get(large_url).content)
    medication_size = len(clinician.get(medication_url).content)

    def send():
        return send_check_in(patient, sending, phq9)

    ms = common.interleaved(
        {
            "history": common.get(clinician, small_url),
            "history floor": common.floor_operation(clinician, small_url),
            "history 10×": common.get(clinician, large_url),
            "medication": common.get(clinician, medication_url),
            "medication floor": common.floor_operation(clinician, medication_url),
            "send": send,
            "send floor": common.floor_operation(patient),
        },
        rounds,
        per_round,
    )
    history_queries = common.queries(common.get(clinician, small_url))
    large_queries = common.queries(common.get(clinician, large_url))
    medication_queries = common.queries(common.get(clinician, medication_url))
    posts: list[int] = []
    send_check_in(patient, sending, phq9, counted=posts)
    return [
        common.row(
            f"PHQ-9 history ({history} check-ins) ÷ floor",
            ms["history"],
            ms["history floor"],
            target="≤ 3×",
            queries=history_queries,
            detail=f"prescriber, /patients/<uuid>/alliance/; {small_size:,} bytes, floor the same",
        ),
        common.row(
            f"PHQ-9 history {10 * history} ÷ {history} check-ins",
            ms["history 10×"],
            ms["history"],
            target="≤ 1.1×, = q",
            passed=ms["history 10×"] <= 1.1 * ms["history"] and large_queries == history_queries,
            queries=f"{large_queries} vs {history_queries}",
            detail=f"{large_size:,} bytes against {small_size:,}",
        ),
        common.row(
            "one check-in sent ÷ floor",
            ms["send"],
            ms["send floor"],
            target="≤ 2.5×",
            queries=sum(posts),
            detail=(
                f"patient, PHQ-9 from 'My check-ins': {len(posts)} POST(s) timed together "
                f"(queries {' + '.join(map(str, posts))}); floor bare, as the patient"
            ),
        ),
        common.row(
            "medication page ÷ floor",
            ms["medication"],
            ms["medication floor"],
            target="≤ 2.5×",
            queries=medication_queries,
            detail=f"prescriber, /medications/<uuid>/; {medication_size:,} bytes, floor the same",
        ),
    ]


def main():
    label = common.scratch_database()
    common.migrate()
    common.print_table(
        f"pages, {label}; Django test client in-process, medians, one run",
        [("pages", measure())],
    )


if __name__ == "__main__":
    main()
