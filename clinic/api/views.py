from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from clinic import fhir
from clinic import selectors as clinic_selectors
from core.access import Action, Category
from core.api.bases import PatientAPIView
from core.api.serializers import errors
from messaging.api.views import ConversationView as MessagingConversationView


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


class ConversationView(MessagingConversationView):
    """One conversation, saying who can read it: the care team and those under a release."""

    def readers_of(self, conversation) -> list:
        return clinic_selectors.conversation_readers(conversation=conversation)
