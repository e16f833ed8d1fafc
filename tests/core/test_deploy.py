"""The three profiles, seen from outside: each case starts manage.py in a subprocess, because
under pytest the settings module always picks the test profile."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

# Everything settings.py reads, so that neither the developer's shell nor CI (which exports
# DATABASE_URL, REDIS_URL and CONCORD_PROFILE=test) leaks into the profile under test.
SETTINGS_VARIABLES = {
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DEBUG",
    "TIME_ZONE",
    "CONN_MAX_AGE",
    "PROXY_COUNT",
    "LOG_LEVEL",
    "DEFAULT_FROM_EMAIL",
    "CELERY_TASK_ALWAYS_EAGER",
    "AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_MINUTES",
}

# A production database that is never connected to: the commands below refuse, or check
# settings, before opening a connection. Port 1 makes sure nothing is written anywhere.
UNREACHABLE_POSTGRES = "postgres://postgres@127.0.0.1:1/concord"


def manage(*args: str, **variables: str) -> subprocess.CompletedProcess:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in SETTINGS_VARIABLES
        and not name.startswith("CONCORD_")
        # Set for the Playwright tests; Django's deploy check rightly refuses it.
        and name != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(variables)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production(**overrides: str) -> dict[str, str]:
    return {
        "CONCORD_PROFILE": "production",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/concord",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_URL": "smtp://concord:secret@mail.example.org:587/?tls=True",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "CONCORD_AUDIT_KEY": secrets.token_urlsafe(48),
        "CONCORD_MFA_KEY": "SPn8dDiWJgZbQtHRVC0OX0o4cEa2ldXbl9kUnW1xHWE=",
        "ALLOWED_HOSTS": "concord.example.org",
        **overrides,
    }


def test_check_deploy_passes_in_the_production_profile():
    # `check --deploy` opens no database connection (only `--database` would), so this runs
    # whether or not PostgreSQL is up. It also generates the OpenAPI schema, and any schema
    # warning fails it (drf_spectacular.W001/W002).
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_refuses_sqlite_with_debug_off(tmp_path):
    database = tmp_path / "production.sqlite3"
    result = manage("check", **production(DATABASE_URL=f"sqlite:///{database}"))
    assert result.returncode != 0
    assert "concord.E001" in result.stderr
    assert not database.exists()


def test_seed_demo_is_refused_in_production():
    result = manage("seed_demo", **production(DATABASE_URL=UNREACHABLE_POSTGRES))
    assert result.returncode != 0
    assert "refused in production" in result.stderr
    # Refused by the command itself, not by failing to reach the database.
    assert "OperationalError" not in result.stderr


def test_production_refuses_to_start_without_an_audit_key():
    """The audit chain's HMAC key must come from the environment, never a default."""
    variables = production(DATABASE_URL=UNREACHABLE_POSTGRES)
    del variables["CONCORD_AUDIT_KEY"]
    result = manage("check", **variables)
    assert result.returncode != 0
    assert "CONCORD_AUDIT_KEY" in result.stderr
    short = manage("check", **production(CONCORD_AUDIT_KEY="too-short"))
    assert short.returncode != 0
    assert "at least 32 characters" in short.stderr


# Prints the settings that make a profile, and whether anything opened the database: the
# embedded profile points at the developer's own .data/ database, which must stay untouched.
SHOW_SETTINGS = """
import json
from django.conf import settings
from django.db import connection
print(json.dumps({
    "profile": settings.PROFILE,
    "debug": settings.DEBUG,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "email": settings.EMAIL_BACKEND,
    "connected": connection.connection is not None,
}))
"""


def test_embedded_profile_with_nothing_set():
    result = manage("shell", "--no-imports", "-c", SHOW_SETTINGS)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown["profile"] == "embedded"
    assert shown["debug"] is True
    assert shown["engine"] == "django.db.backends.sqlite3"
    assert Path(shown["name"]).parent == BASE_DIR / ".data"
    assert shown["eager"] is True
    assert shown["email"] == "django.core.mail.backends.console.EmailBackend"
    assert shown["connected"] is False


SECURITY_HEADERS = """
from django.test import Client
client = Client(HTTP_HOST="concord.example.org")
plain = client.get("/api/v1/me/")
print("redirect", plain.status_code, plain.get("Location", ""))
page = client.get("/api/v1/me/", secure=True)
for header in ("Strict-Transport-Security", "Content-Security-Policy", "X-Content-Type-Options",
               "Referrer-Policy", "Cache-Control"):
    print(header, "=", page.get(header, ""))
"""


def test_production_sends_hsts_and_redirects_plain_http():
    result = manage(
        "shell", "-c", SECURITY_HEADERS, **production(DATABASE_URL=UNREACHABLE_POSTGRES)
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "redirect 301 https://concord.example.org/api/v1/me/" in out
    assert "Strict-Transport-Security = max-age=31536000; includeSubDomains; preload" in out
    assert "frame-ancestors 'none'" in out
    assert "X-Content-Type-Options = nosniff" in out
    assert "Referrer-Policy = same-origin" in out


def test_proxy_count_reaches_the_sign_in_rate_limits_too():
    """Behind a proxy, allauth's sign-in limits must count each client's address, not the
    proxy's: otherwise one busy minute at the clinic locks everyone out."""
    show = (
        "from django.conf import settings; "
        "print(settings.AXES_IPWARE_PROXY_COUNT, settings.ALLAUTH_TRUSTED_PROXY_COUNT)"
    )
    result = manage(
        "shell", "-c", show, **production(DATABASE_URL=UNREACHABLE_POSTGRES, PROXY_COUNT="1")
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["1", "1"]
