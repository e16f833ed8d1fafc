"""Thin Celery tasks: load, call the service, own the retries."""

from celery import shared_task

from . import audit, nudges
from . import audit_partitions as audit_partitions_module


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


class AuditPartitionRefused(Exception):
    """A month's rows sit in the audit table's DEFAULT partition: someone must adopt them."""


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=3,
)
def audit_partitions(ahead: int = audit_partitions_module.AHEAD) -> dict:
    """Make the audit table's partitions for this month and the next `ahead` (beat, daily;
    idempotent). A month whose rows already landed in the DEFAULT partition is refused, the
    others made, and the task fails loudly: run `manage.py audit_partitions --adopt-default`."""
    results = audit_partitions_module.ensure(months=ahead + 1)
    outcome = {name: what for name, what in results}
    refused = [name for name, what in results if what == "default holds rows"]
    if refused:
        raise AuditPartitionRefused(
            f"Rows of {', '.join(refused)} are in the DEFAULT audit partition; run "
            "manage.py audit_partitions --adopt-default as the owner."
        )
    return outcome
