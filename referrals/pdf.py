"""The signed release as a WeasyPrint PDF: every element of the authorization, the statements
the patient read (in the version they read), and the signature line."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from core import selectors as core_selectors

from . import statements


def release_document(*, view) -> bytes:
    """Render a release the caller may export (checked, and audited, by access.get)."""
    from weasyprint import HTML

    release = view.release
    html = render_to_string(
        "referrals/pdf/release.html",
        {
            "view": view,
            "release": release,
            "patient": release.patient,
            "today": timezone.localdate(),
            "clinics": core_selectors.clinics_for(
                patient=release.patient, first=release.discloser_practice
            ),
            "statements": statements.statements(
                substance_use=release.covers_substance_use, version=release.statement_version
            ),
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
