"""What text we accept at all: checks shared by the request middleware, the API parser,
and the fields of names and other short text."""

import re

# NUL cannot be stored in PostgreSQL text; a lone surrogate cannot be encoded to UTF-8. Either
# one in a value made a server error deep inside the database driver.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# Bidirectional embeddings, overrides and isolates: they make the text around them read in
# another order than it is stored ("gpj.exe" shown as "exe.jpg"), so a name or a dose can be
# spoofed. Ordinary right-to-left text (Arabic, Hebrew) needs none of them.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")

UNSTORABLE_MESSAGE = (
    "The request contained a character we cannot store (a NUL byte or an unpaired surrogate). "
    "Nothing was changed."
)
BIDI_MESSAGE = (
    "Remove the invisible text-direction characters (U+202A–U+202E, U+2066–U+2069); "
    "they make text display in another order than it is written."
)


def unstorable(value: str) -> bool:
    return bool(_UNSTORABLE.search(value))


def has_bidi_controls(value: str) -> bool:
    return bool(BIDI_CONTROLS.search(value))


def refuse_bidi_controls(instance, *fields: str) -> None:
    """Raise ValidationError naming each of `fields` of `instance` that holds a bidi control.

    For names and other short fields, shown on their own in lists and headings, where a
    reversed run cannot be told from real text. Long text is neutralised on display instead.
    """
    from django.core.exceptions import ValidationError

    errors = {
        name: BIDI_MESSAGE for name in fields if has_bidi_controls(getattr(instance, name) or "")
    }
    if errors:
        raise ValidationError(errors)


def without_bidi_controls(value: str) -> str:
    return BIDI_CONTROLS.sub("", value)


def no_bidi_controls(value: str) -> None:
    """Field validator: the same refusal, for a form's or serializer's own field."""
    from django.core.exceptions import ValidationError

    if has_bidi_controls(value or ""):
        raise ValidationError(BIDI_MESSAGE, code="bidi_controls")
