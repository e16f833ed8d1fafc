"""API over core: who am I, and the patients I may see."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from core import access, accounting, selectors
from core.access import Action, Category

from .pagination import LimitOffsetPagination
from .serializers import MeSerializer, PatientSerializer, RecordViewSerializer


class RecordViewsPagination(LimitOffsetPagination):
    """Twenty groups a page, as the page shows them."""

    default_limit = accounting.PER_PAGE


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
    """Who has seen my record: the signed-in patient's accounting, grouped as the page groups it
    (person, day, reason), newest first. `?show=disclosures` keeps what a release or a referral
    allowed someone outside the care team to see."""

    serializer_class = RecordViewSerializer
    pagination_class = RecordViewsPagination

    @extend_schema(
        summary="Who has seen my record (patients only)",
        parameters=[
            OpenApiParameter(
                "show",
                str,
                enum=["everyone", "disclosures"],
                description="everyone (the default), or only disclosures outside the care team",
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        from rest_framework.exceptions import NotFound, ValidationError

        show = self.request.query_params.get("show", "everyone")
        if show not in ("everyone", "disclosures"):
            raise ValidationError({"show": ['Either "everyone" or "disclosures".']})
        patient = selectors.patient_for_user(user=self.request.user)
        if patient is None:
            raise NotFound("Only a patient has an accounting of who has seen their record.")
        return selectors.record_views_for_patient(
            actor=self.request.user, patient=patient, disclosures_only=show == "disclosures"
        )
