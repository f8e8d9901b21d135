"""A window's profile against a baseline: drift per feature, data quality, the verdict.

Numeric features: Wasserstein distance over the reference's standard deviation, PSI on the
reference's deciles, or the two-sample KS test; categorical ones: Jensen-Shannon distance or
the chi-square test (scipy computes each). ``auto`` follows Evidently's defaults. A feature
with fewer than ``min_samples`` current values is "insufficient data": never drifted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats
from scipy.spatial import distance

from components.config import METHOD_KIND, P_VALUE_METHODS, DriftMethod, drift_method, is_drifted
from pipelines.monitoring.baseline import Baseline, CategoricalBaseline, NumericBaseline
from pipelines.monitoring.profile import Kind, Profile
from pipelines.monitoring.summaries import OTHER, CategoricalSummary, NumericSummary, bin_counts

EPSILON = 1e-4
"""Replaces empty bins' shares in PSI and Jensen-Shannon (Evidently's ``feel_zeroes``)."""


@dataclass(frozen=True)
class FeatureSetting:
    kind: Kind | None = None
    metric: str | None = None
    threshold: float | None = None
    enabled: bool = True


@dataclass(frozen=True)
class Settings:
    """What the stack file's ``endpoints[].monitoring`` says (defaults for local runs)."""

    metric: str = "auto"
    threshold: float | None = None
    min_samples: int = 100
    features: dict[str, FeatureSetting] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: Any) -> Settings:
        """From a ``components.contract.MonitoringSpec``."""
        return cls(
            metric=str(spec.metric),
            threshold=spec.threshold,
            min_samples=spec.min_samples,
            features={
                name: FeatureSetting(f.kind, f.metric, f.threshold, f.enabled)
                for name, f in spec.features.items()
            },
        )


@dataclass
class FeatureResult:
    name: str
    kind: Kind
    role: str
    method: str
    value: float | None
    threshold: float
    drifted: bool
    status: str
    """``drifted``, ``ok``, ``insufficient data``, ``disabled`` or ``no data``."""
    samples: int
    baseline_samples: int
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "role": self.role,
            "method": self.method,
            "value": self.value,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "status": self.status,
            "samples": self.samples,
            "baseline_samples": self.baseline_samples,
            **({"details": self.details} if self.details else {}),
        }


@dataclass
class Violation:
    feature_name: str
    constraint_check_type: str
    description: str

    def to_json(self) -> dict[str, str]:
        return {
            "feature_name": self.feature_name,
            "constraint_check_type": self.constraint_check_type,
            "description": self.description,
        }


@dataclass
class DriftResult:
    features: list[FeatureResult]
    violations: list[Violation]
    samples: int
    baseline_samples: int
    problems: dict[str, Any]
    insufficient: bool
    """Too few rows in the window for any verdict."""
    mismatch: bool = False
    """Rows, but none of the baseline's input features in them: another schema."""

    @property
    def drifted(self) -> list[str]:
        return [f.name for f in self.features if f.drifted]

    def to_json(self) -> dict[str, Any]:
        return {
            "features": [f.to_json() for f in self.sorted_features()],
            "drifted": self.drifted,
            "samples": self.samples,
            "baseline_samples": self.baseline_samples,
            "verdict": self.verdict,
            "data_quality": {
                "violations": [v.to_json() for v in self.violations],
                "problems": self.problems,
            },
        }

    @property
    def verdict(self) -> str:
        if self.mismatch:
            return "schema mismatch"
        if self.insufficient:
            return "insufficient data"
        return "drift" if self.drifted else "no drift"

    def sorted_features(self) -> list[FeatureResult]:
        """Drifted first, then by how far past its threshold each is."""
        return sorted(self.features, key=lambda f: (not f.drifted, -_severity(f), f.name))


def _severity(f: FeatureResult) -> float:
    if f.value is None or not f.threshold:
        return 0.0
    if f.method in P_VALUE_METHODS:
        return f.threshold / max(f.value, 1e-300)
    return f.value / f.threshold


# --------------------------------------------------------------------------- methods


def method_of(
    kind: Kind, reference_rows: int, setting: FeatureSetting, settings: Settings
) -> tuple[str, float, str | None]:
    """(method, threshold, note): the stack file's choice (``components.config.drift_method``);
    a feature's metric that does not fit the kind the baseline found falls back to ``auto``."""
    method, threshold = drift_method(
        kind,
        reference_rows,
        metric=settings.metric,
        threshold=settings.threshold,
        feature_metric=setting.metric,
        feature_threshold=setting.threshold,
    )
    if METHOD_KIND[method] == kind:
        return str(method), threshold, None
    fallback, limit = drift_method(kind, reference_rows)
    note = f"{method} measures {METHOD_KIND[method]} features; the baseline's is {kind}"
    return str(fallback), limit, note


