"""Server-rendered SVG for progress: prints in PDFs as it shows on screen."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from stories.selectors import RATINGS_SHOWN

register = template.Library()

WIDTH, HEIGHT, PAD = 140, 40, 5


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else ("−" + str(-value) if value < 0 else "0")


@register.simple_tag
def sparkline(ratings) -> str:
    """A small line of goal ratings (−2 … +2) over time, with a text equivalent."""
    values = [r.rating for r in ratings]
    if not values:
        return mark_safe('<span class="muted">Not rated yet</span>')  # noqa: S308 - constant
    points = values[-RATINGS_SHOWN:]
    label = "Progress ratings, oldest to newest: " + ", ".join(_signed(v) for v in points)
    step = (WIDTH - 2 * PAD) / max(len(points) - 1, 1)

    def y(v):
        return PAD + (2 - v) * (HEIGHT - 2 * PAD) / 4

    coords = [(f"{PAD + i * step:.1f}", f"{y(v):.1f}") for i, v in enumerate(points)]
    line = " ".join(f"{x},{yy}" for x, yy in coords)
    last_x, last_y = coords[-1]
    dots = format_html_join("", '<circle cx="{}" cy="{}" r="2.5" fill="#1f5f5b"></circle>', coords)
    return format_html(
        '<svg class="sparkline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{label}">'
        '<line class="sparkline__zero" x1="{p}" x2="{wp}" y1="{zero}" y2="{zero}"></line>'
        '<polyline fill="none" stroke="#1f5f5b" stroke-width="2" points="{line}"></polyline>{dots}'
        '<circle class="sparkline__last" cx="{lx}" cy="{ly}" r="4"></circle></svg>',
        w=WIDTH,
        h=HEIGHT,
        p=PAD,
        wp=WIDTH - PAD,
        zero=f"{y(0):.1f}",
        line=line,
        dots=dots,
        lx=last_x,
        ly=last_y,
        label=label,
    )


@register.filter
def signed(value) -> str:
    try:
        return _signed(int(value))
    except (TypeError, ValueError):
        return ""
