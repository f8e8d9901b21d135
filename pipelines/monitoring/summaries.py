"""Streaming per-feature summaries: exact moments and a KLL sketch (numeric), capped counts
(categorical). Both merge, so chunks and files can be summarised independently."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import datasketches
import numpy as np

KLL_K = 2048
"""The KLL sketch's size parameter (Model Monitor's too): rank error about 0.13 % (99 %
confidence); a feature with at most ``k`` values is kept exactly."""

MAX_CATEGORIES = 1000
"""Distinct values counted per categorical feature; later new values go to ``OTHER``."""

OTHER = "__other__"


@dataclass
class NumericSummary:
    present: int = 0
    missing: int = 0
    mismatched: int = 0
    """Values that are not numbers (counted as neither present nor missing)."""
    mean: float = 0.0
    m2: float = 0.0
    """Sum of squared deviations from the mean (Chan et al.'s parallel update)."""
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    integral: bool = True
    sketch: Any = field(default_factory=lambda: datasketches.kll_doubles_sketch(KLL_K))
    bin_edges: np.ndarray | None = None
    """When set (a drift run), exact counts of the values in these baseline bins."""
    bin_counts: np.ndarray | None = None

    def add(self, values: np.ndarray, missing: int = 0, mismatched: int = 0) -> None:
        """``values``: the chunk's numbers (no NaN); ``missing``/``mismatched``: counted apart."""
        self.missing += missing
        self.mismatched += mismatched
        n = int(values.size)
        if not n:
            return
        chunk_mean = float(values.mean())
        chunk_m2 = float(((values - chunk_mean) ** 2).sum())
        total = self.present + n
        delta = chunk_mean - self.mean
        self.m2 += chunk_m2 + delta * delta * self.present * n / total
        self.mean += delta * n / total
        self.present = total
        self.total += float(values.sum())
        self.minimum = min(self.minimum, float(values.min()))
        self.maximum = max(self.maximum, float(values.max()))
        if self.integral and not np.all(np.mod(values, 1.0) == 0.0):
            self.integral = False
        self.sketch.update(values)
        if self.bin_edges is not None and self.bin_counts is not None:
            self.bin_counts += bin_counts(values, self.bin_edges)

    @property
    def std(self) -> float:
        """Population standard deviation (ddof 0, as Evidently normalises Wasserstein)."""
        return math.sqrt(self.m2 / self.present) if self.present else 0.0

    def weighted_sample(self) -> tuple[np.ndarray, np.ndarray]:
        """The sketch's retained values and their weights (all weights 1 while exact)."""
        if self.sketch.is_empty():
            return np.empty(0), np.empty(0)
        pairs = np.array(list(self.sketch), dtype=np.float64)
        return pairs[:, 0], pairs[:, 1]

    @property
    def exact(self) -> bool:
        return not self.sketch.is_estimation_mode()

    def quantiles(self, count: int) -> list[float]:
        """``count + 1`` edges at the sketch's quantiles 0, 1/count, …, 1 (deduplicated)."""
        if self.sketch.is_empty():
            return []
        ranks = np.linspace(0.0, 1.0, count + 1).tolist()
        return sorted(set(float(q) for q in self.sketch.get_quantiles(ranks)))


def bin_counts(
    values: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """(Weighted) counts in ``len(edges) + 1`` bins: below the first edge, each [e_i, e_i+1),
    at or above the last (so values beyond the baseline's range are counted, not dropped)."""
    index = np.searchsorted(edges, values, side="right")
    counts = np.bincount(index, weights=weights, minlength=len(edges) + 1)
    return counts if weights is not None else counts.astype(np.int64)


@dataclass
class CategoricalSummary:
    present: int = 0
    missing: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, counts: dict[str, int], missing: int = 0) -> None:
        self.missing += missing
        for value, n in counts.items():
            self.present += n
            if value in self.counts or len(self.counts) < MAX_CATEGORIES:
                self.counts[value] = self.counts.get(value, 0) + n
            else:
                self.counts[OTHER] = self.counts.get(OTHER, 0) + n

    def top(self, limit: int) -> dict[str, int]:
        """The ``limit`` most frequent values, the rest summed into ``OTHER``."""
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        kept = dict(ranked[:limit])
        rest = sum(n for _, n in ranked[limit:])
        if rest:
            kept[OTHER] = kept.get(OTHER, 0) + rest
        return kept
