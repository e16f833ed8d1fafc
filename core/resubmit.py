"""One record from one form, even when it is sent twice: a double click, or a browser resending a
slow request.

A create service builds and cleans its record, then asks `earlier_copy` inside its transaction
before saving. The patient's row is locked first (FOR NO KEY UPDATE: rows that merely refer to
the patient, audit rows included, are still written meanwhile), so of two identical submits the
second waits for the first to commit, finds its row and returns it instead of writing another.
"""

from datetime import timedelta

from .models import Patient

# Longer than a double click or a browser's retry, shorter than a deliberate second entry.
WINDOW = timedelta(minutes=2)


def hold(patient_id) -> None:
    """Lock the patient's row until the transaction ends, so that creates about this patient
    that must see each other's rows run one after the other. Call before any other lock."""
    Patient.objects.select_for_update(no_key=True).only("pk").get(pk=patient_id)


def earlier_copy(record, *fields: str, at: str = "created_at", unless=None):
    """The same form sent again: the author's newest record of this kind about this patient,
    if it was saved in the last two minutes and is equal in `fields`; None otherwise.

    Only the newest counts: a rating of 0, then +1, then 0 again is three choices, not a resend.
    `unless` (a Q) names states in which the earlier record is not the one the person wants back
    (a note marked entered in error, a referral declined): the same words then make a new one.

    Call inside the create's transaction, before it takes any other lock and before `record` is
    saved; the patient's row stays locked until the transaction ends.
    """
    hold(record.patient_id)
    newest = (
        type(record)
        .objects.filter(
            patient_id=record.patient_id,
            author_id=record.author_id,
            **{f"{at}__gte": getattr(record, at) - WINDOW},
        )
        .order_by(f"-{at}", "-pk")
        .first()
    )
    if newest is None:
        return None
    if any(getattr(newest, field) != getattr(record, field) for field in fields):
        return None
    if unless is not None and type(record).objects.filter(unless, pk=newest.pk).exists():
        return None
    return newest
