"""Every form of ours, fed hypothesis-generated input by the patient, the prescriber, the
therapist and the clinic admin: no server error, and no invalid row stored.

The forms are read from our pages as each of the four sees them; each example is one of them
filled in the way a person would (what the page fills in kept, a choice among what it offers,
something typed where it is empty) with a few fields replaced by generated input, or a bag of
fields from any form of ours.

After each post, every row of our apps that it created or changed passes `full_clean()` and the
rules the services keep that the models do not (text written, dates in range, the author is the
person who posted, one version step per edit); a refused post (4xx, or a redirect carrying an
error message) changed no row at all, and no post deletes one. Each post runs in a savepoint
rolled back afterwards, so every example starts from the same world.

CONCORD_PROOF_EXAMPLES sets the examples per route (10 by default).
Prints `form fuzz: N routes, M posts, 0 server errors, 0 invalid rows` (shown with `pytest -s`).
"""

import os
import re
import string
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance import scoring
from alliance import selectors as alliance_selectors
from alliance import services as alliance
from appointments import services as appointments
from core import credentials
from core import services as core_services
from messaging import services as messaging
from prescribing import services as rx
from prescribing.models import Medication
from referrals import services as referrals
from referrals.models import RELEASABLE
from stories import services as stories
from tests import factories
from tests.proof.figures import report

EXAMPLES = int(os.environ.get("CONCORD_PROOF_EXAMPLES", "10"))
OUR_APPS = (
    "core",
    "stories",
    "prescribing",
    "alliance",
    "referrals",
    "messaging",
    "appointments",
    "clinic",
)
# Rows every request may write, refused or not: the audit trail, and when a clinician last
# looked at a screen.
BOOKKEEPING = {"core.AuditEvent", "core.AuditChainHead", "clinic.LastLook"}

FIELDS = [
    "what",
    "why",
    "target_date",
    "rating",
    "note",
    "status",
    "version",
    "kind",
    "audience",
    "title",
    "body",
    "text",
    "response",
    "drug_name",
    "strength",
    "form",
    "route",
    "dose",
    "directions",
    "schedule",
    "purpose",
    "reason",
    "patient_preference",
    "decided_together",
    "quantity",
    "days_supply",
    "refills_authorised",
    "written_on",
    "earliest_fill_on",
    "filled_on",
    "prescription",
    "medication",
    "request",
    "action",
    "observed_on",
    "severity",
    "email",
    "to_clinician",
    "urgency",
    "questions",
    "discloser",
    "recipient",
    "categories",
    "expires_on",
    "signed_name",
    "issues",
    "actions",
    "held_on",
    "instrument",
    "clinician",
    "bond",
    "goals",
    "tasks",
    "fit",
    "open_answer",
    "reply_to",
    "q",
    "level_0",
    "warning_signs",
    "coping",
    "people",
    "reasons_for_living",
    "after_hours_phone",
    "after_hours_instructions",
    "reply_time",
    "reply_days",
    "email_enabled",
    "email_groups",
    "quiet_from",
    "quiet_until",
    "time_zone",
    "to",
    "subject",
    "message",
    "make",
    "on",
    "at",
    "minutes",
    "place",
    "video_link",
    "also_with",
    "every_weeks",
    "change",
    "answer",
]
values = st.one_of(
    st.text(alphabet=string.printable + "éß–—“”\u200b", max_size=60),
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)).map(str),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "2",
            "99",
            "active",
            "stopped",
            "approved",
            "declined",
            "on",
            "none",
            "II",
            "story",
            "psychotherapy",
            "release",
            "dose_change",
            "observation",
            "refill",
            "decision",
            "refill_request",
            "goal",
        ]
    ),
    st.uuids().map(str),
)
# Input of the class of issue 13's finding 11 and 14: NUL, what a lone surrogate becomes once
# decoded (U+FFFD; the client cannot encode one itself, the JSON proof sends them), bidi
# overrides and isolates, dates far outside any record's, and runs a Markdown parser chokes on.
hostile = st.sampled_from(
    [
        "\x00",
        "Dan\x00Brooks",
        "\ufffd",
        "\u202eevil",
        "\u2066x\u2069",
        "a\u202d50 mg\u202c",
        "0001-01-01",
        "1899-12-31",
        "9999-12-31",
        "2126-01-01",
        "*" * 300 + "a",
        "[" * 300,
        "> " * 150 + "x",
    ]
)
values = st.one_of(values, hostile)
payloads = st.dictionaries(st.sampled_from(FIELDS), values, max_size=10)
# Dates around the clinic's today, the edges first: yesterday, today, tomorrow.
near_dates = st.one_of(
    st.sampled_from([-1, 0, 1, 30, -30, 365]), st.integers(min_value=-800, max_value=800)
).map(lambda days: str(timezone.localdate() + timedelta(days=days)))


