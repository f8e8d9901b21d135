"""One pass over chunks → a summary per feature (the statistics engine of baselines and drift runs).

Kinds come from a schema or the baseline; otherwise a feature is numeric when at least
``NUMERIC_SHARE`` of its first chunk's values are finite numbers, else categorical. Values of a
numeric feature that are not finite numbers are type mismatches, counted with where they were.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.monitoring.summaries import CategoricalSummary, NumericSummary
from pipelines.monitoring.tables import PREDICTION, Chunk, Problems

Kind = Literal["numeric", "categorical"]
Role = Literal["input", "output"]

NUMERIC_SHARE = 0.95
_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


@dataclass(frozen=True)
class Feature:
    name: str
    kind: Kind
    role: Role = "input"


def role_of(name: str) -> Role:
    return "output" if name == PREDICTION or name.startswith(f"{PREDICTION}_") else "input"


@dataclass
class Profile:
    """The summaries of every feature seen so far, in first-seen order."""

    kinds: dict[str, Kind] = field(default_factory=dict)
    """Fixed kinds (schema or baseline); others are inferred."""
    expected: list[str] | None = None
    """The baseline's features: columns outside it are extra, features absent are missing."""
    numeric: dict[str, NumericSummary] = field(default_factory=dict)
    categorical: dict[str, CategoricalSummary] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    rows: dict[Role, int] = field(default_factory=lambda: {"input": 0, "output": 0})
    extra: dict[str, int] = field(default_factory=dict)
    """Columns outside the baseline → rows that had them."""
    absent: dict[str, int] = field(default_factory=dict)
    """Baseline features a chunk lacked → rows without them."""
    problems: Problems = field(default_factory=Problems)
    bin_edges: dict[str, np.ndarray] = field(default_factory=dict)
    """Baseline bins to count numeric features in exactly (drift runs)."""
    skip: set[str] = field(default_factory=set)
    """Columns that are not features (a label)."""

    def features(self) -> list[Feature]:
        return [
            Feature(n, "numeric" if n in self.numeric else "categorical", role_of(n))
            for n in self.order
        ]

    def add_all(self, chunks: Iterable[Chunk]) -> Profile:
        for chunk in chunks:
            self.add(chunk)
        return self

    def add(self, chunk: Chunk) -> None:
        if not chunk.rows:
            return
        names = [n for n in chunk.columns if n not in self.skip]
        role = role_of(names[0]) if names else "input"
        self.rows[role] += chunk.rows
        if self.expected is not None:
            for name in names:
                # outputs a baseline lacks (one from training data) are simply not compared
                if name not in self.expected and role == "input":
                    self.extra[name] = self.extra.get(name, 0) + chunk.rows
            for name in self.expected:
                if role_of(name) == role and name not in chunk.columns:
                    self.absent[name] = self.absent.get(name, 0) + chunk.rows
        for name, column in chunk.columns.items():
            if name in self.skip or (self.expected is not None and name not in self.expected):
                continue
            self._add_column(name, column, chunk)

    def _add_column(self, name: str, column: pa.Array, chunk: Chunk) -> None:
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        kind = self.kinds.get(name) or self._inferred(name, column)
        if name not in self.numeric and name not in self.categorical:
            self.order.append(name)
            if kind == "numeric":
                summary = NumericSummary()
                edges = self.bin_edges.get(name)
                if edges is not None:
                    summary.bin_edges = edges
                    summary.bin_counts = np.zeros(len(edges) + 1, dtype=np.int64)
                self.numeric[name] = summary
            else:
                self.categorical[name] = CategoricalSummary()
        missing = column.null_count
        if name in self.numeric:
            values, bad = self._numbers(name, column, chunk)
            self.numeric[name].add(values, missing=missing, mismatched=bad)
        else:
            present = pc.cast(column.drop_null(), pa.string())
            counts = pc.value_counts(pc.utf8_trim_whitespace(present)).to_pylist()
            self.categorical[name].add({c["values"]: c["counts"] for c in counts}, missing=missing)

    def _inferred(self, name: str, column: pa.Array) -> Kind:
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            self.kinds[name] = "numeric"
            return "numeric"
        present = column.drop_null()
        if not len(present):
            return "numeric"
        share = pc.sum(pc.match_substring_regex(present, _NUMBER)).as_py() / len(present)
        kind: Kind = "numeric" if share >= NUMERIC_SHARE else "categorical"
        self.kinds[name] = kind
        return kind

    def _numbers(self, name: str, column: pa.Array, chunk: Chunk) -> tuple[np.ndarray, int]:
        """The finite numbers of a column and how many present values were not numbers."""
        present_mask = column.is_valid()
        try:
            cast = pc.cast(column, pa.float64())
            numbers = cast.to_numpy(zero_copy_only=False)
            ok = np.asarray(present_mask) & np.isfinite(np.nan_to_num(numbers, nan=np.inf))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            matched = pc.fill_null(pc.match_substring_regex(column, _NUMBER), False)
            numbers = pc.cast(pc.if_else(matched, column, None), pa.float64()).to_numpy(
                zero_copy_only=False
            )
            ok = np.asarray(matched) & np.isfinite(np.nan_to_num(numbers, nan=np.inf))
        bad_mask = np.asarray(present_mask) & ~ok
        bad = int(bad_mask.sum())
        if bad:
            row = int(np.argmax(bad_mask))
            value = column[row].as_py()
            self.problems.add(
                f"type:{name}",
                f"{chunk.where(row)}: {name} is {value!r}, not a number",
                bad,
            )
        return numbers[ok], bad
