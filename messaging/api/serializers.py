from rest_framework import serializers

from messaging.models import SUBJECT_MAX, TEXT_MAX, Conversation, Message


class ReceiptSerializer(serializers.Serializer):
    reader = serializers.CharField(source="reader.full_name")
    read_at = serializers.DateTimeField()


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.full_name", read_only=True)
    read_by = serializers.SerializerMethodField(
        help_text="Who other than its author has read it, first reader first."
    )
    record_kind = serializers.CharField(
        read_only=True,
        help_text=(
            'What a clinician made of it: "observation", "refill_request" or "goal" (a goal '
            "proposed to the patient); empty when nothing was."
        ),
    )

    class Meta:
        model = Message
        fields = [
            "uuid",
            "author",
            "text",
            "created_at",
            "read_by",
            "record_kind",
            "record_uuid",
            "record_label",
        ]
        read_only_fields = fields

    def get_read_by(self, message) -> list[dict]:
        receipts = [r for r in message.receipts.all() if r.reader_id != message.author_id]
        return ReceiptSerializer(receipts, many=True).data


class ConversationSerializer(serializers.ModelSerializer):
    patient = serializers.UUIDField(source="patient.uuid", read_only=True)
    to = serializers.CharField(
        source="clinician.full_name",
        default=None,
        allow_null=True,
        read_only=True,
        help_text="The clinician it is addressed to; null for the whole care team.",
    )
    unread = serializers.IntegerField(
        default=0, read_only=True, help_text="Messages in it you have not opened."
    )

    class Meta:
        model = Conversation
        fields = ["uuid", "patient", "subject", "to", "created_at", "last_message_at", "unread"]
        read_only_fields = fields


class ReaderSerializer(serializers.Serializer):
    clinician = serializers.UUIDField(source="clinician.uuid")
    name = serializers.CharField(source="clinician.full_name")
    practice = serializers.CharField(source="practice.name")
    because = serializers.CharField(
        help_text='Why they may: "it is addressed to them", "on your care team", "on your care '
        'team, in the same practice", or "under the release signed on …".'
    )


class ConversationDetailSerializer(ConversationSerializer):
    messages = MessageSerializer(many=True, read_only=True)
    readers = serializers.SerializerMethodField(
        help_text="Who besides the patient can read the conversation now, as the access policy "
        "decides for each: the care team, and clinicians under a release in force that covers "
        "messages (only for a conversation addressed to one clinician)."
    )

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "messages", "readers"]
        read_only_fields = fields

    def get_readers(self, conversation) -> list[dict]:
        return ReaderSerializer(self.context.get("readers", []), many=True).data


class ConversationInputSerializer(serializers.Serializer):
    to = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A clinician of your care team; leave out to write to the whole team.",
    )
    subject = serializers.CharField(max_length=SUBJECT_MAX)
    text = serializers.CharField(max_length=TEXT_MAX)


class ReplyInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=TEXT_MAX)
