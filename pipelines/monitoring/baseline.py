"""Baselines in Model Monitor's format: ``statistics.json`` and ``constraints.json``.

Numeric features carry Model Monitor's KLL sketch (``distribution.kll.sketch.data``: the
retained values by level, a value of level ``i`` standing for ``2**i`` rows) and ten buckets
at the reference's deciles with the rows in each (``distribution.kll.buckets``); categorical
features their value counts (``distribution.categorical.buckets``). What drift needs beyond
the format is in fields named ``mlops`` (the feature's kind and role, type mismatches, the
column order), so Model Monitor's own baselines read too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipelines.monitoring.profile import Feature, Kind, Profile, role_of
from pipelines.monitoring.summaries import KLL_K, OTHER, NumericSummary, bin_counts

FORMAT_VERSION = 0.0
BUCKETS = 10
MAX_CATEGORY_BUCKETS = 100
"""Category values kept in a baseline (the rest summed into ``__other__``)."""
KLL_C = 2.0 / 3.0
"""DataSketches' KLL compaction ratio."""


@dataclass
class NumericBaseline:
    present: int
    missing: int
    mean: float
    total: float
    std: float
    minimum: float
    maximum: float
    integral: bool
    values: np.ndarray
    weights: np.ndarray
    """The sketch's weighted sample: exact (weights 1) when it holds every value."""
    edges: np.ndarray
    """Interior decile edges: bins (-inf, e0), [e0, e1), …, [e_last, inf)."""
    counts: np.ndarray
    mismatched: int = 0

    @property
    def exact(self) -> bool:
        return bool(np.all(self.weights == 1.0))


@dataclass
class CategoricalBaseline:
    present: int
    missing: int
    counts: dict[str, int]


@dataclass
class Baseline:
    features: list[Feature]
    numeric: dict[str, NumericBaseline] = field(default_factory=dict)
    categorical: dict[str, CategoricalBaseline] = field(default_factory=dict)
    item_count: int = 0
    source: str = ""

    def inputs(self) -> list[str]:
        return [f.name for f in self.features if f.role == "input"]

    def kinds(self) -> dict[str, Kind]:
        return {f.name: f.kind for f in self.features}

    def completeness(self, name: str) -> float:
        s = self.numeric.get(name) or self.categorical.get(name)
        if s is None:
            return 1.0
        total = s.present + s.missing
        return s.present / total if total else 1.0


# -------------------------------------------------------------------- from a profile


def numeric_baseline(s: NumericSummary) -> NumericBaseline:
    values, weights = s.weighted_sample()
    quantiles = s.quantiles(BUCKETS)
    edges = np.array(quantiles[1:-1], dtype=np.float64)
    return NumericBaseline(
        present=s.present,
        missing=s.missing,
        mean=s.mean,
        total=s.total,
        std=s.std,
        minimum=s.minimum if s.present else math.nan,
        maximum=s.maximum if s.present else math.nan,
        integral=s.integral,
        values=values,
        weights=weights,
        edges=edges,
        counts=bin_counts(values, edges, weights),
        mismatched=s.mismatched,
    )


def from_profile(profile: Profile, source: str = "") -> Baseline:
    out = Baseline(profile.features(), item_count=max(profile.rows.values()), source=source)
    for name, s in profile.numeric.items():
        out.numeric[name] = numeric_baseline(s)
    for name, c in profile.categorical.items():
        out.categorical[name] = CategoricalBaseline(
            c.present, c.missing, c.top(MAX_CATEGORY_BUCKETS)
        )
    return out


# ------------------------------------------------------------------------ to JSON