class _Forms(HTMLParser):
    """The post forms of a page: action, and each field with what the page fills in and offers."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form = self._select = self._textarea = None

    def _field(self, name, default=None, offered=None, kind="text"):
        fields, offers = self._form["fields"], self._form["offers"]
        self._form["kinds"].setdefault(name, kind)
        if default is not None and fields.get(name) is not None:
            fields[name] = [*_listed(fields[name]), default]
        elif default is not None or name not in fields:
            fields[name] = default
        if offered is not None:
            offers.setdefault(name, set()).add(offered)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": a.get("method", "get")}
            self._form |= {"fields": {}, "offers": {}, "kinds": {}}
            return
        name = a.get("name")
        if self._form is None or (tag != "option" and not name):
            return
        kind = a.get("type", "text")
        if tag == "input" and kind in ("checkbox", "radio"):
            value = a.get("value") or "on"
            self._field(name, value if "checked" in a else None, value)
        elif tag in ("input", "button") and kind in ("submit", "button"):
            self._field(name, None, a.get("value", ""))
        elif tag == "input":
            self._field(name, a.get("value") or "", kind=kind)
        elif tag == "textarea":
            self._textarea = name
            self._field(name, "")
        elif tag == "select":
            self._select = name
            self._field(name)
        elif tag == "option" and self._select:
            value = a.get("value", "")
            # A select sends its first option unless another is selected.
            if "selected" in a or self._form["fields"][self._select] is None:
                self._form["fields"][self._select] = value
            self._field(self._select, None, value)

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            if self._form["method"].lower() == "post":
                self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _forms_on(page_url: str, html: str) -> list[tuple[str, dict]]:
    """(the path each form posts to, the form) for every post form on a page."""
    parser = _Forms()
    parser.feed(html)
    return [(urlsplit(urljoin(page_url, f["action"])).path, f) for f in parser.forms]


# Something a person might type into a field the page leaves empty, by the field's type.
typed = {
    "date": near_dates,
    "number": st.integers(min_value=0, max_value=400).map(str),
    "text": st.text(alphabet=string.ascii_letters + string.digits + " .,'-", max_size=40).filter(
        str.strip
    ),
}


@st.composite
def _filled(draw, form: dict):
    """The form as a person fills it in: what the page fills in kept, a choice among what it
    offers, something typed where it is empty; then a few fields replaced by generated input
    or left out."""
    names = sorted(form["fields"].keys() - {"csrfmiddlewaretoken"})
    replaced = draw(st.sets(st.sampled_from(names), max_size=3)) if names else set()
    data = {}
    for name in names:
        kept, offered = form["fields"][name], sorted(form["offers"].get(name, ()))
        kind = typed.get(form["kinds"][name], typed["text"])
        if name in replaced:
            # Half the time input of the field's own type (a date for a date), else anything,
            # several values, or nothing.
            others = [values, hostile, st.lists(values, max_size=3), st.none()]
            value = draw(st.one_of(kind, kind, kind, *others))
        elif form["kinds"][name] == "date":
            # Dates are where the rules are (not in the future, not before another date).
            value = draw(st.one_of(st.just(kept), near_dates) if kept else near_dates)
        elif kept is not None and (isinstance(kept, list) or kept.strip()):
            value = kept
        elif offered:
            value = draw(st.sampled_from(offered))
        elif form["kinds"][name] == "hidden":
            value = kept
        else:
            value = draw(kind)
        if value is not None:
            data[name] = value
    return data


anyone = st.integers(min_value=0, max_value=3)


def _route_posts(forms: list[tuple[int, dict]]):
    """(who posts, what): mostly a form of the route filled in by the person whose page shows
    it; sometimes fields of any form of ours, from anyone."""
    anything = st.tuples(anyone, payloads)
    if not forms:
        return anything
    filled = st.sampled_from(forms).flatmap(lambda f: st.tuples(st.just(f[0]), _filled(f[1])))
    return st.one_of(filled, filled, filled, anything)


def _url(route: str, world) -> str:
    return "/" + re.sub(
        r"<uuid:(\w+)>", lambda m: str(world[m.group(1)]), re.sub(r"<str:\w+>", "x", route)
    )


def _post_routes():
    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                yield prefix + str(entry.pattern)

    skip = ("admin/", "accounts/", "api/", "invite/", "health/")
    return [r for r in walk(get_resolver().url_patterns) if not r.startswith(skip)]


@pytest.fixture
def world(db, patient, patient_user, prescriber, therapist):
    alliance.install_shipped()
    instrument = next(
        i for i in alliance_selectors.instruments_offered() if i.key == "concord-alliance"
    )
    goal = stories.goal_create(actor=patient_user, patient=patient, what="Sleep")
    note = stories.note_create(
        actor=prescriber, patient=patient, kind="clinician", audience="care_team", body="n"
    )
    med = rx.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Sertraline",
        strength="50 mg",
        form="tablet",
        dose="1",
        directions="daily",
        reason="r",
    )
    refill = rx.refill_request_create(actor=patient_user, medication=med)
    check_in = alliance.check_in_start(
        actor=patient_user, patient=patient, instrument=instrument, clinician=prescriber
    )
    referral = referrals.referral_create(
        actor=therapist, patient=patient, to_clinician=prescriber, reason="r"
    )
    release = referrals.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=therapist,
        # Observations: the thread's posts reach the other practice, so a valid post is kept.
        categories=["medications", "observations"],
        purpose="p",
        expires_on=date.today() + timedelta(days=30),
        signed_name="Daniel Brooks",
    )
    flagged = alliance.check_in_submit(
        actor=patient_user, check_in=check_in, answers={"bond": 1, "goals": 1, "tasks": 1, "fit": 1}
    )
    phq9 = next(i for i in alliance_selectors.instruments_offered() if i.key == "phq-9")
    draft = alliance.check_in_start(actor=patient_user, patient=patient, instrument=phq9)
    rx.prescription_write(
        actor=prescriber, medication=med, quantity=30, days_supply=30, refills_authorised=2
    )
    stories.summary_save(actor=prescriber, patient=patient, text="Dan repairs bikes.", version=None)
    token, _ = credentials.api_token_create(
        actor=prescriber, name="fuzz", days=30, password=factories.PASSWORD
    )
    # To the whole team: the three read it, so each page shows its forms.
    conversation = messaging.conversation_start(
        actor=patient_user, patient=patient, subject="Sleep", text="I sleep badly."
    )
    # Clinic settings: Riverside's admin, a colleague of the prescriber's to deactivate or
    # reset, and an invitation waiting to be used or withdrawn.
    clinic_admin = factories.AdminFactory(
        practice=prescriber.practice, is_superuser=False, is_staff=False
    )
    colleague = factories.PrescriberFactory(practice=prescriber.practice)
    factories.totp_device(colleague)
    invitation, _, _ = core_services.staff_invitation_create(
        actor=clinic_admin,
        email="invited@example.test",
        full_name="Invited Person",
        role="therapist",
        practice=prescriber.practice,
    )
    # Booked by the prescriber, coming up: the patient may ask to move it, she may record it.
    visit = appointments.visit_book(
        actor=prescriber,
        patient=patient,
        clinician=prescriber,
        kind="medication",
        starts_at=timezone.now() + timedelta(days=3),
        place="Riverside, room 4",
    )
    return {
        "patient_uuid": patient.uuid,
        "person_uuid": colleague.uuid,
        "invitation_uuid": invitation.uuid,
        "visit_uuid": visit.uuid,
        "conversation_uuid": conversation.uuid,
        "goal_uuid": goal.uuid,
        "note_uuid": note.uuid,
        "medication_uuid": med.uuid,
        "request_uuid": refill.uuid,
        "check_in_uuid": draft.uuid,
        "referral_uuid": referral.uuid,
        "release_uuid": release.uuid,
        "flag_uuid": flagged.flags.get().uuid,
        "token_uuid": token.uuid,
        "practice_uuid": prescriber.practice.uuid,
        "users": [patient_user, prescriber, therapist, clinic_admin],
    }


def _models():
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS
        and model._meta.label not in BOOKKEEPING
        and not model._meta.proxy
    ]


def _snapshot(models) -> dict:
    """Every row of `models`, by table and primary key (plain SQL: it runs after every post)."""
    state = {}
    with connection.cursor() as cursor:
        for model in models:
            table, pk = model._meta.db_table, model._meta.pk.column
            cursor.execute(f"SELECT {pk}, * FROM {table}")  # noqa: S608 - our own table names
            state[model] = {row[0]: row for row in cursor.fetchall()}
    return state


def _columns(model) -> list[str]:
    """The table's columns in the order `SELECT *` gives them."""
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, model._meta.db_table)
    return [column.name for column in description]


