from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from core.accounting import Reason
from core.models import CareTeamMembership, Notification, Patient, User


class DetailSerializer(serializers.Serializer):
    """Why a request was refused, not found, or in conflict: one sentence for the person."""

    detail = serializers.CharField()


_ERRORS = {
    400: OpenApiResponse(description="Bad input: each field's messages by name, or `detail`."),
    403: OpenApiResponse(DetailSerializer, description="Refused, and why (nothing stored)."),
    404: OpenApiResponse(
        DetailSerializer, description="Not found: alike for missing and not yours to see."
    ),
    409: OpenApiResponse(
        DetailSerializer, description="Nothing saved: changed by someone else meanwhile."
    ),
}


def errors(*codes: int, instead: dict[int, OpenApiResponse] | None = None) -> dict:
    """The error responses an operation documents, for `extend_schema(responses=...)`.

    `instead` gives an operation's own answer for a code it documents, where the body says
    more than `detail` (a 409 with warnings to confirm) or the reason is particular to it."""
    return {code: (instead or {}).get(code, _ERRORS[code]) for code in sorted(set(codes))}


class MeSerializer(serializers.ModelSerializer):
    practice = serializers.CharField(
        source="practice.name", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = User
        fields = ["uuid", "email", "full_name", "role", "practice"]
        read_only_fields = fields


class CareTeamMemberSerializer(serializers.ModelSerializer):
    clinician = serializers.CharField(source="clinician.full_name")
    clinician_uuid = serializers.UUIDField(source="clinician.uuid")
    practice = serializers.CharField(source="practice.name")

    class Meta:
        model = CareTeamMembership
        fields = ["clinician", "clinician_uuid", "role", "practice", "since"]


class PatientSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    care_team = CareTeamMemberSerializer(source="active_team", many=True, read_only=True)

    class Meta:
        model = Patient
        fields = [
            "uuid",
            "display_name",
            "given_name",
            "family_name",
            "preferred_name",
            "date_of_birth",
            "care_team",
        ]
        read_only_fields = fields


class RecordViewDidSerializer(serializers.Serializer):
    did = serializers.CharField(source="action", help_text='"looked at", "printed or downloaded"')
    information = serializers.ListField(child=serializers.CharField(), help_text='"your medicines"')


class RecordViewReleaseSerializer(serializers.Serializer):
    signed_on = serializers.DateField()
    url = serializers.CharField(help_text="The release's page, where the patient reads it.")


class RecordViewSerializer(serializers.Serializer):
    """One line of the patient's accounting, as the page says it: a person, a day, a reason;
    what they saw and how many visits (repeats within a visit counted once). Plain words only."""

    sentence = serializers.CharField(
        help_text='"Dr. Priya Raman looked at your medicines and goals, 3 times on 1 Dec"'
    )
    who = serializers.CharField()
    practice = serializers.CharField(allow_null=True)
    day = serializers.DateField(help_text="In the patient's own time zone.")
    times = serializers.IntegerField(
        help_text="Visits that day: reads under 30 minutes apart are one."
    )
    what = serializers.CharField(help_text='"looked at your medicines and goals"')
    did = RecordViewDidSerializer(many=True)
    because = serializers.CharField(help_text='"because they are on your care team"')
    reason = serializers.ChoiceField(choices=Reason.CHOICES)
    disclosure = serializers.BooleanField(
        help_text="Seen by someone outside the care team, under a release or a referral."
    )
    releases = RecordViewReleaseSerializer(many=True, help_text="The releases it was seen under.")
    first_at = serializers.DateTimeField()
    last_at = serializers.DateTimeField()


class NotificationSerializer(serializers.ModelSerializer):
    """An in-app notification: a title that is never clinical, and where it leads."""

    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["uuid", "kind", "title", "link", "created_at", "read_at", "read"]
        read_only_fields = fields

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class NotificationReadSerializer(serializers.Serializer):
    uuid = serializers.UUIDField(
        required=False, help_text="The notification to mark read; leave it out for all of them."
    )


class NotificationsMarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many unread notifications were marked read.")
