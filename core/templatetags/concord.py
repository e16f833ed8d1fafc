from django import template

register = template.Library()

_CATEGORY_LABELS = {
    "profile": "Profile",
    "summary": "Summary by the care team",
    "summary_response": "Response to the summary",
    "medications": "Medicines",
    "purpose": "What each medicine is for",
    "refills": "Refills",
    "observations": "Observations",
    "alliance": "Alliance check-ins",
    "outcomes": "Outcome measures",
    "consultations": "Alliance consultations",
    "goals": "Goals",
    "safety_plan": "Safety plan",
    "narrative_notes": "Notes",
    "psychotherapy_notes": "Psychotherapy notes",
    "referrals": "Referrals",
    "threads": "Clinicians’ thread",
    "releases": "Releases of information",
    "substance_use": "Substance-use information",
    "audit": "Record views",
    "sign_in": "Sign-in",
}


@register.filter
def category_label(value) -> str:
    return _CATEGORY_LABELS.get(str(value), str(value).replace("_", " ").capitalize())


@register.simple_tag(takes_context=True)
def can(context, action: str, category: str, target=None) -> bool:
    """`{% can "prescribe" "medications" patient as may_prescribe %}`: the policy's yes/no for
    what the page offers (a button, a link). Templates ask this, never a user's role."""
    from core import access

    return access.can(context.get("user"), action, category, target)


@register.simple_tag(takes_context=True)
def own_record(context, patient) -> bool:
    """`{% own_record patient as mine %}`: is the signed-in person this patient? For wording
    ("my goals" or "Dan's goals"), not for deciding anything."""
    from core import access

    user = context.get("user")
    return bool(patient is not None and user is not None and access.is_self(user, patient))


@register.filter(expects_localtime=True)
def us_date(value, style: str = "date") -> str:
    """`{{ when|us_date }}` → "Dec 7, 2026"; `|us_date:"time"`, `"day"`, `"day time"`, `"tz"`,
    `"seconds"` for other precisions (core/dates.py). The only date format templates use."""
    from core import dates

    return dates.us_date(value, style)
