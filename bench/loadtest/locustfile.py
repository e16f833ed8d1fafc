"""Concord under load: clinicians reading, patients on their portal, writers writing.

Run by `bench/loadtest/run.py`, which seeds the clinic and starts locust in its own process
with these in the environment:

- CONCORD_LOAD_DATA: the seed's JSON (accounts, TOTP secrets, record uuids);
- CONCORD_LOAD_OUT: a directory for this process's log, one JSON line per request and one
  per write outcome, read back by the driver;
- CONCORD_LOAD_ADDRESSES: where each simulated person connects from. "own": their own
  loopback address (127.0.x.y), as fifty people at fifty machines; "one": everyone from
  127.0.0.1, as from behind one NAT; "forwarded": everyone from 127.0.0.1 with their own
  address in X-Forwarded-For, as behind a reverse proxy (the server runs with PROXY_COUNT=1);
- CONCORD_LOAD_THINK: the pause between one person's actions, in seconds ("2-8").

Concord answers each request with the X-Request-ID it made for it (and writes into the audit
rows the request causes): the driver counts the rows of each request that touched patient
data. Every write
carries a unique marker in its text, so the driver can count acknowledged writes against
the rows stored.
"""

import base64
import hashlib
import hmac
import itertools
import json
import os
import random
import re
import struct
import time
import uuid
from pathlib import Path

import gevent
from locust import HttpUser, between, events, task
from locust.clients import LocustHttpAdapter
from urllib3 import PoolManager

DATA = json.loads(Path(os.environ["CONCORD_LOAD_DATA"]).read_text())
OUT = Path(os.environ["CONCORD_LOAD_OUT"])
ADDRESSES = os.environ.get("CONCORD_LOAD_ADDRESSES", "own")
THINK = [float(x) for x in os.environ.get("CONCORD_LOAD_THINK", "2-8").split("-")]
PASSWORD = DATA["password"]
CLINICIANS = DATA["clinicians"]
PATIENTS = DATA["patients"]
# Who may post to each patient's thread: the two clinicians a release in force names.
THREAD_WRITERS = {p["uuid"]: set(p.get("thread_writers", ())) for p in PATIENTS}
TOTP_PERIOD = 30

_log = (OUT / f"requests-{os.getpid()}.jsonl").open("a", buffering=1)
_addresses = itertools.count()
_totp_used: dict[str, int] = {}


def _write_line(record: dict) -> None:
    _log.write(json.dumps(record, separators=(",", ":")) + "\n")


@events.request.add_listener
def _log_request(request_type, name, response_time, response_length, exception, context, **kw):
    response = kw.get("response")
    _write_line(
        {
            "t": time.time(),
            "rid": context.get("rid"),
            "group": context.get("group"),
            "pd": context.get("pd", False),
            "method": request_type,
            "name": name,
            "status": getattr(response, "status_code", 0),
            "ms": round(response_time, 2),
            "ok": exception is None,
            "error": None if exception is None else str(exception)[:200],
        }
    )


@events.quitting.add_listener
def _close(**kw):
    _log.flush()


