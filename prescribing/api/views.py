"""The prescribing API: the same selectors, services and access policy as the pages."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core import access
from core.access import Action, Category
from core.api.validation import valid
from prescribing import coding, selectors, services

from . import serializers as s

RECORD = "record: prescribing.selectors.*_get → access.require_record"


def _warnings_response(exc: coding.WarningsToConfirm) -> Response:
    """409: nothing saved; the warnings, and how to go ahead."""
    return Response(
        {
            "detail": exc.message
            + " Send again with confirm_warnings (the rule codes) and warning_reason.",
            "warnings": [w.as_dict() for w in exc.warnings],
        },
        status=status.HTTP_409_CONFLICT,
    )


class MedicationListView(APIView):
    concord_access = f"patient:{Category.MEDICATIONS}:{Action.LIST}"

    @extend_schema(
        responses=s.PlanItemSerializer(many=True), summary="A patient's medication plan with supply"
    )
    def get(self, request, patient_uuid):
        patient, _ = access.patient_get(
            request.user, patient_uuid, Category.MEDICATIONS, Action.LIST
        )
        items = selectors.medication_plan(actor=request.user, patient=patient)
        return Response(
            [
                s.MedicationSerializer(i.medication).data
                | {"supply": s.SupplySerializer(i.supply).data}
                for i in items
            ]
        )

    @extend_schema(
        request=s.MedicationStartSerializer,
        responses={201: s.MedicationSerializer, 409: s.WarningsToConfirmSerializer},
        summary="Start a medication (409 with warnings to confirm before it is saved)",
    )
    def post(self, request, patient_uuid):
        patient, _ = access.patient_get(
            request.user, patient_uuid, Category.MEDICATIONS, Action.CREATE
        )
        try:
            medication = services.medication_start(
                actor=request.user,
                patient=patient,
                **valid(s.MedicationStartSerializer, request.data),
            )
        except coding.WarningsToConfirm as exc:
            return _warnings_response(exc)
        return Response(s.MedicationSerializer(medication).data, status=status.HTTP_201_CREATED)


class MedicationDetailView(APIView):
    concord_access = RECORD

    @extend_schema(responses=s.MedicationSerializer, summary="One medication")
    def get(self, request, medication_uuid):
        return Response(
            s.MedicationSerializer(
                selectors.medication_get(actor=request.user, medication_uuid=medication_uuid)
            ).data
        )


class DecisionView(APIView):
    concord_access = RECORD

    @extend_schema(
        responses=s.DecisionSerializer(many=True), summary="A medication's decisions, newest first"
    )
    def get(self, request, medication_uuid):
        medication = selectors.medication_get(actor=request.user, medication_uuid=medication_uuid)
        return Response(s.DecisionSerializer(medication.decisions.all(), many=True).data)

    @extend_schema(
        request=s.DecisionInputSerializer,
        responses={201: s.DecisionSerializer, 409: s.WarningsToConfirmSerializer},
        summary="Record a decision (409 if stale)",
    )
    def post(self, request, medication_uuid):
        medication = selectors.medication_get(
            actor=request.user, medication_uuid=medication_uuid, action=Action.UPDATE
        )
        data = valid(s.DecisionInputSerializer, request.data)
        kind = data.pop("kind")
        dose_fields = {k: data.pop(k) or None for k in ("strength", "dose", "directions")}
        confirmation = {k: data.pop(k) for k in ("confirm_warnings", "warning_reason")}
        if kind == "dose_change":
            decision = services.medication_change_dose(
                actor=request.user, medication=medication, **dose_fields, **data
            )
        else:
            try:
                decision = services.medication_set_status(
                    actor=request.user, medication=medication, status=kind, **confirmation, **data
                )
            except coding.WarningsToConfirm as exc:
                return _warnings_response(exc)
        return Response(s.DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


class ObservationView(APIView):
    concord_access = RECORD

    @extend_schema(
        request=s.ObservationInputSerializer,
        responses={201: s.ObservationSerializer},
        summary="Add an observation",
    )
    def post(self, request, medication_uuid):
        medication = selectors.medication_get(actor=request.user, medication_uuid=medication_uuid)
        observation = services.observation_create(
            actor=request.user,
            medication=medication,
            **valid(s.ObservationInputSerializer, request.data),
        )
        return Response(s.ObservationSerializer(observation).data, status=status.HTTP_201_CREATED)


class RefillRequestView(APIView):
    concord_access = RECORD

    @extend_schema(
        request=s.RefillRequestInputSerializer,
        responses={201: s.RefillRequestSerializer},
        summary="Ask for a refill",
    )
    def post(self, request, medication_uuid):
        medication = selectors.medication_get(actor=request.user, medication_uuid=medication_uuid)
        made = services.refill_request_create(
            actor=request.user,
            medication=medication,
            **valid(s.RefillRequestInputSerializer, request.data),
        )
        return Response(s.RefillRequestSerializer(made).data, status=status.HTTP_201_CREATED)


class RefillQueueView(APIView):
    concord_access = (
        "list: prescribing.selectors.refill_queue filters by access.records_visible and audits"
    )

    @extend_schema(
        responses=s.RefillRequestSerializer(many=True),
        summary="Open refill requests for this prescriber",
    )
    def get(self, request):
        return Response(
            s.RefillRequestSerializer(selectors.refill_queue(actor=request.user), many=True).data
        )


class RefillDecideView(APIView):
    concord_access = RECORD

    @extend_schema(
        request=s.RefillDecisionSerializer,
        responses=s.RefillRequestSerializer,
        summary="Approve (or renew: approve with a new prescription), decline, ask for a visit, or mark sent",
    )
    def post(self, request, request_uuid):
        refill = selectors.refill_request_get(
            actor=request.user, request_uuid=request_uuid, action=Action.UPDATE
        )
        data = valid(s.RefillDecisionSerializer, request.data)
        renewal = data.pop("renewal")
        if renewal is not None:
            decided = services.refill_request_renew(
                actor=request.user, request=refill, reason=data["reason"], **renewal
            )
        else:
            decided = services.refill_request_decide(actor=request.user, request=refill, **data)
        return Response(s.RefillRequestSerializer(decided).data)
