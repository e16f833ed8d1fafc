from django import template
from django.utils.safestring import mark_safe

from stories import markdown

register = template.Library()


@register.filter
def as_markdown(text: str) -> str:
    """Sanitised HTML from a note's Markdown: only harmless tags survive."""
    return mark_safe(markdown.render(text))  # noqa: S308 - nh3 has sanitised it