def _number(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _sketch_levels(values: np.ndarray, weights: np.ndarray) -> list[list[float]]:
    if not values.size:
        return []
    levels = np.round(np.log2(weights)).astype(int)
    return [values[levels == i].tolist() for i in range(int(levels.max()) + 1)]


def _kll_buckets(b: NumericBaseline) -> list[dict[str, Any]]:
    bounds = [b.minimum, *b.edges.tolist(), b.maximum]
    return [
        {"lower_bound": _number(lo), "upper_bound": _number(hi), "count": float(n)}
        for lo, hi, n in zip(bounds[:-1], bounds[1:], b.counts.tolist(), strict=True)
    ]


def statistics_json(b: Baseline) -> dict[str, Any]:
    features: list[dict[str, Any]] = []
    for f in b.features:
        common: dict[str, Any]
        if f.name in b.numeric:
            n = b.numeric[f.name]
            common = {"num_present": n.present, "num_missing": n.missing}
            features.append(
                {
                    "name": f.name,
                    "inferred_type": "Integral" if n.integral else "Fractional",
                    "numerical_statistics": {
                        "common": common,
                        "mean": _number(n.mean),
                        "sum": _number(n.total),
                        "std_dev": _number(n.std),
                        "min": _number(n.minimum),
                        "max": _number(n.maximum),
                        "distribution": {
                            "kll": {
                                "buckets": _kll_buckets(n),
                                "sketch": {
                                    "parameters": {"c": KLL_C, "k": float(KLL_K)},
                                    "data": _sketch_levels(n.values, n.weights),
                                },
                            }
                        },
                    },
                    "mlops": {
                        "kind": "numeric",
                        "role": f.role,
                        "mismatched": n.mismatched,
                        "decile_edges": n.edges.tolist(),
                    },
                }
            )
        else:
            c = b.categorical[f.name]
            features.append(
                {
                    "name": f.name,
                    "inferred_type": "String",
                    "string_statistics": {
                        "common": {"num_present": c.present, "num_missing": c.missing},
                        "distinct_count": float(len(c.counts)),
                        "distribution": {
                            "categorical": {
                                "buckets": [
                                    {"value": v, "count": float(k)} for v, k in c.counts.items()
                                ]
                            }
                        },
                    },
                    "mlops": {"kind": "categorical", "role": f.role},
                }
            )
    return {
        "version": FORMAT_VERSION,
        "dataset": {"item_count": b.item_count},
        "features": features,
        "mlops": {"source": b.source, "inputs": b.inputs()},
    }


def constraints_json(b: Baseline) -> dict[str, Any]:
    features = []
    for f in b.features:
        entry: dict[str, Any] = {"name": f.name, "completeness": b.completeness(f.name)}
        if f.name in b.numeric:
            n = b.numeric[f.name]
            entry["inferred_type"] = "Integral" if n.integral else "Fractional"
            entry["num_constraints"] = {"is_non_negative": bool(n.present and n.minimum >= 0)}
        else:
            entry["inferred_type"] = "String"
            values = [v for v in b.categorical[f.name].counts if v != OTHER]
            entry["string_constraints"] = {"domains": values}
        features.append(entry)
    return {
        "version": FORMAT_VERSION,
        "features": features,
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
            "datatype_check_threshold": 0.0,
            "domain_content_threshold": 0.0,
            "distribution_constraints": {"perform_comparison": "Enabled"},
        },
    }


# ---------------------------------------------------------------------- from JSON


class BaselineError(ValueError):
    """A statistics.json that is not one (the message names the field)."""


def _features(doc: Any) -> list[Any]:
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list) or not features:
        raise BaselineError("statistics.json: features is missing or empty")
    return features


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def read_statistics(doc: Any) -> Baseline:
    """A Baseline from a statistics.json document (ours or Model Monitor's)."""
    try:
        return _read_statistics(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, BaselineError):
            raise
        raise BaselineError(f"statistics.json: not in Model Monitor's format ({exc!r})") from None


def _read_statistics(doc: Any) -> Baseline:
    features_doc = _features(doc)
    features: list[Feature] = []
    out = Baseline(features)
    out.item_count = int(doc.get("dataset", {}).get("item_count") or 0)
    out.source = str((doc.get("mlops") or {}).get("source") or "")
    for i, fdoc in enumerate(features_doc):
        where = f"features[{i}]"
        if not isinstance(fdoc, dict) or not isinstance(fdoc.get("name"), str):
            raise BaselineError(f"statistics.json: {where}.name is missing")
        name = fdoc["name"]
        extras = fdoc.get("mlops") or {}
        role = extras.get("role") or role_of(name)
        if "numerical_statistics" in fdoc:
            out.numeric[name] = _read_numeric(fdoc["numerical_statistics"], extras, where)
            features.append(Feature(name, "numeric", role))
        elif "string_statistics" in fdoc:
            s = fdoc["string_statistics"]
            common = s.get("common") or {}
            buckets = ((s.get("distribution") or {}).get("categorical") or {}).get("buckets")
            counts = {str(b["value"]): int(b["count"]) for b in buckets or []}
            out.categorical[name] = CategoricalBaseline(
                int(common.get("num_present") or 0), int(common.get("num_missing") or 0), counts
            )
            features.append(Feature(name, "categorical", role))
        else:
            raise BaselineError(
                f"statistics.json: {where} ({name!r}) has neither numerical_statistics nor "
                "string_statistics"
            )
    return out


def _read_numeric(s: Any, extras: dict[str, Any], where: str) -> NumericBaseline:
    common = s.get("common") or {}
    kll = ((s.get("distribution") or {}).get("kll")) or {}
    levels = (kll.get("sketch") or {}).get("data") or []
    values = np.array([v for level in levels for v in level], dtype=np.float64)
    weights = np.array([2.0**i for i, level in enumerate(levels) for _ in level], dtype=np.float64)
    if "decile_edges" in extras:
        edges = np.array(extras["decile_edges"], dtype=np.float64)
    else:  # Model Monitor's buckets: their inner bounds
        buckets = kll.get("buckets") or []
        edges = np.array([b["lower_bound"] for b in buckets[1:]], dtype=np.float64)
    present = int(common.get("num_present") or 0)
    if present and not values.size:
        raise BaselineError(f"statistics.json: {where}.numerical_statistics has no KLL sketch data")
    return NumericBaseline(
        present=present,
        missing=int(common.get("num_missing") or 0),
        mean=_float(s.get("mean")),
        total=_float(s.get("sum")),
        std=_float(s.get("std_dev")),
        minimum=_float(s.get("min")),
        maximum=_float(s.get("max")),
        integral=False,
        values=values,
        weights=weights,
        edges=edges,
        counts=bin_counts(values, edges, weights),
        mismatched=int(extras.get("mismatched") or 0),
    )
