"""The secure-messages API: the same selectors, services and access policy as the pages."""

from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from core import access
from core.access import Action, Category
from core.api.bases import PaginatedList, PatientAPIView, RecordAPIView
from core.api.serializers import errors
from core.api.validation import valid
from messaging import selectors, services

from . import serializers as s


@access.declare("list: messaging.selectors.conversation_list filters by access.visible and audits")
class InboxView(PaginatedList, generics.GenericAPIView):
    serializer_class = s.ConversationSerializer

    @extend_schema(
        responses={200: s.ConversationSerializer(many=True), **errors(400)},
        summary="Every conversation you may read, newest first",
    )
    def get(self, request):
        return self.listed(
            selectors.conversation_list(actor=request.user), s.ConversationSerializer
        )


class PatientConversationsView(PaginatedList, PatientAPIView):
    access_category = Category.MESSAGES
    access_actions = {"GET": Action.LIST, "POST": Action.CREATE}
    serializer_class = s.ConversationSerializer

    @extend_schema(
        responses={200: s.ConversationSerializer(many=True), **errors(400, 404)},
        summary="A patient's conversations with their care team",
    )
    def get(self, request, patient_uuid):
        conversations = selectors.conversation_list(actor=request.user, patient=self.patient)
        return self.listed(conversations, s.ConversationSerializer)

    @extend_schema(
        request=s.ConversationInputSerializer,
        responses={201: s.ConversationDetailSerializer, **errors(400, 403, 404)},
        summary="Write to the care team or one clinician of it (the patient). Not for emergencies.",
    )
    def post(self, request, patient_uuid):
        data = valid(s.ConversationInputSerializer, request.data)
        clinician = None
        if data["to"] is not None:
            team = selectors.addressees(patient=self.patient)
            found = next((m for m in team if m.clinician.uuid == data["to"]), None)
            if found is None:
                raise ValidationError({"to": "Choose someone on your care team."})
            clinician = found.clinician
        conversation = services.conversation_start(
            actor=request.user,
            patient=self.patient,
            clinician=clinician,
            subject=data["subject"],
            text=data["text"],
        )
        return Response(
            s.ConversationDetailSerializer(conversation).data, status=status.HTTP_201_CREATED
        )


class ConversationView(RecordAPIView):
    """One conversation. Routed from clinic's API, which says who reads it under a release
    (referrals, beside messaging): `readers_of` is the one thing it changes."""

    access_category = Category.MESSAGES
    access_uuid = "conversation_uuid"
    # Found as for reading it; the service guards the reply (a release lets one read only).
    access_actions = {"GET": Action.READ, "POST": Action.READ}
    serializer_class = s.ConversationDetailSerializer

    def access_queryset(self):
        return selectors.CONVERSATIONS.all()

    def readers_of(self, conversation) -> list:
        return selectors.conversation_readers(conversation=conversation)

    @extend_schema(
        responses={200: s.ConversationDetailSerializer, **errors(404)},
        summary="One conversation with its messages and who read them (marks them read)",
    )
    def get(self, request, conversation_uuid):
        services.conversation_seen(reader=request.user, conversation=self.record)
        prefetch_related_objects([self.record], "messages__author", "messages__receipts__reader")
        context = {"readers": self.readers_of(self.record)}
        return Response(s.ConversationDetailSerializer(self.record, context=context).data)

    @extend_schema(
        request=s.ReplyInputSerializer,
        responses={201: s.MessageSerializer, **errors(400, 404)},
        summary="Write in a conversation: the patient, or their care team",
    )
    def post(self, request, conversation_uuid):
        data = valid(s.ReplyInputSerializer, request.data)
        message = services.message_reply(
            actor=request.user, conversation=self.record, text=data["text"]
        )
        return Response(s.MessageSerializer(message).data, status=status.HTTP_201_CREATED)
