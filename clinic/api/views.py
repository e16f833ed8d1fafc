from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import equity, fhir
from clinic import selectors as clinic_selectors
from core import access
from core.access import Action, Category
from core.api.bases import PaginatedList, PatientAPIView
from core.api.serializers import errors
from core.api.validation import valid
from messaging.api.views import ConversationView as MessagingConversationView

from .serializers import CaseloadQuerySerializer, CaseloadRowSerializer, caseload_row


class FhirExportView(PatientAPIView):
    """The patient's record as a FHIR R4 Bundle, with what the caller may see."""

    access_category = Category.PROFILE
    access_actions = {"GET": Action.EXPORT}

    @extend_schema(
        responses={
            200: OpenApiResponse(description="A FHIR R4 Bundle (collection)"),
            **errors(404),
        },
        summary="Export a patient as FHIR R4",
    )
    def get(self, request, patient_uuid):
        return Response(fhir.patient_bundle(actor=request.user, patient=self.patient))


# --- The equity view: aggregates only --------------------------------------------------------


class EquityQuerySerializer(serializers.Serializer):
    dimension = serializers.ChoiceField(choices=sorted(equity.DIMENSIONS), default="race")
    since = serializers.DateField(required=False, help_text="YYYY-MM-DD; a year ago if absent")
    until = serializers.DateField(required=False, help_text="YYYY-MM-DD; today if absent")
    practice = serializers.UUIDField(
        required=False, help_text="One practice you run; every one you run if absent"
    )

    def validate(self, data):
        since, until = equity.default_period(timezone.localdate())
        data.setdefault("since", since)
        data.setdefault("until", until)
        if data["since"] > data["until"]:
            raise serializers.ValidationError({"until": ["The end date is before the start date."]})
        if (data["until"] - data["since"]).days > 366 * 5:
            raise serializers.ValidationError({"since": ["Choose a period of five years or less."]})
        return data


class EquityCellSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True, help_text="null when hidden or no data")
    hidden = serializers.BooleanField(help_text=f"Hidden: rests on fewer than {equity.MIN_CELL}")


class EquityRowSerializer(serializers.Serializer):
    group = serializers.CharField(help_text="The group's code ('' for not described)")
    label = serializers.CharField()
    cells = serializers.DictField(child=EquityCellSerializer(), help_text="By column key")


class EquityTableSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    since = serializers.DateField()
    until = serializers.DateField()
    practices = serializers.ListField(child=serializers.CharField())
    min_cell = serializers.IntegerField()
    columns = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    groups = EquityRowSerializer(many=True)
    total = serializers.DictField(child=EquityCellSerializer())


def _cells(row: dict) -> dict:
    return {
        c.key: {
            "value": None if row[c.key] == equity.HIDDEN else row[c.key],
            "hidden": row[c.key] == equity.HIDDEN,
        }
        for c in equity.COLUMNS
    }


class _EquityBase(APIView):
    def table(self, request):
        query = valid(EquityQuerySerializer, request.query_params)
        practices = clinic_selectors.equity_practices(actor=request.user)
        if "practice" in query:
            practices = practices.filter(uuid=query["practice"])
            if not practices.exists():
                raise NotFound("Not found.")
        return clinic_selectors.equity_table(
            actor=request.user,
            practices=practices,
            dimension=query["dimension"],
            since=query["since"],
            until=query["until"],
        )


_EQUITY_PARAMETERS = [
    OpenApiParameter("dimension", str, enum=sorted(equity.DIMENSIONS)),
    OpenApiParameter("since", OpenApiTypes.DATE),
    OpenApiParameter("until", OpenApiTypes.DATE),
    OpenApiParameter("practice", OpenApiTypes.UUID),
]


@access.declare("aggregates only: the policy's equity_practices_q names the practices, audited")
class EquityView(_EquityBase):
    """The clinic's equity view: groups compared, cells under 11 hidden (and a second beside
    any one hidden), never a row about one person. Clinic admins and clinic leads only."""

    @extend_schema(
        parameters=_EQUITY_PARAMETERS,
        responses={200: EquityTableSerializer, **errors(400, 404)},
        summary="The equity view (clinic admins and clinic leads)",
    )
    def get(self, request):
        table = self.table(request)
        return Response(
            {
                "dimension": table.dimension.key,
                "since": table.since,
                "until": table.until,
                "practices": [p.name for p in table.practices],
                "min_cell": equity.MIN_CELL,
                "columns": [{"key": c.key, "label": c.label} for c in table.columns],
                "groups": [
                    {"group": g, "label": label, "cells": _cells(table.rows[g])}
                    for g, label in table.groups
                ],
                "total": _cells(table.total),
            }
        )


@access.declare("aggregates only: the policy's equity_practices_q names the practices, audited")
class EquityMeasureReportView(_EquityBase):
    """The same table as a FHIR R4 MeasureReport (summary): one group per figure, stratified
    by the chosen description; a hidden figure is left out, never sent."""

    @extend_schema(
        parameters=_EQUITY_PARAMETERS,
        responses={200: OpenApiResponse(description="A FHIR R4 MeasureReport"), **errors(400, 404)},
        summary="The equity view as a FHIR MeasureReport",
    )
    def get(self, request):
        return Response(fhir.equity_measure_report(self.table(request)))


class ConversationView(MessagingConversationView):
    """One conversation, saying who can read it: the care team and those under a release."""

    def readers_of(self, conversation) -> list:
        return clinic_selectors.conversation_readers(conversation=conversation)


class CaseloadView(PaginatedList, generics.GenericAPIView):
    """The caller's caseload with outcomes beside the alliance, as the caseload page lists it."""

    concord_access = "list: clinic.selectors.caseload filters by access.visible and audits"

    @extend_schema(
        parameters=[CaseloadQuerySerializer],
        responses={200: CaseloadRowSerializer(many=True), **errors(400, 404)},
        summary="My caseload's outcomes: not on track first, whatever the sort",
        description=(
            "Patients whose care team the caller is on, with PHQ-9 and GAD-7 change from the "
            "first score (reliable change, response, remission), the alliance per relationship "
            "and goal attainment. Patients not on track come first on the first page in every "
            "sort. Not found for anyone who does not care for patients."
        ),
    )
    def get(self, request):
        if not access.may_care_for(request.user):
            raise NotFound
        query = valid(CaseloadQuerySerializer, request.query_params)
        load = clinic_selectors.caseload(
            actor=request.user,
            show=query.get("show") or "all",
            sort=query.get("sort") or "name",
            q=query.get("q", ""),
        )
        return self.listed(
            load.rows, shown=lambda row: CaseloadRowSerializer(caseload_row(row)).data
        )
