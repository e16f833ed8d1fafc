import socket

import pytest
from django.urls import reverse


@pytest.fixture
def closed_port():
    """A local port that refuses connections: bound, so no one else takes it, but not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_health_without_redis(client, db, settings):
    settings.REDIS_URL = ""
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_health_reports_redis(client, db, settings, require_redis):
    settings.REDIS_URL = require_redis
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_health_fails_when_redis_is_unreachable(client, db, settings, closed_port):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json() == {
        "status": "failing",
        "checks": {"database": "ok", "redis": "failing"},
    }
