"""Every write of referrals, releases, revocations and the collaboration thread.

Each asks `access.guard` before its transaction (a refusal is audited there and raised); the
write itself is audited once, with the record it made, inside its transaction (`done`). A
write that did not happen (bad input, a resent form) leaves no allowed row.
"""

import hashlib
import json
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from core import access, audit, resubmit
from core import selectors as core_selectors
from core import services as core_services
from core.access import Action, Category
from core.exceptions import NotAllowed
from core.models import AuditEvent

from . import selectors
from .models import (
    RELEASABLE,
    Referral,
    Release,
    Revocation,
    ThreadPost,
    end_of_day,
    patient_zone,
    release_end_problem,
)

RELEASABLE_KEYS = [key for key, _ in RELEASABLE]


def _notify(user, kind: str, title: str, link: str) -> None:
    # Titles name clinicians, whose names run to 200 characters: the title column holds 200.
    title = title if len(title) <= 200 else title[:199] + "…"
    transaction.on_commit(
        lambda: core_services.notification_send(recipient=user, kind=kind, title=title, link=link)
    )


# --- Referrals -------------------------------------------------------------------------------


_MOVED = {
    "accepted": "accepted",
    "declined": "declined",
    "active": "began working together on",
    "closed": "closed",
}


def _referral_moved_title(actor, referral: Referral, status: str) -> str:
    """Who did what to which referral, without the patient or the reason (titles are e-mailed)."""
    whose = (
        "your referral" if actor.pk == referral.to_clinician_id else "the referral they sent you"
    )
    return f"{actor.full_name} {_MOVED.get(status, 'updated')} {whose}"


def referral_create(
    *, actor, patient, to_clinician, reason: str, questions: str = "", urgency: str = "routine"
) -> Referral:
    """A clinician of the patient's team refers them to another clinician (often another practice)."""
    permit = access.guard(actor, Action.CREATE, Category.REFERRALS, patient)
    if not access.may_care_for(to_clinician):
        raise ValidationError({"to_clinician": "Choose the clinician you refer to."})
    if to_clinician.pk == actor.pk:
        raise ValidationError({"to_clinician": "You cannot refer a patient to yourself."})
    if urgency not in Referral.Urgency.values:
        raise ValidationError({"urgency": "Choose how soon."})
    with transaction.atomic():
        referral = Referral(
            patient=patient,
            practice=actor.practice,
            author=actor,
            to_clinician=to_clinician,
            reason=(reason or "").strip(),
            questions=(questions or "").strip(),
            urgency=urgency,
        )
        referral.full_clean()
        earlier = resubmit.earlier_copy(
            referral,
            "to_clinician",
            "reason",
            "questions",
            "urgency",
            unless=Q(status__in=[Referral.Status.DECLINED, Referral.Status.CLOSED]),
        )
        if earlier is not None:
            return earlier
        referral.save()
        permit.done(referral)
        _notify(
            to_clinician,
            "referral_received",
            f"{actor.full_name} sent you a referral",
            reverse("referral", args=[referral.uuid]),
        )
    return referral


def referral_move(*, actor, referral: Referral, status: str, reason: str = "") -> Referral:
    """Accept or decline (an answer: the recipient's), start the collaboration or close it (an
    update: either of its two clinicians'), as core.access's record rules say.

    Accepting puts the recipient on the patient's care team; closing takes them off it again
    (from today, audited), unless they were on the team before the referral. Each step tells
    the other side.
    """
    action = Action.ANSWER if status in Referral.RECIPIENT_ONLY else Action.UPDATE
    permit = access.guard(actor, action, Category.REFERRALS, referral)
    if status not in Referral.Status.values:
        raise ValidationError({"status": "Unknown status."})
    reason = (reason or "").strip()
    if status == Referral.Status.DECLINED and not reason:
        raise ValidationError(
            {"reason": "Say why you decline: the referring clinician will read it."}
        )
    with transaction.atomic():
        # Only the referral's row: locking the joined patient and clinicians' rows too would
        # block the audit rows of every read about them.
        locked = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("patient", "author", "to_clinician")
            .get(pk=referral.pk)
        )
        if status not in Referral.TRANSITIONS[locked.status]:
            raise ValidationError(
                {
                    "status": f"This referral is {locked.get_status_display().lower()}; it cannot become {Referral.Status(status).label.lower()}."
                }
            )
        locked.status = status
        now = timezone.now()
        if status in Referral.RECIPIENT_ONLY:
            locked.answered_at = now
            locked.decline_reason = reason if status == Referral.Status.DECLINED else ""
        if status == Referral.Status.CLOSED:
            locked.closed_at = now
        if status == Referral.Status.ACCEPTED:
            locked.membership = _join_for(locked)
        locked.full_clean()
        locked.save()
        permit.done(locked)
        if status == Referral.Status.CLOSED and locked.membership_id is not None:
            ended = core_services.care_team_end(membership_id=locked.membership_id)
            if ended is not None:
                audit.record(
                    actor=actor,
                    patient=locked.patient,
                    category=Category.PROFILE,
                    action=Action.UPDATE,
                    obj=ended,
                    object_type="core.CareTeamMembership",
                    via="referral closed",
                )
        other = locked.author if actor.pk == locked.to_clinician_id else locked.to_clinician
        _notify(
            other,
            "referral_" + status,
            _referral_moved_title(actor, locked, status),
            reverse("referral", args=[locked.uuid]),
        )
    return locked