def totp(secret: str, counter: int) -> str:
    """RFC 6238 code, as an authenticator app shows it."""
    digest = hmac.new(base64.b32decode(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06}"


def fresh_totp(email: str, secret: str) -> tuple[str, int]:
    """A code not yet used for this account, and its time step: Concord refuses a code
    twice (replay), so a second sign-in within the same 30 seconds waits for the next one."""
    counter = int(time.time()) // TOTP_PERIOD
    if _totp_used.get(email, -1) >= counter:
        counter = _totp_used[email] + 1
        gevent.sleep(max(0.0, counter * TOTP_PERIOD - time.time()) + 0.2)
    _totp_used[email] = counter
    return totp(secret, counter), counter


_PATIENT_LINK = re.compile(r'href="/(patients|medications|referrals)/[0-9a-f-]{36}/')


def shows_a_patient(response) -> bool:
    """For lists across patients (today, the refill queue): patient data only when the list
    is not empty. An empty list names no one, and is not audited."""
    if response.status_code != 200:
        return True
    if response.headers.get("Content-Type", "").startswith("application/json"):
        items = response.json()
        return bool(items.get("results") if isinstance(items, dict) else items)
    return bool(_PATIENT_LINK.search(response.text))


_ERROR = re.compile(
    r'(?:class="[^"]*(?:error|alert)[^"]*"[^>]*>|role="alert"[^>]*>)\s*(?:<[^>]+>\s*)*([^<]{1,160})'
)


def said(response) -> str:
    """The error a page or an API answer gave, shortened, for the failure's description."""
    content_type = response.headers.get("Content-Type", "")
    if content_type.startswith("application/json"):
        return response.text[:160]
    found = _ERROR.search(response.text or "")
    return found.group(1).strip() if found else ""


def marker(kind: str) -> str:
    return f"lt-{kind}-{uuid.uuid4().hex[:20]}"


class ConcordUser(HttpUser):
    abstract = True
    wait_time = between(*THINK)
    group = ""
    _counter = None

    def on_start(self):
        n = next(_addresses)
        address = f"127.0.{1 + n // 250}.{2 + n % 250}"
        if ADDRESSES == "own":
            pool = PoolManager(num_pools=2, maxsize=1, source_address=(address, 0))
            self.client.mount("http://", LocustHttpAdapter(pool_manager=pool))
        elif ADDRESSES == "forwarded":
            self.client.headers["X-Forwarded-For"] = address
        self.index = next(type(self)._counter)

    # --- one request ------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        name: str,
        patient_data,
        expect=(200,),
        group: str | None = None,
        accept=None,
        check=None,
        **kwargs,
    ):
        """One request, logged with its request id and whether it touched patient data
        (`patient_data`: a bool, or a function of the response). A failure unless its status
        is expected and `check(response)` finds nothing wrong, or `accept(response)` says it
        is a refusal by design (a stale decision, say): then `response.refused` is set."""
        headers = kwargs.pop("headers", {})
        context = {"rid": "", "group": group or self.group, "pd": patient_data}
        kwargs.setdefault("allow_redirects", False)
        with self.client.request(
            method,
            path,
            name=f"{group or self.group}: {name}",
            headers=headers,
            context=context,
            catch_response=True,
            **kwargs,
        ) as response:
            # The server makes the id: one a client sends is not trusted, nor stored.
            rid = response.headers.get("X-Request-ID", "")
            response.request_meta["context"]["rid"] = rid
            location = response.headers.get("Location", "")
            problem = None
            if response.status_code == 0:
                problem = f"no answer: {response.error!r}"[:200]
            elif response.status_code not in expect:
                problem = f"HTTP {response.status_code} {location} {said(response)}".strip()
            elif "/accounts/login/" in location:
                problem = "sent back to sign in"
            elif check is not None:
                problem = check(response)
            if callable(patient_data):
                response.request_meta["context"]["pd"] = patient_data(response)
            refused = problem is not None and accept is not None and accept(response)
            if problem is None or refused:
                response.success()
            else:
                response.failure(problem)
        response.rid = rid
        response.refused = refused
        response.ok_ = problem is None
        return response

    def csrf(self) -> dict:
        return {"X-CSRFToken": self.client.cookies.get("csrftoken", "")}

    def form(self, data: dict) -> dict:
        return {**data, "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")}

    def sign_in(self, email: str, totp_secret: str | None) -> None:
        self.call("GET", "/accounts/login/", name="page", patient_data=False, group="sign-in")
        response = self.call(
            "POST",
            "/accounts/login/",
            name="password",
            patient_data=False,
            group="sign-in",
            expect=(302,),
            data=self.form({"login": email, "password": PASSWORD}),
        )
        if totp_secret and "/2fa/" in response.headers.get("Location", ""):
            self.call(
                "GET",
                "/accounts/2fa/authenticate/",
                name="code page",
                patient_data=False,
                group="sign-in",
            )
            for _attempt in range(3):
                code, step = fresh_totp(email, totp_secret)
                response = self.call(
                    "POST",
                    "/accounts/2fa/authenticate/",
                    name="code",
                    patient_data=False,
                    group="sign-in",
                    expect=(302,),
                    # A code is good for its own 30 seconds only: one that waited in the
                    # server's queue past the boundary is refused, and a person types the
                    # next one. Any other refusal is a failure.
                    accept=lambda r, step=step: (
                        r.status_code == 200 and int(time.time()) // TOTP_PERIOD != step
                    ),
                    data=self.form({"code": code}),
                )
                if not response.refused:
                    break
                _write_line({"event": "totp expired in the queue", "rid": response.rid})

    def wrote(self, kind: str, mark: str, response) -> None:
        """Log a write's outcome: acknowledged; refused (an answer that says nothing was
        stored); or unknown (a server error or a dropped connection: it may have been)."""
        if response.ok_:
            outcome = "acked"
        elif response.status_code == 0 or response.status_code >= 500:
            outcome = "unknown"
        else:
            outcome = "refused"
        _write_line({"write": kind, "marker": mark, "outcome": outcome, "rid": response.rid})


