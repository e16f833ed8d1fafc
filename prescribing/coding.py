"""A new medicine coded against the formulary, and checked against the clinic's rules.

`resolve` says which formulary entry a typed name or an RxNorm code is (its schedule and class
then come from the entry, never from the form), or accepts it as free text, "not coded", with
the schedule the prescriber set. `check` answers the duplicate and combination rules against the
medicines already on the patient's plan; the services call both before they save.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from core import access
from core.access import Action, Category

from . import rules
from .models import FormularyEntry, InteractionRule, Medication, ScheduleChoices

DATA = Path(__file__).resolve().parent / "formulary"
MEDICINES_FILE = DATA / "medicines.json"
RULES_FILE = DATA / "rules.json"


class WarningsToConfirm(Exception):
    """Starting this medicine trips duplicate or combination rules the prescriber has not
    confirmed: nothing was saved. `warnings` are rules.Warning values."""

    def __init__(self, warnings: list[rules.Warning]):
        self.warnings = warnings
        self.message = (
            "Check before saving: "
            + " ".join(f"{w.message} (with {w.other})" for w in warnings)
            + " Nothing was saved. To go ahead, confirm each warning and say why."
        )
        super().__init__(self.message)


@dataclass(frozen=True)
class Coded:
    entry: FormularyEntry | None
    drug_name: str
    schedule: str
    rxnorm_code: str


def formulary_entries() -> list[FormularyEntry]:
    """The formulary's medicines offered when adding one, by name."""
    return list(FormularyEntry.objects.filter(active=True).order_by("name"))


def _schedule_label(schedule: str) -> str:
    return dict(ScheduleChoices.choices).get(schedule, schedule).lower()


def resolve(
    *, drug_name: str, formulary_code: str = "", not_coded: bool = False, schedule: str | None
) -> Coded:
    """The formulary entry named (by RxNorm code, else by name, case aside), or the free text
    when the prescriber says it is not in the formulary and sets its schedule.

    Raises ValidationError: an unknown code; a name not in the formulary and not marked not
    coded; a schedule that contradicts the formulary's; free text with no schedule.
    """
    name = " ".join((drug_name or "").split())
    code = (formulary_code or "").strip()
    schedule = schedule or None
    active = FormularyEntry.objects.filter(active=True)
    if code:
        entry = active.filter(rxnorm_code=code).first()
        if entry is None:
            raise ValidationError(
                {
                    "formulary_code": f"No medicine in the formulary has the RxNorm code {code}. "
                    "Use a code from the formulary, or give the name as free text (not coded) with its schedule."
                }
            )
        if name and rules.normalise(name) != rules.normalise(entry.name):
            raise ValidationError(
                {
                    "drug_name": f"RxNorm {code} is {entry.name} in the formulary, not {name}: "
                    "give one or the other."
                }
            )
    else:
        entry = active.filter(name__iexact=name).first() if name else None
    if entry is not None:
        if schedule is not None and schedule != entry.schedule:
            raise ValidationError(
                {
                    "schedule": f"{entry.name} is {_schedule_label(entry.schedule)} in the formulary, "
                    "and its schedule comes from there: leave the schedule empty."
                }
            )
        return Coded(entry, entry.name, entry.schedule, entry.rxnorm_code)
    if not name:
        raise ValidationError({"drug_name": "The medicine's name is needed."})
    if not not_coded:
        raise ValidationError(
            {
                "drug_name": f"“{name}” is not in the formulary. Choose a medicine from the list, "
                "or mark it as not in the formulary (not coded) and set its schedule."
            }
        )
    if schedule is None:
        raise ValidationError(
            {
                "schedule": f"“{name}” is not in the formulary: set its controlled-substance schedule "
                "(choose “Not controlled” if it is not)."
            }
        )
    return Coded(None, name, schedule, "")


def coded_of(medication: Medication) -> Coded:
    """A medication already on the plan, as `check` takes a new one (for a restart)."""
    return Coded(
        medication.formulary, medication.drug_name, medication.schedule, medication.rxnorm_code
    )


def drug_of(medication: Medication) -> rules.Drug:
    """A medication as the rules see it (its formulary entry prefetched or loaded)."""
    entry = medication.formulary
    if entry is not None:
        return rules.Drug(
            key=f"entry:{entry.pk}", name=str(medication), drug_class=entry.drug_class
        )
    return rules.Drug(key=f"name:{rules.normalise(medication.drug_name)}", name=str(medication))


