"""One door: who may do what is said in core/access.py and nowhere else.

A scan of our code and templates that fails on a new role or ownership check outside the
policy: `.role ==`, `is_clinician`, `is_patient`, `is_prescriber`, `is_clinic_admin` used
anywhere but core/access.py (and the model that defines them). Templates ask `{% can %}` and
`{% own_record %}`; Python asks `access.can`, `access.may_care_for`, `access.kind_of`.
"""

import ast
import re
from pathlib import Path

from core import access

ROOT = Path(__file__).resolve().parents[2]
APPS = ("core", "clinic", "prescribing", "stories", "alliance", "referrals", "messaging", "config")
# The policy itself, and the model whose properties it reads.
HOME = {ROOT / "core" / "access.py", ROOT / "core" / "models.py"}
ROLE_PROPERTIES = {"is_clinician", "is_patient", "is_prescriber", "is_therapist", "is_clinic_admin"}
TEMPLATE_LEAKS = re.compile(
    r"\b(?:user|request\.user|[a-z_]+)\.(?:role|is_clinician|is_patient|is_prescriber|"
    r"is_therapist|is_clinic_admin)\b"
)


def _python_files():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or path in HOME:
                continue
            yield path


def _role_checks(tree) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ROLE_PROPERTIES:
            lines.append(node.lineno)
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "role" for s in sides):
                lines.append(node.lineno)
    return lines


def test_no_role_check_outside_the_policy():
    found = []
    for path in _python_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        found += [f"{path.relative_to(ROOT)}:{line}" for line in _role_checks(tree)]
    assert found == [], "Ask core.access instead:\n" + "\n".join(sorted(found))


def test_no_template_asks_a_role():
    found = []
    for path in (ROOT / "templates").rglob("*.html"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if TEMPLATE_LEAKS.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}")
    assert found == [], "Use {% can %} or {% own_record %}:\n" + "\n".join(found)


def test_the_scan_finds_what_it_looks_for():
    """The scan itself: a role check written the usual ways is caught."""
    caught = _role_checks(
        ast.parse(
            "if not request.user.is_clinician:\n    pass\n"
            "if actor.role != 'prescriber':\n    pass\n"
            "x = 'prescriber' == user.role\n"
        )
    )
    assert sorted(caught) == [1, 3, 5]
    assert TEMPLATE_LEAKS.search('{% if user.role == "prescriber" %}')
    assert TEMPLATE_LEAKS.search("{% if user.is_patient %}")
    assert not TEMPLATE_LEAKS.search("{% can 'prescribe' 'medications' as may %}")


OLD_DOORS = (
    "patient_get",
    "record_get",
    "require_record",
    "require",
    "authorize",
    "authorize_record",
    "audit_write",
)


def test_core_access_has_three_doors():
    """get for views, visible for lists, guard for writes: the others are gone, and nobody
    calls them."""
    for door in ("get", "visible", "guard"):
        assert callable(getattr(access, door))
    for old in OLD_DOORS:
        assert not hasattr(access, old), f"core.access still exports {old}"
    callers = []
    pattern = re.compile(r"\baccess\.(" + "|".join(OLD_DOORS) + r")\(")
    for path in _python_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                callers.append(f"{path.relative_to(ROOT)}:{number}")
    assert callers == [], "\n".join(callers)
