"""A trend chart as server-rendered SVG, so it prints in PDFs as it shows on screen."""

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.dates import us_date

register = template.Library()

WIDTH, HEIGHT = 480, 160
LEFT, RIGHT, TOP, BOTTOM = 34, 12, 12, 26


def _fmt(value: float) -> str:
    return f"{value:g}"


@register.simple_tag
def trend_chart(series) -> str:
    """Scores over time with the instrument's cut-off as a dashed line; a text equivalent in aria-label."""
    definition = series.instrument.definition
    low, high = definition["scoring"].get("min", 0), definition["scoring"].get("max", 10)
    points = series.check_ins[-20:]
    if not points:
        return ""
    span = (high - low) or 1
    step = (WIDTH - LEFT - RIGHT) / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return TOP + (high - value) * (HEIGHT - TOP - BOTTOM) / span

    coords = [(LEFT + i * step, y(c.total)) for i, c in enumerate(points)]
    cutoff = definition.get("cutoff")
    flagged = {f.check_in_id for f in series.flags}
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="{}" class="{}" fill="{}"></circle>',
        [
            (
                f"{x:.1f}",
                f"{yy:.1f}",
                5 if c.pk in flagged else 3.5,
                "chart__flagged" if c.pk in flagged else "chart__dot",
                "#a2262e" if c.pk in flagged else "#1f5f5b",
            )
            for (x, yy), c in zip(coords, points, strict=True)
        ],
    )
    first_date, last_date = (
        timezone.localtime(points[0].submitted_at),
        timezone.localtime(points[-1].submitted_at),
    )
    label = (
        f"{series.instrument.name}: {len(points)} scores from {us_date(first_date)} to {us_date(last_date)}; "
        f"latest {_fmt(points[-1].total)}"
        + (f", cut-off {_fmt(cutoff)}" if cutoff is not None else "")
    )
    cut_line = ""
    if cutoff is not None and low <= cutoff <= high:
        cut_line = format_html(
            '<line class="chart__cutoff" stroke="#a2262e" stroke-dasharray="5 4" x1="{}" x2="{}" y1="{}" y2="{}"></line>'
            '<text class="chart__label" x="{}" y="{}" text-anchor="end">cut-off {}</text>',
            LEFT,
            WIDTH - RIGHT,
            f"{y(cutoff):.1f}",
            f"{y(cutoff):.1f}",
            WIDTH - RIGHT,
            f"{y(cutoff) - 4:.1f}",
            _fmt(cutoff),
        )
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}" preserveAspectRatio="xMidYMid meet">'
        '<line class="chart__axis" stroke="#8a94a3" x1="{l}" x2="{l}" y1="{t}" y2="{b}"></line>'
        '<line class="chart__axis" stroke="#8a94a3" x1="{l}" x2="{r}" y1="{b}" y2="{b}"></line>'
        '<text class="chart__label" x="{lt}" y="{ty}" text-anchor="end">{high}</text>'
        '<text class="chart__label" x="{lt}" y="{by}" text-anchor="end">{low}</text>'
        '{cut}<polyline class="chart__line" fill="none" stroke="#1f5f5b" stroke-width="2.2" points="{line}"></polyline>{dots}'
        '<text class="chart__label" x="{l}" y="{dy}">{first}</text>'
        '<text class="chart__label" x="{r}" y="{dy}" text-anchor="end">{last}</text></svg>',
        w=WIDTH,
        h=HEIGHT,
        label=label,
        l=LEFT,
        r=WIDTH - RIGHT,
        t=TOP,
        b=HEIGHT - BOTTOM,
        lt=LEFT - 6,
        ty=TOP + 4,
        by=HEIGHT - BOTTOM,
        high=_fmt(high),
        low=_fmt(low),
        cut=cut_line,
        line=" ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords),
        dots=dots,
        dy=HEIGHT - 6,
        first=us_date(first_date, "day"),
        last=us_date(last_date, "day"),
    )


@register.simple_tag
def item_text(item, clinician) -> str:
    """An item's words, naming the clinician the check-in is about."""
    name = clinician.full_name if clinician is not None else "your clinician"
    return item["text"].replace("{clinician}", name)
