"""`make bench`'s table: a missed target is marked and counted, rows from another benchmark
are read, and a benchmark that is not there says so. The benchmarks themselves are not run
here (they take minutes and empty their database); only the table they print."""

import importlib

import pytest

run = importlib.import_module("bench.run")
common = importlib.import_module("bench.common")


def test_a_missed_target_is_marked_and_named_in_the_summary():
    sections = [
        (
            "pages",
            [
                common.row("fast page ÷ floor", 12.0, 6.0, target="≤ 3×", queries=9),
                common.row("slow page ÷ floor", 30.0, 6.0, target="≤ 3×", queries=40),
                common.row("peak memory", 0.12, target="< 50 MB", unit="MB"),
                common.row("reference", 1.5, 6.0),
            ],
        )
    ]
    lines = common.table(sections).splitlines()
    fast = next(line for line in lines if "fast page" in line)
    slow = next(line for line in lines if "slow page" in line)
    reference = next(line for line in lines if "reference" in line)
    assert fast.startswith("ok") and "2.00×" in fast
    assert slow.startswith("MISS") and "5.00×" in slow and "40" in slow
    assert not reference.startswith(("ok", "MISS"))
    assert common.summary(sections) == "2 of 3 targets met; MISSED: slow page ÷ floor"


@pytest.mark.parametrize(
    ("value", "target", "met"),
    [(3.0, "≤ 3×", True), (3.01, "≤ 3×", False), (50.0, "< 50 MB", False), (1.0, "", None)],
)
def test_targets_are_read_from_their_text(value, target, met):
    assert common.meets(value, target) is met


def test_the_audit_benchmark_s_rows_are_read_and_its_absence_said(monkeypatch):
    given = {"name": "audit search", "ratio": 1.8, "target": "≤ 1.5×", "queries": 4, "detail": ""}
    row = run.foreign_row(given)
    assert row["passed"] is False and row["queries"] == 4
    assert run.foreign_row({**given, "target": 2})["target"] == "≤ 2×"

    monkeypatch.setattr(run, "AUDIT_MODULE", "bench.no_such_benchmark")
    (missing,) = run.audit_rows("postgres://unused/concord_bench")
    assert missing["passed"] is None
    assert missing["detail"] == "not measured (bench/audit_scale.py missing)"
