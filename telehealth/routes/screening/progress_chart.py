"""The progress chart's geometry: a score history drawn as an inline SVG on the server (no script),
over the instrument's published severity bands (`scoring.PHQ9_BANDS`, `GAD7_BANDS`).

`build` returns plain numbers and words for templates/screening/_chart.html; the same figures go
in the data table under the chart, for screen readers and for anyone who prefers numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from telehealth.clock import in_zone

WIDTH, HEIGHT = 340, 250
LEFT, RIGHT, TOP, BOTTOM = 38, 80, 10, 46  # room for the axis numbers, the band names and the axis titles
BAND_CLASSES = {"minimal": "band-minimal", "mild": "band-mild", "moderate": "band-moderate",
                "moderately_severe": "band-moderately-severe", "severe": "band-severe"}


@dataclass
class Point:
    x: float
    y: float
    total: int
    band: str
    day: str       # "Dec 3, 2026"
    short: str     # "Dec 3"
    source: str


@dataclass
class Band:
    name: str
    low: int
    high: int
    y: float
    height: float
    css: str
    label_y: float

    @property
    def label_lines(self) -> list[str]:
        """The band's name in words, on two lines when it is two words ("Moderately" / "severe")."""
        words = self.name.replace("_", " ").capitalize().split(" ")
        return [" ".join(words[:1]), " ".join(words[1:])] if len(words) > 1 else words


@dataclass
class Chart:
    instrument: str
    name: str
    top: int
    points: list[Point] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: float = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: float = HEIGHT - BOTTOM

    @property
    def line(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def summary(self) -> str:
        """The chart in one sentence (the SVG's description)."""
        if not self.points:
            return f"No {self.name} scores yet."
        first, last = self.points[0], self.points[-1]
        words = lambda p: f"{p.total} ({p.band.replace('_', ' ')}) on {p.day}"  # noqa: E731
        if len(self.points) == 1:
            return f"One score so far: {words(first)}. Scores run from 0 to {self.top}; lower is better."
        return (f"{len(self.points)} scores, from {words(first)} to {words(last)}. "
                f"Scores run from 0 to {self.top}; lower is better.")


def _y(score: float, top: int) -> float:
    return TOP + (HEIGHT - BOTTOM - TOP) * (1 - score / top)


def build(instrument: str, name: str, measures, bands: tuple[tuple[int, str], ...], top: int, zone: str) -> Chart:
    """The chart of `measures` (oldest first) of one instrument, its bands given highest first as
    scoring writes them ((lowest total, name), ...), on a 0..`top` scale, dates in `zone`."""
    chart = Chart(instrument=instrument, name=name, top=top)
    ascending = sorted(bands)
    for i, (low, band) in enumerate(ascending):
        high = ascending[i + 1][0] - 1 if i + 1 < len(ascending) else top
        y_top, y_bottom = _y(high + 1 if i + 1 < len(ascending) else top, top), _y(low, top)
        chart.bands.append(Band(name=band, low=low, high=high, y=y_top, height=y_bottom - y_top,
                                css=BAND_CLASSES.get(band, "band-minimal"),
                                label_y=(y_top + y_bottom) / 2 + 4 - (6 if " " in band.replace("_", " ") else 0)))
    chart.y_ticks = [(_y(b.low, top), b.low) for b in chart.bands] + [(_y(top, top), top)]
    if not measures:
        return chart
    moments = [m.taken_at for m in measures]
    start, end = min(moments), max(moments)
    span = (end - start).total_seconds()
    plot_left, plot_width = LEFT + 16, WIDTH - RIGHT - LEFT - 32
    for m in measures:
        local = in_zone(m.taken_at, zone)
        x = plot_left + (plot_width * (m.taken_at - start).total_seconds() / span if span else plot_width / 2)
        chart.points.append(Point(x=x, y=_y(m.total, top), total=m.total, band=m.band,
                                  day=f"{local:%b} {local.day}, {local.year}", short=f"{local:%b} {local.day}",
                                  source=m.source))
    first, last = chart.points[0], chart.points[-1]
    chart.x_ticks = [(first.x, first.short)]
    if len(chart.points) > 1 and last.x - first.x > 60:
        chart.x_ticks.append((last.x, last.short))
    return chart
