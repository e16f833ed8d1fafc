"""Thin Celery tasks: load, call the service, own the retries."""

from celery import shared_task

from . import nudges


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def deliver_nudges() -> dict:
    """Send every pending nudge that is due, once each."""
    return nudges.deliver()
