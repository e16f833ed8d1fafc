"""Thin Celery tasks: load, call the service, own the retries."""

from celery import shared_task

from . import audit, nudges


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


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def sweep_nudges(every: int | None = None) -> int:
    """Schedule the registered reminders due today (those swept every `every` minutes, or all),
    once each, then deliver what is due (beat: one entry per interval, see apps.py)."""
    scheduled = nudges.sweep(every=every)
    nudges.deliver()
    return scheduled


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=3,
)
def audit_checkpoint() -> dict:
    """Append a signed checkpoint of every audit chain head (beat, every 5 minutes).

    A checkpoint file holding a line Concord did not write fails loudly and is not retried:
    someone must look at it."""
    written = audit.checkpoint()
    return {"n": written.n, "at": written.at, "count": written.count, "chains": len(written.heads)}
