"""The referrals API: the same selectors, services and access policy as the pages."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core import access
from core import selectors as core_selectors
from core.access import Action, Category
from core.api.validation import valid
from core.exceptions import NotAllowed
from core.middleware import client_ip
from referrals import selectors, services

from . import serializers as s

RECORD = "record: referrals.selectors.*_get → access.require_record"


def _clinician(uuid):
    found = next((c for c in core_selectors.clinician_directory() if c.uuid == uuid), None)
    if found is None:
        raise ValidationError({"clinician": "Unknown clinician."})
    return found


class ReferralListView(APIView):
    concord_access = f"patient:{Category.REFERRALS}:{Action.LIST}"

    @extend_schema(responses=s.ReferralSerializer(many=True), summary="A patient's referrals")
    def get(self, request, patient_uuid):
        patient, _ = access.patient_get(request.user, patient_uuid, Category.REFERRALS, Action.LIST)
        return Response(
            s.ReferralSerializer(
                selectors.referrals_for_patient(actor=request.user, patient=patient), many=True
            ).data
        )

    @extend_schema(
        request=s.ReferralInputSerializer,
        responses={201: s.ReferralSerializer},
        summary="Refer the patient",
    )
    def post(self, request, patient_uuid):
        patient, _ = access.patient_get(
            request.user, patient_uuid, Category.REFERRALS, Action.CREATE
        )
        data = valid(s.ReferralInputSerializer, request.data)
        referral = services.referral_create(
            actor=request.user,
            patient=patient,
            to_clinician=_clinician(data.pop("to_clinician")),
            **data,
        )
        return Response(s.ReferralSerializer(referral).data, status=status.HTTP_201_CREATED)


class ReferralMoveView(APIView):
    concord_access = RECORD

    @extend_schema(
        request=s.ReferralMoveSerializer,
        responses=s.ReferralSerializer,
        summary="Accept, decline, start or close",
    )
    def post(self, request, referral_uuid):
        referral = selectors.referral_get(
            actor=request.user, referral_uuid=referral_uuid, action=Action.UPDATE
        )
        moved = services.referral_move(
            actor=request.user, referral=referral, **valid(s.ReferralMoveSerializer, request.data)
        )
        return Response(s.ReferralSerializer(moved).data)


class ReleaseListView(APIView):
    concord_access = f"patient:{Category.RELEASES}:{Action.LIST}"

    @extend_schema(
        responses=s.ReleaseSerializer(many=True), summary="A patient's releases of information"
    )
    def get(self, request, patient_uuid):
        patient, _ = access.patient_get(request.user, patient_uuid, Category.RELEASES, Action.LIST)
        views = selectors.releases_for_patient(actor=request.user, patient=patient)
        return Response(s.ReleaseSerializer([v.release for v in views], many=True).data)

    @extend_schema(
        request=s.ReleaseInputSerializer,
        responses={201: s.ReleaseSerializer},
        summary="Sign a release (the patient)",
    )
    def post(self, request, patient_uuid):
        patient, _ = access.patient_get(
            request.user, patient_uuid, Category.RELEASES, Action.CREATE
        )
        data = valid(s.ReleaseInputSerializer, request.data)
        release = services.release_sign(
            actor=request.user,
            patient=patient,
            discloser=_clinician(data.pop("discloser")),
            recipient=_clinician(data.pop("recipient")),
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
            **data,
        )
        return Response(s.ReleaseSerializer(release).data, status=status.HTTP_201_CREATED)


class ReleaseRevokeView(APIView):
    concord_access = RECORD

    @extend_schema(
        request=None, responses=s.ReleaseSerializer, summary="Revoke a release (the patient)"
    )
    def post(self, request, release_uuid):
        view = selectors.release_get(
            actor=request.user, release_uuid=release_uuid, action=Action.UPDATE
        )
        services.release_revoke(actor=request.user, release=view.release)
        return Response(
            s.ReleaseSerializer(
                selectors.release_get(actor=request.user, release_uuid=release_uuid).release
            ).data
        )


class ThreadView(APIView):
    concord_access = f"patient:{Category.OBSERVATIONS}:{Action.LIST}"

    @extend_schema(
        request=s.ThreadPostInputSerializer,
        responses={201: s.ThreadPostSerializer, 403: s.RefusalSerializer},
        summary="Post to the thread (refused with 403 and the reason when no one of the other "
        "practice could read it)",
    )
    def post(self, request, patient_uuid):
        patient, _ = access.patient_get(
            request.user, patient_uuid, Category.OBSERVATIONS, Action.CREATE
        )
        data = valid(s.ThreadPostInputSerializer, request.data)
        reply_to = None
        if data["reply_to"]:
            reply_to = selectors.thread_post_get(actor=request.user, post_uuid=data["reply_to"])
        post = services.thread_post(
            actor=request.user,
            patient=patient,
            kind=data["kind"],
            text=data["text"],
            reply_to=reply_to,
        )
        return Response(s.ThreadPostSerializer(post).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses=s.ThreadPostSerializer(many=True), summary="The prescriber–therapist thread"
    )
    def get(self, request, patient_uuid):
        patient, _ = access.patient_get(
            request.user, patient_uuid, Category.OBSERVATIONS, Action.LIST
        )
        return Response(
            s.ThreadPostSerializer(
                selectors.thread(actor=request.user, patient=patient), many=True
            ).data
        )


class ThreadReadersView(APIView):
    concord_access = f"patient:{Category.OBSERVATIONS}:{Action.LIST}"

    @extend_schema(
        responses=s.ThreadReadersSerializer,
        summary="Who would read a post written now, and whether posting is open",
    )
    def get(self, request, patient_uuid):
        patient, _ = access.patient_get(
            request.user, patient_uuid, Category.OBSERVATIONS, Action.LIST
        )
        if not request.user.is_clinician:
            raise NotAllowed("The thread is for the patient's clinicians.")
        readers = selectors.thread_readers(actor=request.user, patient=patient)
        return Response(
            s.ThreadReadersSerializer(
                {
                    "can_post": readers.can_post,
                    "why_not": readers.why_not(),
                    "readers": readers.readers,
                }
            ).data
        )