def _written(text) -> bool:
    """Required text: something written, stored without surrounding blanks."""
    return bool(text.strip()) and text == text.strip()


def _check_in_complete(check_in) -> bool:
    if check_in.status != "submitted":
        return True
    definition = check_in.instrument.definition
    return not scoring.missing_items(definition, check_in.answers) and check_in.total == (
        scoring.score(definition, check_in.answers).total
    )


# What the services keep true that the models alone do not.
RELEASABLE_KEYS = {key for key, _ in RELEASABLE}
RULES = {
    "stories.Goal": [("what is written", lambda o: _written(o.what))],
    "stories.NarrativeNote": [("the note is written", lambda o: _written(o.body))],
    "stories.PersonSummary": [("the summary is written", lambda o: _written(o.text))],
    "prescribing.Medication": [
        ("the medicine is named", lambda o: _written(o.drug_name)),
        ("concerns come from the list", lambda o: set(o.concerns) <= set(Medication.Concern)),
    ],
    "prescribing.DecisionRecord": [("the reason is written", lambda o: _written(o.reason))],
    "prescribing.Observation": [
        ("the observation is written", lambda o: _written(o.text)),
        ("dated today or earlier", lambda o: o.observed_on <= timezone.localdate()),
    ],
    "prescribing.Prescription": [
        ("written today or earlier", lambda o: o.written_on <= timezone.localdate()),
        (
            "first fill on or after the writing",
            lambda o: o.earliest_fill_on is None or o.earliest_fill_on >= o.written_on,
        ),
    ],
    "prescribing.Fill": [
        (
            "filled between the writing and today",
            lambda o: o.prescription.written_on <= o.filled_on <= timezone.localdate(),
        )
    ],
    "alliance.CheckIn": [("a sent check-in is complete and scored", _check_in_complete)],
    "alliance.Consultation": [
        ("issues and actions are written", lambda o: _written(o.issues) and _written(o.actions)),
        ("held today or earlier", lambda o: o.held_on <= timezone.localdate()),
    ],
    "referrals.Referral": [
        ("the reason is written", lambda o: _written(o.reason)),
        ("referred to someone else", lambda o: o.to_clinician_id != o.author_id),
    ],
    "referrals.Release": [
        ("the purpose is written", lambda o: _written(o.purpose)),
        (
            "releasable categories only",
            lambda o: bool(o.categories) and set(o.categories) <= RELEASABLE_KEYS,
        ),
    ],
    "referrals.ThreadPost": [("the post is written", lambda o: _written(o.text))],
    "messaging.Conversation": [("the subject is written", lambda o: _written(o.subject))],
    "messaging.Message": [("the message is written", lambda o: _written(o.text))],
    "core.Invitation": [
        ("the address as typed, in lower case", lambda o: o.email == o.email.strip().lower()),
        ("a staff invitation names who it is for", lambda o: bool(o.patient_id or o.role)),
    ],
    "appointments.Visit": [
        ("it has a place or a link", lambda o: _written(o.place) or _written(o.video_link)),
        (
            "a video link is https",
            lambda o: not o.video_link or o.video_link.startswith("https://"),
        ),
        (
            "a move asked says when suits",
            lambda o: o.change_asked != "move" or _written(o.change_note),
        ),
    ],
    "appointments.Cadence": [("every 1 to 52 weeks", lambda o: 1 <= o.every_weeks <= 52)],
}


