"""Metric alarms evaluated from metric data on the simulated clock, as CloudWatch does.

Every minute ``T`` (CloudWatch's default ``SlidingWindow``) an alarm looks at the
``EvaluationPeriods`` periods ending at ``T``, ``[T - N·period, T)``: each period's statistic (``Statistic`` or ``ExtendedStatistic``
pNN) is breaching or not against ``Threshold`` by ``ComparisonOperator``; a period without
data counts per ``TreatMissingData`` (missing / ignore / breaching / notBreaching). ``M``
breaching periods of ``N`` (``DatapointsToAlarm``, default N) → ALARM; otherwise OK when any
period counts; all missing → INSUFFICIENT_DATA (``ignore``: unchanged). State changes are
written at ``T`` (simulated) with CloudWatch's reason text and reason data, so a rollout that
asks "was this alarm in ALARM during the bake" gets the same answer at any clock speed.

For a one-minute period that is the aligned periods; a longer one slides by the minute, so a
datum published late (a drift job's, timestamped at the end of the window it measured) still
counts while it is within the last ``N·period``. Only minutes where the window's contents
change are evaluated (data entering, moving between periods or leaving), so catching up over
a long idle stretch costs nothing.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from localcloud.clock import from_datetime, to_datetime
from localcloud.metrics import MINUTE, MetricKey, TrafficMetrics

COMPARE = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}


@dataclass
class Evaluated:
    until: float
    """Boundaries up to here are evaluated (simulated epoch)."""
    next_due: float = math.inf
    """The next minute at which the result can change without new data."""


@dataclass
class AlarmEvaluator:
    evaluated: dict[str, Evaluated] = field(default_factory=dict)
    """Alarm ARN → how far it was evaluated."""

    def clear(self) -> None:
        self.evaluated.clear()

    def run(
        self, backends: Iterator[tuple[str, str, Any]], metrics: TrafficMetrics, now: float
    ) -> None:
        """Evaluate every metric alarm of every CloudWatch backend up to ``now``."""
        for account, region, cloudwatch in backends:
            for alarm in list(cloudwatch.alarms.values()):
                if not alarm.metric_name or not alarm.namespace or alarm.rule is not None:
                    continue
                key = alarm_key(account, region, alarm)
                seen = self.evaluated.get(alarm.alarm_arn)
                if seen is None:
                    seen = self.evaluated[alarm.alarm_arn] = Evaluated(
                        until=_boundary(_created(alarm), MINUTE)
                    )
                if not (metrics.all_dirty or key in metrics.dirty or now >= seen.next_due):
                    continue
                evaluate(alarm, cloudwatch, metrics, key, seen, now)
        metrics.dirty.clear()
        metrics.all_dirty = False


def alarm_key(account: str, region: str, alarm: Any) -> MetricKey:
    dims = frozenset((d.name, d.value) for d in alarm.dimensions or [])
    return (account, region, alarm.namespace, alarm.metric_name, dims)


def _created(alarm: Any) -> float:
    stamp = getattr(alarm, "configuration_updated_timestamp", None) or alarm.state_updated_timestamp
    return from_datetime(stamp) if not isinstance(stamp, str) else 0.0


def _boundary(at: float, period: float) -> float:
    return math.floor(at / period) * period


def minute_data(alarm: Any, cloudwatch: Any, key: MetricKey) -> dict[float, list[Any]]:
    """Minute start → the alarm's metric data in that minute."""
    dims = key[4]
    groups: dict[float, list[Any]] = {}
    for datum in cloudwatch.metric_data:
        if datum.namespace != alarm.namespace or datum.name != alarm.metric_name:
            continue
        if frozenset((d.name, d.value) for d in datum.dimensions) != dims:
            continue
        groups.setdefault(_boundary(from_datetime(datum.timestamp), MINUTE), []).append(datum)
    return groups


def window_values(
    alarm: Any,
    by_minute: dict[float, list[Any]],
    metrics: TrafficMetrics,
    key: MetricKey,
    at: float,
) -> dict[float, float]:
    """Start of each of the ``N`` periods ending at ``at`` → the statistic of its data."""
    period = int(alarm.period)
    values: dict[float, float] = {}
    for start in _window(at, period, int(alarm.evaluation_periods)):
        data = [d for m, group in by_minute.items() if start <= m < start + period for d in group]
        if data:
            values[start] = _statistic(alarm, data, metrics, key)
    return values


def _window(at: float, period: int, n: int) -> list[float]:
    return [at - (n - i) * period for i in range(n)]


def _statistic(alarm: Any, data: list[Any], metrics: TrafficMetrics, key: MetricKey) -> float:
    count = total = 0.0
    low, high = math.inf, -math.inf
    values: list[float] = []
    for datum in data:
        if hasattr(datum, "sample_count"):  # a statistic set
            count += datum.sample_count
            total += datum.sum
            low, high = min(low, datum.min), max(high, datum.max)
            values += metrics.kept_values(key, from_datetime(datum.timestamp))
        else:
            count += 1
            total += datum.value
            low, high = min(low, datum.value), max(high, datum.value)
            values.append(datum.value)
    extended = alarm.extended_statistic
    if extended:
        percent = float(str(extended).lstrip("p"))
        if not values:
            return high
        if len(values) == 1:
            return values[0]
        return statistics.quantiles(values, n=1000, method="inclusive")[
            min(998, max(0, round(percent * 10) - 1))
        ]
    return {
        "Sum": total,
        "Average": total / count if count else 0.0,
        "Minimum": low,
        "Maximum": high,
        "SampleCount": count,
    }[alarm.statistic]


