from rest_framework import serializers

from core.accounting import Reason
from core.models import CareTeamMembership, Patient, User


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
