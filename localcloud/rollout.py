"""The simulated timeline of a blue/green UpdateEndpoint (pure functions, no moto).

A rollout, in simulated seconds from the UpdateEndpoint call (developer guide,
"Blue/Green Deployments"):

1. ``Creating``: the green fleet is provisioned (``PROVISION_SECONDS``).
2. One traffic step per shift: ``ActivatingTraffic`` (``SHIFT_SECONDS``), then ``Baking``
   for ``WaitIntervalInSeconds`` while the rollback alarms are watched.
   ALL_AT_ONCE: one step of 100 %. CANARY: the canary, then the rest. LINEAR: steps of
   ``LinearStepSize`` until 100 %. Every step, the last included, is followed by a bake.
3. ``TerminationWaitInSeconds`` before the blue fleet is terminated (reported as
   ``Baking`` with a message; alarms are not watched any more).

A rollback takes ``ROLLBACK_SECONDS`` (status ``RollingBack``) and ends InService on
the old config. A deployment that would outlast ``MaximumExecutionTimeoutInSeconds``
rolls back when the timeout is reached.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from localcloud.wire import ApiError, not_implemented, validation

CREATE_SECONDS = 300.0
"""CreateEndpoint: Creating → InService (or Failed)."""
PROVISION_SECONDS = 240.0
SHIFT_SECONDS = 20.0
ROLLBACK_SECONDS = 60.0


@dataclass(frozen=True)
class Phase:
    status: str
    """The pending variant's VariantStatus: Creating, ActivatingTraffic or Baking."""
    start: float
    end: float
    traffic_percent: float
    """Share of the traffic on the new fleet during this phase."""
    monitored: bool
    """Rollback alarms are watched (a bake)."""
    message: str


def _range(value: Any, field: str, low: int, high: int) -> int:
    if not isinstance(value, int) or not low <= value <= high:
        raise validation(f"{field} must be between {low} and {high}, got {value!r}")
    return value


def _capacity_percent(size: dict[str, Any], field: str, instances: int | None) -> float:
    kind, value = size.get("Type"), size.get("Value")
    if not isinstance(value, int) or value < 1:
        raise validation(f"{field}.Value must be an integer >= 1, got {value!r}")
    if kind == "CAPACITY_PERCENT":
        return float(value)
    if kind == "INSTANCE_COUNT":
        if not instances:
            raise validation(f"{field}.Type INSTANCE_COUNT needs an instance-based variant")
        return 100.0 * value / instances
    raise validation(f"{field}.Type must be INSTANCE_COUNT or CAPACITY_PERCENT, got {kind!r}")


def traffic_steps(routing: dict[str, Any], instances: int | None) -> list[float]:
    """The cumulative traffic percentages of the steps, validated like SageMaker does."""
    kind = routing.get("Type")
    if kind == "ALL_AT_ONCE":
        return [100.0]
    if kind == "CANARY":
        if "CanarySize" not in routing:
            raise validation("TrafficRoutingConfiguration.CanarySize is required for CANARY")
        pct = _capacity_percent(routing["CanarySize"], "CanarySize", instances)
        if pct > 50:
            raise validation(
                f"CanarySize must be at most 50% of the variant's capacity, got {pct:g}%"
            )
        return [pct, 100.0]
    if kind == "LINEAR":
        if "LinearStepSize" not in routing:
            raise validation("TrafficRoutingConfiguration.LinearStepSize is required for LINEAR")
        pct = _capacity_percent(routing["LinearStepSize"], "LinearStepSize", instances)
        if not 10 <= pct <= 50:
            raise validation(
                f"LinearStepSize must be between 10% and 50% of the variant's capacity, got {pct:g}%"
            )
        count = math.ceil(100.0 / pct - 1e-9)
        return [min(100.0, pct * (i + 1)) for i in range(count)]
    raise validation(
        f"TrafficRoutingConfiguration.Type must be ALL_AT_ONCE, CANARY or LINEAR, got {kind!r}"
    )


