from django.apps import AppConfig


class PrescribingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "prescribing"
