"""The rollout watcher: follow DescribeEndpoint to a terminal state and decide the outcome.

botocore's ``endpoint_in_service`` waiter reports a rolled-back update as success;
this loop does not. The verdict compares the live ``EndpointConfigName`` with the one
requested:

- InService on the new config → ``DEPLOYED``;
- InService on the old config after the update started → ``ROLLED_BACK`` (with the
  rollback alarm that fired and ``FailureReason``);
- ``Failed`` → ``FAILED``; ``UpdateRollbackFailed`` (a mixed fleet) → ``NEEDS_OPERATOR``.

Polling adapts to the deployment config (``WatchPlan``): while a variant is
``Baking`` its end is known (``StartTime`` + ``WaitIntervalInSeconds``, or the
termination wait), so the watcher sleeps through it - at most 45 s at a time, so an
alarm-driven rollback is still seen while it is ``RollingBack`` - and polls every
second near the expected end; while an update provisions the new fleet it polls every
40 s (no verdict can come next); in the other phases, which a verdict may follow, every
3 s (the rollout benchmark measures the calls and the verdict latency against a
fixed poller: benchmarks/rollout.py).

All times are on an injectable clock (simulated seconds in the local cloud). The
timeout is ``MaximumExecutionTimeoutInSeconds`` + the termination wait + a margin:
past it, ``WaitTimedOut`` says what state the endpoint was left in and how to continue
(FAULTS 15).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pipelines.clock import Clock
from pipelines.console import Event
from pipelines.errors import WaitTimedOut

CREATE_TIMEOUT_SECONDS = 3600.0
"""Endpoint creation: provisioning GPU instances can take tens of minutes."""
TIMEOUT_MARGIN_SECONDS = 600.0
"""Added to the deployment's own limits: SageMaker needs time to roll back after its timeout."""
ALREADY_UPDATING_GRACE_SECONDS = 60.0
"""How long InService on the old config may show before the update is judged not to have started."""


class Verdict(StrEnum):
    DEPLOYED = "deployed"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"
    NEEDS_OPERATOR = "needs_operator"


@dataclass(frozen=True)
class WatchPlan:
    """How long to wait and how densely to poll (simulated seconds)."""

    bake_seconds: float = 0.0
    """WaitIntervalInSeconds: the canary bake or linear interval."""
    termination_wait_seconds: float = 0.0
    timeout_seconds: float = CREATE_TIMEOUT_SECONDS
    dense_interval: float = 1.0
    """Polling near the expected end of a known phase."""
    max_interval: float = 3.0
    """Polling in phases of unknown length that a verdict may follow (traffic shifting,
    RollingBack, an endpoint being created): a verdict within ~5 s of the terminal state."""
    provisioning_interval: float = 40.0
    """Polling while an update provisions the new fleet (minutes in AWS): only more of the
    update follows, or a rollback, which shows as RollingBack and is then polled densely."""
    max_bake_interval: float = 45.0
    """Longest sleep inside a bake: an alarm-driven rollback (RollingBack, a minute or more)
    is still seen while it happens, so its verdict comes within seconds too."""
    lead_seconds: float = 3.0
    """Wake this long before a known phase is expected to end."""

    @classmethod
    def for_update(cls, deployment_config: dict[str, Any] | None) -> WatchPlan:
        policy = (deployment_config or {}).get("BlueGreenUpdatePolicy") or {}
        rolling = (deployment_config or {}).get("RollingUpdatePolicy") or {}
        routing = policy.get("TrafficRoutingConfiguration") or {}
        bake = float(
            routing.get("WaitIntervalInSeconds") or rolling.get("WaitIntervalInSeconds") or 0
        )
        termination = float(policy.get("TerminationWaitInSeconds") or 0)
        max_exec = float(
            policy.get("MaximumExecutionTimeoutInSeconds")
            or rolling.get("MaximumExecutionTimeoutInSeconds")
            or 3600
        )
        return cls(
            bake_seconds=bake,
            termination_wait_seconds=termination,
            timeout_seconds=max_exec + termination + TIMEOUT_MARGIN_SECONDS,
        )

    @classmethod
    def for_create(cls) -> WatchPlan:
        return cls(timeout_seconds=CREATE_TIMEOUT_SECONDS)


