"""The same view answers with the whole page or, for htmx, the part that changed."""

from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def wants_partial(request) -> bool:
    """An htmx swap asks for a part; a history restore (Back) needs the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render_page_or_partial(request, template: str, partial: str, context: dict, status: int = 200):
    """Render `template`, or its `partial` for an htmx swap; caches keep the two apart."""
    name = f"{template}#{partial}" if wants_partial(request) else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