# --- Clinicians reading: patient list, visit screen or shared view, API lists --------------


class ClinicianReader(ConcordUser):
    weight = 5
    group = "clinician"
    _counter = itertools.count()

    def on_start(self):
        super().on_start()
        me = CLINICIANS[self.index % len(CLINICIANS)]
        self.role = me["role"]
        self.patients = me["patients"]
        self.sign_in(me["email"], me["totp"])

    def patient(self) -> str:
        return random.choice(self.patients)

    @task(4)
    def main_screen(self):
        if self.role == "prescriber":
            self.call(
                "GET", f"/patients/{self.patient()}/visit/", name="visit screen", patient_data=True
            )
        else:
            self.call(
                "GET", f"/patients/{self.patient()}/shared/", name="shared view", patient_data=True
            )

    @task(2)
    def patient_list(self):
        self.call("GET", "/patients/", name="patient list", patient_data=True)

    @task(2)
    def overview(self):
        self.call("GET", f"/patients/{self.patient()}/", name="patient overview", patient_data=True)

    @task(1)
    def today(self):
        self.call("GET", "/today/", name="today", patient_data=shows_a_patient)

    @task(1)
    def thread_or_refills(self):
        if self.role == "prescriber":
            self.call("GET", "/refills/", name="refill queue", patient_data=shows_a_patient)
        else:
            self.call(
                "GET", f"/patients/{self.patient()}/thread/", name="team thread", patient_data=True
            )

    @task(1)
    def api_patients(self):
        self.call("GET", "/api/v1/patients/", name="API patients", patient_data=True)

    @task(3)
    def api_lists(self):
        kind = random.choice(["medications", "goals", "check-ins", "notes"])
        self.call(
            "GET",
            f"/api/v1/patients/{self.patient()}/{kind}/",
            name=f"API {kind}",
            patient_data=True,
        )


# --- Patients on their portal --------------------------------------------------------------


