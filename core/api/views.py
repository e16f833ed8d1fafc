"""API over core: who am I, the patients I may see, who has seen my record, my notifications."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core import access, accounting, selectors, services
from core.access import Category
from core.models import SelfDescription

from .bases import PatientAPIView
from .pagination import LimitOffsetPagination
from .serializers import (
    MeSerializer,
    NotificationReadSerializer,
    NotificationSerializer,
    NotificationsMarkedSerializer,
    PatientSerializer,
    RecordViewSerializer,
    errors,
)
from .validation import valid


class RecordViewsPagination(LimitOffsetPagination):
    """Twenty groups a page, as the page shows them, and (as the page's tab says) how many of
    all the groups were disclosures."""

    default_limit = accounting.PER_PAGE

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["disclosure_count"] = self.disclosure_count
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["disclosure_count"] = {
            "type": "integer",
            "description": "Groups shared under a release or a referral, whatever `show` is.",
        }
        schema["required"] = [*schema.get("required", []), "disclosure_count"]
        return schema


@access.declare("no patient data: the caller's own account")
class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The signed-in user")
    def get(self, request):
        return Response(MeSerializer(request.user).data)


@access.declare("list: core.selectors.patient_list filters by access.visible and audits")
class PatientListView(generics.ListAPIView):
    serializer_class = PatientSerializer
    pagination_class = LimitOffsetPagination

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="Part of a name")],
        responses={200: PatientSerializer(many=True), **errors(400)},
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
        return selectors.patients_listed(
            actor=self.request.user, patients=super().paginate_queryset(queryset)
        )


class PatientDetailView(PatientAPIView):
    """One patient, if the caller may see them; otherwise not found, alike for both cases."""

    access_category = Category.PROFILE

    @extend_schema(responses={200: PatientSerializer, **errors(404)}, summary="One patient")
    def get(self, request, patient_uuid):
        self.patient.active_team = selectors.care_team_for(patient=self.patient)
        return Response(PatientSerializer(self.patient).data)


@access.declare("patient's own accounting of disclosures: access.get(AUDIT) in the selector")
class RecordViewsView(generics.ListAPIView):
    """Who has seen my record: the signed-in patient's accounting, grouped as the page groups it
    (person, day, reason), newest first. `?show=disclosures` keeps what a release or a referral
    allowed someone outside the care team to see: the accounting of disclosures."""

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
        responses={200: RecordViewSerializer(many=True), **errors(400, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        show = self.request.query_params.get("show", "everyone")
        if show not in ("everyone", "disclosures"):
            raise ValidationError({"show": ['Either "everyone" or "disclosures".']})
        patient = selectors.patient_for_user(user=self.request.user)
        if patient is None:
            raise NotFound("Only a patient has an accounting of who has seen their record.")
        everyone = selectors.record_views_for_patient(actor=self.request.user, patient=patient)
        self.paginator.disclosure_count = everyone.disclosures().count()
        return everyone.disclosures() if show == "disclosures" else everyone


# --- Notifications: the signed-in person's own inbox ----------------------------------------


@access.declare("no patient data: the user's own inbox")
class NotificationListView(generics.ListAPIView):
    """My in-app notifications, newest first, as the Notifications page lists them."""

    serializer_class = NotificationSerializer
    pagination_class = LimitOffsetPagination

    @extend_schema(
        summary="My notifications",
        parameters=[OpenApiParameter("unread", bool, description="true: only those not yet read")],
        responses={200: NotificationSerializer(many=True), **errors(400)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        unread = self.request.query_params.get("unread", "false")
        if unread not in ("true", "false"):
            raise ValidationError({"unread": ['Either "true" or "false".']})
        return selectors.notifications(user=self.request.user, unread_only=unread == "true")


@access.declare("no patient data: the user's own inbox; a uuid is looked up among theirs")
class NotificationsReadView(APIView):
    """As the page's button: with no uuid, every unread notification of mine is marked read;
    with one, that notification (one of mine, or not found)."""

    @extend_schema(
        request=NotificationReadSerializer,
        responses={200: NotificationsMarkedSerializer, **errors(400, 404)},
        summary="Mark one, or all, of my notifications read",
    )
    def post(self, request):
        uuid = valid(NotificationReadSerializer, request.data).get("uuid")
        if uuid is not None and selectors.notification_get(user=request.user, uuid=uuid) is None:
            raise NotFound("No such notification.")
        marked = services.notification_mark_read(user=request.user, notification_uuid=uuid)
        return Response(NotificationsMarkedSerializer({"marked": marked}).data)


# --- How the patient describes themselves: theirs alone --------------------------------------


class SelfDescriptionSerializer(serializers.Serializer):
    race_ethnicity = serializers.ListField(
        child=serializers.ChoiceField(choices=SelfDescription.RaceEthnicity.choices),
        required=False,
        default=list,
        help_text="The 2024 US federal categories; several allowed",
    )
    race_declined = serializers.BooleanField(required=False, default=False)
    preferred_language = serializers.ChoiceField(
        choices=SelfDescription.Language.choices, required=False, allow_blank=True, default=""
    )
    sex = serializers.ChoiceField(
        choices=SelfDescription.Sex.choices, required=False, allow_blank=True, default=""
    )
    gender_identity = serializers.ChoiceField(
        choices=SelfDescription.Gender.choices, required=False, allow_blank=True, default=""
    )


@access.declare("the patient's own self-description: read and written through the policy inside")
class SelfDescriptionView(APIView):
    """How the signed-in patient describes themselves (every answer optional; all empty clears
    it). Nobody else reads or writes it: for anyone else, not found."""

    def _patient(self, request):
        patient = selectors.patient_for_user(user=request.user)
        if patient is None:
            raise NotFound("Not found.")
        return patient

    @extend_schema(
        responses={200: SelfDescriptionSerializer, **errors(404)},
        summary="How I describe myself (patients only)",
    )
    def get(self, request):
        self._patient(request)
        described = selectors.self_description_get(user=request.user)
        return Response(SelfDescriptionSerializer(described).data)

    @extend_schema(
        request=SelfDescriptionSerializer,
        responses={200: SelfDescriptionSerializer, **errors(400, 404)},
        summary="Describe myself (patients only)",
    )
    def put(self, request):
        patient = self._patient(request)
        data = valid(SelfDescriptionSerializer, request.data)
        described = services.self_description_save(actor=request.user, patient=patient, **data)
        return Response(SelfDescriptionSerializer(described).data)
