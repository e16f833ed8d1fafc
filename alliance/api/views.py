"""The alliance API: the same selectors, services and access policy as the pages.

Access is decided by the bases (core/api/bases.py) before a handler runs; a write is guarded
again, and audited, by its service; refusals, conflicts and bad input become 403, 409 and 400
in the exception handler (core/api/errors.py)."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from alliance import selectors, services
from core import selectors as core_selectors
from core.access import Action, Category
from core.api.bases import PaginatedList, PatientAPIView, RecordAPIView
from core.api.pagination import LimitOffsetPagination
from core.api.serializers import DetailSerializer, errors
from core.api.validation import valid
from core.exceptions import Conflict

from . import serializers as s

# The one 409 here: a check-in sent already, with other answers.
_SENT = {409: OpenApiResponse(DetailSerializer, description="Sent already, differently.")}


@extend_schema(
    summary="Instruments offered (newest version of each)",
    responses={200: s.InstrumentSerializer(many=True), **errors(400)},
)
class InstrumentListView(generics.ListAPIView):
    concord_access = "no patient data: instrument definitions"
    pagination_class = LimitOffsetPagination
    serializer_class = s.InstrumentSerializer

    def get_queryset(self):
        return selectors.instruments_offered()


class CheckInListView(PaginatedList, PatientAPIView):
    access_category = Category.ALLIANCE
    access_actions = {"GET": Action.LIST, "POST": Action.CREATE}

    @extend_schema(
        responses={200: s.CheckInSerializer(many=True), **errors(400, 404)},
        summary="Submitted check-ins with scores",
    )
    def get(self, request, patient_uuid):
        sent = selectors.check_ins_sent(actor=request.user, patient=self.patient)
        return self.listed(sent, s.CheckInSerializer)

    @extend_schema(
        request=s.CheckInStartSerializer,
        responses={201: s.CheckInSerializer, **errors(400, 403, 404)},
        summary="Start or resume a check-in (the patient's own)",
    )
    def post(self, request, patient_uuid):
        data = valid(s.CheckInStartSerializer, request.data)
        check_in = services.check_in_start(
            actor=request.user, patient=self.patient, **_chosen(self.patient, data)
        )
        return Response(s.CheckInSerializer(check_in).data, status=status.HTTP_201_CREATED)


def _chosen(patient, data) -> dict:
    """The instrument (by key) and the clinician on the patient's care team (by uuid) named."""
    instrument = next(
        (i for i in selectors.instruments_offered() if i.key == data["instrument"]), None
    )
    if instrument is None:
        raise ValidationError({"instrument": "Unknown instrument."})
    clinician = None
    if data["clinician"]:
        team = {
            m.clinician.uuid: m.clinician for m in core_selectors.care_team_for(patient=patient)
        }
        clinician = team.get(data["clinician"])
    return {"instrument": instrument, "clinician": clinician}


class CheckInSendView(PatientAPIView):
    access_category = Category.ALLIANCE
    access_actions = {"POST": Action.CREATE}

    @extend_schema(
        request=s.CheckInSendSerializer,
        responses={201: s.CheckInSerializer, **errors(400, 403, 404)},
        summary="Start and send a complete check-in in one call (the patient's own)",
    )
    def post(self, request, patient_uuid):
        data = valid(s.CheckInSendSerializer, request.data)
        sent = services.check_in_submit_new(
            actor=request.user,
            patient=self.patient,
            answers=data["answers"],
            open_answer=data["open_answer"],
            **_chosen(self.patient, data),
        )
        return Response(s.CheckInSerializer(sent).data, status=status.HTTP_201_CREATED)


class _CheckInView(RecordAPIView):
    access_category = Category.ALLIANCE
    access_uuid = "check_in_uuid"

    def access_queryset(self):
        return selectors.check_ins()

    access_category_of = staticmethod(selectors.check_in_category)