class PatientReader(ConcordUser):
    weight = 3
    group = "patient"
    _counter = itertools.count()

    def on_start(self):
        super().on_start()
        me = PATIENTS[self.index % len(PATIENTS)]
        self.me = me["uuid"]
        self.sign_in(me["email"], None)

    @task(3)
    def home(self):
        self.call("GET", "/me/", name="home", patient_data=True)

    @task(2)
    def goals(self):
        self.call("GET", f"/patients/{self.me}/goals/", name="goals", patient_data=True)

    @task(2)
    def medicines(self):
        self.call("GET", f"/patients/{self.me}/medications/", name="medicines", patient_data=True)

    @task(1)
    def check_ins(self):
        self.call("GET", f"/patients/{self.me}/check-ins/", name="check-ins", patient_data=True)

    @task(1)
    def notes(self):
        self.call("GET", f"/patients/{self.me}/notes/", name="my story", patient_data=True)

    @task(1)
    def record_views(self):
        self.call("GET", "/me/record-views/", name="who has seen my record", patient_data=True)

    @task(1)
    def api_goals(self):
        self.call("GET", f"/api/v1/patients/{self.me}/goals/", name="API goals", patient_data=True)

    @task(1)
    def notifications(self):
        self.call("GET", "/notifications/", name="notifications", patient_data=False)


# --- Writers: patients and clinicians writing through the pages and the API ----------------


class PatientWriter(ConcordUser):
    weight = 1
    group = "write"
    _counter = itertools.count()

    def on_start(self):
        super().on_start()
        # From the other end of the list than the portal readers: one writer per patient.
        me = PATIENTS[len(PATIENTS) - 1 - self.index % len(PATIENTS)]
        self.me = me["uuid"]
        self.medications = me["medications"]
        self.goals = me["goals"]
        self.prescriber = me["prescriber"]
        self.sign_in(me["email"], None)

    @task(3)
    def goal_by_page(self):
        self.call(
            "GET", f"/patients/{self.me}/goals/", name="goals", patient_data=True, group="patient"
        )
        mark = marker("goal")
        response = self.call(
            "POST",
            f"/patients/{self.me}/goals/new/",
            name="goal (page)",
            patient_data=True,
            expect=(302,),
            data=self.form({"what": f"Cook dinner twice a week [{mark}]", "why": "For my family"}),
        )
        self.wrote("goal", mark, response)

    @task(2)
    def rating_by_api(self):
        mark = marker("rating")
        response = self.call(
            "POST",
            f"/api/v1/goals/{random.choice(self.goals)}/ratings/",
            name="goal rating (API)",
            patient_data=True,
            expect=(201,),
            headers=self.csrf(),
            json={"rating": random.choice([-1, 0, 1]), "note": f"[{mark}]"},
        )
        self.wrote("rating", mark, response)

    @task(2)
    def observation_by_api(self):
        mark = marker("observation")
        response = self.call(
            "POST",
            f"/api/v1/medications/{random.choice(self.medications)}/observations/",
            name="observation (API)",
            patient_data=True,
            expect=(201,),
            headers=self.csrf(),
            json={"kind": "response", "text": f"Sleeping better [{mark}]"},
        )
        self.wrote("observation", mark, response)

    @task(2)
    def check_in_by_api(self):
        started = self.call(
            "POST",
            f"/api/v1/patients/{self.me}/check-ins/",
            name="check-in start (API)",
            patient_data=True,
            expect=(201,),
            headers=self.csrf(),
            json={"instrument": "concord-alliance", "clinician": self.prescriber},
        )
        if started.status_code != 201:
            return
        mark = marker("checkin")
        response = self.call(
            "POST",
            f"/api/v1/check-ins/{started.json()['uuid']}/submit/",
            name="check-in submit (API)",
            patient_data=True,
            headers=self.csrf(),
            json={
                "answers": {"bond": 8, "goals": 7, "tasks": 8, "fit": random.choice([7, 8, 9])},
                "open_answer": f"[{mark}]",
            },
        )
        self.wrote("checkin", mark, response)

    @task(1)
    def refill_by_api(self):
        mark = marker("refill")
        response = self.call(
            "POST",
            f"/api/v1/medications/{random.choice(self.medications)}/refill-requests/",
            name="refill request (API)",
            patient_data=True,
            expect=(201,),
            # One open request per medicine: asking again before the prescriber answers is
            # refused by design, and must store nothing.
            accept=lambda r: r.status_code == 400 and "already open" in r.text,
            headers=self.csrf(),
            json={"note": f"Running low [{mark}]"},
        )
        self.wrote("refill", mark, response)


