from rest_framework import serializers

from appointments.models import NOTE_MAX, PLACE_MAX, Visit
from core.dates import sensible_date


class VisitSerializer(serializers.ModelSerializer):
    clinician = serializers.CharField(source="clinician.full_name", read_only=True)
    clinician_uuid = serializers.UUIDField(source="clinician.uuid", read_only=True)
    also_with = serializers.CharField(
        source="also_with.full_name", read_only=True, allow_null=True, default=None
    )
    ends_at = serializers.DateTimeField(read_only=True)
    video_link = serializers.CharField(
        read_only=True, help_text="The video link, or empty for a visit in person."
    )
    change_asked = serializers.CharField(
        read_only=True,
        help_text='What the patient asked and the clinic has not yet answered: "move", '
        '"cancel", or empty.',
    )
    cancelled_by_patient = serializers.SerializerMethodField(
        help_text="True when the patient cancelled it (through a request the clinic confirmed)."
    )

    class Meta:
        model = Visit
        fields = [
            "uuid",
            "kind",
            "clinician",
            "clinician_uuid",
            "also_with",
            "starts_at",
            "ends_at",
            "minutes",
            "place",
            "video_link",
            "status",
            "cancelled_by_patient",
            "change_asked",
            "change_note",
            "change_asked_at",
        ]
        read_only_fields = fields

    def get_cancelled_by_patient(self, visit) -> bool:
        return visit.cancelled_by_id is not None and visit.cancelled_by_id == visit.patient.user_id


class BookInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Visit.Kind.choices)
    starts_at = serializers.DateTimeField(validators=[sensible_date])
    minutes = serializers.IntegerField(min_value=5, max_value=240, default=30)
    place = serializers.CharField(max_length=PLACE_MAX, required=False, allow_blank=True)
    video_link = serializers.URLField(max_length=500, required=False, allow_blank=True)
    also_with = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A joint visit: the other clinician of the care team in the room.",
    )


class StatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(s, label) for s, label in Visit.Status.choices if s != Visit.Status.BOOKED]
    )


class ChangeInputSerializer(serializers.Serializer):
    change = serializers.ChoiceField(choices=Visit.Change.choices)
    note = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")


class ConfirmInputSerializer(serializers.Serializer):
    answer = serializers.ChoiceField(choices=[("confirm", "Confirm"), ("decline", "Decline")])
    starts_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, validators=[sensible_date]
    )