@dataclass
class WatchResult:
    verdict: Verdict
    endpoint_name: str
    target_config: str
    old_config: str | None
    status: str
    live_config: str | None
    failure_reason: str | None = None
    alarm: str | None = None
    """The rollback alarm that fired (for ROLLED_BACK)."""
    alarm_reason: str | None = None
    polls: int = 0
    elapsed_seconds: float = 0.0
    transitions: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "endpoint": self.endpoint_name,
            "target_config": self.target_config,
            "old_config": self.old_config,
            "status": self.status,
            "live_config": self.live_config,
            "failure_reason": self.failure_reason,
            "alarm": self.alarm,
            "alarm_reason": self.alarm_reason,
            "polls": self.polls,
            "elapsed_seconds": round(self.elapsed_seconds, 1),
            "transitions": self.transitions,
        }

    def summary(self) -> str:
        if self.verdict is Verdict.DEPLOYED:
            return f"{self.endpoint_name} is InService on {self.target_config}"
        if self.verdict is Verdict.ROLLED_BACK:
            why = f"rollback alarm {self.alarm!r} fired" if self.alarm else "SageMaker rolled back"
            if self.alarm_reason:
                why += f" ({self.alarm_reason})"
            if self.failure_reason:
                why += f"; FailureReason: {self.failure_reason}"
            return (
                f"{self.endpoint_name} rolled back to {self.live_config}: {why}; "
                f"{self.target_config} was not deployed"
            )
        return (
            f"{self.endpoint_name} is {self.status} (live config {self.live_config}, requested "
            f"{self.target_config}): {self.failure_reason or 'no FailureReason given'}"
        )


def _epoch(value: Any) -> float | None:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return None


def variant_phases(describe: dict[str, Any]) -> list[dict[str, Any]]:
    """Every VariantStatus entry (live and pending variants) as {status, message, start}."""
    out = []
    pending = (describe.get("PendingDeploymentSummary") or {}).get("ProductionVariants") or []
    for variant in [*(describe.get("ProductionVariants") or []), *pending]:
        for vs in variant.get("VariantStatus") or []:
            out.append(
                {
                    "variant": variant.get("VariantName"),
                    "status": vs.get("Status"),
                    "message": vs.get("StatusMessage"),
                    "start": _epoch(vs.get("StartTime")),
                }
            )
    return out


def _phase_label(status: str, phases: list[dict[str, Any]]) -> str:
    names = sorted({str(p["status"]) for p in phases if p.get("status")})
    return f"{status}/{'+'.join(names)}" if names else status


def _baking_seconds(phase: dict[str, Any], plan: WatchPlan) -> float:
    """A bake lasts WaitIntervalInSeconds; the old fleet's termination wait TerminationWait…."""
    if "termination" in str(phase.get("message") or "").lower():
        return plan.termination_wait_seconds
    return plan.bake_seconds


def _known_phase_end(phases: list[dict[str, Any]], plan: WatchPlan, now: float) -> float | None:
    """When the current Baking period ends, from its StartTime (or from now if implausible)."""
    ends = []
    for p in phases:
        duration = _baking_seconds(p, plan) if p["status"] == "Baking" else 0.0
        if duration > 0:
            start = p["start"]
            if start is None or abs(now - start) > duration + plan.timeout_seconds:
                start = now  # clock bases differ: assume it just started (never sleeps past it)
            ends.append(start + duration)
    return min(ends) if ends else None


def next_delay(
    plan: WatchPlan, now: float, phase_end: float | None, provisioning: bool = False
) -> float:
    """Seconds to sleep before the next poll."""
    if phase_end is not None:
        remaining = phase_end - now
        if remaining > plan.lead_seconds + plan.dense_interval:
            # Halve the way to the expected end (at most max_bake_interval), then poll densely.
            step = min(remaining / 2, remaining - plan.lead_seconds, plan.max_bake_interval)
            return max(plan.dense_interval, step)
        return plan.dense_interval
    return plan.provisioning_interval if provisioning else plan.max_interval


