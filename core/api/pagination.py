"""Pagination for API lists."""

import re

from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """DRF's limit and offset, but a value the schema does not allow is a 400, not the first page.

    DRF falls back to its defaults on `?offset=false` or `?limit=-1`; a client would then page
    through the same results without being told.
    """

    max_limit = 200

    def paginate_queryset(self, queryset, request, view=None):
        errors = {}
        for name, least, most in self._bounds():
            raw = request.query_params.get(name)
            if raw is None:
                continue
            if not re.fullmatch(r"[0-9]+", raw):
                errors[name] = ["A whole number."]
            # Counted in digits first: int() refuses strings of thousands of them.
            elif len(raw.lstrip("0")) > len(str(most)) or not least <= int(raw) <= most:
                errors[name] = [f"Between {least} and {most}."]
        if errors:
            raise ValidationError(errors)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {name: (least, most) for name, least, most in self._bounds()}
        for parameter in parameters:
            least, most = bounds[parameter["name"]]
            parameter["schema"] |= {"minimum": least, "maximum": most}
        return parameters

    def _bounds(self):
        return [
            (self.limit_query_param, 1, self.max_limit),
            (self.offset_query_param, 0, 2**63 - 1),
        ]
