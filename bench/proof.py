"""`make proof`: every part of the reliability and security proof, run for real on PostgreSQL
and Redis, then the figures in one list. Exits non-zero when any part fails.

Parts: the proof tests at full size (authorization matrix, API fuzzing with schemathesis,
form fuzzing, concurrency, canary), the policy, release, header and audit tests, the backup
drill on a freshly seeded database, the load test, ruff's security rules and pip-audit.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SERVER = "postgres://postgres@127.0.0.1:5432"
PROOF_DB = "concord_proof"
LOGS = ROOT / ".data" / "proof"

TESTS = [
    "tests/proof",
    "tests/core/test_policy_consistency.py",
    "tests/core/test_audit.py",
    "tests/core/test_audit_anchoring.py",
    "tests/core/test_audit_partitions.py",
    "tests/core/test_db_roles.py",
    "tests/core/test_accounting.py",
    "tests/core/test_lockout.py",
    "tests/core/test_bad_input.py",
    "tests/core/test_headers.py",
    "tests/core/test_deploy.py",
    "tests/referrals",
    "tests/stories/test_markdown_bounds.py",
    "tests/integration",
]


def run(title: str, command: list[str], env: dict | None = None) -> tuple[bool, str]:
    print(f"\n=== {title}: {' '.join(command)}", flush=True)
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 - our own commands
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    # The whole output stays on disk: a failure is read there, the screen gets the end.
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / (title.replace(" ", "-") + ".log")
    log.write_text(output, encoding="utf-8")
    print(output[-6000:], flush=True)
    print(f"(all of it in {log.relative_to(ROOT)})")
    print(
        f"=== {title}: {'passed' if result.returncode == 0 else 'FAILED'} "
        f"in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    return result.returncode == 0, output


def lines_starting(output: str, *prefixes: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip().startswith(prefixes)]


def main() -> int:
    services = {
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"{SERVER}/concord"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "CONCORD_REQUIRE_SERVICES": "1",
        "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
        "CONCORD_PROFILE": "test",
    }
    results: dict[str, bool] = {}
    figures: list[str] = []

    with tempfile.NamedTemporaryFile("r", suffix=".txt") as collected:
        ok, _ = run(
            "proof tests",
            [
                str(BIN / "pytest"),
                *TESTS,
                "-q",
                "-n",
                "2",
                "--dist",
                "loadgroup",
                "--show-capture=no",
            ],
            {**services, "CONCORD_PROOF_EXAMPLES": "100", "CONCORD_PROOF_FIGURES": collected.name},
        )
        results["proof tests"] = ok
        figures += [line.strip() for line in collected.read().splitlines() if line.strip()]

    # Its own checkpoint file: a checkpoint describes one database's audit trail.
    checkpoints = LOGS / "audit-checkpoints.jsonl"
    checkpoints.unlink(missing_ok=True)
    proof_db = {
        **services,
        "DATABASE_URL": f"{SERVER}/{PROOF_DB}",
        "CONCORD_PROFILE": "test",
        "CONCORD_AUDIT_CHECKPOINT_PATH": str(checkpoints),
    }
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", PROOF_DB])  # noqa: S603, S607
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", PROOF_DB], check=True)  # noqa: S603, S607
    python = str(BIN / "python")
    ok = run("migrate", [python, "manage.py", "migrate", "--no-input"], proof_db)[0]
    ok = ok and run("demo data", [python, "manage.py", "seed_demo"], proof_db)[0]
    ok = ok and run("audit checkpoint", [python, "manage.py", "audit_checkpoint"], proof_db)[0]
    drill_ok, output = run("backup drill", [python, "manage.py", "backup_drill"], proof_db)
    results["backup drill"] = ok and drill_ok
    figures += [f"backup drill: {line}" for line in lines_starting(output, *("0123456789"))]
    figures += [f"backup drill: {line}" for line in lines_starting(output, "Audit", "Backup")]
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", PROOF_DB])  # noqa: S603, S607

    ok, output = run("load test", [python, "bench/loadtest/run.py"], services)
    results["load test"] = ok
    figures += [
        f"load: {line}"
        for line in lines_starting(
            output,
            "Concord load test",
            "requests ",
            "latency",
            "all ",
            "clinician ",
            "patient ",
            "write ",
            "total ",
            "patient-data requests",
            "rows per",
            "chain:",
            "Result:",
        )
    ]

    # The project's own ruff settings select the S rules (exemptions for tests in pyproject).
    ok, output = run("ruff security rules", [str(BIN / "ruff"), "check", "."])
    results["ruff S rules"] = ok
    figures.append(f"ruff S rules: {'clean' if ok else 'findings, see above'}")

    ok, output = run(
        "pip-audit",
        [str(BIN / "pip-audit"), "--strict", "--progress-spinner", "off", "--skip-editable"],
    )
    unaudited = "could not be audited" in output or "Connection" in output
    if unaudited:
        figures.append(
            "pip-audit: NOT CHECKED: the vulnerability service (PyPI's JSON API or OSV) could "
            "not be reached from this machine"
        )
    else:
        results["pip-audit"] = ok
        figures.append(
            f"pip-audit: {'no known vulnerabilities' if ok else 'vulnerable, see above'}"
        )

    print("\n" + "=" * 78 + "\nConcord proof: the figures\n" + "=" * 78)
    for line in figures:
        print(f"  {line}")
    print()
    for part, ok in results.items():
        print(f"  {'passed' if ok else 'FAILED'}  {part}")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
