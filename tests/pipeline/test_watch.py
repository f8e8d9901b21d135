"""The rollout watcher against scripted DescribeEndpoint sequences (no server, fake clock)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pipelines.clock import FakeClock
from pipelines.console import Event
from pipelines.errors import WaitTimedOut
from pipelines.watch import Verdict, WatchPlan, next_delay, watch_endpoint

OLD, NEW = "ep-p1-old", "ep-p2-new"

CANARY = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "CANARY",
            "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
            "WaitIntervalInSeconds": 600,
        },
        "TerminationWaitInSeconds": 120,
        "MaximumExecutionTimeoutInSeconds": 1800,
    },
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "ep-5xx"}]},
}


def _desc(
    status: str,
    config: str,
    *,
    baking_since: float | None = None,
    reason: str = "",
    phase: tuple[str, float, str] | None = None,
) -> dict[str, Any]:
    d: dict[str, Any] = {"EndpointStatus": status, "EndpointConfigName": config}
    if reason:
        d["FailureReason"] = reason
    if baking_since is not None:
        phase = ("Baking", baking_since, "Baking with 50% of traffic on the new fleet")
    if phase is not None:
        name, since, message = phase
        start = dt.datetime.fromtimestamp(since, tz=dt.UTC)
        d["PendingDeploymentSummary"] = {
            "EndpointConfigName": NEW,
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "VariantStatus": [
                        {"Status": name, "StartTime": start, "StatusMessage": message}
                    ],
                }
            ],
        }
    return d


class Timeline:
    """DescribeEndpoint as a function of (fake) time: [(from_t, response), ...]."""

    def __init__(self, clock: FakeClock, steps: list[tuple[float, dict[str, Any]]]) -> None:
        self.clock, self.steps, self.calls = clock, steps, 0
        self.times: list[float] = []

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        self.times.append(self.clock.now())
        current = self.steps[0][1]
        for t, resp in self.steps:
            if self.clock.now() >= t:
                current = resp
        return current


def _watch(clock: FakeClock, timeline: Timeline, events: list[Event] | None = None, **kw: Any):
    return watch_endpoint(
        timeline,
        endpoint_name="ep",
        target_config=NEW,
        old_config=kw.pop("old", OLD),
        plan=kw.pop("plan", WatchPlan.for_update(CANARY)),
        clock=clock,
        emit=(events.append if events is not None else None),
        alarm_lookup=kw.pop("alarm_lookup", None),
    )


def test_inservice_on_old_config_after_updating_reads_as_rolled_back() -> None:
    clock = FakeClock()
    timeline = Timeline(
        clock,
        [
            (0, _desc("Updating", OLD)),
            (30, _desc("Updating", OLD, baking_since=30)),
            (200, _desc("RollingBack", OLD)),
            (260, _desc("InService", OLD)),
        ],
    )
    result = _watch(clock, timeline, alarm_lookup=lambda: ("ep-5xx", "Threshold Crossed"))
    assert result.verdict is Verdict.ROLLED_BACK
    assert result.live_config == OLD
    assert result.alarm == "ep-5xx" and result.alarm_reason == "Threshold Crossed"
    assert "rolled back to ep-p1-old" in result.summary() and "ep-5xx" in result.summary()


def test_inservice_on_old_config_before_the_update_shows_is_not_yet_a_verdict() -> None:
    # Eventual consistency: the first describe may still show the old config InService.
    clock = FakeClock()
    timeline = Timeline(
        clock,
        [(0, _desc("InService", OLD)), (2, _desc("Updating", OLD)), (50, _desc("InService", NEW))],
    )
    result = _watch(clock, timeline)
    assert result.verdict is Verdict.DEPLOYED


def test_canary_success_sleeps_through_the_bake_and_decides_within_seconds() -> None:
    clock = FakeClock()
    bake_start, bake_end, done = 60.0, 660.0, 800.0
    timeline = Timeline(
        clock,
        [
            (0, _desc("Updating", OLD)),
            (bake_start, _desc("Updating", OLD, baking_since=bake_start)),
            (bake_end, _desc("Updating", OLD)),
            (done, _desc("InService", NEW)),
        ],
    )
    events: list[Event] = []
    result = _watch(clock, timeline, events)
    assert result.verdict is Verdict.DEPLOYED
    assert clock.now() - done <= 5.0, "verdict more than 5 s after the terminal state"
    in_bake = [t for t in timeline.times if bake_start <= t < bake_end]
    assert len(in_bake) <= 600 / 45 + 8, in_bake  # a fixed 5 s poller: 120 calls
    assert any("Baking" in e.fields.get("phase", "") for e in events)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [("Failed", Verdict.FAILED), ("UpdateRollbackFailed", Verdict.NEEDS_OPERATOR)],
)
def test_failed_and_update_rollback_failed(status: str, verdict: Verdict) -> None:
    clock = FakeClock()
    timeline = Timeline(
        clock, [(0, _desc("Updating", OLD)), (40, _desc(status, OLD, reason="boom"))]
    )
    result = _watch(clock, timeline)
    assert result.verdict is verdict
    assert result.failure_reason and "boom" in result.failure_reason


def test_inservice_on_a_third_config_needs_an_operator() -> None:
    clock = FakeClock()
    timeline = Timeline(
        clock, [(0, _desc("Updating", OLD)), (10, _desc("InService", "someone-else"))]
    )
    result = _watch(clock, timeline)
    assert result.verdict is Verdict.NEEDS_OPERATOR
    assert "someone-else" in (result.failure_reason or "")


def test_timeout_names_the_state_left_and_how_to_continue() -> None:
    clock = FakeClock()
    timeline = Timeline(clock, [(0, _desc("Updating", OLD))])
    plan = WatchPlan(timeout_seconds=100)
    with pytest.raises(WaitTimedOut) as err:
        _watch(clock, timeline, plan=plan)
    text = str(err.value)
    assert "Updating" in text and NEW in text and "mlops status" in text
    assert clock.now() <= 100 + plan.max_interval


def test_create_reads_inservice_on_target_as_deployed() -> None:
    clock = FakeClock()
    timeline = Timeline(clock, [(0, _desc("Creating", NEW)), (300, _desc("InService", NEW))])
    result = _watch(clock, timeline, old=None, plan=WatchPlan.for_create())
    assert result.verdict is Verdict.DEPLOYED and clock.now() - 300 <= 5


def test_plan_timeout_derives_from_the_deployment_config() -> None:
    plan = WatchPlan.for_update(CANARY)
    assert plan.bake_seconds == 600 and plan.termination_wait_seconds == 120
    assert plan.timeout_seconds == 1800 + 120 + 600


def test_next_delay_caps_the_bake_then_polls_densely_near_its_end() -> None:
    plan = WatchPlan.for_update(CANARY)
    assert next_delay(plan, now=0, phase_end=600) == plan.max_bake_interval
    assert next_delay(plan, now=560, phase_end=600) == 20
    assert next_delay(plan, now=590, phase_end=600) == 5
    assert next_delay(plan, now=599, phase_end=600) == plan.dense_interval
    assert next_delay(plan, now=0, phase_end=None) == plan.max_interval
    assert next_delay(plan, now=0, phase_end=None, provisioning=True) == plan.provisioning_interval


def test_a_full_canary_timeline_costs_a_fraction_of_a_fixed_5s_poller() -> None:
    """Provisioning 240 s, shift 20 s, bake 600 s, shift 20 s, bake 600 s, termination 120 s."""
    clock = FakeClock()
    steps = [(0.0, _desc("Updating", OLD, phase=("Creating", 0.0, "Provisioning the new fleet")))]
    at = 240.0
    for label in ("canary", "rest"):
        steps.append(
            (at, _desc("Updating", OLD, phase=("ActivatingTraffic", at, f"Shifting {label}")))
        )
        at += 20
        steps.append((at, _desc("Updating", OLD, baking_since=at)))
        at += 600
    steps.append(
        (at, _desc("Updating", OLD, phase=("Baking", at, "Waiting TerminationWaitInSeconds")))
    )
    at += 120
    steps.append((at, _desc("InService", NEW)))
    timeline = Timeline(clock, steps)
    result = _watch(clock, timeline)
    assert result.verdict is Verdict.DEPLOYED
    assert clock.now() - at <= 5.0
    fixed = at / 5
    assert timeline.calls <= fixed / 4, (timeline.calls, fixed)


def test_a_rollback_while_provisioning_is_still_seen_within_seconds() -> None:
    clock = FakeClock()
    timeline = Timeline(
        clock,
        [
            (0, _desc("Updating", OLD, phase=("Creating", 0.0, "Provisioning the new fleet"))),
            (240, _desc("RollingBack", OLD)),
            (300, _desc("InService", OLD)),
        ],
    )
    result = _watch(clock, timeline, alarm_lookup=lambda: None)
    assert result.verdict is Verdict.ROLLED_BACK and result.alarm is None
    assert clock.now() - 300 <= 5.0
