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


def earlier_copy(record, *fields: str, at: str = "created_at"):
    """The same author's record about the same patient, equal in `fields`, saved in the last two
    minutes; None if there is none.

    Call inside the create's transaction, before it takes any other lock and before `record` is
    saved; the patient's row stays locked until the transaction ends.
    """
    hold(record.patient_id)
    same = {field: getattr(record, field) for field in fields}
    return (
        type(record)
        .objects.filter(
            patient_id=record.patient_id,
            author_id=record.author_id,
            **{f"{at}__gte": getattr(record, at) - WINDOW},
            **same,
        )
        .order_by(f"-{at}")
        .first()
    )
