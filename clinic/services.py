from datetime import timedelta

from django.utils import timezone

from .models import LastLook

# Looks closer together than this are one visit: reloading keeps showing the same news.
SAME_LOOK = timedelta(hours=6)
FIRST_LOOK_WINDOW = timedelta(days=30)


def look_begin(*, user, patient, screen: str):
    """Record that this user is looking at this screen now; return since when things count as new."""
    now = timezone.now()
    look = LastLook.objects.filter(user=user, patient=patient, screen=screen).first()
    if look is None:
        look = LastLook.objects.create(
            user=user, patient=patient, screen=screen, seen_at=now, since=now - FIRST_LOOK_WINDOW
        )
    elif now - look.seen_at > SAME_LOOK:
        look.since, look.seen_at = look.seen_at, now
        look.save(update_fields=["since", "seen_at"])
    else:
        look.seen_at = now
        look.save(update_fields=["seen_at"])
    return look.since or now - FIRST_LOOK_WINDOW
