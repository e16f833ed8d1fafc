"""A trend chart as server-rendered SVG, so it prints in PDFs as it shows on screen."""

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from alliance import outcomes
from alliance.selectors import POINTS_SHOWN
from core.dates import us_date

register = template.Library()

WIDTH, HEIGHT = 480, 160
LEFT, RIGHT, TOP, BOTTOM = 34, 12, 12, 26


def _fmt(value: float) -> str:
    return f"{value:g}"


def _band(series, low: float, high: float):
    """The reliable-change band of an outcome measure with known norms: the scores within
    measurement error of the first one (baseline ± 1.96·S_diff), clipped to the scale; or
    None."""
    if series.instrument.kind != "outcome" or not series.check_ins:
        return None
    norms = outcomes.norms_for(series.instrument.key)
    if norms is None:
        return None
    base = series.check_ins[0].total
    reach = outcomes.Z * norms.s_diff
    return base, max(low, base - reach), min(high, base + reach), reach


@register.simple_tag
def trend_chart(series) -> str:
    """Scores over time, placed by their dates (not one step a score), with the instrument's
    cut-off as a dashed line and, for an outcome measure, the reliable-change band around the
    first score; a text equivalent in aria-label."""
    definition = series.instrument.definition
    low, high = definition["scoring"].get("min", 0), definition["scoring"].get("max", 10)
    points = series.check_ins[-POINTS_SHOWN:]
    if not points:
        return ""
    span = (high - low) or 1
    width = WIDTH - LEFT - RIGHT
    start, end = points[0].submitted_at, points[-1].submitted_at
    seconds = (end - start).total_seconds()

    def x(moment) -> float:
        if seconds <= 0:
            return LEFT + width / 2
        return LEFT + (moment - start).total_seconds() * width / seconds

    def y(value: float) -> float:
        return TOP + (high - value) * (HEIGHT - TOP - BOTTOM) / span

    coords = [(x(c.submitted_at), y(c.total)) for c in points]
    cutoff = definition.get("cutoff")
    flagged = {f.check_in_id for f in series.flags}
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="{}" class="{}" fill="{}"><title>{}: {}</title></circle>',
        [
            (
                f"{xx:.1f}",
                f"{yy:.1f}",
                5 if c.pk in flagged else 3.5,
                "chart__flagged" if c.pk in flagged else "chart__dot",
                "#a2262e" if c.pk in flagged else "#1f5f5b",
                us_date(timezone.localtime(c.submitted_at)),
                _fmt(c.total),
            )
            for (xx, yy), c in zip(coords, points, strict=True)
        ],
    )
    first_date, last_date = timezone.localtime(start), timezone.localtime(end)
    band = _band(series, low, high)
    label = (
        f"{series.instrument.name}: {len(points)} scores from {us_date(first_date)} to {us_date(last_date)}; "
        f"latest {_fmt(points[-1].total)}"
        + (f", cut-off {_fmt(cutoff)}" if cutoff is not None else "")
        + (
            f"; shaded: within {band[3]:.1f} points of the first score ({_fmt(band[0])}), "
            "no reliable change"
            if band
            else ""
        )
    )
    band_rect = ""
    if band is not None:
        base, bottom, top, _ = band
        band_rect = format_html(
            '<rect class="chart__band" fill="#1f5f5b" fill-opacity="0.1" x="{}" y="{}" width="{}" height="{}"></rect>'
            '<line class="chart__baseline" stroke="#1f5f5b" stroke-opacity="0.5" stroke-dasharray="2 3" x1="{}" x2="{}" y1="{}" y2="{}"></line>'
            '<text class="chart__label" x="{}" y="{}">no reliable change</text>',
            LEFT,
            f"{y(top):.1f}",
            width,
            f"{y(bottom) - y(top):.1f}",
            LEFT,
            WIDTH - RIGHT,
            f"{y(base):.1f}",
            f"{y(base):.1f}",
            LEFT + 4,
            f"{y(bottom) - 4:.1f}",
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
    middle = ""
    if seconds > 0 and (last_date.date() - first_date.date()).days >= 28:
        halfway = start + (end - start) / 2
        middle = format_html(
            '<text class="chart__label" x="{}" y="{}" text-anchor="middle">{}</text>',
            f"{x(halfway):.1f}",
            HEIGHT - 6,
            us_date(halfway, "day"),
        )
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}" preserveAspectRatio="xMidYMid meet">'
        '{band}<line class="chart__axis" stroke="#8a94a3" x1="{l}" x2="{l}" y1="{t}" y2="{b}"></line>'
        '<line class="chart__axis" stroke="#8a94a3" x1="{l}" x2="{r}" y1="{b}" y2="{b}"></line>'
        '<text class="chart__label" x="{lt}" y="{ty}" text-anchor="end">{high}</text>'
        '<text class="chart__label" x="{lt}" y="{by}" text-anchor="end">{low}</text>'
        '{cut}<polyline class="chart__line" fill="none" stroke="#1f5f5b" stroke-width="2.2" points="{line}"></polyline>{dots}'
        '<text class="chart__label" x="{l}" y="{dy}">{first}</text>{middle}'
        '<text class="chart__label" x="{r}" y="{dy}" text-anchor="end">{last}</text></svg>',
        w=WIDTH,
        h=HEIGHT,
        label=label,
        band=band_rect,
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
        line=" ".join(f"{xx:.1f},{yy:.1f}" for xx, yy in coords),
        dots=dots,
        dy=HEIGHT - 6,
        first=us_date(first_date, "day"),
        middle=middle,
        last=us_date(last_date, "day"),
    )


@register.simple_tag
def item_text(item, clinician) -> str:
    """An item's words, naming the clinician the check-in is about."""
    name = clinician.full_name if clinician is not None else "your clinician"
    return item["text"].replace("{clinician}", name)
