"""`mlops demo`: the whole model lifecycle on the local cloud, in about a minute.

Starts the local cloud in-process, materialises the ``local`` stack from the real
stack program (a canary endpoint on 2 instances), then: train v1 → register (the
quality gate approves) → deploy (create) → train v2 → deploy with a canary that
succeeds → train v3 → deploy with a canary whose rollback alarm goes into ALARM
while the canary bakes → SageMaker rolls back and the endpoint stays on v2. Each
step has the outcome the demo expects; the exit code is 0 only when all match.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pipelines.console import Console, Event
from pipelines.errors import MlopsError, RolledBack, RolloutNeedsOperator, WaitTimedOut

DEMO_STACK = "local"
ENDPOINT = "churn"


@dataclass
class Step:
    name: str
    expected: str
    outcome: str = "not run"
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == self.expected

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outcome": self.outcome,
            "expected": self.expected,
            "ok": self.ok,
            **self.details,
        }


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _outcome_of(exc: MlopsError) -> str:
    if isinstance(exc, RolledBack):
        return "rolled_back"
    if isinstance(exc, RolloutNeedsOperator):
        return "needs_operator"
    if isinstance(exc, WaitTimedOut):
        return "timed_out"
    return "failed"


class Demo:
    def __init__(self, console: Console, speed: float) -> None:
        self.console = console
        self.speed = speed
        self.steps: list[Step] = []

    def emit(self, event: Event) -> None:
        self.console.progress(event)

    def step(
        self, name: str, expected: str, action: Callable[[], tuple[str, dict[str, Any]]]
    ) -> Step:
        step = Step(name, expected)
        self.steps.append(step)
        self.console.progress(Event("demo.step", f"step: {name}"))
        from botocore.exceptions import BotoCoreError, ClientError

        from pipelines.aws import describe_failure

        try:
            step.outcome, step.details = action()
        except MlopsError as exc:
            step.outcome = _outcome_of(exc)
            step.details = {"error": str(exc), "error_kind": type(exc).__name__}
        except (ClientError, BotoCoreError) as exc:
            step.outcome = "failed"
            step.details = {"error": describe_failure(name, exc), "error_kind": type(exc).__name__}
        mark = "ok" if step.ok else f"UNEXPECTED (expected {expected})"
        self.console.progress(Event("demo.step", f"step: {name} → {step.outcome} [{mark}]"))
        return step

    def run(self) -> dict[str, Any]:
        from localcloud import LocalCloud
        from localcloud.materialise import materialise

        with LocalCloud(port=0, speed=self.speed) as cloud, _environment(cloud.env()):
            self.console.progress(
                Event("demo.cloud", f"local cloud on {cloud.endpoint_url} (clock ×{self.speed:g})")
            )
            outputs_holder: dict[str, Any] = {}

            def do_materialise() -> tuple[str, dict[str, Any]]:
                outputs = materialise(cloud, DEMO_STACK)
                outputs_holder["outputs"] = outputs
                spec = outputs.endpoint(ENDPOINT)
                return "materialised", {
                    "endpoint": spec.endpoint_name,
                    "strategy": spec.deployment.strategy,
                    "instances": spec.initial_instance_count,
                    "rollback_alarms": spec.rollback_alarm_names,
                }

            if not self.step("materialise stack 'local'", "materialised", do_materialise).ok:
                return self.report(None)
            return self._lifecycle(cloud, outputs_holder["outputs"])

    def _lifecycle(self, cloud: Any, outputs: Any) -> dict[str, Any]:
        from examples.tabular import METRIC_DEFINITIONS, SOURCE_DIR, upload
        from pipelines.aws import Aws
        from pipelines.context import make_context
        from pipelines.deploy import deploy
        from pipelines.registry import register
        from pipelines.training import TrainRequest, train

        aws = Aws(region=outputs.region, endpoint=cloud.endpoint_url)
        ctx = make_context(outputs, self.emit, aws=aws)
        spec = outputs.endpoint(ENDPOINT)
        uploads_holder: dict[str, Any] = {}

        def do_upload() -> tuple[str, dict[str, Any]]:
            uploads_holder["u"] = upload(
                aws.s3, bucket=outputs.buckets.data, prefix="examples/tabular"
            )
            return "uploaded", {"train": uploads_holder["u"].train_uri}

        if not self.step("upload the example dataset", "uploaded", do_upload).ok:
            return self.report(ctx)
        uploads = uploads_holder["u"]
        image = f"{outputs.ecr_repository_url}:demo"
        packages: dict[str, str] = {}
        configs: dict[str, str | None] = {}

        def do_train(version: str, **hyper: str) -> Callable[[], tuple[str, dict[str, Any]]]:
            def action() -> tuple[str, dict[str, Any]]:
                result = train(
                    ctx,
                    TrainRequest(
                        image=image,
                        entry_point="train.py",
                        source_dir=SOURCE_DIR,
                        hyperparameters={"epochs": "30", **hyper},
                        channels={"train": uploads.train_uri, "validation": uploads.validation_uri},
                        metric_definitions={m["Name"]: m["Regex"] for m in METRIC_DEFINITIONS},
                        job_name=None,
                    ),
                )
                reg = register(ctx, result.job_name)
                arn = reg.package.arn if reg.package else ""
                packages[version] = arn
                return (reg.approval_status or "not registered").lower(), {
                    "training_job": result.job_name,
                    "metrics": result.metrics,
                    "model_package_arn": arn,
                }

            return action

        def do_deploy(version: str) -> Callable[[], tuple[str, dict[str, Any]]]:
            def action() -> tuple[str, dict[str, Any]]:
                rolled_back: RolledBack | None = None
                with _traffic(aws, ctx, spec.endpoint_name) as load:
                    try:
                        result = deploy(ctx, ENDPOINT, packages[version])
                    except RolledBack as exc:
                        rolled_back = exc
                if rolled_back is not None:
                    # The audit record holds what the watcher decided: alarm, reason, configs.
                    record = next(ctx.audit.newest_first())
                    watch = record.details.get("watch") or {}
                    return "rolled_back", {
                        "error": str(rolled_back),
                        "alarm": record.details.get("alarm"),
                        "failure_reason": record.details.get("failure_reason"),
                        "config": record.details.get("config"),
                        "previous_config": record.details.get("previous_config"),
                        "polls": watch.get("polls"),
                        "traffic": _traffic_report(load),
                    }
                configs[version] = result.config_name
                details: dict[str, Any] = {
                    "config": result.config_name,
                    "previous_config": result.previous_config,
                    "traffic": _traffic_report(load),
                }
                if result.watch is not None:
                    details["polls"] = result.watch.polls
                return result.outcome, details

            return action

        def do_drift() -> tuple[str, dict[str, Any]]:
            return _drift(ctx, self.console, spec)

        plan: list[tuple[str, str, Callable[[], tuple[str, dict[str, Any]]]]] = [
            ("train + register v1 (quality gate)", "approved", do_train("v1", seed="1")),
            ("deploy v1 (endpoint absent: create)", "created", do_deploy("v1")),
            ("train + register v2", "approved", do_train("v2", seed="2", epochs="40")),
            ("deploy v2 (canary succeeds)", "deployed", do_deploy("v2")),
            (
                "traffic shifted on two features: the drift job names them, the alarm fires",
                "drift_alarm",
                do_drift,
            ),
            (
                "train + register v3 (inference fails on part of the inputs)",
                "approved",
                do_train("v3", seed="3", epochs="20", brittle="true"),
            ),
            (
                "deploy v3 (canary under traffic: its 5XX alarm fires mid-bake)",
                "rolled_back",
                do_deploy("v3"),
            ),
        ]
        for name, expected, action in plan:
            if not self.step(name, expected, action).ok:
                break
        live = aws.sagemaker.describe_endpoint(EndpointName=spec.endpoint_name)
        self.steps[-1].details["live_config"] = live.get("EndpointConfigName")
        if self.steps[-1].outcome == "rolled_back":
            still_v2 = live.get("EndpointConfigName") == configs.get("v2")
            self.steps[-1].details["endpoint_still_on_v2"] = still_v2
            if not still_v2:
                self.steps[-1].outcome = "rolled_back_to_wrong_config"
        return self.report(ctx)

    def report(self, ctx: Any) -> dict[str, Any]:
        audit = [r.to_json() for r in ctx.audit.records()] if ctx is not None else []
        out: dict[str, Any] = {
            "stack": DEMO_STACK,
            "ok": all(s.ok for s in self.steps),
            "steps": [s.to_json() for s in self.steps],
            "audit": audit,
        }
        if ctx is not None and audit:
            from pipelines import provenance

            check = ctx.audit.verify()
            out["audit_chain"] = {
                "ok": check.ok,
                "records": check.records,
                "problem": check.problem,
            }
            lineage = provenance.for_endpoint(ctx, ENDPOINT)
            out["lineage"] = lineage.to_json()
            out["lineage_text"] = provenance.text(lineage)
            out["ok"] = out["ok"] and check.ok
        return out


DRIFT_ROWS = 500
ROWS_PER_REQUEST = 20
ALARM_WAIT_SECONDS = 2 * 3600.0


def _drift(ctx: Any, console: Console, spec: Any) -> tuple[str, dict[str, Any]]:
    """Shifted traffic → a drift run → the drift alarm, from the run's metric (CloudWatch's
    sliding window counts it within the minute it is published)."""
    from examples.tabular import SHIFTED_FEATURES, shifted_payloads
    from pipelines.monitoring.endpoint_cli import RunOptions, monitor_endpoint

    runtime = ctx.aws.client("sagemaker-runtime")
    ctx.clock.sleep(120)  # earlier capture batches are written (a minute old)
    since = ctx.clock.now()
    rows = shifted_payloads(DRIFT_ROWS)
    for i in range(0, len(rows), ROWS_PER_REQUEST):
        runtime.invoke_endpoint(
            EndpointName=spec.endpoint_name,
            Body="\n".join(rows[i : i + ROWS_PER_REQUEST]),
            ContentType="text/csv",
        )
    ctx.clock.sleep(120)  # the shifted batch is written too (a minute old)
    run = monitor_endpoint(ctx, spec.name, RunOptions(since=since), console)
    expected = [f"_c{i}" for i in sorted(SHIFTED_FEATURES)]
    alarm = spec.monitoring.drift_alarm_name
    state, reason = _wait_for_alarm(ctx, alarm)
    [variant] = run["variants"]
    details = {
        "drifted": run["drifted"],
        "expected": expected,
        "samples": run["samples"],
        "files": variant["files"],
        "report": variant["outputs"].get("report"),
        "alarm": alarm,
        "alarm_state": state,
        "alarm_reason": reason,
    }
    if run["drifted"] != expected:
        return "wrong_drifted_set", details
    return ("drift_alarm" if state == "ALARM" else "drift_without_alarm"), details


def _wait_for_alarm(ctx: Any, alarm: str) -> tuple[str, str]:
    """Until the alarm is in ALARM (it is evaluated every minute)."""
    cloudwatch = ctx.aws.cloudwatch
    waited = 0.0
    while True:
        found = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
        state = str(found[0]["StateValue"]) if found else "absent"
        if state == "ALARM" or waited >= ALARM_WAIT_SECONDS:
            return state, str(found[0].get("StateReason", "")) if found else ""
        ctx.clock.sleep(60)
        waited += 60


TRAFFIC_RATE = 0.5
"""Requests per simulated second the demo sends during a rollout (bounded by what the machine
can serve: at high clock speeds fewer arrive per simulated minute)."""


@contextmanager
def _traffic(aws: Any, ctx: Any, endpoint: str) -> Iterator[Any]:
    """Send predictions to ``endpoint`` in a thread while the block runs; yields the summary."""
    import threading

    from examples.tabular import payloads
    from pipelines.traffic import LoadSummary, Payload, send_load

    stop = threading.Event()
    rows = [Payload(p.encode(), "text/csv") for p in payloads()]
    holder: dict[str, LoadSummary] = {"summary": LoadSummary()}
    runtime = aws.client("sagemaker-runtime")

    def run() -> None:
        holder["summary"] = send_load(
            runtime, endpoint, rows, rate=TRAFFIC_RATE, clock=ctx.clock, stop=stop
        )

    thread = threading.Thread(target=run, name="demo-traffic", daemon=True)
    thread.start()
    try:
        yield holder
    finally:
        stop.set()
        thread.join()


def _traffic_report(load: dict[str, Any]) -> dict[str, Any]:
    summary = load["summary"]
    report: dict[str, Any] = summary.to_json()
    report["model_errors"] = summary.errors.get("ModelError", 0)
    report["error_rate"] = (
        round(report["model_errors"] / summary.requests, 4) if summary.requests else 0.0
    )
    """ModelError share: what the model answered (ValidationExceptions while the endpoint is
    still Creating are counted in ``errors`` but are not the model's)."""
    if summary.first_error:
        report["first_model_error"] = summary.first_error
    return report


def human_report(payload: dict[str, Any]) -> str:
    lines = [f"mlops demo on the local cloud (stack {payload['stack']}):"]
    for i, step in enumerate(payload["steps"], start=1):
        mark = "✓" if step["ok"] else "✗"
        extra = ""
        if step.get("error") and step["outcome"] == "rolled_back":
            extra = f"\n      {step['error']}"
        elif step.get("error"):
            extra = f"\n      error: {step['error']}"
        elif step.get("metrics"):
            acc = step["metrics"].get("validation:accuracy")
            extra = f" (validation:accuracy {acc:.3f})" if acc is not None else ""
        elif step.get("config"):
            extra = f" ({step['config']})"
        elif step.get("drifted") is not None:
            extra = (
                f"\n      {step['samples']} rows; drifted: {', '.join(step['drifted']) or 'none'}"
                f" (shifted: {', '.join(step['expected'])}; {step['files']} capture file(s))"
                f"\n      alarm {step['alarm']}: {step['alarm_state']} - {step['alarm_reason']}"
                f"\n      report: {step['report']}"
            )
        traffic = step.get("traffic")
        if traffic:
            errors = (
                ", ".join(f"{n} {code}" for code, n in traffic["errors"].items()) or "no errors"
            )
            extra += f"\n      traffic: {traffic['requests']} requests, {errors}"
            if traffic["model_errors"]:
                extra += f" ({traffic['model_errors'] / traffic['requests']:.0%} ModelError)"
            if step.get("alarm"):
                extra += f"; alarm {step['alarm']} went into ALARM from those metrics"
        lines.append(f"  {mark} {i}. {step['name']}: {step['outcome']}{extra}")
    lines.append(
        f"audit trail: {len(payload['audit'])} records "
        f"({', '.join(r['action'] + ':' + r['outcome'] for r in payload['audit'])})"
    )
    chain = payload.get("audit_chain")
    if chain:
        lines.append(
            f"audit chain: {chain['records']} records, intact"
            if chain["ok"]
            else f"audit chain BROKEN: {chain['problem']}"
        )
    if payload.get("lineage_text"):
        lines.append(payload["lineage_text"])
    lines.append("all steps as expected" if payload["ok"] else "SOME STEPS DID NOT GO AS EXPECTED")
    return "\n".join(lines)


def run_demo(console: Console, speed: float = 600.0) -> dict[str, Any]:
    return Demo(console, speed).run()
