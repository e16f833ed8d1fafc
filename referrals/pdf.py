"""The signed release as a WeasyPrint PDF: every element of the authorisation, the statements
the patient read, and the signature line."""

from django.conf import settings
from django.template.loader import render_to_string

from . import statements


def release_document(*, view) -> bytes:
    """Render a release the caller may export (checked, and audited, by access.get)."""
    from weasyprint import HTML

    html = render_to_string(
        "referrals/pdf/release.html",
        {
            "view": view,
            "release": view.release,
            "patient": view.release.patient,
            "statements": statements.statements(substance_use=view.release.covers_substance_use),
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
