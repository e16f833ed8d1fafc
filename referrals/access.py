"""Grants that referrals add to the one access policy (listed in settings.CONCORD_GRANT_PROVIDERS).

- A release in force lets its recipient (and, when mutual, its discloser) read exactly the
  released categories of what the other party it names wrote: not what a colleague of theirs
  in the same practice wrote. The patient's own words travel only in the one category that
  is theirs by name on the form (their response to the summary).
- An open referral lets its recipient see who the patient is and the referral itself (and
  answer it, and move it on once accepted): not the summary, not the patient's response.

Both are computed from the database on every call, so a revocation or an expiry takes
effect on the very next request. This module is the one place that says what a release
opens, to whom (`opened_by`), and when it is in force (`releases_in_force`, `in_force`):
the thread's "who reads a new post" asks it rather than saying it again.
"""

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from core import access
from core.access import READS, WRITTEN, Action, Category, Grant, GrantProvider

from .models import Referral, Release, Revocation


def releases_in_force(now=None):
    """Signed, unexpired, unrevoked releases."""
    now = now or timezone.now()
    revoked = Revocation.objects.filter(release=OuterRef("pk"))
    return Release.objects.filter(expires_at__gt=now).exclude(Exists(revoked))


def in_force(release: Release, at=None) -> bool:
    """Was this release in force at `at` (now by default)? `releases_in_force`, for one."""
    at = at or timezone.now()
    if release.signed_at > at or release.expires_at <= at:
        return False
    revocation = getattr(release, "revocation", None)
    return revocation is None or revocation.revoked_at > at


# Categories whose records are the patient's own words: a release naming one of them carries
# what the patient wrote there. Every other category carries only what the named party wrote.
PATIENT_WORDS = frozenset({Category.SUMMARY_RESPONSE})
# Categories a release carries under another's name on the form (signed releases keep the
# words they were signed with): the clinicians' thread is "observations ... and the team's
# messages"; the clinicians' consultations about the alliance go with the alliance check-ins.
RELEASED_AS = {"threads": "observations", "consultations": "alliance"}


def opened_by(release: Release, category: Category) -> list[tuple[int, int]]:
    """(reader id, author id): whose writing of this category the release opens to whom. The
    recipient reads what the discloser wrote; when mutual, the discloser reads the recipient's."""
    if RELEASED_AS.get(str(category), str(category)) not in release.categories:
        return []
    pairs = [(release.recipient_id, release.discloser_id)]
    if release.mutual:
        pairs.append((release.discloser_id, release.recipient_id))
    return pairs


def reader_under(release: Release, category: Category, author_id: int) -> int | None:
    """The clinician to whom this release opens what `author_id` writes, or None."""
    return next((r for r, a in opened_by(release, category) if a == author_id), None)


def _shared_with(actor, category: Category) -> list[tuple[int, int, object]]:
    """(patient id, the named party whose writing is opened, release uuid) open to the actor."""
    if not access.may_care_for(actor):
        return []
    opened = []
    for release in access.memo(("releases naming", actor.pk), lambda: _releases_naming(actor)):
        for reader_id, author_id in opened_by(release, category):
            if reader_id == actor.pk:
                opened.append((release.patient_id, author_id, release.uuid))
    return opened


def _releases_naming(actor) -> list[Release]:
    """Releases in force in which the actor receives (or, when mutual, also discloses): one query."""
    mine = releases_in_force().filter(
        Q(recipient_id=actor.pk) | Q(mutual=True, discloser_id=actor.pk)
    )
    return list(
        mine.only(
            "uuid",
            "patient_id",
            "categories",
            "discloser_id",
            "recipient_id",
            "mutual",
            "discloser_practice_id",
            "recipient_practice_id",
        )
    )


def _named_in(actor):
    return Release.objects.filter(Q(recipient_id=actor.pk) | Q(discloser_id=actor.pk))