def wasserstein(ref: NumericBaseline, cur: NumericSummary) -> float:
    """Wasserstein-1 distance over the reference's standard deviation (0 when it is 0 and the
    samples agree)."""
    values, weights = cur.weighted_sample()
    d = float(stats.wasserstein_distance(ref.values, values, ref.weights, weights))
    if ref.std > 0:
        return d / ref.std
    return 0.0 if d == 0 else math.inf  # a constant reference that moved


def ks(ref: NumericBaseline, cur: NumericSummary) -> tuple[float, float]:
    """(p-value, statistic) of the two-sample KS test: scipy's ``ks_2samp`` on exact samples;
    on sketches the statistic of their weighted CDFs and scipy's ``kstwo`` for the p-value."""
    values, weights = cur.weighted_sample()
    if ref.exact and cur.exact:
        result = stats.ks_2samp(ref.values, values)
        return float(result.pvalue), float(result.statistic)
    grid = np.union1d(ref.values, values)
    cdf_ref = _weighted_cdf(ref.values, ref.weights, grid)
    cdf_cur = _weighted_cdf(values, weights, grid)
    statistic = float(np.max(np.abs(cdf_ref - cdf_cur)))
    n, m = ref.present, cur.present
    effective = round(n * m / (n + m))
    return float(stats.kstwo.sf(statistic, effective)), statistic


def _weighted_cdf(values: np.ndarray, weights: np.ndarray, grid: np.ndarray) -> np.ndarray:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    index = np.searchsorted(values[order], grid, side="right")
    return np.where(index > 0, cumulative[np.maximum(index - 1, 0)], 0.0) / cumulative[-1]


def psi(ref: NumericBaseline, cur: NumericSummary) -> float:
    """Population stability index on the reference's decile bins."""
    if cur.bin_counts is not None and cur.bin_edges is not None:
        current: np.ndarray = cur.bin_counts.astype(np.float64)
    else:
        values, weights = cur.weighted_sample()
        current = bin_counts(values, ref.edges, weights)
    p = _shares(ref.counts)
    q = _shares(current)
    return float(np.sum((q - p) * np.log(q / p)))


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    shares = counts / total if total else np.zeros_like(counts, dtype=np.float64)
    return np.where(shares == 0, EPSILON, shares)


