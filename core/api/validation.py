from django.http import QueryDict
from rest_framework import serializers

# The JSON type each kind of input field takes, as the schema says. DRF alone would also take
# 7 for a string, "7" or 7.5 for a whole number and "yes" for true, and measure a string's
# length after trimming its spaces.
_JSON_TYPES = [
    (serializers.BooleanField, bool, "Expected true or false."),
    (serializers.IntegerField, int, "Expected a whole number."),
    (serializers.CharField, str, "Expected a string."),
    (serializers.ChoiceField, str, "Expected a string."),
    (serializers.DateField, str, "Expected a date as a string (YYYY-MM-DD)."),
    (serializers.UUIDField, str, "Expected a UUID as a string."),
    (serializers.ListField, list, "Expected a list."),
    (serializers.DictField, dict, "Expected an object."),
]


def valid(serializer_class, data) -> dict:
    """The validated input, or a 400 with each field's message (DRF's ValidationError)."""
    serializer = serializer_class(data=data)
    # Form fields are all text, for the serializer to parse; JSON carries its own types.
    if isinstance(data, dict) and not isinstance(data, QueryDict):
        errors = {
            name: [message]
            for name, field in serializer.fields.items()
            if name in data and (message := _schema_refuses(field, data[name]))
        }
        if errors:
            raise serializers.ValidationError(errors)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _schema_refuses(field, value) -> str | None:
    """What the schema refuses in `value` for `field` and DRF would let through, or None."""
    if value is None or field.read_only:
        # Whether null is allowed is the field's to say, and read-only input is ignored.
        return None
    expected = next(((t, m) for kind, t, m in _JSON_TYPES if isinstance(field, kind)), None)
    if expected is None:
        return None
    json_type, message = expected
    if json_type is int and isinstance(value, float) and value.is_integer():
        return None
    if not isinstance(value, json_type) or (json_type is int and isinstance(value, bool)):
        return message
    # The schema's maxLength is of the string as sent; DRF measures it after trimming.
    max_length = getattr(field, "max_length", None)
    if json_type is str and max_length is not None and len(value) > max_length:
        return field.error_messages["max_length"].format(max_length=max_length)
    if json_type is list:
        return next(filter(None, (_schema_refuses(field.child, item) for item in value)), None)
    if json_type is dict:
        return next(
            filter(None, (_schema_refuses(field.child, item) for item in value.values())), None
        )
    return None


def keep_unsent(data: dict, sent, record, names) -> dict:
    """For a PATCH: each of `names` that the request leaves out keeps the record's value, instead
    of the serializer's default (an empty string would silently erase it)."""
    for name in names:
        if name not in sent:
            data[name] = getattr(record, name)
    return data
