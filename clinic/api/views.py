from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from clinic import fhir
from clinic import selectors as clinic_selectors
from core import access
from core.access import Action, Category
from core.api.bases import PaginatedList, PatientAPIView
from core.api.serializers import errors
from core.api.validation import valid

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
