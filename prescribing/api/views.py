"""The prescribing API: the same selectors, services and access policy as the pages.

Access is decided by the bases (core/api/bases.py) before a handler runs, as a read of the
patient or the medication; a write is guarded again, and audited once, by its service.
Refusals, conflicts and bad input become 403, 409 and 400 in the exception handler
(core/api/errors.py); rule warnings to confirm, 409 with the warnings, here."""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from core import access
from core.access import Action, Category
from core.api.bases import PaginatedList, PatientAPIView, RecordAPIView
from core.api.errors import answers
from core.api.serializers import errors
from core.api.validation import valid
from prescribing import coding, selectors, services

from . import serializers as s

# A 409 here may also carry the rule warnings to confirm before anything is saved.
_CONFIRM = {
    409: OpenApiResponse(
        s.WarningsToConfirmSerializer,
        description="Nothing saved: changed by someone else meanwhile, or warnings to confirm.",
    )
}


@answers(coding.WarningsToConfirm)
def _warnings_to_confirm(exc):
    """Rule warnings (a duplicate, a combination) are a 409 that says what to confirm."""
    return Response(
        {
            "detail": exc.message
            + " Send again with confirm_warnings (the rule codes) and warning_reason.",
            "warnings": [w.as_dict() for w in exc.warnings],
        },
        status=status.HTTP_409_CONFLICT,
    )


class _MedicationView(RecordAPIView):
    access_category = Category.MEDICATIONS
    access_uuid = "medication_uuid"

    def access_queryset(self):
        return selectors.medications()


class MedicationListView(PaginatedList, PatientAPIView):
    access_category = Category.MEDICATIONS
    access_actions = {"GET": Action.LIST, "POST": Action.CREATE}

    @extend_schema(
        responses={200: s.PlanItemSerializer(many=True), **errors(404)},
        summary="A patient's medication plan with supply",
    )
    def get(self, request, patient_uuid):
        items = selectors.medication_plan(actor=request.user, patient=self.patient)
        return self.listed(
            selectors.with_reviews(actor=request.user, patient=self.patient, items=items),
            shown=lambda i: (
                s.MedicationSerializer(i.medication).data
                | {"supply": s.SupplySerializer(i.supply).data}
                | {"review": s.ReviewStateSerializer(i.review).data}
            ),
        )

    @extend_schema(
        request=s.MedicationStartSerializer,
        responses={201: s.MedicationSerializer, **errors(400, 404, 409, instead=_CONFIRM)},
        summary="Start a medication (409 with warnings to confirm before it is saved)",
    )
    def post(self, request, patient_uuid):
        medication = services.medication_start(
            actor=request.user,
            patient=self.patient,
            **valid(s.MedicationStartSerializer, request.data),
        )
        return Response(s.MedicationSerializer(medication).data, status=status.HTTP_201_CREATED)


class MedicationDetailView(_MedicationView):
    @extend_schema(responses={200: s.MedicationSerializer, **errors(404)}, summary="One medication")
    def get(self, request, medication_uuid):
        shown = selectors.medication_shown(actor=request.user, medication=self.record)
        return Response(s.MedicationSerializer(shown).data)