class CheckInDetailView(_CheckInView):
    @extend_schema(responses={200: s.CheckInSerializer, **errors(404)}, summary="One check-in")
    def get(self, request, check_in_uuid):
        return Response(s.CheckInSerializer(self.record).data)

    @extend_schema(
        request=s.AnswersSerializer,
        responses={200: s.CheckInSerializer, **errors(400, 403, 404)},
        summary="Save answers so far (the patient's own)",
    )
    def patch(self, request, check_in_uuid):
        data = valid(s.AnswersSerializer, request.data)
        saved = services.check_in_save(actor=request.user, check_in=self.record, **data)
        return Response(s.CheckInSerializer(saved).data)


class CheckInSubmitView(_CheckInView):
    @extend_schema(
        request=s.AnswersSerializer,
        responses={200: s.CheckInSerializer, **errors(400, 403, 404, 409, instead=_SENT)},
        summary="Send a complete check-in (once)",
    )
    def post(self, request, check_in_uuid):
        data = valid(s.AnswersSerializer, request.data)
        sent = services.check_in_submit(actor=request.user, check_in=self.record, **data)
        if sent.answers_not_sent:
            raise Conflict(
                "This check-in had already been sent with other answers; these were not recorded."
            )
        return Response(s.CheckInSerializer(sent).data)


class AllianceHistoryView(PaginatedList, PatientAPIView):
    access_category = Category.ALLIANCE
    access_actions = {"GET": Action.LIST}

    @extend_schema(
        responses={200: s.SeriesSerializer(many=True), **errors(400, 404)},
        summary="Alliance and outcome trends, per instrument and relationship, with open flags",
    )
    def get(self, request, patient_uuid):
        series, _ = selectors.history(actor=request.user, patient=self.patient)
        return self.listed(series, s.SeriesSerializer)


class FlagListView(PaginatedList, PatientAPIView):
    access_category = Category.ALLIANCE
    access_actions = {"GET": Action.LIST}

    @extend_schema(
        responses={200: s.FlagSerializer(many=True), **errors(400, 404)},
        summary="Open concern flags and safety alerts (clinicians)",
    )
    def get(self, request, patient_uuid):
        return self.listed(
            selectors.open_flags(actor=request.user, patient=self.patient), s.FlagSerializer
        )


class FlagAcknowledgeView(RecordAPIView):
    access_category = Category.ALLIANCE
    access_uuid = "flag_uuid"

    def access_queryset(self):
        return selectors.flags()

    access_category_of = staticmethod(selectors.flag_category)

    @extend_schema(
        request=s.AcknowledgeSerializer,
        responses={200: s.FlagSerializer, **errors(400, 403, 404)},
        summary="Acknowledge a flag (a concern: the clinician it is about)",
    )
    def post(self, request, flag_uuid):
        data = valid(s.AcknowledgeSerializer, request.data)
        flag = services.flag_acknowledge(actor=request.user, flag=self.record, **data)
        return Response(s.FlagSerializer(flag).data)


class ConsultationListView(PaginatedList, PatientAPIView):
    access_category = Category.CONSULTATIONS
    access_actions = {"GET": Action.LIST, "POST": Action.CREATE}

    @extend_schema(
        responses={200: s.ConsultationSerializer(many=True), **errors(400, 404)},
        summary="Alliance consultations (the patient: those shared with them)",
    )
    def get(self, request, patient_uuid):
        return self.listed(
            selectors.consultations(actor=request.user, patient=self.patient),
            s.ConsultationSerializer,
        )

    @extend_schema(
        request=s.ConsultationSerializer,
        responses={201: s.ConsultationSerializer, **errors(400, 403, 404)},
        summary="Record a consultation (its prescriber or therapist)",
    )
    def post(self, request, patient_uuid):
        data = valid(s.ConsultationSerializer, request.data)
        prescriber, therapist = selectors.consultation_pair(patient=self.patient)
        consultation = services.consultation_create(
            actor=request.user,
            patient=self.patient,
            prescriber=prescriber,
            therapist=therapist,
            **data,
        )
        return Response(s.ConsultationSerializer(consultation).data, status=status.HTTP_201_CREATED)
