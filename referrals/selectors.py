"""Reads of referrals, releases and the thread, scoped by core.access and audited."""

from dataclasses import dataclass

from django.http import Http404
from django.utils import timezone

from core import access, audit
from core import selectors as core_selectors
from core.access import Action, Category
from core.models import AuditEvent

from .models import RELEASABLE, Referral, Release, ThreadPost


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
    _mark_ended_sharing(visible, list(_releases().filter(patient=patient)))
    return visible


# --- Who reads the thread ------------------------------------------------------------------

OBSERVATIONS_LABEL = dict(RELEASABLE)["observations"]


def _opens_posts_of(release: Release, author_id: int) -> int | None:
    """The clinician to whom this release opens the posts `author_id` writes, or None."""
    if "observations" not in release.categories:
        return None
    if release.discloser_id == author_id:
        return release.recipient_id
    if release.mutual and release.recipient_id == author_id:
        return release.discloser_id
    return None


def _in_force_at(release: Release, moment) -> bool:
    if release.signed_at > moment or release.expires_at <= moment:
        return False
    revocation = getattr(release, "revocation", None)
    return revocation is None or revocation.revoked_at > moment


def _ended_at(release: Release):
    revocation = getattr(release, "revocation", None)
    return revocation.revoked_at if revocation is not None else release.expires_at


@dataclass
class Reader:
    """Another clinician, and whether the policy lets them read what the writer posts now."""

    clinician: object
    practice: object
    on_team: bool
    same_practice: bool
    release: Release | None = None  # the release in force that lets them read, if any
    ended: Release | None = None  # the newest release that did, and has ended

    @property
    def reads(self) -> bool:
        return self.same_practice or self.release is not None

    def because(self) -> str:
        """Why they can or cannot read new posts, in words."""
        if self.same_practice:
            return "reads new posts: same practice as you"
        if self.release is not None:
            return (
                f"reads new posts under the release signed on {timezone.localtime(self.release.signed_at):%-d %b %Y}, "
                f"until {self.release.ends_on:%-d %b %Y}"
            )
        if self.ended is not None:
            how = "was revoked" if hasattr(self.ended, "revocation") else "ended"
            return (
                "cannot read new posts: the release that let them (signed on "
                f"{timezone.localtime(self.ended.signed_at):%-d %b %Y}) {how} on "
                f"{timezone.localtime(_ended_at(self.ended)):%-d %b %Y}"
            )
        return "cannot read new posts: no release of information lets your posts reach them"


@dataclass
class ThreadReaders:
    """Who reads a post the writer makes now: the other members of the care team (a colleague
    of the same practice always; another practice's clinician only under a release in force
    that covers observations and the team's messages), and anyone off the team a release lets
    read. A post that no other practice's team member would read is refused."""

    patient: object
    readers: list[Reader]

    @property
    def away(self) -> list[Reader]:
        """The team members of another practice: the other clinicians of the thread."""
        return [r for r in self.readers if r.on_team and not r.same_practice]

    @property
    def can_post(self) -> bool:
        if self.away:
            return any(r.reads for r in self.away)
        return any(r.reads for r in self.readers)

    def why_not(self) -> str:
        """Why a post would be refused, and what the patient can do; empty when it would not."""
        if self.can_post:
            return ""
        name = self.patient.preferred_name or self.patient.given_name
        if not self.away:
            return (
                f"no one else on {name}’s care team would read it. "
                "The thread is for the patient’s clinicians; add the other clinician to the "
                "care team first."
            )
        who = ", ".join(f"{r.clinician.full_name} ({r.practice.name})" for r in self.away)
        ended = [r for r in self.away if r.ended is not None]
        why = (
            "the release of information that let them read your posts has ended"
            if ended
            else "no release of information lets your posts reach them"
        )
        names = " and ".join(r.clinician.full_name for r in self.away)
        return (
            f"{who} cannot read new posts, because {why}. "
            f"Only {name} can change that, by signing a release of information that lets your "
            f"posts reach {names}: it must cover “{OBSERVATIONS_LABEL}”. {name} signs it on "
            "the Releases page. Until then, reach them another way if it cannot wait."
        )


def thread_readers(*, actor, patient) -> ThreadReaders:
    """Who would read a post the actor writes about this patient now, as the policy decides
    for a post of theirs (the same answer the thread gives each reader). The caller has
    checked that the actor may use the thread."""
    draft = ThreadPost(patient=patient, practice=actor.practice, author=actor)
    releases = list(_releases().filter(patient=patient).order_by("signed_at"))
    candidates = {}
    for membership in core_selectors.care_team_for(patient=patient):
        if membership.clinician_id != actor.pk:
            candidates.setdefault(
                membership.clinician_id, (membership.clinician, membership.practice, True)
            )
    for release in releases:
        party_id = _opens_posts_of(release, actor.pk)
        if party_id is None or party_id in candidates or party_id == actor.pk:
            continue
        party = release.recipient if party_id == release.recipient_id else release.discloser
        practice = (
            release.recipient_practice
            if party_id == release.recipient_id
            else release.discloser_practice
        )
        candidates[party_id] = (party, practice, False)
    by_uuid = {str(r.uuid): r for r in releases}
    readers = []
    for clinician, practice, on_team in candidates.values():
        decision = access.decide_record(clinician, Action.READ, Category.OBSERVATIONS, draft)
        same_practice = decision.allowed and any(g.via == "care_team" for g in decision.grants)
        release = next(
            (by_uuid[g.release_id] for g in decision.grants if g.release_id in by_uuid), None
        )
        if not on_team and release is None:
            continue  # a release that has ended names someone off the team: not a reader
        ended = [
            r
            for r in releases
            if _opens_posts_of(r, actor.pk) == clinician.pk and not ReleaseView(r).in_force
        ]
        readers.append(
            Reader(
                clinician=clinician,
                practice=practice,
                on_team=on_team,
                same_practice=same_practice,
                release=release,
                ended=ended[-1] if ended else None,
            )
        )
    readers.sort(key=lambda r: (not r.on_team, r.clinician.full_name))
    return ThreadReaders(patient=patient, readers=readers)


def _mark_ended_sharing(posts: list[ThreadPost], releases: list[Release]) -> None:
    """Say on each post written under a release that has since ended, who no longer reads it."""
    for post in posts:
        notes = []
        for release in releases:
            party_id = _opens_posts_of(release, post.author_id)
            if party_id is None or ReleaseView(release).in_force:
                continue
            if not _in_force_at(release, post.created_at):
                continue
            party = release.recipient if party_id == release.recipient_id else release.discloser
            still = any(
                _opens_posts_of(other, post.author_id) == party_id and ReleaseView(other).in_force
                for other in releases
            )
            how = "was revoked" if hasattr(release, "revocation") else "ended"
            ended_on = timezone.localtime(_ended_at(release))
            notes.append(
                f"Written under the release signed on {timezone.localtime(release.signed_at):%-d %b %Y}, which "
                f"{how} on {ended_on:%-d %b %Y}: "
                + (
                    f"{party.full_name} still reads it under a newer release."
                    if still
                    else f"{party.full_name} can no longer read it."
                )
            )
        post.sharing_note = " ".join(notes)


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
