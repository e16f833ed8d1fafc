from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "appointments"
    verbose_name = "Visits"

    def ready(self):
        from core import nudges

        from . import selectors

        nudges.group(
            "visits",
            label="Visits",
            about="A visit was booked, moved or cancelled, and a reminder the day before one "
            "(the e-mail says only that, with a link).",
            audience=["patient"],
        )
        nudges.group(
            "visit_requests",
            label="Visit requests",
            about="A patient asked to move or cancel a visit with you.",
            audience=["clinician"],
        )
        # The day before, from 09:00 in the patient's zone (and never in their quiet hours).
        nudges.register(
            "visit_tomorrow",
            title="Reminder: you have a visit tomorrow",
            link="/visits/{subject}/",
            candidates=selectors.visit_reminder_candidates,
            every=15,
            group="visits",
        )
        nudges.register(
            "visit_booked",
            title="A visit was booked for you",
            link="/visits/{subject}/",
            group="visits",
        )
        nudges.register(
            "visit_changed",
            title="There is news about one of your visits",
            link="/visits/{subject}/",
            group="visits",
        )
        nudges.register(
            "visit_change_asked",
            title="A patient asked to move or cancel a visit",
            link="/visits/{subject}/",
            group="visit_requests",
        )