class ReleaseGrants(GrantProvider):
    def grants(self, actor, action, category, patient):
        if action not in READS or category == Category.PSYCHOTHERAPY_NOTES:
            return []
        if category == Category.RELEASES:
            # The two clinicians a release names may read the release itself.
            named = (
                set(_named_in(actor).filter(patient_id=patient.pk).values_list("pk", flat=True))
                if access.may_care_for(actor)
                else set()
            )
            return [Grant(via="named in release", record_ids=frozenset(named))] if named else []
        # A release discloses what the party it names wrote, not what the patient wrote (the
        # patient shares their own words by adding someone to the team), except in a category
        # that is the patient's words by name.
        return [
            Grant(
                via=f"release:{uuid}",
                author_ids=frozenset({party_id}),
                release_id=str(uuid),
                patient_written=category in PATIENT_WORDS,
            )
            for patient_id, party_id, uuid in _shared_with(actor, category)
            if patient_id == patient.pk
        ]

    def patients_q(self, actor, action, category):
        if action not in READS or category == Category.PSYCHOTHERAPY_NOTES:
            return None
        patient_ids = {patient_id for patient_id, _, _ in _shared_with(actor, category)}
        return Q(pk__in=patient_ids) if patient_ids else None

    def patient_vias(self, actor, action, category, patient_ids):
        # Named by release, as `grants` names them; no query beyond the releases' own.
        if self.patients_q(actor, action, category) is None:
            return {}
        vias: dict[int, set[str]] = {}
        for patient_id, _, uuid in _shared_with(actor, category):
            if patient_id in patient_ids:
                vias.setdefault(patient_id, set()).add(f"release:{uuid}")
        return {pk: ",".join(sorted(v)) for pk, v in vias.items()}

    def via_details(self, patient, vias):
        # "release:<uuid>" tokens of this patient's releases: when each was signed, and where
        # the patient reads it. A token naming another patient's release says nothing.
        import uuid

        from django.urls import reverse

        from .models import patient_zone

        ids = {}
        for via in vias:
            if not via.startswith("release:"):
                continue
            try:
                ids[uuid.UUID(via.removeprefix("release:"))] = via
            except ValueError:
                continue
        if not ids:
            return {}
        zone = patient_zone(patient)
        signed = Release.objects.filter(patient_id=patient.pk, uuid__in=list(ids)).values_list(
            "uuid", "signed_at"
        )
        return {
            ids[key]: {
                "signed_on": timezone.localtime(at, zone).date(),
                "url": reverse("release", kwargs={"release_uuid": key}),
            }
            for key, at in signed
        }

    def records_q(self, actor, action, category, whose=WRITTEN):
        if action not in READS or category == Category.PSYCHOTHERAPY_NOTES:
            return None
        if category == Category.RELEASES:
            return Q(pk__in=_named_in(actor).values("pk")) if access.may_care_for(actor) else None
        pairs = _shared_with(actor, category)
        if not pairs:
            return None
        q = Q(pk__in=[])
        for patient_id, party_id, _ in pairs:
            q |= Q(patient_id=patient_id, **{whose.author: party_id})
            if category in PATIENT_WORDS:
                q |= Q(patient_id=patient_id, **{whose.author: F("patient__user_id")})
        return q


class ReferralGrants(GrantProvider):
    """The recipient of an open referral sees who the patient is, and the referral: what the
    referral needs to be answered, nothing the patient did not send with it. Accepting puts
    them on the care team, which is what opens the rest."""

    CATEGORIES = frozenset({Category.PROFILE, Category.REFERRALS})
    list_via = "referral"
    # Reading who the patient is, not exporting their record.
    ACTIONS = frozenset({Action.READ, Action.LIST})

    def _open_to(self, actor):
        if not access.may_care_for(actor):
            return Referral.objects.none()
        return Referral.objects.filter(
            to_clinician_id=actor.pk,
            status__in=[Referral.Status.SENT, Referral.Status.ACCEPTED, Referral.Status.ACTIVE],
        )

    def _allowed(self, action, category) -> bool:
        if category not in self.CATEGORIES:
            return False
        # The referral itself: to answer it, and to move it on once accepted.
        return action in self.ACTIONS or (
            category == Category.REFERRALS and action in (Action.UPDATE, Action.ANSWER)
        )

    def grants(self, actor, action, category, patient):
        if not self._allowed(action, category):
            return []
        referral_ids = set(
            self._open_to(actor).filter(patient_id=patient.pk).values_list("pk", flat=True)
        )
        if not referral_ids:
            return []
        # Who the patient is, and the referrals sent to this clinician: not the patient's others.
        if category == Category.REFERRALS:
            return [Grant(via="referral", record_ids=frozenset(referral_ids))]
        return [Grant(via="referral")]

    def patients_q(self, actor, action, category):
        if not self._allowed(action, category):
            return None
        return Q(pk__in=self._open_to(actor).values("patient_id"))

    def records_q(self, actor, action, category, whose=WRITTEN):
        if category != Category.REFERRALS or not self._allowed(action, category):
            return None
        return Q(pk__in=self._open_to(actor).values("pk"))
