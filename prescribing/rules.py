"""Duplicate-class and dangerous-combination rules, as pure functions over plain values.

The rules themselves are data (InteractionRule rows, shipped from prescribing/formulary/rules.json
and editable by the clinic); this module only says which of them a new medicine trips against
the medicines the patient already has. No database, so the answers can be property-tested.
"""

from dataclasses import dataclass


class Kind:
    SAME_DRUG = "same_drug"
    SAME_CLASS = "same_class"
    CLASS_PAIR = "class_pair"
    ALL = (SAME_DRUG, SAME_CLASS, CLASS_PAIR)


@dataclass(frozen=True)
class Drug:
    """A medicine as the rules see it: which drug (its formulary entry or its typed name) and
    its class. `key` is the formulary entry's id for a coded medicine, the normalised name
    otherwise; `drug_class` is empty for a medicine that is not coded."""

    key: str
    name: str
    drug_class: str = ""


@dataclass(frozen=True)
class Rule:
    code: str
    kind: str
    message: str
    class_a: str = ""
    class_b: str = ""


@dataclass(frozen=True)
class Warning:
    rule: str
    message: str
    other: str  # the name of the medicine already on the plan that it concerns

    def as_dict(self) -> dict:
        return {"rule": self.rule, "message": self.message, "with": self.other}


def normalise(name: str) -> str:
    """A drug name as typed, compared without case or extra spaces."""
    return " ".join((name or "").split()).casefold()


def _trips(rule: Rule, new: Drug, old: Drug) -> bool:
    if rule.kind == Kind.SAME_DRUG:
        return new.key == old.key
    if rule.kind == Kind.SAME_CLASS:
        # Two of one drug is the duplicate rule's to say.
        if new.key == old.key:
            return False
        return bool(rule.class_a) and new.drug_class == rule.class_a == old.drug_class
    if rule.kind == Kind.CLASS_PAIR:
        pair = {new.drug_class, old.drug_class}
        if rule.class_a == rule.class_b:
            return False
        return pair == {rule.class_a, rule.class_b}
    return False


def warnings_for(new: Drug, current: list[Drug], rules: list[Rule]) -> list[Warning]:
    """Every (rule, medicine already on the plan) that starting `new` trips, in rule order then
    plan order; each rule once per other medicine."""
    found = []
    for rule in rules:
        for old in current:
            if _trips(rule, new, old):
                found.append(Warning(rule=rule.code, message=rule.message, other=old.name))
    return found


def unconfirmed(warnings: list[Warning], confirmed) -> list[Warning]:
    """The warnings whose rule the prescriber has not confirmed."""
    confirmed = set(confirmed or ())
    return [w for w in warnings if w.rule not in confirmed]
