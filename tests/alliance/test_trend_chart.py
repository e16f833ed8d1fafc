"""The trend chart: scores placed by date, the cut-off, and for outcome measures the
reliable-change band around the first score."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from alliance import outcomes
from alliance.templatetags.alliance import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, trend_chart

FOLDER = Path(__file__).resolve().parents[2] / "alliance" / "instruments"
START = datetime(2026, 9, 1, 18, tzinfo=UTC)


def series(file, kind, key, scores):
    definition = json.loads((FOLDER / file).read_text())
    instrument = SimpleNamespace(definition=definition, kind=kind, key=key, name=definition["name"])
    check_ins = [
        SimpleNamespace(pk=n, total=total, submitted_at=START + timedelta(days=day))
        for n, (day, total) in enumerate(scores)
    ]
    return SimpleNamespace(instrument=instrument, check_ins=check_ins, flags=[])


def xs(svg: str) -> list[float]:
    return [float(v) for v in re.findall(r'<circle cx="([\d.]+)"', svg)]


def test_scores_are_placed_by_their_dates_not_one_step_each():
    """Weeks 0, 1 and 8: the second dot sits an eighth of the way along, not halfway."""
    svg = trend_chart(series("phq9_v1.json", "outcome", "phq-9", [(0, 18), (7, 16), (56, 9)]))
    first, second, last = xs(svg)
    assert (first, last) == (LEFT, WIDTH - RIGHT)
    assert second - first == round((last - first) / 8, 1)
    assert "Sep 1" in svg and "Oct 27" in svg  # first and last dates on the x-axis


def test_outcome_chart_draws_the_cut_off_and_the_reliable_change_band():
    svg = trend_chart(series("phq9_v1.json", "outcome", "phq-9", [(0, 18), (14, 15), (28, 11)]))
    assert 'class="chart__cutoff"' in svg and "cut-off 10" in svg
    band = re.search(
        r'<rect class="chart__band"[^>]* y="([\d.]+)" width="[\d.]+" height="([\d.]+)"', svg
    )
    top, height = float(band.group(1)), float(band.group(2))
    per_point = (HEIGHT - TOP - BOTTOM) / 27
    reach = outcomes.Z * outcomes.norms_for("phq-9").s_diff  # 5.24 points either side of 18
    assert abs(height - 2 * reach * per_point) < 0.2
    assert abs(top - (TOP + (27 - (18 + reach)) * per_point)) < 0.2
    assert "no reliable change" in svg
    assert "within 5.2 points of the first score (18)" in svg  # said in words too


def test_an_alliance_chart_has_no_band():
    svg = trend_chart(
        series("concord_alliance_v1.json", "alliance", "concord-alliance", [(0, 4.5), (14, 4.0)])
    )
    assert "chart__band" not in svg
