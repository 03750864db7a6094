"""Counts over time as an inline SVG chart, for pages that load nothing (the fleet report).

Why hand-written SVG: a chart library would bring script or a network fetch into a page that
must have neither; a few lines per series over a date axis is all a bucket-over-time view needs.

``svg_timeseries(series, title=..., y_label=..., width=720, height=240) -> Html``
    ``series`` maps a name (a bucket, a rule id) to ``(date or datetime, count)`` points, in any
    order.  One line per series with a dot per point (each dot's tooltip says series, date and
    count), a y axis from 0 with round ticks, dated x ticks, and a legend in HTML under the chart
    (it wraps, and names are text, escaped).  Colours are :data:`htmlstyle.SERIES_COLOURS`,
    cycled with dash patterns past eight series.  No point at all gives a short "no data" note.
    A single date is drawn centred.  Negative counts are drawn as 0.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from .htmlkit import Html, esc, tag
from .htmlstyle import SERIES_COLOURS

__all__ = ["svg_timeseries"]

_DASHES = ("", "6 3", "2 3", "8 3 2 3")
_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 48, 16, 14, 30


def _x_value(when: date) -> float:
    """Days since 0001-01-01, with the time of day as a fraction for a datetime."""
    if isinstance(when, datetime):
        return when.toordinal() + (when.hour * 3600 + when.minute * 60 + when.second) / 86400
    return float(when.toordinal())


def _nice_step(top: float, ticks: int = 5) -> float:
    """A 1, 2 or 5 times a power of ten step giving at most ``ticks`` steps up to ``top``."""
    raw = max(top / ticks, 1.0)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def _date_label(x: float, with_time: bool) -> str:
    day = date.fromordinal(int(math.floor(x)))
    if not with_time:
        return day.isoformat()
    moment = datetime(day.year, day.month, day.day) + timedelta(seconds=round((x - math.floor(x)) * 86400))
    return moment.strftime("%Y-%m-%d %H:%M")


def svg_timeseries(series: Mapping[str, Sequence[tuple[date, int]]], *, title: str = "",
                   y_label: str = "count", width: int = 720, height: int = 240) -> Html:
    """One line per series over a shared date axis, as inline SVG plus an HTML legend."""
    points = {name: sorted(((_x_value(when), max(int(count), 0), when) for when, count in values),
                           key=lambda p: p[0]) for name, values in series.items()}
    everything = [p for values in points.values() for p in values]
    if not everything:
        return tag("div", tag("p", f"{title}: no data." if title else "No data.", class_="empty"), class_="chart")
    with_time = any(isinstance(p[2], datetime) for p in everything)
    x_min, x_max = min(p[0] for p in everything), max(p[0] for p in everything)
    if x_max == x_min:
        x_min, x_max = x_min - 1, x_max + 1
    step = _nice_step(max(p[1] for p in everything))
    y_top = step * max(math.ceil(max(p[1] for p in everything) / step), 1)
    plot_w, plot_h = width - _PAD_LEFT - _PAD_RIGHT, height - _PAD_TOP - _PAD_BOTTOM

    def sx(x: float) -> float:
        return _PAD_LEFT + (x - x_min) / (x_max - x_min) * plot_w

    def sy(y: float) -> float:
        return _PAD_TOP + plot_h - y / y_top * plot_h

    parts: list[str] = []
    tick = 0.0
    while tick <= y_top + 1e-9:  # horizontal grid lines and y labels
        y = sy(tick)
        parts.append(f'<line class="grid" x1="{_PAD_LEFT}" x2="{width - _PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text x="{_PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
        tick += step
    x_ticks = min(6, max(2, int(x_max - x_min) + 1)) if not with_time else 5
    for i in range(x_ticks):
        x = x_min + (x_max - x_min) * i / (x_ticks - 1)
        anchor = "start" if i == 0 else "end" if i == x_ticks - 1 else "middle"
        parts.append(f'<line class="axis" x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{_PAD_TOP + plot_h}" '
                     f'y2="{_PAD_TOP + plot_h + 4}"/>')
        parts.append(f'<text x="{sx(x):.1f}" y="{height - 10}" text-anchor="{anchor}">'
                     f"{esc(_date_label(x, with_time))}</text>")
    parts.append(f'<line class="axis" x1="{_PAD_LEFT}" x2="{_PAD_LEFT}" y1="{_PAD_TOP}" y2="{_PAD_TOP + plot_h}"/>')
    parts.append(f'<line class="axis" x1="{_PAD_LEFT}" x2="{width - _PAD_RIGHT}" y1="{_PAD_TOP + plot_h}" '
                 f'y2="{_PAD_TOP + plot_h}"/>')
    parts.append(f'<text x="12" y="{_PAD_TOP + plot_h / 2:.1f}" text-anchor="middle" '
                 f'transform="rotate(-90 12 {_PAD_TOP + plot_h / 2:.1f})">{esc(y_label)}</text>')
    legend = []
    for index, (name, values) in enumerate(points.items()):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        dash = _DASHES[(index // len(SERIES_COLOURS)) % len(_DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y, _ in values)
        group = [f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash_attr} points="{coords}"/>']
        for x, y, when in values:
            label = when.isoformat(sep=" ", timespec="minutes") if isinstance(when, datetime) else when.isoformat()
            group.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{colour}">'
                         f"<title>{esc(name)}: {esc(label)}: {y}</title></circle>")
        parts.append(f'<g class="series" data-series="{esc(name)}">{"".join(group)}</g>')
        legend.append(tag("li", Html(f'<span class="sw" style="background:{colour}"></span>'), name,
                          tag("span", f" ({sum(v[1] for v in values)})", class_="muted")))
    label = esc(title or f"{y_label} over time")
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{label}"><title>{label}</title>{"".join(parts)}</svg>')
    return tag("figure", tag("figcaption", title, class_="small muted") if title else None, Html(svg),
               tag("ul", legend, class_="legend"), class_="chart")
