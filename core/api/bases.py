"""Bases for API views that show one patient's information or one record: the access
decision is made before the handler runs, through the same door pages use (`access.get`),
audited, and answered "not found" alike for what does not exist and what may not be seen.

A view names its category and, per HTTP method, its action; the base resolves `self.patient`
(and `self.record`) in `initial()`, after authentication and before the handler. The URL
meta-test reads the declaration the base builds from those names.
"""

from rest_framework import generics

from core import access
from core.access import Action, Category
from core.api.pagination import LimitOffsetPagination

_DEFAULT_ACTIONS = {"GET": Action.READ, "HEAD": Action.READ, "OPTIONS": Action.READ}


class _Declared:
    access_category: Category | None = None
    # The action each method asks for on the patient or record; writes are checked again by
    # the service (`access.guard`), which audits the write itself.
    access_actions: dict[str, Action] = {}

    def access_action(self, method: str) -> Action:
        return {**_DEFAULT_ACTIONS, **self.access_actions}.get(method, Action.READ)


class PaginatedList:
    """A list sent a page at a time (`?limit=&offset=`, answered count/next/previous/results),
    the same way for every list of the API."""

    pagination_class = LimitOffsetPagination

    def listed(self, items, serializer_class=None, *, shown=None):
        """A page of `items`, each serialized by `serializer_class` or by `shown(item)`."""
        page = self.paginate_queryset(list(items))
        if shown is not None:
            return self.get_paginated_response([shown(item) for item in page])
        return self.get_paginated_response(serializer_class(page, many=True).data)


class PatientAPIView(_Declared, generics.GenericAPIView):
    """A view under `patients/<uuid:patient_uuid>/`: `self.patient`, resolved and audited."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.access_category is not None:
            cls.concord_access = f"patient:{cls.access_category}:{_actions(cls)}"
            cls.concord_access_enforced = True

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.patient = access.get(
            request.user,
            self.access_action(request.method),
            self.access_category,
            patient=kwargs["patient_uuid"],
        )


class RecordAPIView(_Declared, generics.GenericAPIView):
    """A view of one record by its uuid (URL keyword `access_uuid`): `self.record`, resolved
    through `access.get` with `access_queryset()` and audited."""

    access_uuid = "uuid"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.access_category is not None:
            cls.concord_access = f"record:{cls.access_category}:{_actions(cls)}"
            cls.concord_access_enforced = True

    def access_queryset(self):
        raise NotImplementedError

    def access_category_of(self, record) -> Category:
        return self.access_category

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.record = access.get(
            request.user,
            self.access_action(request.method),
            self.access_category,
            queryset=self.access_queryset(),
            uuid=kwargs[self.access_uuid],
            category_of=self.access_category_of,
        )
        self.patient = self.record.patient


def _actions(cls) -> str:
    actions = {**_DEFAULT_ACTIONS, **cls.access_actions}
    return ",".join(f"{method}={action}" for method, action in sorted(actions.items()))