@dataclass(frozen=True)
class RolloutPlan:
    phases: list[Phase]
    alarm_names: list[str]
    timeout_seconds: float | None
    termination_wait_seconds: float

    @property
    def end(self) -> float:
        return self.phases[-1].end

    def provisioned_at(self, until: float) -> RolloutPlan:
        """The plan with the new fleet still Creating until ``until`` (its models were loading):
        every later phase moves by as much, so what follows keeps its simulated durations."""
        creating = self.phases[0]
        delay = until - creating.end
        if delay <= 0:
            return self
        shifted = [dataclasses.replace(creating, end=until)] + [
            dataclasses.replace(p, start=p.start + delay, end=p.end + delay)
            for p in self.phases[1:]
        ]
        return dataclasses.replace(self, phases=shifted)


def plan_rollout(
    deployment_config: dict[str, Any] | None, instances: int | None, start: float
) -> RolloutPlan:
    """Validate ``DeploymentConfig`` and lay out its phases from ``start`` (simulated epoch)."""
    config = deployment_config or {}
    if "RollingUpdatePolicy" in config:
        raise not_implemented("sagemaker", "UpdateEndpoint", "RollingUpdatePolicy")
    alarms = [
        a.get("AlarmName", "")
        for a in config.get("AutoRollbackConfiguration", {}).get("Alarms", [])
    ]
    if "AutoRollbackConfiguration" in config and not 1 <= len(alarms) <= 10:
        raise validation(
            f"AutoRollbackConfiguration.Alarms must hold 1 to 10 alarms, got {len(alarms)}"
        )
    policy = config.get("BlueGreenUpdatePolicy")
    if policy is None:
        routing: dict[str, Any] = {"Type": "ALL_AT_ONCE"}
        wait = termination = 0
        timeout: float | None = None
    else:
        if "TrafficRoutingConfiguration" not in policy:
            raise validation("BlueGreenUpdatePolicy.TrafficRoutingConfiguration is required")
        routing = policy["TrafficRoutingConfiguration"]
        wait = _range(routing.get("WaitIntervalInSeconds", 0), "WaitIntervalInSeconds", 0, 3600)
        termination = _range(
            policy.get("TerminationWaitInSeconds", 0), "TerminationWaitInSeconds", 0, 3600
        )
        timeout = None
        if "MaximumExecutionTimeoutInSeconds" in policy:
            timeout = _range(
                policy["MaximumExecutionTimeoutInSeconds"],
                "MaximumExecutionTimeoutInSeconds",
                600,
                28800,
            )
    steps = traffic_steps(routing, instances)
    phases = [
        Phase(
            "Creating", start, start + PROVISION_SECONDS, 0.0, False, "Provisioning the new fleet"
        )
    ]
    at = phases[-1].end
    for pct in steps:
        phases.append(
            Phase(
                "ActivatingTraffic",
                at,
                at + SHIFT_SECONDS,
                pct,
                False,
                f"Shifting {pct:g}% of traffic to the new fleet",
            )
        )
        at += SHIFT_SECONDS
        if wait:
            phases.append(
                Phase(
                    "Baking",
                    at,
                    at + wait,
                    pct,
                    True,
                    f"Baking with {pct:g}% of traffic on the new fleet",
                )
            )
            at += wait
    if termination:
        phases.append(
            Phase(
                "Baking",
                at,
                at + termination,
                100.0,
                False,
                "Waiting TerminationWaitInSeconds before terminating the old fleet",
            )
        )
    return RolloutPlan(phases, alarms, timeout, float(termination))


def check_same_variants(old: list[str], new: list[str], endpoint: str) -> None:
    if sorted(old) != sorted(new):
        raise ApiError(
            "ValidationException",
            f"The variant names of the new endpoint configuration {sorted(new)} must match the "
            f"variants of endpoint {endpoint!r} {sorted(old)} for a blue/green deployment "
            "with a DeploymentConfig",
        )
