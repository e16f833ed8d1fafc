"""The visits API: the same selectors, services and access policy as the pages."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from appointments import selectors, services
from core.access import Action, Category
from core.api.bases import PaginatedList, PatientAPIView, RecordAPIView
from core.api.serializers import errors
from core.api.validation import valid

from . import serializers as s


class PatientVisitsView(PaginatedList, PatientAPIView):
    access_category = Category.VISITS
    access_actions = {"GET": Action.LIST, "POST": Action.CREATE}
    serializer_class = s.VisitSerializer

    @extend_schema(
        responses={200: s.VisitSerializer(many=True), **errors(400, 404)},
        summary="A patient's visits: upcoming first (soonest first), then the past",
    )
    def get(self, request, patient_uuid):
        return self.listed(
            selectors.visit_list(actor=request.user, patient=self.patient), s.VisitSerializer
        )

    @extend_schema(
        request=s.BookInputSerializer,
        responses={201: s.VisitSerializer, **errors(400, 404)},
        summary="Book a visit with you (a clinician of the care team)",
    )
    def post(self, request, patient_uuid):
        data = valid(s.BookInputSerializer, request.data)
        team = {
            m.clinician.uuid: m.clinician
            for m in selectors.bookable_clinicians(patient=self.patient)
        }
        also_with = None
        if data["also_with"] is not None:
            if data["also_with"] not in team:
                raise ValidationError({"also_with": "Choose someone on the patient's care team."})
            also_with = team[data["also_with"]]
        visit = services.visit_book(
            actor=request.user,
            patient=self.patient,
            clinician=request.user,
            also_with=also_with,
            kind=data["kind"],
            starts_at=data["starts_at"],
            minutes=data["minutes"],
            place=data.get("place", ""),
            video_link=data.get("video_link", ""),
        )
        return Response(s.VisitSerializer(visit).data, status=status.HTTP_201_CREATED)


class _VisitView(RecordAPIView):
    access_category = Category.VISITS
    access_uuid = "visit_uuid"
    serializer_class = s.VisitSerializer

    def access_queryset(self):
        return selectors.VISITS.all()


class VisitView(_VisitView):
    @extend_schema(responses={200: s.VisitSerializer, **errors(404)}, summary="One visit")
    def get(self, request, visit_uuid):
        return Response(s.VisitSerializer(self.record).data)


class VisitStatusView(_VisitView):
    access_actions = {"POST": Action.UPDATE}

    @extend_schema(
        request=s.StatusInputSerializer,
        responses={200: s.VisitSerializer, **errors(400, 404)},
        summary="Say what became of a booked visit: attended, missed or cancelled (the team)",
    )
    def post(self, request, visit_uuid):
        data = valid(s.StatusInputSerializer, request.data)
        visit = services.visit_record(actor=request.user, visit=self.record, status=data["status"])
        return Response(s.VisitSerializer(visit).data)


class VisitChangeView(_VisitView):
    access_actions = {"POST": Action.ANSWER}

    @extend_schema(
        request=s.ChangeInputSerializer,
        responses={200: s.VisitSerializer, **errors(400, 404)},
        summary="Ask to move or cancel a visit (the patient); it stays booked until confirmed",
    )
    def post(self, request, visit_uuid):
        data = valid(s.ChangeInputSerializer, request.data)
        visit = services.visit_change_ask(
            actor=request.user, visit=self.record, change=data["change"], note=data["note"]
        )
        return Response(s.VisitSerializer(visit).data)


class VisitConfirmView(_VisitView):
    access_actions = {"POST": Action.UPDATE}

    @extend_schema(
        request=s.ConfirmInputSerializer,
        responses={200: s.VisitSerializer, **errors(400, 404)},
        summary="Answer the patient's request: confirm (a move needs starts_at) or decline",
    )
    def post(self, request, visit_uuid):
        data = valid(s.ConfirmInputSerializer, request.data)
        visit = services.visit_change_confirm(
            actor=request.user,
            visit=self.record,
            starts_at=data["starts_at"],
            decline=data["answer"] == "decline",
        )
        return Response(s.VisitSerializer(visit).data)
