"""The referrals API: the same selectors, services and access policy as the pages.

Each view stands on core/api/bases.py: the patient or the record is found through
`access.get` before the handler runs; a write is guarded (and audited) by its service; the
exception handler turns the service's refusals and bad input into 403 and 400.
"""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from core import access
from core import selectors as core_selectors
from core.access import Action, Category
from core.api.bases import PaginatedList, PatientAPIView, RecordAPIView
from core.api.serializers import errors
from core.api.validation import valid
from core.middleware import client_ip
from referrals import selectors, services

from . import serializers as s


def _clinician(uuid):
    found = next((c for c in core_selectors.clinician_directory() if c.uuid == uuid), None)
    if found is None:
        raise ValidationError({"clinician": "Unknown clinician."})
    return found


# --- Referrals -------------------------------------------------------------------------------


@access.declare("list: referrals.selectors.referral_inbox filters by access.visible and audits")
class ReferralInboxView(PaginatedList, generics.GenericAPIView):
    serializer_class = s.ReferralSerializer

    @extend_schema(
        parameters=[s.ReferralInboxQuerySerializer],
        responses={200: s.ReferralSerializer(many=True), **errors(400)},
        summary="Referrals sent to you and by you, open ones first",
    )
    def get(self, request):
        box = valid(s.ReferralInboxQuerySerializer, request.query_params).get("box")
        inbox = selectors.referral_inbox(actor=request.user)
        items = inbox[box] if box else inbox["received"] + inbox["sent"]
        return self.listed(items, s.ReferralSerializer)


class ReferralListView(PaginatedList, PatientAPIView):
    access_category = Category.REFERRALS
    # As the page: the patient is found as for the list; the service guards the referral.
    access_actions = {"GET": Action.LIST, "POST": Action.LIST}
    serializer_class = s.ReferralSerializer

    @extend_schema(
        responses={200: s.ReferralSerializer(many=True), **errors(400, 404)},
        summary="A patient's referrals",
    )
    def get(self, request, patient_uuid):
        items = selectors.referrals_for_patient(actor=request.user, patient=self.patient)
        return self.listed(items, s.ReferralSerializer)

    @extend_schema(
        request=s.ReferralInputSerializer,
        responses={201: s.ReferralSerializer, **errors(400, 404)},
        summary="Refer the patient",
    )
    def post(self, request, patient_uuid):
        data = valid(s.ReferralInputSerializer, request.data)
        referral = services.referral_create(
            actor=request.user,
            patient=self.patient,
            to_clinician=_clinician(data.pop("to_clinician")),
            **data,
        )
        return Response(s.ReferralSerializer(referral).data, status=status.HTTP_201_CREATED)


class _Referral(RecordAPIView):
    access_category = Category.REFERRALS
    access_uuid = "referral_uuid"
    # The referral is found as a read; the service guards an answer or a move itself.
    access_actions = {"POST": Action.READ}
    serializer_class = s.ReferralSerializer

    def access_queryset(self):
        return selectors.REFERRALS.all()


class ReferralDetailView(_Referral):
    @extend_schema(responses={200: s.ReferralSerializer, **errors(404)}, summary="One referral")
    def get(self, request, referral_uuid):
        return Response(s.ReferralSerializer(self.record).data)


class ReferralMoveView(_Referral):
    @extend_schema(
        request=s.ReferralMoveSerializer,
        responses={200: s.ReferralSerializer, **errors(400, 403, 404)},
        summary="Accept or decline (its recipient), start or close (its two clinicians)",
    )
    def post(self, request, referral_uuid):
        moved = services.referral_move(
            actor=request.user,
            referral=self.record,
            **valid(s.ReferralMoveSerializer, request.data),
        )
        return Response(s.ReferralSerializer(moved).data)


# --- Releases --------------------------------------------------------------------------------


