from django.utils import timezone

from .models import LastLook


def last_look_mark(*, user, patient, screen: str) -> None:
    """Remember that this user has just seen this screen for this patient."""
    LastLook.objects.update_or_create(
        user=user, patient=patient, screen=screen, defaults={"seen_at": timezone.now()}
    )
