"""API over core: who am I, and the patients I may see."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from core import access, selectors
from core.access import Action, Category

from .pagination import LimitOffsetPagination
from .serializers import MeSerializer, PatientSerializer, RecordViewSerializer


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

    def paginate_queryset(self, queryset):
        # Audited as sent: one row for each patient on this page, naming the patient.
        page = super().paginate_queryset(queryset)
        if page is None:  # unpaginated: the whole list is sent
            selectors.patients_listed(actor=self.request.user, patients=queryset)
            return None
        return selectors.patients_listed(actor=self.request.user, patients=page)


class PatientDetailView(APIView):
    """One patient, if the caller may see them; otherwise not found, alike for both cases."""

    concord_access = f"patient:{Category.PROFILE}:{Action.READ}"

    @extend_schema(responses=PatientSerializer, summary="One patient")
    def get(self, request, patient_uuid):
        patient, _ = access.patient_get(request.user, patient_uuid, Category.PROFILE, Action.READ)
        patient.active_team = selectors.care_team_for(patient=patient)
        return Response(PatientSerializer(patient).data)


@access.declare("patient's own accounting of disclosures: access.require(AUDIT) in selector")
class RecordViewsView(generics.ListAPIView):
    """Who has seen my record: the signed-in patient's accounting, newest first."""

    serializer_class = RecordViewSerializer
    pagination_class = LimitOffsetPagination

    @extend_schema(summary="Who has seen my record (patients only)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        from rest_framework.exceptions import NotFound

        patient = selectors.patient_for_user(user=self.request.user)
        if patient is None:
            raise NotFound("Only a patient has an accounting of who has seen their record.")
        return selectors.record_views_for_patient(actor=self.request.user, patient=patient)
