from rest_framework import serializers

from core.models import AuditEvent, CareTeamMembership, Patient, User
from core.templatetags.concord import category_label


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


class RecordViewSerializer(serializers.ModelSerializer):
    """One line of the patient's accounting: who, when, what kind of information, and why."""

    who = serializers.SerializerMethodField()
    practice = serializers.CharField(
        source="actor.practice.name", default=None, read_only=True, allow_null=True
    )
    what = serializers.SerializerMethodField()
    allowed_because = serializers.CharField(source="via", read_only=True)

    class Meta:
        model = AuditEvent
        fields = ["at", "who", "practice", "action", "category", "what", "allowed_because"]
        read_only_fields = fields

    def get_who(self, event) -> str:
        return event.actor.full_name if event.actor else "Concord"

    def get_what(self, event) -> str:
        return f"{event.get_action_display()} · {category_label(event.category)}"