def _join_for(referral: Referral):
    """The membership accepting gives, or None when the recipient was on the team already (then
    closing this referral leaves their place alone)."""
    if core_selectors.is_on_care_team(patient=referral.patient, clinician=referral.to_clinician):
        return None
    return core_services.care_team_join(patient=referral.patient, clinician=referral.to_clinician)


# --- Releases --------------------------------------------------------------------------------


def _names_match(typed: str, patient) -> bool:
    def norm(text):
        return " ".join(text.lower().split())

    accepted = {norm(f"{patient.given_name} {patient.family_name}")}
    if patient.preferred_name:
        accepted.add(norm(f"{patient.preferred_name} {patient.family_name}"))
    return norm(typed) in accepted


def release_content(release: Release) -> dict:
    """Everything the patient signed, as plain data (hashed at signing; shown in the PDF)."""
    return {
        "patient": str(release.patient.uuid),
        "discloser": str(release.discloser.uuid),
        "discloser_practice": str(release.discloser_practice.uuid),
        "recipient": str(release.recipient.uuid),
        "recipient_practice": str(release.recipient_practice.uuid),
        "mutual": release.mutual,
        "categories": sorted(release.categories),
        "purpose": release.purpose,
        "expires_at": release.expires_at.isoformat(),
        "expiry_event": release.expiry_event,
        "statement_version": release.statement_version,
        "signed_name": release.signed_name,
        "signed_at": release.signed_at.isoformat(),
        "signed_by_representative": release.signed_by_representative,
        "representative_authority": release.representative_authority,
    }


def release_hash(release: Release) -> str:
    return hashlib.sha256(json.dumps(release_content(release), sort_keys=True).encode()).hexdigest()


def release_sign(
    *,
    actor,
    patient,
    discloser,
    recipient,
    categories: list[str],
    purpose: str,
    expires_on: date,
    signed_name: str,
    mutual: bool = True,
    expiry_event: str = "",
    signed_by_representative: bool = False,
    representative_authority: str = "",
    part2_consent: bool = False,
    ip: str | None = None,
    user_agent: str = "",
) -> Release:
    """The patient (or their personal representative) signs a release online. Immutable.

    Raises ValidationError naming every missing or wrong element; nothing is stored then.
    """
    # Only the patient signs (or their personal representative, in their account): the tables.
    permit = access.guard(actor, Action.CREATE, Category.RELEASES, patient)
    errors = {}
    team = {m.clinician_id for m in core_selectors.care_team_for(patient=patient)}
    if discloser is None or discloser.pk not in team:
        errors["discloser"] = "Choose who shares: a clinician on your care team."
    if not access.may_care_for(recipient):
        errors["recipient"] = "Choose who receives the information."
    elif discloser is not None and recipient.pk == discloser.pk:
        errors["recipient"] = "The two clinicians must be different people."
    chosen = [c for c in categories or [] if c in RELEASABLE_KEYS]
    if not chosen or len(chosen) != len(categories or []):
        errors["categories"] = "Choose what may be shared (psychotherapy notes can never be)."
    if "substance_use" in chosen and not part2_consent:
        errors["part2_consent"] = (
            "Substance-use information needs your separate consent under 42 CFR Part 2."
        )
    if not (purpose or "").strip():
        errors["purpose"] = (
            "Say what the information is for, e.g. “so my therapist and prescriber can treat me together”."
        )
    # Dates are the patient's: "until 3 March" is through the end of 3 March where they live.
    zone = patient_zone(patient)
    signed_at = timezone.now()
    problem = release_end_problem(expires_on, timezone.localtime(signed_at, zone).date())
    if problem:
        errors["expires_on"] = problem
    if signed_by_representative and not (representative_authority or "").strip():
        errors["representative_authority"] = (
            "A personal representative states their authority (e.g. legal guardian)."
        )
    if not signed_by_representative and not _names_match(signed_name or "", patient):
        errors["signed_name"] = (
            "Type your full name as your signature, e.g. “"
            + f"{patient.given_name} {patient.family_name}”."
        )
    if signed_by_representative and not (signed_name or "").strip():
        errors["signed_name"] = "Type your full name as your signature."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        release = Release(
            patient=patient,
            author=actor,
            discloser=discloser,
            discloser_practice=discloser.practice,
            recipient=recipient,
            recipient_practice=recipient.practice,
            mutual=mutual,
            categories=chosen,
            purpose=purpose.strip(),
            expires_at=end_of_day(expires_on, zone),
            expiry_event=(expiry_event or "").strip(),
            signed_name=signed_name.strip(),
            signed_at=signed_at,
            signed_ip=ip,
            signed_user_agent=(user_agent or "")[:400],
            signed_by_representative=signed_by_representative,
            representative_authority=(representative_authority or "").strip(),
        )
        release.content_hash = release_hash(release)
        release.full_clean()
        earlier = resubmit.earlier_copy(
            release,
            "discloser",
            "recipient",
            "mutual",
            "categories",
            "purpose",
            "expires_at",
            "expiry_event",
            "signed_name",
            "signed_by_representative",
            "representative_authority",
            at="signed_at",
            # A release revoked and signed again at once is a new release, not a resent form.
            unless=Q(revocation__isnull=False),
        )
        if earlier is not None:
            return earlier
        release.save()
        permit.done(release)
        link = reverse("release", args=[release.uuid])
        for clinician in {discloser, recipient}:
            _notify(
                clinician,
                "release_signed",
                "A patient signed a release of information: "
                f"{discloser.full_name} may share with {recipient.full_name}",
                link,
            )
    return release


