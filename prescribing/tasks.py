"""Refill-timing nudges on a schedule (Celery beat)."""

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
def sweep_refill_nudges() -> int:
    """Schedule today's refill and renewal nudges (once each), then deliver what is due."""
    scheduled = nudges.schedule(selectors.refill_nudge_candidates(on=timezone.localdate()))
    nudges.deliver()
    return scheduled
