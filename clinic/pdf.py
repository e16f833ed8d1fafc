"""The visit summary as a WeasyPrint PDF (charts are the same server-rendered SVG)."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from core import selectors as core_selectors


def visit_summary(*, visit, clinician) -> bytes:
    """The caller has checked access (EXPORT) and the selectors audited each read."""
    from weasyprint import HTML

    html = render_to_string(
        "clinic/pdf/visit.html",
        {
            "v": visit,
            "patient": visit.patient,
            "clinician": clinician,
            "now": timezone.now(),
            "clinics": core_selectors.clinics_for(patient=visit.patient, first=clinician.practice),
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
