from django import template

register = template.Library()

_CATEGORY_LABELS = {
    "profile": "Profile",
    "summary": "Summary by the care team",
    "summary_response": "Response to the summary",
    "medications": "Medicines",
    "refills": "Refills",
    "observations": "Observations",
    "alliance": "Alliance check-ins",
    "outcomes": "Outcome measures",
    "goals": "Goals",
    "narrative_notes": "Notes",
    "psychotherapy_notes": "Psychotherapy notes",
    "referrals": "Referrals",
    "releases": "Releases of information",
    "substance_use": "Substance-use information",
    "audit": "Record views",
}


@register.filter
def category_label(value) -> str:
    return _CATEGORY_LABELS.get(str(value), str(value).replace("_", " ").capitalize())
