from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.database, deploy=False)
def production_needs_postgresql(app_configs, **kwargs):
    """SQLite is for the embedded demo: with DEBUG off, Concord refuses to run on it."""
    engine = settings.DATABASES["default"]["ENGINE"]
    if (
        not settings.DEBUG
        and not getattr(settings, "TESTING", False)
        and engine.endswith("sqlite3")
    ):
        return [
            Error(
                "DEBUG is off but the database is SQLite.",
                hint="Set DATABASE_URL to a PostgreSQL database for production, or DEBUG=true for the embedded demo.",
                id="concord.E001",
            )
        ]
    return []
