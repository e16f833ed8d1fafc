from rest_framework import serializers

from alliance.models import CheckIn, Consultation, Flag, Instrument


class InstrumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Instrument
        fields = ["id", "key", "version", "name", "kind", "licence_note", "definition"]
        read_only_fields = fields


class CheckInSerializer(serializers.ModelSerializer):
    instrument = serializers.CharField(source="instrument.key", read_only=True)
    instrument_version = serializers.IntegerField(source="instrument.version", read_only=True)
    clinician = serializers.UUIDField(
        source="clinician.uuid", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = CheckIn
        fields = [
            "uuid",
            "instrument",
            "instrument_version",
            "clinician",
            "status",
            "answers",
            "open_answer",
            "total",
            "subscales",
            "band",
            "created_at",
            "submitted_at",
        ]
        read_only_fields = fields


class CheckInStartSerializer(serializers.Serializer):
    instrument = serializers.SlugField(help_text="Instrument key, e.g. concord-alliance, phq-9")
    clinician = serializers.UUIDField(required=False, allow_null=True, default=None)


class CheckInSendSerializer(serializers.Serializer):
    instrument = serializers.SlugField(help_text="Instrument key, e.g. concord-alliance, phq-9")
    clinician = serializers.UUIDField(required=False, allow_null=True, default=None)
    answers = serializers.DictField(child=serializers.IntegerField())
    open_answer = serializers.CharField(
        max_length=3000, required=False, allow_blank=True, default=""
    )


class AnswersSerializer(serializers.Serializer):
    answers = serializers.DictField(child=serializers.IntegerField())
    open_answer = serializers.CharField(
        max_length=3000, required=False, allow_blank=True, default=""
    )


class FlagSerializer(serializers.ModelSerializer):
    clinician = serializers.UUIDField(
        source="clinician.uuid", default=None, read_only=True, allow_null=True
    )
    check_in = serializers.UUIDField(source="check_in.uuid", read_only=True)

    class Meta:
        model = Flag
        fields = [
            "uuid",
            "kind",
            "clinician",
            "check_in",
            "reasons",
            "score",
            "baseline",
            "created_at",
            "acknowledged_at",
        ]
        read_only_fields = fields


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ConsultationSerializer(serializers.ModelSerializer):
    prescriber = serializers.CharField(source="prescriber.full_name", read_only=True)
    therapist = serializers.CharField(source="therapist.full_name", read_only=True)

    class Meta:
        model = Consultation
        fields = [
            "uuid",
            "prescriber",
            "therapist",
            "issues",
            "actions",
            "held_on",
            "audience",
            "created_at",
        ]
        read_only_fields = ["uuid", "prescriber", "therapist", "created_at"]


class SeriesPointSerializer(serializers.ModelSerializer):
    class Meta:
        model = CheckIn
        fields = ["uuid", "submitted_at", "total", "band"]
        read_only_fields = fields


class SeriesSerializer(serializers.Serializer):
    """One instrument's sent check-ins for one relationship (or none, for outcome measures),
    oldest first, with its open flags: the alliance page's trend."""

    instrument = serializers.CharField(source="instrument.key")
    instrument_name = serializers.CharField(source="instrument.name")
    kind = serializers.CharField(source="instrument.kind", help_text='"alliance" or "outcome"')
    clinician = serializers.UUIDField(source="clinician.uuid", default=None, allow_null=True)
    check_ins = SeriesPointSerializer(many=True)
    flags = FlagSerializer(many=True, help_text="Open flags of this series (clinicians).")
