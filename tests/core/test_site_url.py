"""Links in e-mails follow the address `make run` serves: a newcomer on another port gets
links that open, not links to port 8000."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _site_url(**env) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CONCORD_", "DATABASE_"))}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.CONCORD_SITE_URL)",
        ],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_embedded_links_follow_the_host_and_port_served():
    assert _site_url(CONCORD_PORT="8101") == "http://127.0.0.1:8101"
    assert _site_url(CONCORD_HOST="localhost", CONCORD_PORT="9000") == "http://localhost:9000"
    assert _site_url() == "http://127.0.0.1:8000"


def test_a_site_url_set_explicitly_wins():
    assert (
        _site_url(CONCORD_PORT="8101", CONCORD_SITE_URL="https://concord.example.org")
        == "https://concord.example.org"
    )


def test_make_run_passes_its_port_on():
    dry = subprocess.run(
        ["make", "-n", "-p", "run", "PORT=8101"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    # Make's database lists run's own variables: both are handed to the server it starts.
    assert "run: CONCORD_PORT = $(PORT)" in dry and "run: CONCORD_HOST = $(HOST)" in dry
    assert "Serving Concord at http://127.0.0.1:8101/" in dry
