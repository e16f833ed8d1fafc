"""The patient's safety plan on one printable page (WeasyPrint)."""

from django.conf import settings
from django.template.loader import render_to_string

from core import selectors as core_selectors


def safety_plan(*, patient, plan, today) -> bytes:
    """Render one version of the safety plan. The caller has checked access (EXPORT)."""
    from weasyprint import HTML

    html = render_to_string(
        "stories/pdf/safety_plan.html",
        {
            "patient": patient,
            "plan": plan,
            "today": today,
            "clinics": core_selectors.clinics_for(patient=patient),
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
