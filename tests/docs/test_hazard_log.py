"""The hazard log names the test that proves each control; this keeps the two together.

A row whose test was renamed or deleted fails here, so the log cannot drift from the code.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "docs" / "safety" / "hazard-log.md"
# A test function, or a test method named with its class (`file.py::TestClass::test_x`).
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(?:Test\w+::)?(test_\w+)`")
COLUMNS = [
    "ID",
    "Hazard",
    "Cause",
    "Possible harm",
    "Before (severity / likelihood)",
    "Controls",
    "Verification",
    "Residual risk",
]


def _rows(section: str) -> list[list[str]]:
    text = LOG.read_text(encoding="utf-8")
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    lines = [line.strip() for line in body.splitlines() if line.strip().startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def _defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_every_hazard_has_each_column_and_a_test_that_exists():
    header, rule, *rows = _rows("Hazards")
    assert header == COLUMNS
    assert set(rule[0]) <= set("-: ")
    assert len(rows) >= 25, "the log starts from at least 25 hazards"
    ids = [row[0] for row in rows]
    # In order, each once; a range may be reserved for work not yet merged (a gap).
    numbers = [int(i.removeprefix("H-")) for i in ids if re.fullmatch(r"H-\d{2,}", i)]
    assert len(numbers) == len(ids), "ids are written H-01, H-02, …"
    assert numbers == sorted(set(numbers)), "ids run H-01, H-02, … in order, each once"
    missing = []
    for row in rows:
        assert len(row) == len(COLUMNS), f"{row[0]} has {len(row)} cells"
        assert all(row), f"{row[0]} leaves a cell empty"
        refs = TEST_REF.findall(row[COLUMNS.index("Verification")])
        assert refs, f"{row[0]} names no test: a hazard without a test is not controlled"
        for file, name in refs:
            path = ROOT / file
            if not path.exists() or name not in _defined_tests(path):
                missing.append(f"{row[0]}: {file}::{name}")
    assert not missing, "the hazard log names tests that do not exist:\n" + "\n".join(missing)


def test_open_hazards_are_listed_apart_and_never_counted_as_controlled():
    header, _rule, *rows = _rows("Open hazards")
    assert header[0] == "ID"
    for row in rows:
        assert row[0].startswith("O-"), row[0]
        assert not TEST_REF.search(" ".join(row)), f"{row[0]} is open yet names a test"
