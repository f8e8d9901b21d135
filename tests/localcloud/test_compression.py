"""Clock compression changes how long a rollout takes, never how it ends (FAULTS 22)."""

from __future__ import annotations

from typing import Any

import pytest

from localcloud import LocalCloud
from localcloud.clock import from_datetime
from tests.localcloud.helpers import ALARM, canary, in_service_endpoint, wait_endpoint

pytestmark = pytest.mark.localcloud

ALARM_AT = 500.0
"""Simulated seconds after UpdateEndpoint: inside the canary's first bake (260 s to 860 s)."""


def rollout(speed: float, *, fire: bool) -> dict[str, Any]:
    with LocalCloud(speed=speed) as cloud:
        cloud.reset()
        in_service_endpoint(cloud, instances=2)
        sm, cloudwatch = cloud.client("sagemaker"), cloud.client("cloudwatch")
        sm.update_endpoint(
            EndpointName="ep",
            EndpointConfigName="cfg-v2",
            DeploymentConfig=canary(wait=600, termination=0),
        )
        pending = sm.describe_endpoint(EndpointName="ep")["PendingDeploymentSummary"]
        started = from_datetime(pending["StartTime"])
        fired = (0.0, 0.0)
        if fire:
            cloud.clock.sleep_until(started + ALARM_AT)
            before = cloud.clock.now()
            cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="test")
            fired = (before - started, cloud.clock.now() - started)
        final = wait_endpoint(cloud, timeout=30)
        cloud.reset()
    return {
        "status": final["EndpointStatus"],
        "config": final["EndpointConfigName"],
        "reason": final.get("FailureReason"),
        "took": from_datetime(final["LastModifiedTime"]) - started,
        "fired": fired,
    }


@pytest.mark.parametrize("fire", [False, True], ids=["completes", "rolled-back"])
def test_same_outcome_at_two_speeds(fire: bool) -> None:
    slow, fast = rollout(1200.0, fire=fire), rollout(3000.0, fire=fire)
    outcome = ("status", "config", "reason")
    assert [slow[k] for k in outcome] == [fast[k] for k in outcome]
    assert slow["config"] == ("cfg-v1" if fire else "cfg-v2")
    for run in (slow, fast):
        if fire:  # rolled back 60 simulated seconds after the alarm went off, whenever that was
            before, after = run["fired"]
            assert before > 260 and after < 860, run  # inside the canary bake
            assert before + 60 - 1 <= run["took"] <= after + 60 + 1, run
        else:  # provision 240 + shift 20 + bake 600 + shift 20 + bake 600, exactly
            assert abs(run["took"] - 1480) < 1, run