def release_revoke(*, actor, release: Release, note: str = "") -> Revocation:
    """Revoke a release: access it gave ends with the next request. Idempotent.

    Needs only the release's keys, never its rendering: a release whose dates cannot be shown
    can still be revoked. `revoked_at` is the database's clock at the last statement before
    COMMIT, so no read the release allowed can be recorded after the time the patient is shown.
    """
    # Only the patient revokes: the tables give no one else an update of a release.
    permit = access.guard(actor, Action.UPDATE, Category.RELEASES, release)
    with transaction.atomic():
        # Two revokes at once: the second waits here, then finds the first one's row.
        Release.objects.select_for_update().filter(pk=release.pk).values_list("pk").first()
        existing = Revocation.objects.filter(release=release).first()
        if existing is not None:
            return existing
        permit.done(release)
        link = reverse("release", args=[release.uuid])
        for clinician in {release.discloser, release.recipient}:
            _notify(
                clinician,
                "release_revoked",
                "A patient revoked the release of information by which "
                f"{release.discloser.full_name} shared with {release.recipient.full_name}",
                link,
            )
        # Last: the audit row above may have waited for the patient's chain; the stamp must
        # not be taken before that wait, or reads allowed meanwhile would post-date it.
        revocation = Revocation(
            release_id=release.pk,
            patient_id=release.patient_id,
            author=actor,
            note=(note or "").strip()[:500],
            revoked_at=Now(),
        )
        revocation.save()
    revocation.refresh_from_db(fields=["revoked_at"])
    return revocation


# --- The collaboration thread ----------------------------------------------------------------


def thread_post(
    *,
    actor,
    patient,
    kind: str,
    text: str,
    medication_uuid=None,
    medication_name: str = "",
    reply_to: ThreadPost | None = None,
) -> ThreadPost:
    """A post between the patient's prescriber and therapist. The caller has checked that the
    medication named (if any) is one the actor may see.

    Raises NotAllowed, saying why and what the patient can do, when no clinician of another
    practice on the team could read it (no release in force lets them): a warning that
    nobody reads must not look sent. The refusal is audited like the policy's own.
    """
    permit = access.guard(actor, Action.CREATE, Category.THREADS, patient)
    readers = selectors.thread_readers(actor=actor, patient=patient)
    if not readers.can_post:
        audit.record(
            actor=actor,
            patient=patient,
            category=Category.THREADS,
            action=Action.CREATE,
            outcome=AuditEvent.Outcome.DENIED,
            object_type="core.Patient",
            object_id=str(patient.uuid),
        )
        raise NotAllowed(readers.refusal())
    if kind not in ThreadPost.Kind.values:
        raise ValidationError({"kind": "Choose what kind of post this is."})
    if reply_to is not None and reply_to.patient_id != patient.pk:
        raise ValidationError({"reply_to": "That post is about someone else."})
    with transaction.atomic():
        post = ThreadPost(
            patient=patient,
            practice=actor.practice,
            author=actor,
            kind=kind,
            text=(text or "").strip(),
            medication_uuid=medication_uuid,
            medication_name=(medication_name or "")[:300],
            reply_to=reply_to,
        )
        post.full_clean()
        earlier = resubmit.earlier_copy(post, "kind", "text", "medication_uuid", "reply_to")
        if earlier is not None:
            return earlier
        post.save()
        permit.done(post)
        # Only those who can read it are told of it.
        for clinician in (r.clinician for r in readers.readers if r.reads):
            _notify(
                clinician,
                "thread_post",
                f"{actor.full_name} posted in the team thread of a patient you share",
                reverse("thread", args=[patient.uuid]),
            )
    return post