class ClinicianWriter(ConcordUser):
    weight = 1
    group = "write"
    _counter = itertools.count()

    def on_start(self):
        super().on_start()
        me = CLINICIANS[len(CLINICIANS) - 1 - self.index % len(CLINICIANS)]
        self.role = me["role"]
        self.uuid = me["uuid"]
        self.patients = me["patients"]
        self.medications = {p["uuid"]: p["medications"] for p in PATIENTS}
        self.sign_in(me["email"], me["totp"])

    @task(3)
    def thread_post_by_page(self):
        # Only a post someone of the other practice reads is accepted (others are refused,
        # rightly): the clinicians a release names post; the rest of the team does not.
        open_threads = [p for p in self.patients if self.uuid in THREAD_WRITERS.get(p, ())]
        if not open_threads:
            return
        patient = random.choice(open_threads)
        self.call(
            "GET",
            f"/patients/{patient}/thread/",
            name="team thread",
            patient_data=True,
            group="clinician",
        )
        mark = marker("thread")
        response = self.call(
            "POST",
            f"/patients/{patient}/thread/",
            name="thread post (page)",
            patient_data=True,
            expect=(302,),
            data=self.form(
                {
                    "kind": "question",
                    "text": f"How is sleep since the change? [{mark}]",
                    "medication": "",
                }
            ),
        )
        self.wrote("thread", mark, response)

    @task(2)
    def goal_proposal_by_api(self):
        mark = marker("goal")
        response = self.call(
            "POST",
            f"/api/v1/patients/{random.choice(self.patients)}/goals/",
            name="goal proposal (API)",
            patient_data=True,
            expect=(201,),
            headers=self.csrf(),
            json={"what": f"Practise the breathing exercise daily [{mark}]"},
        )
        self.wrote("goal", mark, response)

    @task(2)
    def observation_on_visit_screen(self):
        if self.role != "prescriber":
            return self.thread_post_by_page()
        patient = random.choice(self.patients)
        mark = marker("observation")
        response = self.call(
            "POST",
            f"/patients/{patient}/visit/record/",
            name="observation (visit screen)",
            patient_data=True,
            headers={"HX-Request": "true"},
            check=lambda r: None if "Recorded." in r.text else "the visit screen reported an error",
            data=self.form(
                {
                    "action": "observation",
                    "medication": random.choice(self.medications[patient]),
                    "kind": "side_effect",
                    "severity": "mild",
                    "text": f"Mild nausea in the first week [{mark}]",
                }
            ),
        )
        self.wrote("observation", mark, response)

    @task(2)
    def answer_refills_by_api(self):
        if self.role != "prescriber":
            return self.goal_proposal_by_api()
        queue = self.call(
            "GET",
            "/api/v1/refill-requests/",
            name="API refill queue",
            patient_data=shows_a_patient,
            group="clinician",
        )
        if queue.status_code != 200:
            return
        items = queue.json()
        items = items.get("results", items) if isinstance(items, dict) else items
        waiting = [r for r in items if r["status"] in ("requested", "approved")]
        if not waiting:
            return
        refill = random.choice(waiting)
        step = "approved" if refill["status"] == "requested" else "sent"
        response = self.call(
            "POST",
            f"/api/v1/refill-requests/{refill['uuid']}/decide/",
            name=f"refill {step} (API)",
            patient_data=True,
            # Two prescribers may answer the same request at once: the second is told it has
            # changed (409) or is no longer open (400), by design.
            accept=lambda r: r.status_code in (400, 409),
            headers=self.csrf(),
            json={"status": step, "reason": "Seen at the last visit"},
        )
        self.wrote(f"refill {step}", refill["uuid"], response)
