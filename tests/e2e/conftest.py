"""Playwright against pytest-django's live_server, driving Debian's Chromium.

`playwright install` cannot download browsers here, so the launch points at /usr/bin/chromium.
With CONCORD_REQUIRE_SERVICES=1 a missing browser fails the tests instead of skipping them.
"""

import os
import re
import shutil

import pytest

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
