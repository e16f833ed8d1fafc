"""Shapes of goals, ratings, notes and the summary in the API. No logic: services decide."""

from rest_framework import serializers

from core.dates import DateSerializerField
from stories.markdown import MAX_CHARS
from stories.models import (
    GAS_MAX,
    GAS_MIN,
    Goal,
    GoalRating,
    NarrativeNote,
    PersonSummary,
    SafetyPlan,
)


class GoalRatingSerializer(serializers.ModelSerializer):
    rated_by = serializers.CharField(source="author.full_name", read_only=True)

    class Meta:
        model = GoalRating
        fields = ["uuid", "rating", "note", "rated_by", "rated_at"]
        read_only_fields = ["uuid", "rated_by", "rated_at"]


class GoalRatingInputSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=GAS_MIN, max_value=GAS_MAX)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class GoalSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.full_name", read_only=True)
    ratings = GoalRatingSerializer(many=True, read_only=True)

    class Meta:
        model = Goal
        fields = [
            "uuid",
            "what",
            "why",
            "status",
            "proposed_by",
            "author",
            "target_date",
            "level_minus2",
            "level_minus1",
            "level_0",
            "level_plus1",
            "level_plus2",
            "version",
            "created_at",
            "updated_at",
            "ratings",
        ]
        read_only_fields = fields


class GoalInputSerializer(serializers.Serializer):
    what = serializers.CharField(max_length=500)
    why = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    target_date = DateSerializerField(required=False, allow_null=True, default=None)
    level_minus2 = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    level_minus1 = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    level_0 = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    level_plus1 = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    level_plus2 = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )


class GoalUpdateSerializer(GoalInputSerializer):
    version = serializers.IntegerField(min_value=1)


class GoalStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Goal.Status.choices)
    version = serializers.IntegerField(min_value=1)


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.full_name", read_only=True)
    author_uuid = serializers.UUIDField(source="author.uuid", read_only=True)

    class Meta:
        model = NarrativeNote
        fields = [
            "uuid",
            "kind",
            "audience",
            "title",
            "body",
            "status",
            "author",
            "author_uuid",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class NoteInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=NarrativeNote.Kind.choices)
    audience = serializers.ChoiceField(choices=NarrativeNote.Audience.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    body = serializers.CharField(
        max_length=MAX_CHARS,
        error_messages={
            "max_length": f"A note can be at most {MAX_CHARS:,} characters. Split it into two notes."
        },
    )


class NoteUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    body = serializers.CharField(
        max_length=MAX_CHARS,
        error_messages={
            "max_length": f"A note can be at most {MAX_CHARS:,} characters. Split it into two notes."
        },
    )
    audience = serializers.ChoiceField(choices=NarrativeNote.Audience.choices, required=False)


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)


class SummarySerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.full_name", read_only=True)

    class Meta:
        model = PersonSummary
        fields = [
            "text",
            "author",
            "version",
            "updated_at",
            "patient_response",
            "patient_responded_at",
            "terms_kept",
        ]
        read_only_fields = fields


class SummaryInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=3000)
    version = serializers.IntegerField(min_value=0, required=False, default=0)
    confirm_terms = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Keep the clinical terms the last answer named (recorded in terms_kept).",
    )


class SummaryTermFoundSerializer(serializers.Serializer):
    term = serializers.CharField(help_text="The term as the clinic's list names it.")
    as_written = serializers.CharField(help_text="The words as the summary has them.")
    instead = serializers.CharField(help_text="A plainer way to say it, if the list has one.")


class SummaryRefusedSerializer(serializers.Serializer):
    """400: field messages; when the summary uses listed clinical terms, which ones."""

    text = serializers.ListField(child=serializers.CharField(), required=False)
    version = serializers.ListField(child=serializers.CharField(), required=False)
    confirm_terms = serializers.ListField(child=serializers.CharField(), required=False)
    terms_found = SummaryTermFoundSerializer(many=True, required=False)
    confirm_with = serializers.DictField(
        required=False, help_text="Send the same text again with this to keep the terms."
    )


class SummaryResponseSerializer(serializers.Serializer):
    response = serializers.CharField(max_length=3000, allow_blank=True)
    version = serializers.IntegerField(min_value=1)


SECTION_NAMES = [name for name, _label in SafetyPlan.SECTIONS]


class SafetyPlanSerializer(serializers.ModelSerializer):
    """One version of the safety plan: its seven parts, in the patient's words."""

    author = serializers.CharField(source="author.full_name", read_only=True)

    class Meta:
        model = SafetyPlan
        fields = ["uuid", "version", *SECTION_NAMES, "author", "created_at"]
        read_only_fields = fields


class SafetyPlanInputSerializer(serializers.Serializer):
    """The next version: `version` is the one the writer started from (0 for none yet)."""

    version = serializers.IntegerField(
        min_value=0, help_text="The version you started from; a newer one saved since is a 409."
    )
    warning_signs = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    coping = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    distractions = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    people = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    professionals = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    safer_environment = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    reasons_for_living = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
