from django.apps import AppConfig


class MessagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "messaging"
    verbose_name = "Secure messages"

    def ready(self):
        from core import nudges

        from . import selectors

        nudges.group(
            "messages",
            label="Messages",
            about="A patient wrote to you (or their message has waited too long), or your care "
            "team answered you (the e-mail says only that there is a message).",
            audience=["patient", "clinician"],
        )
        # Sent when a message is written: the title and the link, never the message.
        nudges.register(
            "message_received",
            title="A patient sent a message to their care team",
            link="/messages/{subject}/",
            group="messages",
        )
        # Swept: a patient's message nobody on the team opened within the promised days.
        nudges.register(
            "message_overdue",
            title="A patient's message is waiting past the time your practice promised",
            link="/messages/{conversation}/",
            candidates=selectors.overdue_nudge_candidates,
            every=15,
            group="messages",
        )
        nudges.register(
            "message_answered",
            title="Your care team answered your message",
            link="/messages/{subject}/",
            group="messages",
        )
