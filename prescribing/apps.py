from django.apps import AppConfig


class PrescribingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "prescribing"
    verbose_name = "Medication plans"

    def ready(self):
        from core.db import APPEND_ONLY_TABLES

        # Decision records are the medication's immutable timeline.
        if "prescribing_decisionrecord" not in APPEND_ONLY_TABLES:
            APPEND_ONLY_TABLES.append("prescribing_decisionrecord")
