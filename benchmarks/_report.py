"""Rows, statistics and the table every benchmark reports into."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Row:
    """One figure: ours against a baseline measured in the same run, and its goal."""

    benchmark: str
    figure: str
    ours: str
    baseline: str = "-"
    ratio: str = "-"
    goal: str = "-"
    passed: bool | None = None
    """None: informational (no goal of its own)."""
    noise: str = "-"
    values: dict[str, Any] = field(default_factory=dict)
    """Raw numbers behind the row (for ``--json``)."""

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return "info"
        return "PASS" if self.passed else "FAIL"

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["verdict"] = self.verdict
        return out


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float]) -> str:
    """Noise of repeated measurements: min and max relative to the median, and the IQR."""
    if len(values) < 2:
        return "1 run"
    mid = median(values)
    if mid == 0:
        return f"min {min(values):g} max {max(values):g}"
    low, high = min(values) / mid - 1, max(values) / mid - 1
    text = f"{low:+.0%}/{high:+.0%}"
    if len(values) >= 4:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
        text += f" IQR {(q3 - q1) / mid:.0%}"
    return text


def ratio_against(ratio: float, goal: float) -> str:
    """The ratio to two decimals, more where two would print the goal itself: a 1.104
    against ≤ 1.10 reads "1.104 FAIL", not "1.10 FAIL"."""
    for places in (2, 3, 4):
        text = f"{ratio:.{places}f}"
        if text != f"{goal:.{places}f}":
            return text
    return text


def seconds(value: float) -> str:
    if value >= 10:
        return f"{value:.1f} s"
    if value >= 1:
        return f"{value:.2f} s"
    return f"{value * 1000:.0f} ms" if value >= 0.01 else f"{value * 1000:.1f} ms"


def render(rows: Sequence[Row]) -> str:
    """A markdown table (readable as plain text too)."""
    header = ["figure", "ours", "baseline", "ratio", "goal", "result", "noise (min/max vs median)"]
    body = [[r.figure, r.ours, r.baseline, r.ratio, r.goal, r.verdict, r.noise] for r in rows]
    widths = [max(len(str(line[i])) for line in [header, *body]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out.extend(line(cells) for cells in body)
    return "\n".join(out)
