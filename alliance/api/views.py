"""The alliance API: the same selectors, services and access policy as the pages."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance import selectors, services
from core import access
from core import selectors as core_selectors
from core.access import Action, Category
from core.api.validation import valid
from core.exceptions import Conflict

from . import serializers as s

RECORD = "record: alliance.selectors.*_get → access.require_record"


class InstrumentListView(APIView):
    concord_access = "no patient data: instrument definitions"

    @extend_schema(
        responses=s.InstrumentSerializer(many=True),
        summary="Instruments offered (newest version of each)",
    )
    def get(self, request):
        return Response(s.InstrumentSerializer(selectors.instruments_offered(), many=True).data)


class CheckInListView(APIView):
    concord_access = f"patient:{Category.ALLIANCE}:{Action.LIST}"

    @extend_schema(
        responses=s.CheckInSerializer(many=True), summary="Submitted check-ins with scores"
    )
    def get(self, request, patient_uuid):
        patient, _ = access.patient_get(request.user, patient_uuid, Category.ALLIANCE, Action.LIST)
        check_ins = [
            c
            for series in selectors.trends(actor=request.user, patient=patient)
            for c in series.check_ins
        ]
        return Response(s.CheckInSerializer(check_ins, many=True).data)

    @extend_schema(
        request=s.CheckInStartSerializer,
        responses={201: s.CheckInSerializer},
        summary="Start or resume a check-in",
    )
    def post(self, request, patient_uuid):
        patient, _ = access.patient_get(
            request.user, patient_uuid, Category.ALLIANCE, Action.CREATE
        )
        data = valid(s.CheckInStartSerializer, request.data)
        instrument = next(
            (i for i in selectors.instruments_offered() if i.key == data["instrument"]), None
        )
        if instrument is None:
            raise ValidationError({"instrument": "Unknown instrument."})
        team = {
            m.clinician.uuid: m.clinician for m in core_selectors.care_team_for(patient=patient)
        }
        clinician = team.get(data["clinician"]) if data["clinician"] else None
        check_in = services.check_in_start(
            actor=request.user, patient=patient, instrument=instrument, clinician=clinician
        )
        return Response(s.CheckInSerializer(check_in).data, status=status.HTTP_201_CREATED)


class CheckInDetailView(APIView):
    concord_access = RECORD

    @extend_schema(responses=s.CheckInSerializer, summary="One check-in")
    def get(self, request, check_in_uuid):
        return Response(
            s.CheckInSerializer(
                selectors.check_in_get(actor=request.user, check_in_uuid=check_in_uuid)
            ).data
        )

    @extend_schema(
        request=s.AnswersSerializer, responses=s.CheckInSerializer, summary="Save answers so far"
    )
    def patch(self, request, check_in_uuid):
        check_in = selectors.check_in_get(
            actor=request.user, check_in_uuid=check_in_uuid, action=Action.UPDATE
        )
        data = valid(s.AnswersSerializer, request.data)
        return Response(
            s.CheckInSerializer(
                services.check_in_save(actor=request.user, check_in=check_in, **data)
            ).data
        )


class CheckInSubmitView(APIView):
    concord_access = RECORD

    @extend_schema(
        request=s.AnswersSerializer,
        responses=s.CheckInSerializer,
        summary="Send a complete check-in (once)",
    )
    def post(self, request, check_in_uuid):
        check_in = selectors.check_in_get(
            actor=request.user, check_in_uuid=check_in_uuid, action=Action.UPDATE
        )
        data = valid(s.AnswersSerializer, request.data)
        sent = services.check_in_submit(actor=request.user, check_in=check_in, **data)
        if sent.answers_not_sent:
            raise Conflict(
                "This check-in had already been sent with other answers; these were not recorded."
            )
        return Response(s.CheckInSerializer(sent).data)


class FlagListView(APIView):
    concord_access = f"patient:{Category.ALLIANCE}:{Action.LIST}"

    @extend_schema(
        responses=s.FlagSerializer(many=True),
        summary="Open concern flags and safety alerts (clinicians)",
    )
    def get(self, request, patient_uuid):
        patient, _ = access.patient_get(request.user, patient_uuid, Category.ALLIANCE, Action.LIST)
        return Response(
            s.FlagSerializer(
                selectors.open_flags(actor=request.user, patient=patient), many=True
            ).data
        )


class FlagAcknowledgeView(APIView):
    concord_access = RECORD

    @extend_schema(
        request=s.AcknowledgeSerializer, responses=s.FlagSerializer, summary="Acknowledge a flag"
    )
    def post(self, request, flag_uuid):
        flag = selectors.flag_get(actor=request.user, flag_uuid=flag_uuid, action=Action.UPDATE)
        data = valid(s.AcknowledgeSerializer, request.data)
        return Response(
            s.FlagSerializer(services.flag_acknowledge(actor=request.user, flag=flag, **data)).data
        )


class ConsultationListView(APIView):
    concord_access = f"patient:{Category.ALLIANCE}:{Action.LIST}"

    @extend_schema(responses=s.ConsultationSerializer(many=True), summary="Alliance consultations")
    def get(self, request, patient_uuid):
        patient, _ = access.patient_get(request.user, patient_uuid, Category.ALLIANCE, Action.LIST)
        return Response(
            s.ConsultationSerializer(
                selectors.consultations(actor=request.user, patient=patient), many=True
            ).data
        )

    @extend_schema(
        request=s.ConsultationSerializer,
        responses={201: s.ConsultationSerializer},
        summary="Record a consultation",
    )
    def post(self, request, patient_uuid):
        patient, _ = access.patient_get(
            request.user, patient_uuid, Category.ALLIANCE, Action.CREATE
        )
        data = valid(s.ConsultationSerializer, request.data)
        team = core_selectors.care_team_for(patient=patient)
        consultation = services.consultation_create(
            actor=request.user,
            patient=patient,
            prescriber=next((m.clinician for m in team if m.role == "prescriber"), None),
            therapist=next((m.clinician for m in team if m.role == "therapist"), None),
            **data,
        )
        return Response(s.ConsultationSerializer(consultation).data, status=status.HTTP_201_CREATED)
