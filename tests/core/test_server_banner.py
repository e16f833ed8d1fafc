"""The server names no software: gunicorn's own `Server: gunicorn` banner is replaced."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _headers(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own server
            return dict(response.headers)
    except urllib.error.HTTPError as error:
        return dict(error.headers)


def test_gunicorn_with_our_config_sends_no_software_banner(tmp_path):
    port = _free_port()
    env = {**os.environ, "CONCORD_PROFILE": "test", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    proc = subprocess.Popen(
        [GUNICORN, "config.wsgi:application", "--config", "config/gunicorn.conf.py"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                headers = _headers(f"http://127.0.0.1:{port}/accounts/login/")
                break
            except OSError:
                assert proc.poll() is None, "gunicorn exited while starting"
                assert time.monotonic() < deadline, "gunicorn did not answer in time"
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert headers.get("Server") == "Concord"
    assert "gunicorn" not in str(headers).lower()


def test_the_container_and_the_load_test_use_that_config():
    assert '"--config", "config/gunicorn.conf.py"' in (ROOT / "Dockerfile").read_text()
    assert '"config/gunicorn.conf.py"' in (ROOT / "bench/loadtest/run.py").read_text()
