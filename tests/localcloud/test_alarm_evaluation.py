"""Alarm evaluation from metric data (``localcloud.alarm_evaluation``), without a server."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from localcloud.alarm_evaluation import decide
from localcloud.clock import from_datetime, to_datetime

T0 = 1_800_000_000.0  # a period boundary (divisible by 60)


def alarm(**overrides: Any) -> Any:
    values: dict[str, Any] = {
        "period": 60,
        "evaluation_periods": 3,
        "datapoints_to_alarm": None,
        "treat_missing_data": None,
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "threshold": 1.0,
        "statistic": "Sum",
        "extended_statistic": None,
        "history": [],
        "state_value": "INSUFFICIENT_DATA",
        "state_reason": "Unchecked: Initial alarm creation",
        "state_reason_data": "{}",
        "state_updated_timestamp": to_datetime(T0 - 600),
    }
    return SimpleNamespace(**{**values, **overrides})


def at(n: int) -> float:
    return T0 + 60 * n


@pytest.mark.parametrize(
    ("values", "m", "expected"),
    [
        ({at(0): 2, at(1): 3, at(2): 1}, None, "ALARM"),  # 3 of 3 breaching
        ({at(0): 2, at(1): 0, at(2): 1}, None, "OK"),  # 2 of 3: not enough
        ({at(0): 2, at(1): 0, at(2): 1}, 2, "ALARM"),  # M of N: 2 of 3
        ({at(2): 5}, None, "OK"),  # one datapoint, two missing (treated as missing)
        ({}, None, "INSUFFICIENT_DATA"),
    ],
)
def test_m_of_n_breaching_periods(values: dict[float, float], m: int | None, expected: str) -> None:
    a = alarm(datapoints_to_alarm=m)
    decide(a, values, at(3))
    assert a.state_value == expected


@pytest.mark.parametrize(
    ("treat", "expected"),
    [
        ("missing", "INSUFFICIENT_DATA"),
        ("notBreaching", "OK"),
        ("breaching", "ALARM"),
        ("ignore", "OK"),
    ],
)
def test_missing_data_treatment(treat: str, expected: str) -> None:
    a = alarm(treat_missing_data=treat, state_value="OK")
    decide(a, {}, at(3))
    assert a.state_value == expected


def test_a_state_change_is_written_at_the_boundary_with_cloudwatchs_reason() -> None:
    a = alarm(evaluation_periods=1)
    decide(a, {at(0): 4.0}, at(1))
    assert a.state_value == "ALARM"
    assert from_datetime(a.state_updated_timestamp) == at(1)  # simulated, not when polled
    assert a.state_reason.startswith("Threshold Crossed: 1 datapoint [4 (")
    assert a.state_reason.endswith("was greater than or equal to the threshold (1).")
    data = json.loads(a.state_reason_data)
    assert data["recentDatapoints"] == [4.0] and data["period"] == 60 and data["threshold"] == 1.0
    assert a.history[-1][0] == "StateUpdate" and a.history[-1][3] == "INSUFFICIENT_DATA"
    decide(a, {at(0): 4.0}, at(1))  # no change, no new history entry
    assert len(a.history) == 1


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("GreaterThanThreshold", 1.0, "OK"),
        ("GreaterThanThreshold", 1.5, "ALARM"),
        ("LessThanThreshold", 0.5, "ALARM"),
        ("LessThanOrEqualToThreshold", 1.0, "ALARM"),
    ],
)
def test_comparison_operators(operator: str, value: float, expected: str) -> None:
    a = alarm(evaluation_periods=1, comparison_operator=operator)
    decide(a, {at(0): value}, at(1))
    assert a.state_value == expected


def test_an_hourly_alarm_slides_by_the_minute_and_counts_a_datum_published_late() -> None:
    """CloudWatch's default SlidingWindow: a drift job's datum, timestamped at the end of the
    window it measured and published after the aligned hour it falls in was judged, still puts
    the alarm into ALARM while it is within the last period; it leaves an hour later."""
    from localcloud.alarm_evaluation import Evaluated, evaluate
    from localcloud.metrics import MetricKey, TrafficMetrics

    hourly = alarm(
        period=3600,
        evaluation_periods=1,
        statistic="Maximum",
        treat_missing_data="notBreaching",
        namespace="MLOps/ModelMonitoring",
        metric_name="DriftedFeatures",
        dimensions=[],
    )
    cloudwatch = SimpleNamespace(metric_data=[])
    key: MetricKey = ("a", "r", "MLOps/ModelMonitoring", "DriftedFeatures", frozenset())
    seen = Evaluated(until=T0)
    metrics = TrafficMetrics()
    evaluate(hourly, cloudwatch, metrics, key, seen, T0 + 4200)  # nothing yet: OK
    assert hourly.state_value == "OK"
    datum = SimpleNamespace(
        namespace="MLOps/ModelMonitoring",
        name="DriftedFeatures",
        dimensions=[],
        timestamp=to_datetime(T0 + 1199),  # 20 minutes into the hour, published 50 minutes later
        value=2.0,
    )
    cloudwatch.metric_data.append(datum)
    evaluate(hourly, cloudwatch, metrics, key, seen, T0 + 4260)
    assert hourly.state_value == "ALARM"
    assert from_datetime(hourly.state_updated_timestamp) == T0 + 4260
    assert hourly.state_reason.startswith("Threshold Crossed: 1 datapoint [2 (")
    evaluate(hourly, cloudwatch, metrics, key, seen, T0 + 1199 + 3600 + 120)
    assert hourly.state_value == "OK"  # an hour after the datum it has slid out of the window
    assert from_datetime(hourly.state_updated_timestamp) == T0 + 1140 + 3600 + 60
