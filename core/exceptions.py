"""Errors that services raise and pages and the API turn into clear messages."""

from django.core.exceptions import PermissionDenied


class Conflict(Exception):
    """Someone else changed the record since it was read: nothing was overwritten."""

    def __init__(
        self,
        message: str = "Someone else changed this while you were editing. Nothing was overwritten.",
    ):
        super().__init__(message)
        self.message = message


class NotAllowed(PermissionDenied):
    """The actor may see the record but not do this to it; the message says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
