"""What the caseload answers: the same rows as the page, as plain data."""

from rest_framework import serializers

from alliance import outcomes
from clinic import selectors as clinic_selectors


class CaseloadQuerySerializer(serializers.Serializer):
    # Blank is the default, as an empty form field is.
    show = serializers.ChoiceField(
        choices=list(clinic_selectors.CASELOAD_SHOW.items()),
        required=False,
        allow_blank=True,
        help_text="Everyone (default), only those not on track, or only those in remission.",
    )
    sort = serializers.ChoiceField(
        choices=list(clinic_selectors.CASELOAD_SORT.items()),
        required=False,
        allow_blank=True,
        help_text="After those not on track, who always come first: by name (default), latest "
        "PHQ-9 or GAD-7 highest first, or least improved on the PHQ-9 first.",
    )
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Part of a name."
    )


class OutcomeSerializer(serializers.Serializer):
    instrument = serializers.CharField(help_text="The instrument's key: phq-9 or gad-7.")
    baseline = serializers.FloatField(help_text="The first score.")
    baseline_on = serializers.DateField()
    latest = serializers.FloatField()
    latest_on = serializers.DateField()
    weeks = serializers.FloatField(help_text="Weeks from the first score to today.")
    change = serializers.FloatField(allow_null=True, help_text="Latest minus baseline.")
    rci = serializers.FloatField(
        allow_null=True,
        help_text="Jacobson & Truax reliable change index; |RCI| > 1.96 is reliable change. "
        "It says the change is beyond measurement error, not that the patient has recovered.",
    )
    reliable_improvement = serializers.BooleanField()
    reliable_deterioration = serializers.BooleanField()
    response = serializers.BooleanField(help_text="A fall of half the baseline or more.")
    remission = serializers.BooleanField(help_text="The latest score is below 5.")


class AllianceTrendSerializer(serializers.Serializer):
    instrument = serializers.CharField()
    clinician = serializers.UUIDField(allow_null=True)
    clinician_name = serializers.CharField(allow_null=True)
    latest = serializers.FloatField()
    direction = serializers.ChoiceField(choices=["", "better", "worse", "steady"])
    concern = serializers.BooleanField(help_text="An alliance concern not yet acknowledged.")


class CaseloadRowSerializer(serializers.Serializer):
    patient = serializers.UUIDField()
    name = serializers.CharField()
    not_on_track = serializers.ListField(
        child=serializers.ChoiceField(choices=list(outcomes.REASON_LABELS)),
        help_text="Why the patient is not on track, worst first; empty when on track.",
    )
    outcomes = OutcomeSerializer(many=True)
    alliance = AllianceTrendSerializer(many=True)
    goal_attainment = serializers.FloatField(
        allow_null=True, help_text="Goal attainment T-score (50 = as expected)."
    )


def caseload_row(row) -> dict:
    """One `clinic.selectors.CaseloadRow` as the API answers it."""
    found = []
    for instrument, t in row.outcomes.outcomes:
        c = t.change
        found.append(
            {
                "instrument": instrument.key,
                "baseline": t.baseline,
                "baseline_on": t.points[0][0],
                "latest": t.latest,
                "latest_on": t.points[-1][0],
                "weeks": round(t.weeks, 1),
                "change": c.change if c else None,
                "rci": round(c.rci, 2) if c else None,
                "reliable_improvement": bool(c and c.reliable_improvement),
                "reliable_deterioration": bool(c and c.reliable_deterioration),
                "response": bool(c and c.response),
                "remission": bool(c and c.remission),
            }
        )
    return {
        "patient": row.patient.uuid,
        "name": row.patient.display_name,
        "not_on_track": list(row.reasons),
        "outcomes": found,
        "alliance": [
            {
                "instrument": a.instrument.key,
                "clinician": a.clinician.uuid if a.clinician else None,
                "clinician_name": a.clinician.full_name if a.clinician else None,
                "latest": a.latest,
                "direction": a.direction,
                "concern": a.concern,
            }
            for a in row.outcomes.alliance
        ],
        "goal_attainment": row.t_score,
    }
