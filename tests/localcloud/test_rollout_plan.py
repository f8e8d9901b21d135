"""The rollout timeline and SageMaker's limits, as pure functions (no server)."""

from __future__ import annotations

import pytest

from localcloud.rollout import PROVISION_SECONDS, SHIFT_SECONDS, plan_rollout, traffic_steps
from localcloud.wire import ApiError


def test_canary_steps_follow_the_canary_size() -> None:
    assert traffic_steps(
        {"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}}, 4
    ) == [25.0, 100.0]
    assert traffic_steps(
        {"Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}}, None
    ) == [10.0, 100.0]


def test_linear_steps_reach_all_traffic() -> None:
    steps = traffic_steps(
        {"Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 30}}, 10
    )
    assert steps == [30.0, 60.0, 90.0, 100.0]


@pytest.mark.parametrize(
    ("routing", "instances", "quoted"),
    [
        (
            {"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 2}},
            2,
            "at most 50%",
        ),
        (
            {"Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 5}},
            4,
            "between 10% and 50%",
        ),
        ({"Type": "BLUE"}, 2, "ALL_AT_ONCE, CANARY or LINEAR"),
    ],
)
def test_out_of_range_traffic_routing_is_refused(
    routing: dict[str, object], instances: int, quoted: str
) -> None:
    with pytest.raises(ApiError, match=quoted):
        traffic_steps(routing, instances)


def test_canary_timeline_bakes_after_each_shift_then_waits_for_termination() -> None:
    config = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
                "WaitIntervalInSeconds": 600,
            },
            "TerminationWaitInSeconds": 300,
            "MaximumExecutionTimeoutInSeconds": 3600,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "a"}]},
    }
    plan = plan_rollout(config, 2, start=1000.0)
    assert [(p.status, p.monitored) for p in plan.phases] == [
        ("Creating", False),
        ("ActivatingTraffic", False),
        ("Baking", True),
        ("ActivatingTraffic", False),
        ("Baking", True),
        ("Baking", False),
    ]
    assert plan.end == 1000.0 + PROVISION_SECONDS + 2 * SHIFT_SECONDS + 2 * 600 + 300
    assert plan.alarm_names == ["a"] and plan.timeout_seconds == 3600


def test_rolling_update_policy_is_not_implemented_loudly() -> None:
    with pytest.raises(ApiError) as err:
        plan_rollout(
            {
                "RollingUpdatePolicy": {
                    "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 10}
                }
            },
            2,
            0.0,
        )
    assert err.value.code == "NotImplemented" and "RollingUpdatePolicy" in err.value.message