def _problems(model, pk, old, actor) -> list[str]:
    """What is wrong with one row the post created (old is None) or changed."""
    obj = model.objects.get(pk=pk)
    label = model._meta.label
    found = []
    try:
        obj.full_clean()
    except ValidationError as error:
        found.append(f"full_clean: {error.message_dict}")
    found += [f"breaks the rule: {rule}" for rule, holds in RULES.get(label, []) if not holds(obj)]
    if old is None and hasattr(obj, "author_id") and obj.author_id != actor.pk:
        found.append("written in someone else's name")
    if old is not None and hasattr(obj, "version"):
        before = old[1 + _columns(model).index("version")]
        if obj.version not in (before, before + 1):
            found.append(f"version {before} became {obj.version}")
    return [f"{label} {pk}: {problem}" for problem in found]


def _refused(response) -> bool:
    if response.status_code >= 400:
        return True
    errors = [m for m in get_messages(response.wsgi_request) if m.level >= message_levels.ERROR]
    return bool(errors) or 'class="form-error"' in response.content.decode()


class Tally:
    """Counts; a failing example is tried again while hypothesis shrinks it, so the same
    problem is counted once."""

    def __init__(self):
        self.routes = set()
        self.posts = 0
        self.server_errors: set[str] = set()
        self.invalid: set[str] = set()

    def line(self) -> str:
        return (
            f"form fuzz: {len(self.routes)} routes, {self.posts} posts, "
            f"{len(self.server_errors)} server errors, {len(self.invalid)} invalid rows"
        )


