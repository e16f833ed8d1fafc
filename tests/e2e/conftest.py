"""Playwright against pytest-django's live_server, driving Debian's Chromium.

`playwright install` cannot download browsers here, so the launch points at /usr/bin/chromium.
With CONCORD_REQUIRE_SERVICES=1 a missing browser fails the tests instead of skipping them.
"""

import os
import re
import shutil
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from prescribing import services as prescribing
from stories import services as stories
from stories.models import GoalRating
from tests.conftest import need
from tests.factories import PASSWORD

# Sync Playwright runs an event loop in the test thread; the factories' database calls from that
# thread would otherwise be refused as "async unsafe". The Makefile sets it too.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium_executable():
    """Session-scoped twin of tests/conftest.py's chromium_path (the browser is launched once)."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    need(os.path.exists(path), "Debian's Chromium (/usr/bin/chromium)")
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium_executable):
    return {
        **browser_type_launch_args,
        "executable_path": chromium_executable,
        "args": CHROMIUM_FLAGS,
    }


@pytest.fixture
def page(page):
    """A page that fails fast: a missing element is a failure in seconds, not in 30."""
    page.set_default_timeout(10_000)
    return page


def sign_in_as(page, live_server, user, *, next_path: str = "") -> None:
    """Sign in through the real sign-in page, as a person would, and wait to leave it."""
    url = f"{live_server.url}/accounts/login/"
    if next_path:
        url += f"?next={next_path}"
    page.goto(url)
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture
def sign_in(page, live_server):
    """`sign_in(user)` signs the test's page in through the sign-in form."""

    def _sign_in(user, *, next_path: str = "") -> None:
        sign_in_as(page, live_server, user, next_path=next_path)

    return _sign_in


def path_is(live_server, path: str) -> re.Pattern:
    """A URL matcher for `expect(page).to_have_url` that ignores the query string."""
    return re.compile(re.escape(live_server.url + path) + r"(\?.*)?$")


def header_link(page, name: str):
    """A link anywhere in the header's menu (the main links, or one's own name for the account
    page), opening the folded menu first on a phone, with the keyboard."""
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.focus()
        page.keyboard.press("Enter")
    return page.locator("#site-menu").get_by_role("link", name=name)


def main_menu_link(page, name: str):
    """A link of the header's main menu, as a person reaches it: on a phone, open the folded
    menu first, with the keyboard (its button says whether it is open)."""
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.focus()
        page.keyboard.press("Enter")
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name)


PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def open_page(browser):
    """`open_page(PHONE)` opens a page in a browser context of its own (its own cookies), so
    that a patient on a phone and a clinician at a desk can take turns in one test."""
    contexts = []

    def _open(viewport):
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield _open
    for context in contexts:
        context.close()


def assert_no_axe_violations(page, what: str) -> None:
    """axe-core over the page as it is now; open the <details> first to check what they hide."""
    results = Axe().run(page)
    violations = results.response["violations"]
    assert not violations, f"axe-core found problems on {what}:\n{results.generate_report()}"


def open_all_details(page) -> None:
    """Open every disclosure, so that axe and the eye see the forms they hold."""
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")


def _rate(actor, goal, ratings_by_days_ago):
    """Ratings spread over past weeks, so the sparkline reads as a history."""
    now = timezone.now()
    for days_ago, value, note in ratings_by_days_ago:
        rating = stories.goal_rate(actor=actor, goal=goal, rating=value, note=note)
        GoalRating.objects.filter(pk=rating.pk).update(rated_at=now - timedelta(days=days_ago))


