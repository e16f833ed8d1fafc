from datetime import timedelta

from django.utils import timezone

from .models import LastLook

# Looks closer together than this are one visit: reloading keeps showing the same news.
SAME_LOOK = timedelta(hours=6)
FIRST_LOOK_WINDOW = timedelta(days=30)


def look_begin(*, user, patient, screen: str):
    """Record that this user is looking at this screen now; return since when things count as new."""
    now = timezone.now()
    # Two tabs opening the screen at once both find no look; get_or_create lets one insert it.
    look, created = LastLook.objects.get_or_create(
        user=user,
        patient=patient,
        screen=screen,
        defaults={"seen_at": now, "since": now - FIRST_LOOK_WINDOW},
    )
    if created:
        return look.since
    if now - look.seen_at > SAME_LOOK:
        look.since, look.seen_at = look.seen_at, now
        look.save(update_fields=["since", "seen_at"])
    else:
        look.seen_at = now
        look.save(update_fields=["seen_at"])
    return look.since or now - FIRST_LOOK_WINDOW
