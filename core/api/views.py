"""API over core: who am I, and the patients I may see."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from core import access, selectors
from core.access import Action, Category

from .pagination import LimitOffsetPagination
from .serializers import MeSerializer, PatientSerializer


@access.declare("no patient data: the caller's own account")
class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The signed-in user")
    def get(self, request):
        return Response(MeSerializer(request.user).data)


@access.declare("list: core.selectors.patient_list filters by access.patients_visible and audits")
class PatientListView(generics.ListAPIView):
    serializer_class = PatientSerializer
    pagination_class = LimitOffsetPagination

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="Part of a name")],
        summary="Patients you may see",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.patient_list(
            actor=self.request.user, search=self.request.query_params.get("q", "")[:100]
        )


class PatientDetailView(APIView):
    """One patient, if the caller may see them; otherwise not found, alike for both cases."""

    concord_access = f"patient:{Category.PROFILE}:{Action.READ}"

    @extend_schema(responses=PatientSerializer, summary="One patient")
    def get(self, request, patient_uuid):
        patient, _ = access.patient_get(request.user, patient_uuid, Category.PROFILE, Action.READ)
        patient.active_team = selectors.care_team_for(patient=patient)
        return Response(PatientSerializer(patient).data)