def evaluate(
    alarm: Any,
    cloudwatch: Any,
    metrics: TrafficMetrics,
    key: MetricKey,
    seen: Evaluated,
    now: float,
) -> None:
    period = int(alarm.period)
    n = int(alarm.evaluation_periods)
    by_minute = minute_data(alarm, cloudwatch, key)
    candidates = {seen.until + MINUTE}
    for minute in by_minute:  # it enters, moves from period to period, and leaves the window
        candidates.update(minute + MINUTE + k * period for k in range(n + 1))
    due = sorted(t for t in candidates if t > seen.until)
    for at in due:
        if at > now:
            break
        decide(alarm, window_values(alarm, by_minute, metrics, key, at), at)
        seen.until = at
    later = [t for t in due if t > now]
    seen.next_due = later[0] if later else math.inf
    if seen.until < _boundary(now, MINUTE):
        seen.until = _boundary(now, MINUTE)


def decide(alarm: Any, values: dict[float, float], at: float) -> None:
    period = int(alarm.period)
    n = int(alarm.evaluation_periods)
    m = int(alarm.datapoints_to_alarm or n)
    treat = alarm.treat_missing_data or "missing"
    compare, words = COMPARE[alarm.comparison_operator]
    threshold = float(alarm.threshold)
    window = _window(at, period, n)
    present = [(start, values[start]) for start in window if start in values]
    breaching = sum(1 for _, v in present if compare(v, threshold))
    missing = n - len(present)
    if treat == "breaching":
        breaching += missing
    counted = len(present) + (missing if treat in ("breaching", "notBreaching") else 0)
    if breaching >= m:
        state = "ALARM"
    elif counted:
        state = "OK"
    elif treat == "ignore":
        return
    else:
        state = "INSUFFICIENT_DATA"
    if state == alarm.state_value:
        return
    shown = present[-m:] if state == "ALARM" else present[-1:]
    if state == "INSUFFICIENT_DATA":
        reason = (
            f"Insufficient Data: {missing} datapoint{'s' if missing != 1 else ''} were unknown."
        )
    else:
        points = ", ".join(f"{v:g} ({_stamp(s)})" for s, v in shown)
        verb = "was" if state == "ALARM" else "was not"
        count = len(shown)
        reason = (
            f"Threshold Crossed: {count} datapoint{'s' if count != 1 else ''} [{points}] "
            f"{verb} {words} the threshold ({threshold:g})."
        )
    data = {
        "version": "1.0",
        "queryDate": to_datetime(at).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "startDate": to_datetime(window[0]).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "statistic" if not alarm.extended_statistic else "extendedStatistic": alarm.statistic
        or alarm.extended_statistic,
        "period": period,
        "recentDatapoints": [v for _, v in present],
        "threshold": threshold,
        "evaluatedDatapoints": [
            {"timestamp": to_datetime(s).strftime("%Y-%m-%dT%H:%M:%S.000+0000"), "value": v}
            for s, v in reversed(present)
        ],
    }
    set_state(alarm, state, reason, json.dumps(data), at)


def _stamp(at: float) -> str:
    return to_datetime(at).strftime("%d/%m/%y %H:%M:%S")


def set_state(alarm: Any, value: str, reason: str, reason_data: str, at: float) -> None:
    """moto's ``update_state`` with a simulated timestamp (the history keeps the old state)."""
    alarm.history.append(
        (
            "StateUpdate",
            alarm.state_reason,
            alarm.state_reason_data,
            alarm.state_value,
            alarm.state_updated_timestamp,
        )
    )
    alarm.state_reason, alarm.state_reason_data, alarm.state_value = reason, reason_data, value
    alarm.state_updated_timestamp = to_datetime(at)
    alarm.sim_stamped = (len(alarm.history), alarm.state_updated_timestamp)


def restamp(cloudwatch: Any, now: float) -> None:
    """After a client changed alarms through moto (PutMetricAlarm, SetAlarmState), their new
    timestamps are moto's wall clock: make them simulated, like every other local-cloud time."""
    for alarm in cloudwatch.alarms.values():
        stamp = (len(alarm.history), alarm.state_updated_timestamp)
        if getattr(alarm, "sim_stamped", None) == stamp:
            continue
        if getattr(alarm, "sim_stamped", None) is None and not alarm.history:
            # a new alarm: CloudWatch starts it in INSUFFICIENT_DATA (moto says OK)
            alarm.configuration_updated_timestamp = to_datetime(now)
            if alarm.state_reason == "Unchecked: Initial alarm creation":
                alarm.state_value = "INSUFFICIENT_DATA"
        alarm.state_updated_timestamp = to_datetime(now)
        alarm.sim_stamped = (len(alarm.history), alarm.state_updated_timestamp)
