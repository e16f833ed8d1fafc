"""The API against its own OpenAPI description: schemathesis, in-process through config.wsgi.

The care team and the patient send every operation of /api/schema/ generated input, valid and
invalid: no server error, invalid input refused, answers shaped as documented, credentials
required. Then another patient, a clinician of another practice, nobody and a made-up token
send every operation the first patient's record UUIDs: not found (or refused), nothing shown,
nothing in the database changed.

CONCORD_PROOF_EXAMPLES: examples per operation and identity (10 by default; `make proof`: 100).
"""

import hashlib
import json
import os

import pytest
import schemathesis
from django.apps import apps
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
)

from alliance import selectors as alliance_selectors
from alliance import services as alliance
from stories import services as stories
from tests import factories
from tests.core import test_policy_consistency as policy
from tests.proof.figures import report as figure_line

EXAMPLES = int(os.environ.get("CONCORD_PROOF_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    content_type_conformance,
]
# What a refused request writes: its audit row, and the head of its audit chain.
AUDIT_TABLES = {"core.AuditEvent", "core.AuditChainHead"}

pytestmark = pytest.mark.django_db

# One of each record of one patient, written through the services.
world = policy.world


@pytest.fixture
def records(world, patient, patient_user, prescriber):
    """The world, with a check-in still being answered and a summary, so that answering,
    sending and reading them get past "already sent" and "no summary yet"."""
    phq9 = next(i for i in alliance_selectors.instruments_offered() if i.key == "phq-9")
    draft = alliance.check_in_start(actor=patient_user, patient=patient, instrument=phq9)
    stories.summary_save(actor=prescriber, patient=patient, text="Dan, who walks.", version=None)
    return world | {"check_in_uuid": draft.uuid, "sent_check_in_uuid": world["check_in_uuid"]}


@pytest.fixture
def app():
    """config.wsgi's application, answering inside the test's transaction.

    As in Django's test client: a request must not close the connection that holds it.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def schema(app, db):
    # Credentials are the test's own tokens, not values generated from the security schemes.
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    # The schema is served to signed-in users only (tests/core/test_api_docs_access.py): read
    # here by someone of no other part in the tests, whose tokens they count.
    reader = factories.PatientUserFactory()
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", app, config=config, headers=_token(reader)
    )


@pytest.fixture
def operations(schema):
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 45
    return found


def _token(user):
    return {"Authorization": f"Token {factories.api_token(user)}"}


# Over both tests, for the figure printed once the module is done.
TOTAL = {"operations": set(), "examples": 0, "failures": 0}


@pytest.fixture(scope="module", autouse=True)
def figure():
    yield
    if TOTAL["examples"]:
        print(
            f"schemathesis: {len(TOTAL['operations'])} operations, {TOTAL['examples']} examples, "
            f"{TOTAL['failures']} failures"
        )


class Tally:
    """Examples run and failures found over operations; one failure does not stop the rest."""

    def __init__(self):
        self.examples = {}
        self.failures = []

    def explore(self, label, strategy, examine, examples=None):
        """Call `examine` on up to EXAMPLES values drawn from `strategy`; keep what fails."""
        self.examples.setdefault(label, 0)

        @settings(
            max_examples=examples or EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def run(drawn):
            self.examples[label] += 1
            examine(*drawn)

        try:
            run()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - all reported below
            self.failures.append(f"{label}: {error}")

    def report(self, who):
        line = (
            f"schemathesis: {len(self.examples)} operations, {sum(self.examples.values())} "
            f"examples, {len(self.failures)} failures ({who})"
        )
        figure_line(line)
        TOTAL["operations"] |= set(self.examples)
        TOTAL["examples"] += sum(self.examples.values())
        TOTAL["failures"] += len(self.failures)
        # Hypothesis stops early once it has tried every distinct input (an operation with no
        # parameters, asked by three people, has three).
        failed = {failure.split(": ", 1)[0] for failure in self.failures}
        exhausted = {k: v for k, v in self.examples.items() if v < EXAMPLES and k not in failed}
        if exhausted:
            print(f"  fewer than {EXAMPLES}, every distinct input tried: {exhausted}")
        assert not self.failures, line + "\n\n" + "\n\n".join(self.failures)


def _known(records, prescriber, therapist):
    """Values that name something that exists, for the fields whose names say what they are."""
    clinician = st.sampled_from([str(prescriber.uuid), str(therapist.uuid)])
    keys = [i.key for i in alliance_selectors.instruments_offered()]
    return st.fixed_dictionaries(
        {
            "instrument": st.sampled_from(keys),
            "clinician": clinician,
            "to_clinician": clinician,
            "discloser": clinician,
            "recipient": clinician,
            "goal_uuids": st.lists(st.just(str(records["goal_uuid"])), max_size=1),
        }
    )


def _negates_more_than_the_path(operation):
    return bool(list(operation.query)) or bool(list(operation.body))


def test_every_operation_answers_as_documented(
    operations, records, patient_user, prescriber, therapist
):
    people = st.sampled_from([_token(patient_user), _token(prescriber), _token(therapist)])
    known = _known(records, prescriber, therapist)
    tally = Tally()
    for operation in operations:
        owned_path = {p.name: str(records[p.name]) for p in operation.path_parameters}
        cases = st.one_of(
            operation.as_strategy(
                generation_mode=GenerationMode.POSITIVE, path_parameters=owned_path
            ),
            # Invalid input for a record that exists; invalid UUIDs where there is nothing else.
            operation.as_strategy(
                generation_mode=GenerationMode.NEGATIVE,
                path_parameters=owned_path if _negates_more_than_the_path(operation) else None,
            ),
        )

        def examine(case, headers, use_known, known_values):
            # Half the valid bodies name a real instrument, clinician or goal, so that they
            # reach the services instead of stopping at "unknown".
            if use_known and case.meta.generation.mode.is_positive and isinstance(case.body, dict):
                case.body.update({k: v for k, v in known_values.items() if k in case.body})
            case.call_and_validate(headers=headers, checks=CHECKS)

        tally.explore(operation.label, st.tuples(cases, people, st.booleans(), known), examine)
    tally.report("the patient, the prescriber, the therapist")


# When a caller's own token was last used: the callers' bookkeeping, not anyone's record.
BOOKKEEPING = {("core.ApiToken", "last_used_at")}


# Tables a caller writes for themselves through a "me" route: a stranger may change their own
# row, never the patient's, so only the patient's rows are compared (`about`).
THEIR_OWN = {"core.SelfDescription": "patient__uuid"}


def _fingerprint(about=None):
    """A hash of each table's rows, the audit trail's excepted; with `about` (a patient's uuid),
    only that patient's rows of the tables people write for themselves."""
    digest = {}
    for model in apps.get_models():
        if model._meta.proxy or model._meta.label in AUDIT_TABLES:
            continue
        rows_of = model.objects.all()
        if about is not None and model._meta.label in THEIR_OWN:
            rows_of = rows_of.filter(**{THEIR_OWN[model._meta.label]: about})
        columns = [
            f.attname
            for f in model._meta.concrete_fields
            if (model._meta.label, f.name) not in BOOKKEEPING
        ]
        rows = list(rows_of.order_by("pk").values_list(*columns))
        digest[model._meta.label] = hashlib.sha256(
            json.dumps(rows, default=str).encode()
        ).hexdigest()
    return digest


def _unstorable_refusal(response) -> bool:
    """The 400 for a NUL or lone surrogate in the query, answered by middleware before any view
    or credential is looked at: the same for everyone and every uuid, so it tells a stranger
    nothing about the record (the shown-uuid and nothing-changed checks still apply)."""
    from core.text import UNSTORABLE_MESSAGE

    return response.status_code == 400 and UNSTORABLE_MESSAGE in response.text


def test_strangers_find_nothing_of_the_patients_record(operations, records):
    other = factories.PatientFactory(user=factories.PatientUserFactory())
    outsider = factories.PrescriberFactory()
    factories.MembershipFactory(patient=other, clinician=outsider)
    signed_in = {"another patient": _token(other.user), "another practice": _token(outsider)}
    anonymous = {
        "nobody": {},
        "a made-up token": {"Authorization": "Token concord_000000000000_" + "0" * 43},
    }
    owned = {str(value) for key, value in records.items() if key.endswith("_uuid")}
    tally = Tally()
    before = _fingerprint(about=records["patient_uuid"])
    for operation in operations:
        owned_path = {p.name: str(records[p.name]) for p in operation.path_parameters}
        modes = [GenerationMode.POSITIVE]
        if _negates_more_than_the_path(operation):
            # Invalid input too: a stranger must not learn from a 400 that the record exists.
            modes.append(GenerationMode.NEGATIVE)
        cases = st.one_of(
            operation.as_strategy(generation_mode=mode, path_parameters=owned_path)
            for mode in modes
        )
        for who, headers in (signed_in | anonymous).items():

            def examine(case, who=who, headers=headers, owned_path=owned_path):
                response = case.call(headers=headers)
                if _unstorable_refusal(response):
                    expected = (400,)
                elif who in anonymous:
                    expected = (401, 403)
                elif owned_path:
                    expected = (403, 404)
                else:
                    expected = range(200, 500)
                assert response.status_code in expected, (
                    f"{who}: {response.status_code} {response.text[:300]}"
                )
                shown = {uuid for uuid in owned if uuid in response.text}
                assert not shown, f"{who} was shown {shown}"

            tally.explore(operation.label, st.tuples(cases), examine)
        after = _fingerprint(about=records["patient_uuid"])
        changed = [table for table in after if after[table] != before[table]]
        if changed:
            tally.failures.append(f"{operation.label}: strangers changed {changed}")
            before = after
    tally.report("another patient, another practice, nobody, a made-up token")


# Input of the class of issue 13's findings 11 and 14, into one field of an otherwise valid
# request: text that cannot be stored (NUL, lone surrogates: refused, never accepted), bidi
# overrides (refused in short fields, kept in long text), dates far outside any record's, and
# JSON nested deeper than the parser takes (refused).
UNSTORABLE = ["\x00", "Dan\x00Brooks", "\ud800", "x\udfff"]
TOO_DEEP = {"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}
HOSTILE = [*UNSTORABLE, "\u202eevil", "\u2066x\u2069", "0001-01-01", "9999-12-31", TOO_DEEP]
REFUSED = [*UNSTORABLE, TOO_DEEP]
# Fewer than the other tests: one field of one valid request each, the class and not every
# field's every value (`make proof` sends more).
HOSTILE_EXAMPLES = max(3, EXAMPLES // 3)


def _hostile_case(case, value, pick: int) -> str:
    """Put `value` into one field of the case's body or query; the field's name, or ''."""
    if isinstance(case.body, dict) and case.body:
        name = sorted(case.body)[pick % len(case.body)]
        case.body[name] = value
        return name
    if case.query and isinstance(value, str):
        name = sorted(case.query)[pick % len(case.query)]
        # A client cannot encode a lone surrogate into a URL: what a server decodes from the
        # bytes of one is U+FFFD.
        case.query[name] = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        return name
    return ""


def test_hostile_input_is_refused_or_stored_harmlessly_never_a_server_error(
    operations, records, patient_user, prescriber, therapist
):
    people = st.sampled_from([_token(patient_user), _token(prescriber), _token(therapist)])
    tally = Tally()
    for operation in operations:
        if not _negates_more_than_the_path(operation):
            continue  # nothing to put it in
        owned_path = {p.name: str(records[p.name]) for p in operation.path_parameters}
        cases = operation.as_strategy(
            generation_mode=GenerationMode.POSITIVE, path_parameters=owned_path
        )

        def examine(case, headers, value, pick):
            field = _hostile_case(case, value, pick)
            if not field:
                return
            response = case.call(headers=headers)
            assert response.status_code < 500, (field, value, response.status_code)
            in_body = isinstance(case.body, dict) and field in case.body
            if in_body and any(value == refused for refused in REFUSED):
                assert response.status_code >= 400, (field, value, response.status_code)

        strategy = st.tuples(cases, people, st.sampled_from(HOSTILE), st.integers(0, 50))
        tally.explore(operation.label, strategy, examine, examples=HOSTILE_EXAMPLES)
    tally.report("hostile values, the patient, the prescriber, the therapist")
