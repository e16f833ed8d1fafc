"""Reads of referrals, releases and the thread, scoped by core.access and audited."""

from dataclasses import dataclass

from django.http import Http404
from django.utils import timezone

from core import access, audit
from core import selectors as core_selectors
from core.access import Action, Category
from core.models import AuditEvent

from .models import Referral, Release, ThreadPost


@dataclass
class ReleaseView:
    release: Release

    @property
    def revoked(self) -> bool:
        return hasattr(self.release, "revocation")

    @property
    def expired(self) -> bool:
        return self.release.expires_at <= timezone.now()

    @property
    def in_force(self) -> bool:
        return not self.revoked and not self.expired

    @property
    def state(self) -> str:
        if self.revoked:
            return "revoked"
        return "expired" if self.expired else "in force"


def _releases():
    return Release.objects.select_related(
        "patient",
        "discloser",
        "recipient",
        "discloser_practice",
        "recipient_practice",
        "revocation",
    )


def releases_for_patient(*, actor, patient) -> list[ReleaseView]:
    """The patient's releases the actor may read, newest first; audited."""
    visible = access.records_visible(actor, _releases().filter(patient=patient), Category.RELEASES)
    audit.record(
        actor=actor,
        patient=patient,
        category=Category.RELEASES,
        action=Action.LIST,
        object_type="referrals.Release",
    )
    return [ReleaseView(r) for r in visible.order_by("-signed_at")]


def release_get(*, actor, release_uuid, action: Action = Action.READ) -> ReleaseView:
    return ReleaseView(
        access.record_get(actor, _releases(), release_uuid, Category.RELEASES, action)
    )


def _referrals():
    return Referral.objects.select_related(
        "patient", "author", "author__practice", "to_clinician", "to_clinician__practice"
    )


def referrals_for_patient(*, actor, patient) -> list[Referral]:
    visible = access.records_visible(
        actor, _referrals().filter(patient=patient), Category.REFERRALS
    )
    audit.record(
        actor=actor,
        patient=patient,
        category=Category.REFERRALS,
        action=Action.LIST,
        object_type="referrals.Referral",
    )
    return list(visible)


def referral_inbox(*, actor) -> dict:
    """Referrals to and from this clinician, open ones first; audited per patient."""
    if not actor.is_clinician:
        return {"received": [], "sent": []}
    visible = access.records_visible(actor, _referrals(), Category.REFERRALS)
    received = list(visible.filter(to_clinician=actor).order_by("status", "-created_at"))
    sent = list(visible.filter(author=actor).order_by("status", "-created_at"))
    for patient in {r.patient for r in received + sent}:
        audit.record(
            actor=actor,
            patient=patient,
            category=Category.REFERRALS,
            action=Action.LIST,
            object_type="referrals.Referral",
        )
    return {"received": received, "sent": sent}


def referral_get(*, actor, referral_uuid, action: Action = Action.READ) -> Referral:
    return access.record_get(actor, _referrals(), referral_uuid, Category.REFERRALS, action)


def referral_recipients(*, actor):
    """Clinicians one may refer to or name in a release."""
    return core_selectors.clinician_directory(exclude=actor)


def thread(*, actor, patient) -> list[ThreadPost]:
    """Posts the actor may read: their practice's, and the other side's under a release."""
    if not actor.is_clinician:
        return []
    posts = access.records_visible(
        actor, ThreadPost.objects.filter(patient=patient), Category.OBSERVATIONS
    )
    audit.record(
        actor=actor,
        patient=patient,
        category=Category.OBSERVATIONS,
        action=Action.LIST,
        object_type="referrals.ThreadPost",
    )
    visible = list(
        posts.select_related("author", "practice", "reply_to", "reply_to__author").order_by(
            "created_at", "id"
        )
    )
    ids = {p.pk for p in visible}
    for post in visible:
        if post.reply_to_id is not None and post.reply_to_id not in ids:
            # The post it answers is not the reader's to see (another practice, no release).
            post.reply_to = None
    return visible


def thread_post_get(*, actor, post_uuid) -> ThreadPost:
    post = ThreadPost.objects.select_related("patient").filter(uuid=post_uuid).first()
    if post is None:
        raise Http404("Not found.")
    access.require_record(actor, Action.READ, Category.OBSERVATIONS, post)
    return post


def disclosures(*, actor, patient, limit: int = 200):
    """What was shared under the patient's releases: reads and exports allowed by a release."""
    access.require(actor, Action.READ, Category.AUDIT, patient)
    return (
        AuditEvent.objects.filter(
            patient=patient, outcome=AuditEvent.Outcome.ALLOWED, via__contains="release:"
        )
        .select_related("actor", "actor__practice")
        .order_by("-at")[:limit]
    )


REFERRAL_ANSWER_DAYS = 5
RELEASE_WARNING_DAYS = 14


def nudge_candidates(*, on) -> list:
    """Referrals unanswered after a few days (to the recipient) and releases ending within two
    weeks (to the patient and the recipient): set-based queries, one nudge each."""
    from datetime import datetime, time, timedelta

    from core import nudges

    from .access import releases_in_force

    candidates = []
    cutoff = timezone.make_aware(
        datetime.combine(on - timedelta(days=REFERRAL_ANSWER_DAYS), time.max)
    )
    waiting = Referral.objects.filter(
        status=Referral.Status.SENT, created_at__lte=cutoff
    ).values_list("uuid", "to_clinician_id", "created_at")
    for uuid, clinician_id, created in waiting:
        candidates.append(
            nudges.Candidate(
                kind="referral_unanswered",
                subject=str(uuid),
                due_on=timezone.localdate(created) + timedelta(days=REFERRAL_ANSWER_DAYS),
                recipient_id=clinician_id,
                title="A referral is waiting for your answer",
                link=f"/referrals/{uuid}/",
            )
        )
    horizon = timezone.make_aware(
        datetime.combine(on + timedelta(days=RELEASE_WARNING_DAYS), time.max)
    )
    ending = (
        releases_in_force()
        .filter(expires_at__lte=horizon)
        .values_list("uuid", "patient__user_id", "recipient_id", "expires_at")
    )
    for uuid, patient_user_id, recipient_id, expires in ending:
        due = timezone.localdate(expires) - timedelta(days=RELEASE_WARNING_DAYS)
        for user_id in filter(None, (patient_user_id, recipient_id)):
            candidates.append(
                nudges.Candidate(
                    kind="release_expiring",
                    subject=str(uuid),
                    due_on=due,
                    recipient_id=user_id,
                    title="A release of information ends in two weeks",
                    link=f"/releases/{uuid}/",
                )
            )
    return candidates
