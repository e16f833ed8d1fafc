"""The API's one parser: JSON, refused with a clear 400 when it nests too deep or carries text
that cannot be stored."""

import codecs

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json

from core.text import UNSTORABLE_MESSAGE, unstorable

# No request of ours nests deeper than a few levels. Python's json module recurses once per
# level: 1,000 levels raised RecursionError (a 500), and every later walk over the data (the
# serializers, the audit) would recurse as deep.
MAX_DEPTH = 32
TOO_DEEP = f"JSON nested more than {MAX_DEPTH} levels deep is not accepted."


def _too_deep_or_unstorable(data) -> str | None:
    """Why the parsed `data` is refused, or None; walks it without recursion."""
    stack = [(data, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, str):
            if unstorable(item):
                return UNSTORABLE_MESSAGE
        elif isinstance(item, dict | list):
            if level >= MAX_DEPTH:
                return TOO_DEEP
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return None


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            decoded_stream = codecs.getreader(encoding)(stream)
            parse_constant = json.strict_constant if self.strict else None
            data = json.load(decoded_stream, parse_constant=parse_constant)
        except RecursionError as exc:
            raise ParseError(TOO_DEEP) from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if refused := _too_deep_or_unstorable(data):
            raise ParseError(refused)
        return data
