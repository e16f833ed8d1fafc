"""Every URL pattern of ours declares its access decision (a meta-test over the resolver)."""

from django.urls import URLPattern, URLResolver, get_resolver

from core.access import ACCESS_ATTR, ENFORCED_ATTR

# Third-party apps that never show patient information through these routes.
THIRD_PARTY = ("django.contrib.admin", "allauth.", "django.views.static", "rest_framework.")


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _enforced(callback) -> bool:
    return any(
        getattr(candidate, ENFORCED_ATTR, False)
        for candidate in (
            callback,
            getattr(callback, "view_class", None),
            getattr(callback, "cls", None),
        )
        if candidate is not None
    )


def _declaration(callback):
    for candidate in (
        callback,
        getattr(callback, "view_class", None),
        getattr(callback, "cls", None),
    ):
        if candidate is not None and getattr(candidate, ACCESS_ATTR, None):
            return getattr(candidate, ACCESS_ATTR)
    return None


def test_every_route_of_ours_declares_its_access_decision():
    undeclared = []
    ours = 0
    for route, callback in _walk(get_resolver().url_patterns):
        module = callback.__module__
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if view_class is not None:
            module = view_class.__module__
        if route.startswith("admin/"):
            continue  # Django's admin: see test_admin_holds_no_patient_information
        if module.startswith(THIRD_PARTY):
            continue
        ours += 1
        if _declaration(callback) is None:
            undeclared.append(f"{route} -> {module}.{getattr(callback, '__name__', callback)}")
    assert ours >= 10, "the walk found too few routes: is the resolver being read?"
    assert undeclared == [], "Routes without an access decision:\n" + "\n".join(undeclared)


def test_patient_routes_use_the_patient_decorator():
    """A route with a patient uuid in it resolves the patient through access.patient_view or
    the API's PatientAPIView, both of which call access.get before the view runs."""
    for route, callback in _walk(get_resolver().url_patterns):
        if "<uuid:patient_uuid>" not in route:
            continue
        declaration = _declaration(callback)
        assert declaration and declaration.startswith("patient:") and _enforced(callback), route


def test_record_routes_resolve_the_record_before_the_view_runs():
    """Every other route naming a record by uuid is declared by an enforcing declaration
    (access.record_view, RecordAPIView): the record is fetched through access.get before the
    view's own code runs, so no view can forget to ask. Prose declarations (access.declare)
    are for lists and for pages without patient data (a practice's settings, one's own API
    token); the calls
    as an outsider in tests/core/test_policy_consistency.py prove the refusals."""
    prose = []
    for route, callback in _walk(get_resolver().url_patterns):
        if "<uuid:" not in route or "<uuid:patient_uuid>" in route or route.startswith("admin/"):
            continue
        if callback.__module__.startswith(THIRD_PARTY):
            continue
        declaration = _declaration(callback) or ""
        if _enforced(callback) or declaration.startswith("no patient data"):
            continue
        prose.append(f"{route}: {declaration!r}")
    assert prose == [], "Record routes without an enforcing declaration:\n" + "\n".join(prose)


def test_admin_holds_no_patient_information():
    """The Django admin is for accounts and schedules; it bypasses the policy, so no model
    holding patient information may be registered there."""
    from django.contrib import admin

    from core.models import Patient

    for model in admin.site._registry:
        assert model is not Patient, model
        field_names = {f.name for f in model._meta.get_fields()}
        assert "patient" not in field_names, model