class DecisionView(PaginatedList, _MedicationView):
    @extend_schema(
        responses={200: s.DecisionSerializer(many=True), **errors(404)},
        summary="A medication's decisions, newest first",
    )
    def get(self, request, medication_uuid):
        return self.listed(
            selectors.decisions_of(actor=request.user, medication=self.record),
            s.DecisionSerializer,
        )

    @extend_schema(
        request=s.DecisionInputSerializer,
        responses={201: s.DecisionSerializer, **errors(400, 403, 404, 409, instead=_CONFIRM)},
        summary="Record a decision (409 if stale, or with warnings to confirm)",
    )
    def post(self, request, medication_uuid):
        data = valid(s.DecisionInputSerializer, request.data)
        for field in ("strength", "dose", "directions"):
            data[field] = data[field] or None
        decision = services.medication_decide(actor=request.user, medication=self.record, **data)
        return Response(s.DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


class ReviewView(_MedicationView):
    @extend_schema(
        responses={200: s.ReviewStateSerializer, **errors(404)},
        summary="Whether the medicine is due a deprescribing review, and why",
    )
    def get(self, request, medication_uuid):
        state = selectors.review_state_for(
            actor=request.user, medication=self.record, on=timezone.localdate()
        )
        return Response(s.ReviewStateSerializer(state).data)

    @extend_schema(
        request=s.ReviewInputSerializer,
        responses={201: s.DecisionSerializer, **errors(400, 403, 404, 409)},
        summary="Answer a deprescribing review: continue, taper, stop, or review later",
    )
    def post(self, request, medication_uuid):
        data = valid(s.ReviewInputSerializer, request.data)
        for field in ("strength", "dose", "directions"):
            data[field] = data[field] or None
        decision = services.medication_review(actor=request.user, medication=self.record, **data)
        return Response(s.DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


class PrescriptionListView(PaginatedList, _MedicationView):
    @extend_schema(
        responses={200: s.PrescriptionSerializer(many=True), **errors(400, 404)},
        summary="A medication's prescriptions, newest first",
    )
    def get(self, request, medication_uuid):
        return self.listed(selectors.prescriptions_of(self.record), s.PrescriptionSerializer)

    @extend_schema(
        request=s.PrescriptionInputSerializer,
        responses={201: s.PrescriptionSerializer, **errors(400, 403, 404)},
        summary="Write a prescription, within federal and state limits (a prescriber's)",
    )
    def post(self, request, medication_uuid):
        prescription = services.prescription_write(
            actor=request.user,
            medication=self.record,
            **valid(s.PrescriptionInputSerializer, request.data),
        )
        return Response(s.PrescriptionSerializer(prescription).data, status=status.HTTP_201_CREATED)


class FillListView(PaginatedList, _MedicationView):
    @extend_schema(
        responses={200: s.FillSerializer(many=True), **errors(400, 404)},
        summary="A medication's fills, newest first",
    )
    def get(self, request, medication_uuid):
        return self.listed(selectors.fills_of(self.record), s.FillSerializer)

    @extend_schema(
        request=s.FillInputSerializer,
        responses={201: s.FillSerializer, **errors(400, 403, 404)},
        summary="Record a fill of one of the medication's prescriptions (a prescriber's)",
    )
    def post(self, request, medication_uuid):
        data = valid(s.FillInputSerializer, request.data)
        prescription = selectors.prescription_of(
            medication=self.record, prescription_uuid=data.pop("prescription")
        )
        fill = services.fill_record(actor=request.user, prescription=prescription, **data)
        return Response(s.FillSerializer(fill).data, status=status.HTTP_201_CREATED)


class ObservationView(PaginatedList, _MedicationView):
    @extend_schema(
        responses={200: s.ObservationSerializer(many=True), **errors(400, 404)},
        summary="Observations of a medication, newest first",
    )
    def get(self, request, medication_uuid):
        observations = selectors.observations_listed(
            actor=request.user, patient=self.patient, medication=self.record
        )
        return self.listed(observations, s.ObservationSerializer)

    @extend_schema(
        request=s.ObservationInputSerializer,
        responses={201: s.ObservationSerializer, **errors(400, 404)},
        summary="Add an observation",
    )
    def post(self, request, medication_uuid):
        observation = services.observation_create(
            actor=request.user,
            medication=self.record,
            **valid(s.ObservationInputSerializer, request.data),
        )
        return Response(s.ObservationSerializer(observation).data, status=status.HTTP_201_CREATED)


class PatientObservationListView(PaginatedList, PatientAPIView):
    access_category = Category.OBSERVATIONS
    access_actions = {"GET": Action.LIST}

    @extend_schema(
        responses={200: s.ObservationSerializer(many=True), **errors(400, 404)},
        summary="Observations of all a patient's medications, newest first",
    )
    def get(self, request, patient_uuid):
        observations = selectors.observations_listed(actor=request.user, patient=self.patient)
        return self.listed(observations, s.ObservationSerializer)


class RefillRequestView(_MedicationView):
    @extend_schema(
        request=s.RefillRequestInputSerializer,
        responses={201: s.RefillRequestSerializer, **errors(400, 404)},
        summary="Ask for a refill",
    )
    def post(self, request, medication_uuid):
        made = services.refill_request_create(
            actor=request.user,
            medication=self.record,
            **valid(s.RefillRequestInputSerializer, request.data),
        )
        return Response(s.RefillRequestSerializer(made).data, status=status.HTTP_201_CREATED)


class RefillQueueView(PaginatedList, generics.GenericAPIView):
    concord_access = "list: prescribing.selectors.refill_queue filters by access.visible and audits"

    @extend_schema(
        responses=s.RefillRequestSerializer(many=True),
        summary="Open refill requests for this prescriber",
    )
    def get(self, request):
        return self.listed(selectors.refill_queue(actor=request.user), s.RefillRequestSerializer)


class RefillDecideView(RecordAPIView):
    access_category = Category.REFILLS
    access_uuid = "request_uuid"

    def access_queryset(self):
        return selectors.refill_requests()

    @extend_schema(
        request=s.RefillDecisionSerializer,
        responses={200: s.RefillRequestSerializer, **errors(400, 403, 404)},
        summary="Approve (or renew: approve with a new prescription), decline, ask for a visit, or mark sent",
    )
    def post(self, request, request_uuid):
        data = valid(s.RefillDecisionSerializer, request.data)
        renewal = data.pop("renewal")
        if renewal is not None:
            decided = services.refill_request_renew(
                actor=request.user, request=self.record, reason=data["reason"], **renewal
            )
        else:
            decided = services.refill_request_decide(
                actor=request.user, request=self.record, **data
            )
        return Response(s.RefillRequestSerializer(decided).data)


class FormularyView(PaginatedList, generics.GenericAPIView):
    concord_access = "no patient data: the formulary, for those who prescribe"

    @extend_schema(
        responses={
            200: s.FormularyEntrySerializer(many=True),
            **errors(400, 403),
        },
        summary="The formulary's medicines offered when starting one, by name",
    )
    def get(self, request):
        if not access.can(request.user, Action.PRESCRIBE, Category.MEDICATIONS):
            raise PermissionDenied("The formulary is for prescribers.")
        return self.listed(coding.formulary_entries(), s.FormularyEntrySerializer)