class ReleaseListView(PaginatedList, PatientAPIView):
    access_category = Category.RELEASES
    access_actions = {"GET": Action.LIST, "POST": Action.CREATE}
    serializer_class = s.ReleaseSerializer

    @extend_schema(
        responses={200: s.ReleaseSerializer(many=True), **errors(400, 404)},
        summary="A patient's releases of information",
    )
    def get(self, request, patient_uuid):
        views = selectors.releases_for_patient(actor=request.user, patient=self.patient)
        return self.listed([v.release for v in views], s.ReleaseSerializer)

    @extend_schema(
        request=s.ReleaseInputSerializer,
        responses={201: s.ReleaseSerializer, **errors(400, 404)},
        summary="Sign a release (the patient)",
    )
    def post(self, request, patient_uuid):
        data = valid(s.ReleaseInputSerializer, request.data)
        release = services.release_sign(
            actor=request.user,
            patient=self.patient,
            discloser=_clinician(data.pop("discloser")),
            recipient=_clinician(data.pop("recipient")),
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
            **data,
        )
        return Response(s.ReleaseSerializer(release).data, status=status.HTTP_201_CREATED)


class _Release(RecordAPIView):
    access_category = Category.RELEASES
    access_uuid = "release_uuid"
    # The release is found as a read; the service guards the revocation itself.
    access_actions = {"POST": Action.READ}
    serializer_class = s.ReleaseSerializer

    def access_queryset(self):
        return selectors.RELEASES.all()


class ReleaseDetailView(_Release):
    @extend_schema(
        responses={200: s.ReleaseSerializer, **errors(404)}, summary="One release of information"
    )
    def get(self, request, release_uuid):
        return Response(s.ReleaseSerializer(self.record).data)


class ReleaseRevokeView(_Release):
    @extend_schema(
        request=None,
        responses={200: s.ReleaseSerializer, **errors(404)},
        summary="Revoke a release (the patient)",
    )
    def post(self, request, release_uuid):
        services.release_revoke(actor=request.user, release=self.record)
        # Read again, with its revocation.
        return Response(s.ReleaseSerializer(self.access_queryset().get(pk=self.record.pk)).data)


# --- The clinicians' thread ------------------------------------------------------------------


class ThreadView(PaginatedList, PatientAPIView):
    access_category = Category.THREADS
    # As the page: the patient is found as for the thread; the service guards the post (and
    # refuses, audited, one no one else could read).
    access_actions = {"GET": Action.LIST, "POST": Action.LIST}
    serializer_class = s.ThreadPostSerializer

    @extend_schema(
        request=s.ThreadPostInputSerializer,
        responses={201: s.ThreadPostSerializer, **errors(400, 403, 404)},
        summary="Post to the thread (refused with 403 and the reason when no one of the other "
        "practice could read it)",
    )
    def post(self, request, patient_uuid):
        data = valid(s.ThreadPostInputSerializer, request.data)
        reply_to = None
        if data["reply_to"]:
            reply_to = selectors.thread_post_get(actor=request.user, post_uuid=data["reply_to"])
        post = services.thread_post(
            actor=request.user,
            patient=self.patient,
            kind=data["kind"],
            text=data["text"],
            reply_to=reply_to,
        )
        return Response(s.ThreadPostSerializer(post).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={200: s.ThreadPostSerializer(many=True), **errors(400, 404)},
        summary="The prescriber–therapist thread",
    )
    def get(self, request, patient_uuid):
        posts = selectors.thread(actor=request.user, patient=self.patient)
        return self.listed(posts, s.ThreadPostSerializer)


class ThreadReadersView(PatientAPIView):
    access_category = Category.THREADS
    access_actions = {"GET": Action.LIST}
    serializer_class = s.ThreadReadersSerializer

    @extend_schema(
        responses={200: s.ThreadReadersSerializer, **errors(404)},
        summary="Who would read a post written now, and whether posting is open",
    )
    def get(self, request, patient_uuid):
        readers = selectors.thread_readers(actor=request.user, patient=self.patient)
        return Response(
            s.ThreadReadersSerializer(
                {
                    "can_post": readers.can_post,
                    "why_not": readers.why_not(),
                    "readers": readers.readers,
                }
            ).data
        )
