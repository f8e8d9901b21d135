"""Clock compression changes how long a rollout takes, never how it ends (FAULTS 22)."""

from __future__ import annotations

from typing import Any

import pytest

from localcloud import LocalCloud
from localcloud.clock import from_datetime
from tests.localcloud.helpers import ALARM, canary, in_service_endpoint, wait_endpoint

pytestmark = pytest.mark.localcloud

ALARM_AT = 560.0
"""Simulated seconds after UpdateEndpoint: inside the canary's 600 s bake (which starts at 260 s)."""


def rollout(speed: float, *, fire: bool) -> dict[str, Any]:
    with LocalCloud(speed=speed) as cloud:
        cloud.reset()
        in_service_endpoint(cloud, instances=2)
        sm = cloud.client("sagemaker")
        sm.update_endpoint(
            EndpointName="ep",
            EndpointConfigName="cfg-v2",
            DeploymentConfig=canary(wait=600, termination=0),
        )
        started = from_datetime(
            sm.describe_endpoint(EndpointName="ep")["PendingDeploymentSummary"]["StartTime"]
        )
        if fire:
            cloud.clock.sleep_until(started + ALARM_AT)
            cloud.client("cloudwatch").set_alarm_state(
                AlarmName=ALARM, StateValue="ALARM", StateReason="test"
            )
        final = wait_endpoint(cloud, timeout=30)
        cloud.reset()
    return {
        "status": final["EndpointStatus"],
        "config": final["EndpointConfigName"],
        "reason": final.get("FailureReason"),
        "took": from_datetime(final["LastModifiedTime"]) - started,
    }


@pytest.mark.parametrize("fire", [False, True], ids=["completes", "rolled-back"])
def test_same_outcome_at_two_speeds(fire: bool) -> None:
    slow, fast = rollout(1000.0, fire=fire), rollout(4000.0, fire=fire)
    assert (slow["status"], slow["config"], slow["reason"]) == (
        fast["status"],
        fast["config"],
        fast["reason"],
    )
    assert slow["config"] == ("cfg-v1" if fire else "cfg-v2")
    # simulated durations agree within the jitter of a few real milliseconds at 4000x
    expected = ALARM_AT + 60 if fire else 240 + 20 + 600 + 20 + 600
    assert abs(slow["took"] - expected) < 30, slow
    assert abs(fast["took"] - expected) < 60, fast