@pytest.mark.django_db
def test_no_form_answers_with_a_server_error_or_stores_an_invalid_row(world):
    routes = _post_routes()
    assert len(routes) >= 30
    models = _models()
    clients = []
    for user in world["users"]:
        client = Client()
        client.force_login(user)
        clients.append((user, client))
    before = _snapshot(models)
    tally = Tally()
    failures = []

    def post(url, payload, who):
        """One post in a savepoint rolled back afterwards; what it broke, if anything."""
        user, client = clients[who]
        tally.posts += 1
        with transaction.atomic():
            try:
                response = client.post(url, payload)
            except Exception as error:  # noqa: BLE001 - a server error, reported with its input
                tally.server_errors.add(f"{url}: {error!r}")
                raise
            if response.status_code >= 500:
                tally.server_errors.add(f"{url}: {response.status_code}")
            after = _snapshot(models)
            changed = [
                (model, pk, before[model].get(pk))
                for model, rows in after.items()
                for pk, row in rows.items()
                if before[model].get(pk) != row
            ]
            deleted = [(m, pk) for m, rows in before.items() for pk in rows if pk not in after[m]]
            problems = [f"{m._meta.label} {pk}: deleted" for m, pk in deleted]
            if _refused(response):
                problems += [
                    f"{m._meta.label} {pk}: changed by a refused post" for m, pk, _ in changed
                ]
            else:
                for model, pk, old in changed:
                    problems += _problems(model, pk, old, user)
            transaction.set_rollback(True)
        tally.invalid.update(problems)
        return response, problems

    # Every post form our pages show any of the four, by the path it posts to.
    forms: dict[str, list[tuple[int, dict]]] = {}
    with transaction.atomic():
        for route in routes:
            if route.endswith(("pdf/", "fhir/")):
                continue  # documents, not pages with forms
            url = _url(route, world)
            for who, (_, client) in enumerate(clients):
                page = client.get(url)
                if page.status_code == 200 and "html" in page.get("Content-Type", ""):
                    for action, form in _forms_on(url, page.content.decode()):
                        forms.setdefault(action, []).append((who, form))
        transaction.set_rollback(True)

    for route in routes:
        url = _url(route, world)
        # A page that takes no post says so (405), before it asks who is asking.
        if post(url, {}, 0)[0].status_code == 405:
            continue
        tally.routes.add(route)
        strategy = _route_posts(forms.get(url, []))

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            database=None,
        )
        @given(case=strategy)
        def check(url, case):
            who, payload = case
            response, problems = post(url, payload, who)
            assert response.status_code < 500, (url, payload, response.status_code)
            assert not problems, (url, payload, problems)

        try:
            check(url)
        except Exception as error:  # noqa: BLE001 - every route is tried; all are reported below
            failures.append(f"{route}: {error}")
    line = tally.line()
    report(line)
    assert len(tally.routes) >= 25, line
    assert not failures, line + "\n\n" + "\n\n".join(failures)
