"""Invocation metrics from traffic, into CloudWatch (moto's backend), on the simulated clock.

Every invocation that reaches a variant records, in ``AWS/SageMaker`` on ``EndpointName`` +
``VariantName``: ``Invocations``, ``Invocation4XXErrors``, ``Invocation5XXErrors`` (1 or 0
each, as SageMaker emits them, so their Average is a rate), ``ModelLatency`` and
``OverheadLatency`` (microseconds) and ``InvocationsPerInstance``. They are kept as one
statistic set per metric and simulated minute (what CloudWatch stores at one-minute
resolution), so GetMetricStatistics / GetMetricData answer from moto's own code however much
traffic there was; latency values are also kept whole per minute for percentiles (p99 alarms).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from localcloud.clock import to_datetime

NAMESPACE = "AWS/SageMaker"
MINUTE = 60.0
MetricKey = tuple[str, str, str, str, frozenset[tuple[str, str]]]
"""(account, region, namespace, metric name, dimensions)."""
UNITS = {"ModelLatency": "Microseconds", "OverheadLatency": "Microseconds"}
KEEP_VALUES = frozenset(UNITS)


@dataclass
class TrafficMetrics:
    sets: dict[tuple[MetricKey, float], Any] = field(default_factory=dict)
    """(metric, minute) → moto's MetricAggregatedDatum, updated in place."""
    values: dict[tuple[MetricKey, float], list[float]] = field(default_factory=dict)
    """(metric, minute) → every value (latencies only), for percentiles."""
    dirty: set[MetricKey] = field(default_factory=set)
    """Metrics with data since the alarms last looked."""
    all_dirty: bool = False
    """A client's PutMetricData landed: every alarm looks again."""

    def clear(self) -> None:
        self.sets.clear()
        self.values.clear()
        self.dirty.clear()
        self.all_dirty = False

    def put(self, cloudwatch: Any, key: MetricKey, value: float, at: float) -> None:
        from moto.cloudwatch.models import MetricAggregatedDatum

        minute = math.floor(at / MINUTE) * MINUTE
        datum = self.sets.get((key, minute))
        if datum is None:
            _, _, namespace, name, dims = key
            datum = MetricAggregatedDatum(
                namespace=namespace,
                name=name,
                min_stat=value,
                max_stat=value,
                sample_count=0.0,
                sum_stat=0.0,
                dimensions=[{"Name": n, "Value": v} for n, v in sorted(dims)],
                timestamp=to_datetime(minute),
                unit=UNITS.get(name, "None"),
            )
            cloudwatch.metric_data.append(datum)
            self.sets[(key, minute)] = datum
        datum.min, datum.max = min(datum.min, value), max(datum.max, value)
        datum.sample_count += 1
        datum.sum += value
        if name_of(key) in KEEP_VALUES:
            self.values.setdefault((key, minute), []).append(value)
        self.dirty.add(key)

    def kept_values(self, key: MetricKey, minute: float) -> list[float]:
        return self.values.get((key, minute), [])


def name_of(key: MetricKey) -> str:
    return key[3]


def variant_key(account: str, region: str, metric: str, endpoint: str, variant: str) -> MetricKey:
    dims = frozenset({("EndpointName", endpoint), ("VariantName", variant)})
    return (account, region, NAMESPACE, metric, dims)


def invocation_values(
    status: int, instances: int | None, model_latency_us: float, overhead_us: float
) -> Iterable[tuple[str, float]]:
    """The metric values one invocation contributes (``status``: what the model answered)."""
    yield "Invocations", 1.0
    yield "Invocation4XXErrors", 1.0 if 400 <= status < 500 else 0.0
    yield "Invocation5XXErrors", 1.0 if status >= 500 else 0.0
    yield "InvocationsPerInstance", 1.0 / max(1, instances or 1)
    yield "ModelLatency", float(model_latency_us)
    yield "OverheadLatency", float(overhead_us)


def record_invocation(
    metrics: TrafficMetrics,
    cloudwatch: Any,
    account: str,
    region: str,
    endpoint: str,
    variant: str,
    at: float,
    values: Iterable[tuple[str, float]],
) -> None:
    for metric, value in values:
        metrics.put(cloudwatch, variant_key(account, region, metric, endpoint, variant), value, at)
