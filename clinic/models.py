"""The composing layer keeps one thing of its own: when each clinician last looked at a
patient, so that screens can show what changed since."""

from django.db import models
from django.utils import timezone


class LastLook(models.Model):
    user = models.ForeignKey("core.User", on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey("core.Patient", on_delete=models.CASCADE, related_name="+")
    screen = models.CharField(max_length=20)
    seen_at = models.DateTimeField(default=timezone.now)
    # The end of the previous look: what is "new" is what came after it. It moves on only
    # when a new look starts (hours later), so reloading during a visit loses nothing.
    since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "patient", "screen"], name="one_last_look_per_screen"
            )
        ]

    def __str__(self):
        return f"{self.screen} seen {self.seen_at:%Y-%m-%d}"
