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
def sweep_referral_and_release_nudges() -> int:
    """Unanswered referrals and releases about to end (once each)."""
    scheduled = nudges.schedule(selectors.nudge_candidates(on=timezone.localdate()))
    nudges.deliver()
    return scheduled