def _drug(coded: Coded) -> rules.Drug:
    if coded.entry is not None:
        return rules.Drug(
            key=f"entry:{coded.entry.pk}", name=coded.drug_name, drug_class=coded.entry.drug_class
        )
    return rules.Drug(key=f"name:{rules.normalise(coded.drug_name)}", name=coded.drug_name)


def active_rules() -> list[rules.Rule]:
    return [
        rules.Rule(
            code=r.code, kind=r.kind, message=r.message, class_a=r.class_a, class_b=r.class_b
        )
        for r in InteractionRule.objects.filter(active=True).order_by("id")
    ]


def check(
    *,
    actor,
    patient,
    coded: Coded,
    excluding: Medication | None = None,
    confirm_warnings=None,
    warning_reason: str = "",
) -> tuple[list[dict], str]:
    """The warnings starting this medicine trips against the patient's current medicines that
    the actor may see (less `excluding`, the one a switch stops), as confirmed, with the reason.

    Call inside the write's transaction, holding the patient's row (resubmit.earlier_copy or
    resubmit.hold), so that two starts at once see each other.
    Raises WarningsToConfirm while any warning is unconfirmed; ValidationError when all are
    confirmed but no reason is given.
    """
    current = access.visible(
        actor,
        Medication.objects.filter(
            patient=patient,
            status__in=(
                Medication.Status.PROPOSED,
                Medication.Status.ACTIVE,
                Medication.Status.PAUSED,
            ),
        ).select_related("formulary"),
        Category.MEDICATIONS,
        Action.READ,
    ).order_by("drug_name", "id")
    if excluding is not None:
        current = current.exclude(pk=excluding.pk)
    found = rules.warnings_for(_drug(coded), [drug_of(m) for m in current], active_rules())
    if not found:
        return [], ""
    pending = rules.unconfirmed(found, confirm_warnings)
    if pending:
        raise WarningsToConfirm(pending)
    reason = (warning_reason or "").strip()
    if not reason:
        raise ValidationError(
            {
                "warning_reason": "Say why you are going ahead despite the warning: "
                "the reason is part of the record."
            }
        )
    return [w.as_dict() for w in found], reason


def formulary_import(
    *,
    medicines: list[dict],
    rule_rows: list[dict],
    retire_missing: bool = False,
    using: str = "default",
) -> tuple[int, int]:
    """Create or update formulary entries (by name) and rules (by code) from plain rows, each
    checked as the models check it; with `retire_missing`, those not named stop being offered.

    All or nothing: raises ValidationError naming the first bad row, and nothing is changed.
    """
    with transaction.atomic(using=using):
        for row in medicines:
            name = str(row.get("name", "")).strip()
            entry = FormularyEntry.objects.using(using).filter(name=name).first() or FormularyEntry(
                name=name
            )
            entry.rxnorm_code = str(row.get("rxnorm_code", "")).strip()
            entry.schedule = row.get("schedule", "")
            entry.drug_class = row.get("drug_class", "")
            entry.usual_strengths = [str(x) for x in row.get("usual_strengths", [])]
            entry.form = str(row.get("form", "")).strip()
            entry.active = bool(row.get("active", True))
            _clean(entry, name or "a medicine with no name")
            entry.save(using=using)
        for row in rule_rows:
            code = str(row.get("code", "")).strip()
            rule = InteractionRule.objects.using(using).filter(
                code=code
            ).first() or InteractionRule(code=code)
            rule.kind = row.get("kind", "")
            rule.class_a = row.get("class_a", "")
            rule.class_b = row.get("class_b", "")
            rule.message = str(row.get("message", "")).strip()
            rule.active = bool(row.get("active", True))
            _clean(rule, code or "a rule with no code")
            rule.save(using=using)
        if retire_missing:
            FormularyEntry.objects.using(using).exclude(
                name__in=[r.get("name") for r in medicines]
            ).update(active=False)
            InteractionRule.objects.using(using).exclude(
                code__in=[r.get("code") for r in rule_rows]
            ).update(active=False)
        return len(medicines), len(rule_rows)


def _clean(record, label: str) -> None:
    try:
        record.full_clean()
    except ValidationError as error:
        problems = "; ".join(f"{field}: {' '.join(m)}" for field, m in error.message_dict.items())
        raise ValidationError(f"{label}: {problems}") from None


def read(path: Path, key: str) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)[key]
