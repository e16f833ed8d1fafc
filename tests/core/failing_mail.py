"""An e-mail backend standing in for an SMTP server that is down (not our code: a transport)."""

from django.core.mail.backends.base import BaseEmailBackend


class Backend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionError("SMTP down")
