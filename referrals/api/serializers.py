from rest_framework import serializers

from referrals.models import RELEASABLE, RELEASE_MAX_YEARS, Referral, Release, ThreadPost


class ReferralSerializer(serializers.ModelSerializer):
    patient = serializers.UUIDField(source="patient.uuid", read_only=True)
    author = serializers.CharField(source="author.full_name", read_only=True)
    to_clinician = serializers.UUIDField(source="to_clinician.uuid", read_only=True)

    class Meta:
        model = Referral
        fields = [
            "uuid",
            "patient",
            "author",
            "to_clinician",
            "reason",
            "questions",
            "urgency",
            "status",
            "decline_reason",
            "created_at",
            "answered_at",
            "closed_at",
        ]
        read_only_fields = fields


class ReferralInputSerializer(serializers.Serializer):
    to_clinician = serializers.UUIDField()
    reason = serializers.CharField(max_length=3000)
    questions = serializers.CharField(max_length=3000, required=False, allow_blank=True, default="")
    urgency = serializers.ChoiceField(choices=Referral.Urgency.choices, default="routine")


class ReferralMoveSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Referral.Status.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReleaseSerializer(serializers.ModelSerializer):
    discloser = serializers.UUIDField(source="discloser.uuid", read_only=True)
    recipient = serializers.UUIDField(source="recipient.uuid", read_only=True)
    revoked_at = serializers.DateTimeField(
        source="revocation.revoked_at", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = Release
        fields = [
            "uuid",
            "discloser",
            "recipient",
            "mutual",
            "categories",
            "purpose",
            "expires_at",
            "expiry_event",
            "signed_name",
            "signed_at",
            "signed_by_representative",
            "representative_authority",
            "content_hash",
            "revoked_at",
        ]
        read_only_fields = fields


class ReleaseInputSerializer(serializers.Serializer):
    discloser = serializers.UUIDField()
    recipient = serializers.UUIDField()
    mutual = serializers.BooleanField(default=True)
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=RELEASABLE), min_length=1
    )
    part2_consent = serializers.BooleanField(default=False)
    purpose = serializers.CharField(max_length=2000)
    expires_on = serializers.DateField(
        help_text=f"The last day in force, in the patient's time zone: after today, at most "
        f"{RELEASE_MAX_YEARS} years from today."
    )
    expiry_event = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    signed_name = serializers.CharField(max_length=200)
    signed_by_representative = serializers.BooleanField(default=False)
    representative_authority = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )


class ThreadPostSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.full_name", read_only=True)
    reply_to = serializers.UUIDField(
        source="reply_to.uuid", default=None, read_only=True, allow_null=True
    )
    sharing_note = serializers.CharField(
        default="",
        read_only=True,
        help_text="Set when the post was written under a release that has since ended: who "
        "no longer reads it.",
    )

    class Meta:
        model = ThreadPost
        fields = [
            "uuid",
            "kind",
            "text",
            "medication_uuid",
            "medication_name",
            "author",
            "reply_to",
            "created_at",
            "sharing_note",
        ]
        read_only_fields = fields


class ThreadPostInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ThreadPost.Kind.choices)
    text = serializers.CharField(max_length=4000)
    reply_to = serializers.UUIDField(required=False, allow_null=True, default=None)


class ThreadReaderSerializer(serializers.Serializer):
    clinician = serializers.UUIDField(source="clinician.uuid")
    name = serializers.CharField(source="clinician.full_name")
    practice = serializers.CharField(source="practice.name")
    on_team = serializers.BooleanField()
    reads = serializers.BooleanField(help_text="Would read a post written now.")
    because = serializers.CharField()
    release = serializers.UUIDField(source="release.uuid", default=None, allow_null=True)


class ThreadReadersSerializer(serializers.Serializer):
    can_post = serializers.BooleanField(
        help_text="False when no clinician of another practice on the team could read a new "
        "post: posting is refused until the patient signs a release."
    )
    why_not = serializers.CharField(
        help_text="Why posting is refused and what the patient can do, beside `readers` (each "
        "says why they cannot read); empty when posting is open."
    )
    readers = ThreadReaderSerializer(many=True)


class ReferralInboxQuerySerializer(serializers.Serializer):
    box = serializers.ChoiceField(
        choices=[("received", "Sent to you"), ("sent", "Sent by you")],
        required=False,
        help_text="Only the referrals sent to you, or only those you sent (both by default).",
    )
