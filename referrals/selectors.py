"""Reads of referrals, releases and the thread, scoped by core.access and audited.

What a release opens, to whom, and when it is in force is said once, in referrals/access.py
(the grant provider the policy asks): this module asks it, never says it again.
"""

from dataclasses import dataclass

from django.utils import timezone

from core import access, audit
from core import selectors as core_selectors
from core.access import Action, Category
from core.dates import us_date
from core.models import AuditEvent

from . import access as releases_policy
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
        return releases_policy.in_force(self.release)

    @property
    def state(self) -> str:
        if self.revoked:
            return "revoked"
        return "expired" if self.expired else "in force"


# The querysets pages and the API look one record up in (through access.get).
RELEASES = Release.objects.select_related(
    "patient",
    "discloser",
    "recipient",
    "discloser_practice",
    "recipient_practice",
    "revocation",
)
REFERRALS = Referral.objects.select_related(
    "patient", "author", "author__practice", "to_clinician", "to_clinician__practice"
)
THREAD_POSTS = ThreadPost.objects.select_related("patient")


def releases_for_patient(*, actor, patient) -> list[ReleaseView]:
    """The patient's releases the actor may read, newest first; audited."""
    visible = access.visible(actor, RELEASES, Category.RELEASES, patient=patient)
    audit.record(
        actor=actor,
        patient=patient,
        category=Category.RELEASES,
        action=Action.LIST,
        object_type="referrals.Release",
    )
    return [ReleaseView(r) for r in visible.order_by("-signed_at")]


def referrals_for_patient(*, actor, patient) -> list[Referral]:
    visible = access.visible(actor, REFERRALS, Category.REFERRALS, patient=patient)
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
    visible = access.visible(actor, REFERRALS.all(), Category.REFERRALS)
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


def referral_recipients(*, actor):
    """Clinicians one may refer to or name in a release."""
    return core_selectors.clinician_directory(exclude=actor)