def _category_counts(
    ref: CategoricalBaseline, cur: CategoricalSummary
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Counts over the baseline's categories; window values outside them count in the
    baseline's ``OTHER`` bucket when it has one (the values it lumped), else as new ones."""
    keys = list(ref.counts)
    current: dict[str, float] = {}
    for value, n in cur.counts.items():
        key = value if value in ref.counts or OTHER not in ref.counts else OTHER
        current[key] = current.get(key, 0) + n
        if key not in keys:
            keys.append(key)
    return (
        keys,
        np.array([ref.counts.get(k, 0) for k in keys], dtype=np.float64),
        np.array([current.get(k, 0) for k in keys], dtype=np.float64),
    )


def jensen_shannon(ref: CategoricalBaseline, cur: CategoricalSummary) -> float:
    _, r, c = _category_counts(ref, cur)
    return float(distance.jensenshannon(_shares(r), _shares(c)))


def chi_square(ref: CategoricalBaseline, cur: CategoricalSummary) -> tuple[float, float]:
    """(p-value, statistic): current counts against the reference's shares."""
    _, r, c = _category_counts(ref, cur)
    expected = _shares(r)
    expected = expected / expected.sum() * c.sum()
    result = stats.chisquare(c, expected)
    return float(result.pvalue), float(result.statistic)


# ----------------------------------------------------------------------------- compare


def compare(baseline: Baseline, profile: Profile, settings: Settings) -> DriftResult:
    results: list[FeatureResult] = []
    for feature in baseline.features:
        setting = settings.features.get(feature.name, FeatureSetting())
        results.append(
            _feature(baseline, profile, feature.name, feature.kind, feature.role, setting, settings)
        )
    inputs = profile.rows["input"]
    violations = list(_violations(baseline, profile))
    compared = [f for f in results if f.role == "input" and f.samples > 0]
    mismatch = inputs > 0 and not compared and bool(baseline.inputs())
    if mismatch:
        found = ", ".join(sorted(profile.extra)) or "none of the baseline's names"
        violations.insert(
            0,
            Violation(
                "",
                "missing_column_check",
                f"the data has none of the baseline's features ({', '.join(baseline.inputs())}); "
                f"its columns: {found}. Is it the baseline of another model?",
            ),
        )
    return DriftResult(
        features=results,
        violations=violations,
        samples=inputs,
        baseline_samples=baseline.item_count,
        problems={
            kind: {"count": n, "first": profile.problems.messages.get(kind, [])[:5]}
            for kind, n in profile.problems.counts.items()
        },
        insufficient=inputs < settings.min_samples,
        mismatch=mismatch,
    )


def _feature(
    baseline: Baseline,
    profile: Profile,
    name: str,
    kind: Kind,
    role: str,
    setting: FeatureSetting,
    settings: Settings,
) -> FeatureResult:
    ref = baseline.numeric.get(name) or baseline.categorical[name]
    method, threshold, setting_note = method_of(kind, ref.present, setting, settings)
    cur = profile.numeric.get(name) or profile.categorical.get(name)
    samples = cur.present if cur is not None else 0

    def result(status: str, value: float | None = None, **details: Any) -> FeatureResult:
        drifted = status == "drifted"
        return FeatureResult(
            name,
            kind,
            role,
            method,
            value,
            threshold,
            drifted,
            status,
            samples,
            ref.present,
            {k: v for k, v in {**details, "setting": setting_note}.items() if v is not None},
        )

    if not setting.enabled:
        return result("disabled")
    if cur is None or samples == 0:
        return result("no data")
    if samples < settings.min_samples or ref.present == 0:
        return result("insufficient data")
    statistic: float | None = None
    if isinstance(ref, NumericBaseline) and isinstance(cur, NumericSummary):
        if method == "wasserstein":
            value = wasserstein(ref, cur)
        elif method == "psi":
            value = psi(ref, cur)
        else:
            value, statistic = ks(ref, cur)
    elif isinstance(ref, CategoricalBaseline) and isinstance(cur, CategoricalSummary):
        if method == "jensen_shannon":
            value = jensen_shannon(ref, cur)
        else:
            value, statistic = chi_square(ref, cur)
    else:
        return result("no data")
    drifted = is_drifted(DriftMethod(method), value, threshold)
    note = None if math.isfinite(value) else "the reference is constant and the window is not"
    return result("drifted" if drifted else "ok", _finite(value), statistic=statistic, note=note)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


# ------------------------------------------------------------------------ data quality


def _violations(baseline: Baseline, profile: Profile) -> Any:
    for feature in baseline.features:
        name = feature.name
        cur = profile.numeric.get(name) or profile.categorical.get(name)
        if name in profile.absent and (cur is None or cur.present == 0):
            yield Violation(
                name, "missing_column_check", f"no {name!r} in {profile.absent[name]} rows"
            )
            continue
        if cur is None:
            continue
        total = cur.present + cur.missing + getattr(cur, "mismatched", 0)
        if not total:
            continue
        expected = baseline.completeness(name)
        completeness = cur.present / total
        if completeness < expected - 1e-9:
            yield Violation(
                name,
                "completeness_check",
                f"completeness {completeness:.4f} is below the baseline's {expected:.4f}",
            )
        mismatched = getattr(cur, "mismatched", 0)
        if mismatched:
            first = profile.problems.first(f"type:{name}")
            yield Violation(
                name,
                "data_type_check",
                f"{mismatched} of {total} values are not numbers"
                + (f" (first: {first})" if first else ""),
            )
        if isinstance(cur, CategoricalSummary):
            known = baseline.categorical[name].counts if name in baseline.categorical else {}
            unseen = {v: n for v, n in cur.counts.items() if v not in known and v != OTHER}
            if unseen and OTHER not in known:
                shown = ", ".join(repr(v) for v in sorted(unseen)[:5])
                yield Violation(
                    name,
                    "categorical_values_check",
                    f"{sum(unseen.values())} values outside the baseline's categories: {shown}",
                )
    for name, rows in profile.extra.items():
        yield Violation(
            name, "extra_column_check", f"{name!r} is not in the baseline ({rows} rows)"
        )
    if profile.problems.counts.get("columns"):
        first = profile.problems.first("columns")
        yield Violation(
            "",
            "extra_column_check",
            f"{profile.problems.counts['columns']} rows with the wrong number of columns "
            f"(first: {first})",
        )
