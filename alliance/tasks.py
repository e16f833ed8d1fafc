from celery import shared_task
from django.utils import timezone

from core import nudges

from . import selectors


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def sweep_check_in_nudges() -> int:
    """Remind patients to check in the week before a visit (once each)."""
    scheduled = nudges.schedule(selectors.check_in_nudge_candidates(on=timezone.localdate()))
    nudges.deliver()
    return scheduled
