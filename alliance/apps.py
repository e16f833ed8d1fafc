from django.apps import AppConfig


class AllianceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "alliance"

    def ready(self):
        from core import nudges

        from . import selectors

        nudges.group(
            "check_ins",
            label="Check-ins",
            about="A short questionnaire to fill in before a visit.",
            audience=["patient"],
        )
        nudges.group(
            "alliance",
            label="Alliance check-ins",
            about="A patient's answers about how the work together is going need a look.",
            audience=["clinician"],
        )
        nudges.register(
            "check_in_due",
            title="A short check-in before your next visit",
            link="/patients/{patient}/check-ins/",
            candidates=selectors.check_in_nudge_candidates,
            every=15,
            group="check_ins",
        )
        # Sent when a check-in raises a flag (services._raise_flags).
        flag = "/patients/{patient}/alliance/#flag-{subject}"
        nudges.register(
            "safety_alert",
            title="Urgent: a safety alert needs a clinician",
            link=flag,
            essential=True,  # no opt-out, no quiet hours, every channel
        )
        nudges.register(
            "alliance_concern",
            title="A patient's check-in about your work together raised a concern",
            link=flag,
            group="alliance",
        )
