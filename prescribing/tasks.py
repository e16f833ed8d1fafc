"""The refill sweep's old task name, kept for beat entries and queued messages from before the
reminder registry (core.nudges): it runs the registry's sweep of every kind."""

from celery import shared_task

from core import nudges


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def sweep_refill_nudges() -> int:
    """As core.tasks.sweep_nudges: today's reminders of every registered kind, then delivery."""
    scheduled = nudges.sweep()
    nudges.deliver()
    return scheduled
