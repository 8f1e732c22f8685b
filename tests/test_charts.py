"""Server-side SVG charts: well-formed, no inline style, thresholds told apart without colour, text alternatives."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

from moderation.settings.charts import histogram, queue_charts
from moderation.settings.queue_history import QueueEvent, queue_series

SVG = "{http://www.w3.org/2000/svg}"


def _parse(chart):
    root = ET.fromstring(str(chart.svg))
    assert not [e for e in root.iter() if "style" in e.attrib], "no style attributes under the CSP"
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc").text == chart.summary
    return root


def test_histogram_counts_and_draws_both_thresholds():
    scores = [0.01] * 50 + [0.52, 0.57, 0.61, 0.99]
    chart = histogram("insult", scores, 0.6, 0.5)
    root = _parse(chart)
    bars = root.findall(f"{SVG}rect")
    assert len(bars) == 5  # one per non-empty bin: 0.00, 0.50, 0.55, 0.60, 0.95
    lines = {line.get("class"): line for line in root.findall(f"{SVG}line")}
    current = lines["chart-threshold chart-threshold-current"]
    proposed = lines["chart-threshold chart-threshold-proposed"]
    assert current.get("stroke-dasharray") is None and proposed.get("stroke-dasharray")
    assert float(proposed.get("x1")) < float(current.get("x1"))
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "current 0.60" in labels and "proposed 0.50" in labels
    assert "2 at or above the current level (0.60), 4 at or above the proposed level (0.50)" in chart.summary
    assert dict(chart.rows)["0.00–0.05"] == "50" and sum(int(n) for _, n in chart.rows) == 54


def test_histogram_with_equal_thresholds_has_one_labelled_line_and_escapes_names():
    chart = histogram("<b>x</b>", [0.3], 0.6, 0.6, chart_id="h1")
    root = _parse(chart)
    assert [t.text for t in root.iter(f"{SVG}text") if t.text and "0.60" in t.text] == ["current = proposed 0.60"]
    assert "<b>" not in str(chart.svg)
    empty = _parse(histogram("threat", [], None, None))
    assert empty.findall(f"{SVG}rect") == []


def test_queue_series_replays_entries_and_exits():
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    hour = timedelta(hours=1)
    initial = {1: start - 5 * hour}
    events = [QueueEvent(start + 0.5 * hour, 2, True), QueueEvent(start + 1.5 * hour, 1, False),
              QueueEvent(start + 2.5 * hour, 2, False), QueueEvent(start + 2.6 * hour, 3, True)]
    points = queue_series(initial, events, [start + i * hour for i in range(1, 4)])
    assert [(p.size, p.oldest_seconds / 3600) for p in points] == [(2, 6.0), (1, 1.5), (1, 0.4 * 1)]
    size, age = queue_charts(points, hourly=True)
    _parse(size), _parse(age)
    assert [row[1] for row in size.rows] == ["2", "1", "1"]
    assert age.rows[0][1] == "6.0" and "hourly" in age.summary
    empty_size, _ = queue_charts([], hourly=False)
    assert "nothing in this window" in empty_size.summary