@pytest.fixture
def dans_record(patient, patient_user, prescriber, therapist):
    """A few months of Dan's care: goals with ratings (so sparklines draw), a proposed and an
    achieved goal, a story entry beside clinicians' notes, a medicine whose dose was raised with
    a late refill request, one just filled, and one stopped."""
    today = timezone.localdate()
    stories.summary_save(
        actor=prescriber,
        patient=patient,
        text="Dan repairs boats at the marina and coaches his daughter's football team. "
        "He wants his nights back and to feel steady around people again.",
        version=None,
    )
    sleep = stories.goal_create(
        actor=patient_user,
        patient=patient,
        what="Sleep through the night",
        why="So I can be patient with my daughter in the morning and safe at work.",
        levels={
            "level_minus2": "Awake most of the night, most nights",
            "level_minus1": "Four hours, woken by dreams",
            "level_0": "Five hours most nights",
            "level_plus1": "Six hours, one bad night a week",
            "level_plus2": "Seven hours without waking",
        },
    )
    _rate(
        patient_user,
        sleep,
        [
            (56, -2, "Up at 3 every night"),
            (42, -1, ""),
            (28, -1, "Dreams again"),
            (14, 0, ""),
            (3, 1, "Slept six hours twice this week"),
        ],
    )
    crowds = stories.goal_create(
        actor=patient_user,
        patient=patient,
        what="Go to my daughter's games without leaving at half time",
        why="She looks for me in the stands.",
    )
    _rate(patient_user, crowds, [(30, -1, ""), (10, 0, "Stayed to the end once")])
    stories.goal_create(
        actor=prescriber,
        patient=patient,
        what="Walk twenty minutes most days",
        why="Movement helps mood and sleep.",
    )
    boat = stories.goal_create(actor=patient_user, patient=patient, what="Finish the dinghy repair")
    stories.goal_transition(actor=patient_user, goal=boat, status="achieved")

    stories.note_create(
        actor=patient_user,
        patient=patient,
        kind="story",
        audience="care_team",
        title="The fireworks",
        body="The fireworks on Saturday were hard. I stayed inside with the dog, "
        "and for once I didn't check the doors all night.",
    )
    stories.note_create(
        actor=therapist,
        patient=patient,
        kind="clinician",
        audience="care_team",
        title="Session 6",
        body="Worked on a plan for the games: **arrive early**, sit at the end of a row.\n\n"
        "- Sleep better since the dose change\n- Asked whether he will need the medicine forever",
    )
    stories.note_create(
        actor=therapist,
        patient=patient,
        kind="psychotherapy",
        audience="only_me",
        body="Process: noticed my own urge to reassure when he spoke about his father.",
    )

    sertraline = prescribing.medication_start(
        needs=["patient_goals"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Sertraline",
        strength="50 mg",
        form="tablet",
        dose="1 tablet",
        directions="once a day in the morning",
        purpose="To feel less on edge, so I can sleep and be around people",
        hopes="Calmer at the games; sleeping more",
        worries="That I will need it forever",
        concerns=["dependency"],
        goal_uuids=[sleep.uuid, crowds.uuid],
        reason="Nightmares and being on guard; Dan wants help with sleep",
        patient_preference="Something that won't make me groggy at work",
        decided_together=True,
        participants="Dan, Dr. Raman",
    )
    prescribing.medication_change_dose(
        actor=prescriber,
        medication=sertraline,
        version=1,
        strength="100 mg",
        reason="Partial response after six weeks",
        patient_preference="Willing to try a higher dose before anything new",
        decided_together=True,
        goal_uuids=[sleep.uuid],
        needs=["patient_goals"],
        need_reflection="Still up at night: his goal, not my impatience.",
    )
    rx = prescribing.prescription_write(
        actor=prescriber,
        medication=sertraline,
        quantity=30,
        days_supply=30,
        refills_authorised=2,
        written_on=today - timedelta(days=25),
    )
    prescribing.fill_record(actor=prescriber, prescription=rx, filled_on=today - timedelta(days=25))
    prescribing.observation_create(
        actor=patient_user,
        medication=sertraline,
        kind="response",
        text="Sleeping better. I don't want to be so drowsy that I miss things at work.",
    )
    prescribing.refill_request_create(
        actor=patient_user, medication=sertraline, note="I'm away at the coast next week."
    )

    prazosin = prescribing.medication_start(
        needs=["patient_goals"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Prazosin",
        strength="1 mg",
        form="capsule",
        dose="1 capsule",
        directions="at bedtime",
        purpose="Fewer nightmares",
        goal_uuids=[sleep.uuid],
        reason="Nightmares most nights",
        decided_together=True,
    )
    rx = prescribing.prescription_write(
        actor=prescriber, medication=prazosin, quantity=30, days_supply=30, refills_authorised=5
    )
    prescribing.fill_record(actor=prescriber, prescription=rx, filled_on=today)

    trazodone = prescribing.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Trazodone",
        strength="50 mg",
        form="tablet",
        dose="1 tablet",
        directions="at bedtime when needed",
        reason="Short-term help with sleep",
    )
    prescribing.medication_set_status(
        actor=prescriber,
        medication=trazodone,
        version=1,
        status="stopped",
        reason="Groggy in the mornings; Dan asked to stop",
        decided_together=True,
    )
    return {"sleep": sleep, "crowds": crowds, "sertraline": sertraline, "prazosin": prazosin}
