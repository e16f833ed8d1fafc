"""Turn service errors into clear API answers: 400 with field messages, 403, 404, 409.

One handler for the whole API. An app whose service raises an error of its own that says more
(the rule warnings to confirm, the clinical terms found) registers its answer with `answers`,
rather than a view overriding `handle_exception`."""

from collections.abc import Callable

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import Conflict, NotAllowed

_ANSWERS: dict[type[Exception], Callable[[Exception], Response]] = {}


def answers(kind: type[Exception]):
    """Register `answer(exc) -> Response` for the API's answer to `kind` (and its subclasses)."""

    def register(answer):
        _ANSWERS[kind] = answer
        return answer

    return register


def exception_handler(exc, context):
    for kind in type(exc).__mro__:
        if kind in _ANSWERS:
            return _ANSWERS[kind](exc)
    if isinstance(exc, Conflict):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, NotAllowed):
        return Response({"detail": exc.message}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            body = {
                field: [str(m) for e in errors for m in e.messages]
                for field, errors in exc.error_dict.items()
            }
        else:
            body = {"detail": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