def thread(*, actor, patient, shared_since=None) -> list[ThreadPost]:
    """Posts the actor may read: their practice's, and the other side's under a release.

    `shared_since`: only the other practices' posts written since then (what the visit screen
    shows), the same cost however long the thread; the post each answers is kept only when it
    is in that list too."""
    posts = access.visible(actor, ThreadPost.objects.all(), Category.THREADS, patient=patient)
    if shared_since is not None:
        posts = posts.filter(created_at__gte=shared_since).exclude(practice_id=actor.practice_id)
    audit.record(
        actor=actor,
        patient=patient,
        category=Category.THREADS,
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
    _mark_ended_sharing(visible, _releases_of(patient))
    return visible


def _releases_of(patient) -> list[Release]:
    """All of the patient's releases, oldest first, read once a request: what the thread says
    of who reads each post (not what the actor may read of them: that is `releases_for_patient`)."""
    return list(
        access.memo(
            ("releases of", patient.pk),
            lambda: list(RELEASES.filter(patient=patient).order_by("signed_at")),
        )
    )


def thread_post_get(*, actor, post_uuid) -> ThreadPost:
    """One post of the thread the actor may read (the one a reply answers); audited."""
    return access.get(actor, Action.READ, Category.THREADS, queryset=THREAD_POSTS, uuid=post_uuid)


# --- Who reads the thread ------------------------------------------------------------------

# The words on the release form under which a release carries the thread.
THREAD_RELEASED_AS = dict(RELEASABLE)[releases_policy.RELEASED_AS[Category.THREADS]]


def _reader_under(release: Release, author_id: int) -> int | None:
    """The clinician to whom this release opens the posts `author_id` writes, or None."""
    return releases_policy.reader_under(release, Category.THREADS, author_id)


def _party(release: Release, party_id: int):
    """The clinician this release names with this id, and the practice it names them in."""
    if party_id == release.recipient_id:
        return release.recipient, release.recipient_practice
    return release.discloser, release.discloser_practice


def _ended_at(release: Release):
    revocation = getattr(release, "revocation", None)
    return revocation.revoked_at if revocation is not None else release.expires_at


@dataclass
class Reader:
    """Another clinician, and whether the policy lets them read what the writer posts now."""

    clinician: object
    practice: object
    on_team: bool
    reads: bool  # the policy's answer for a post the writer makes now
    same_practice: bool
    release: Release | None = None  # the release in force that lets them read, if any
    ended: Release | None = None  # the newest release that did, and has ended

    def because(self) -> str:
        """Why they can or cannot read new posts, in words."""
        if self.reads and self.same_practice:
            return "reads new posts: same practice as you"
        if self.reads and self.release is not None:
            return (
                f"reads new posts under the release signed on {us_date(self.release.signed_at)}, "
                f"until {us_date(self.release.ends_on)}"
            )
        if self.reads:
            return "reads new posts"
        if self.ended is not None:
            how = "was revoked" if hasattr(self.ended, "revocation") else "ended"
            return (
                "cannot read new posts: the release that let them (signed on "
                f"{us_date(self.ended.signed_at)}) {how} on "
                f"{us_date(_ended_at(self.ended))}"
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

    @property
    def _name(self) -> str:
        return self.patient.preferred_name or self.patient.given_name

    def why_not(self) -> str:
        """Why a post would be refused and what the patient can do, to show beside the readers
        (each says why they cannot read, so this does not say it again); empty when a post
        would go through."""
        if self.can_post:
            return ""
        if not self.away:
            return self._nobody()
        return "only " + self._remedy()

    def refusal(self) -> str:
        """The whole reason a post is refused, on its own: who cannot read it, why, and what
        the patient can do."""
        if not self.away:
            return "Not posted: " + self._nobody()
        who = ", ".join(f"{r.clinician.full_name} ({r.practice.name})" for r in self.away)
        why = (
            "the release of information that let them read your posts has ended"
            if any(r.ended is not None for r in self.away)
            else "no release of information lets your posts reach them"
        )
        return f"Not posted: {who} cannot read new posts, because {why}. Only {self._remedy()}"

    def _nobody(self) -> str:
        return (
            f"no one else on {self._name}’s care team would read it. "
            "The thread is for the patient’s clinicians; add the other clinician to the "
            "care team first."
        )

    def _remedy(self) -> str:
        names = " and ".join(r.clinician.full_name for r in self.away)
        return (
            f"{self._name} can change that, by signing a release of information that lets your "
            f"posts reach {names}: it must cover “{THREAD_RELEASED_AS}”. {self._name} signs it "
            "on the Releases page. Until then, reach them another way if it cannot wait."
        )


def thread_readers(*, actor, patient) -> ThreadReaders:
    """Who would read a post the actor writes about this patient now, as the policy decides
    for a post of theirs (the same answer the thread gives each reader). The caller has
    checked that the actor may use the thread."""
    draft = ThreadPost(patient=patient, practice=actor.practice, author=actor)
    releases = _releases_of(patient)
    candidates = {}
    for membership in core_selectors.care_team_for(patient=patient):
        if membership.clinician_id != actor.pk:
            candidates.setdefault(
                membership.clinician_id, (membership.clinician, membership.practice, True)
            )
    for release in releases:
        party_id = _reader_under(release, actor.pk)
        if party_id is None or party_id in candidates or party_id == actor.pk:
            continue
        candidates[party_id] = (*_party(release, party_id), False)
    readers = []
    for clinician, practice, on_team in candidates.values():
        reads = access.can(clinician, Action.READ, Category.THREADS, draft)
        opening = [r for r in releases if _reader_under(r, actor.pk) == clinician.pk]
        current = [r for r in opening if releases_policy.in_force(r)]
        release = current[-1] if reads and current else None
        if not on_team and release is None:
            continue  # a release that has ended names someone off the team: not a reader
        ended = [r for r in opening if not releases_policy.in_force(r)]
        readers.append(
            Reader(
                clinician=clinician,
                practice=practice,
                on_team=on_team,
                reads=reads,
                same_practice=reads and on_team and practice.pk == actor.practice_id,
                release=release,
                ended=ended[-1] if ended else None,
            )
        )
    readers.sort(key=lambda r: (not r.on_team, r.clinician.full_name))
    return ThreadReaders(patient=patient, readers=readers)


def release_readers(*, patient, category: Category, party_id: int) -> list[tuple]:
    """(clinician, why) for each clinician a release in force opens what `party_id` writes in
    `category` to: for a page that says who reads a record (the policy still decides each)."""
    readers = []
    for release in (
        releases_policy.releases_in_force()
        .filter(patient=patient)
        .select_related("discloser", "recipient", "discloser__practice", "recipient__practice")
    ):
        reader_id = releases_policy.reader_under(release, category, party_id)
        if reader_id is None:
            continue
        clinician = release.recipient if reader_id == release.recipient_id else release.discloser
        signed = timezone.localtime(release.signed_at)
        readers.append((clinician, f"under the release signed on {us_date(signed)}"))
    return readers


def _mark_ended_sharing(posts: list[ThreadPost], releases: list[Release]) -> None:
    """Say on each post written under a release that has since ended, who no longer reads it."""
    for post in posts:
        notes = []
        for release in releases:
            party_id = _reader_under(release, post.author_id)
            if party_id is None or releases_policy.in_force(release):
                continue
            if not releases_policy.in_force(release, at=post.created_at):
                continue
            party, _ = _party(release, party_id)
            still = any(
                _reader_under(other, post.author_id) == party_id and releases_policy.in_force(other)
                for other in releases
            )
            how = "was revoked" if hasattr(release, "revocation") else "ended"
            ended_on = timezone.localtime(_ended_at(release))
            notes.append(
                f"Written under the release signed on {us_date(release.signed_at)}, which "
                f"{how} on {us_date(ended_on)}: "
                + (
                    f"{party.full_name} still reads it under a newer release."
                    if still
                    else f"{party.full_name} can no longer read it."
                )
            )
        post.sharing_note = " ".join(notes)


def disclosures(*, actor, patient, limit: int = 200):
    """What was shared under the patient's releases: reads and exports allowed by a release,
    each named by the category the patient released (`released_as`: the clinicians' thread
    is shared as observations, consultations as alliance check-ins)."""
    access.get(actor, Action.READ, Category.AUDIT, patient=patient.uuid)
    events = list(
        AuditEvent.objects.filter(
            patient=patient, outcome=AuditEvent.Outcome.ALLOWED, via__contains="release:"
        )
        .select_related("actor", "actor__practice")
        .order_by("-at")[:limit]
    )
    for event in events:
        event.released_as = releases_policy.RELEASED_AS.get(event.category, event.category)
    return events


REFERRAL_ANSWER_DAYS = 5
RELEASE_WARNING_DAYS = 14


def nudge_candidates(*, on) -> list:
    """Referrals unanswered after a few days (to the recipient) and releases ending within two
    weeks (to the patient and the recipient): set-based queries, one nudge each."""
    from datetime import datetime, time, timedelta

    from core import nudges

    candidates = []
    cutoff = timezone.make_aware(
        datetime.combine(on - timedelta(days=REFERRAL_ANSWER_DAYS), time.max)
    )
    waiting = Referral.objects.filter(
        status=Referral.Status.SENT, created_at__lte=cutoff
    ).values_list("uuid", "to_clinician_id", "created_at")
    for uuid, clinician_id, created in waiting:
        candidates.append(
            nudges.reminder(
                "referral_unanswered",
                subject=uuid,
                due_on=timezone.localdate(created) + timedelta(days=REFERRAL_ANSWER_DAYS),
                recipient_id=clinician_id,
            )
        )
    horizon = timezone.make_aware(
        datetime.combine(on + timedelta(days=RELEASE_WARNING_DAYS), time.max)
    )
    ending = (
        releases_policy.releases_in_force()
        .filter(expires_at__lte=horizon)
        .values_list("uuid", "patient__user_id", "recipient_id", "expires_at")
    )
    for uuid, patient_user_id, recipient_id, expires in ending:
        due = timezone.localdate(expires) - timedelta(days=RELEASE_WARNING_DAYS)
        for user_id in filter(None, (patient_user_id, recipient_id)):
            candidates.append(
                nudges.reminder("release_expiring", subject=uuid, due_on=due, recipient_id=user_id)
            )
    return candidates
