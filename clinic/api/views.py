from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import fhir
from core import access
from core.access import Action, Category


class FhirExportView(APIView):
    concord_access = f"patient:{Category.PROFILE}:{Action.EXPORT}"

    @extend_schema(
        responses={200: OpenApiResponse(description="A FHIR R4 Bundle (collection)")},
        summary="Export a patient as FHIR R4",
    )
    def get(self, request, patient_uuid):
        patient, _ = access.patient_get(request.user, patient_uuid, Category.PROFILE, Action.EXPORT)
        return Response(fhir.patient_bundle(actor=request.user, patient=patient))
