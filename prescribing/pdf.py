"""“My medicines and why I take them”: a WeasyPrint document for the patient."""

from django.conf import settings
from django.template.loader import render_to_string

from core import selectors as core_selectors


def my_medicines(*, patient, items, today) -> bytes:
    """Render the patient's current medicines to PDF. The caller has checked access (EXPORT)."""
    from weasyprint import HTML

    html = render_to_string(
        "prescribing/pdf/my_medicines.html",
        {
            "patient": patient,
            "items": items,
            "today": today,
            "clinics": core_selectors.clinics_for(patient=patient),
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