def _provisioning_new_fleet(status: str, phases: list[dict[str, Any]], creating: bool) -> bool:
    """An update whose new fleet is still being created (no verdict can come next)."""
    return (
        not creating
        and status == "Updating"
        and bool(phases)
        and all(p["status"] == "Creating" for p in phases)
    )


Describe = Callable[[], dict[str, Any]]
AlarmLookup = Callable[[], tuple[str, str] | None]


def watch_endpoint(
    describe: Describe,
    *,
    endpoint_name: str,
    target_config: str,
    old_config: str | None,
    plan: WatchPlan,
    clock: Clock,
    emit: Callable[[Event], None] | None = None,
    alarm_lookup: AlarmLookup | None = None,
) -> WatchResult:
    """Poll ``describe`` (DescribeEndpoint) until a verdict; raise ``WaitTimedOut`` past the plan."""
    start = clock.now()
    creating = old_config is None
    seen_transition = creating
    polls = 0
    last_key = ""
    transitions: list[dict[str, Any]] = []

    def result(verdict: Verdict, d: dict[str, Any], status: str) -> WatchResult:
        res = WatchResult(
            verdict=verdict,
            endpoint_name=endpoint_name,
            target_config=target_config,
            old_config=old_config,
            status=status,
            live_config=d.get("EndpointConfigName"),
            failure_reason=d.get("FailureReason") or None,
            polls=polls,
            elapsed_seconds=clock.now() - start,
            transitions=transitions,
        )
        if verdict is Verdict.ROLLED_BACK and alarm_lookup is not None:
            found = alarm_lookup()
            if found:
                res.alarm, res.alarm_reason = found
        return res

    while True:
        d = describe()
        polls += 1
        now = clock.now()
        status = str(d.get("EndpointStatus", ""))
        live = d.get("EndpointConfigName")
        phases = variant_phases(d)
        label = _phase_label(status, phases)
        key = f"{label}@{live}@" + ",".join(f"{p['status']}:{p['start']}" for p in phases)
        if key != last_key:
            last_key = key
            transitions.append(
                {"t": round(now - start, 1), "status": status, "phase": label, "config": live}
            )
            if emit is not None:
                emit(
                    Event(
                        "rollout.status",
                        f"{endpoint_name}: {label} (config {live})",
                        {
                            "status": status,
                            "phase": label,
                            "config": live,
                            "variant_status": [p["status"] for p in phases],
                            "elapsed": now - start,
                        },
                    )
                )
        if status != "InService":
            seen_transition = True
        if status == "InService":
            if live == target_config:
                return result(Verdict.DEPLOYED, d, status)
            if seen_transition or now - start >= ALREADY_UPDATING_GRACE_SECONDS:
                verdict = Verdict.ROLLED_BACK if live == old_config else Verdict.NEEDS_OPERATOR
                res = result(verdict, d, status)
                if verdict is Verdict.NEEDS_OPERATOR:
                    res.failure_reason = (
                        f"endpoint is InService on {live}, neither the requested {target_config} "
                        f"nor the previous {old_config}: another deployment replaced it"
                    )
                return res
        elif status == "Failed":
            return result(Verdict.FAILED, d, status)
        elif status == "UpdateRollbackFailed":
            res = result(Verdict.NEEDS_OPERATOR, d, status)
            res.failure_reason = (res.failure_reason or "") + (
                " (UpdateRollbackFailed: the fleet is a mix of the old and new configs)"
            )
            return res
        elif status in ("OutOfService", "Deleting"):
            return result(Verdict.FAILED, d, status)
        if now - start >= plan.timeout_seconds:
            raise WaitTimedOut(
                f"gave up watching {endpoint_name} after {now - start:.0f} s (limit "
                f"{plan.timeout_seconds:.0f} s): it was left {label} on config {live} "
                f"(requested {target_config}); nothing was cleaned up. SageMaker may still finish or "
                f"roll back - check `mlops status` and re-run the deploy (a no-op if it completed) "
                f"or `mlops rollback`"
            )
        provisioning = _provisioning_new_fleet(status, phases, creating)
        delay = next_delay(plan, now, _known_phase_end(phases, plan, now), provisioning)
        delay = min(delay, max(plan.dense_interval, start + plan.timeout_seconds - now))
        clock.sleep(delay)
