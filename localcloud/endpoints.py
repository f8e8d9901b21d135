"""SageMaker endpoints that behave like AWS: Creating → InService/Failed, blue/green updates.

State lives in an ``EndpointRecord`` per endpoint; what DescribeEndpoint shows is a pure
function of the record, the simulated time and the alarms' history, written onto moto's
``FakeEndpoint`` before each request (moto then serialises it with botocore's output
shape, so the response shape is AWS's). Nothing here depends on how often anyone polls.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

from localcloud import s3io
from localcloud.alarms import first_alarm
from localcloud.clock import SimClock, to_datetime
from localcloud.context import Context, cloudwatch_backend, s3_backend, sagemaker_backend
from localcloud.rollout import (
    CREATE_SECONDS,
    ROLLBACK_SECONDS,
    SHIFT_SECONDS,
    Phase,
    RolloutPlan,
    check_same_variants,
    plan_rollout,
)
from localcloud.serving import bundle
from localcloud.wire import ApiError, validation

IN_PROGRESS = ("Creating", "Updating", "RollingBack", "SystemUpdating", "Deleting")
FAULT_OUTCOMES = ("Failed", "UpdateRollbackFailed")
AUTOSCALING_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


@dataclass
class Variant:
    """One production variant as it runs on an endpoint."""

    name: str
    model_name: str
    instance_type: str | None
    instance_count: int | None
    weight: float
    images: list[str]
    serverless: dict[str, Any] | None = None
    config_name: str = ""
    """The endpoint config this fleet runs (its DataCaptureConfig applies to its traffic)."""

    def summary(self, *, pending: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "VariantName": self.name,
            "DeployedImages": [{"SpecifiedImage": i, "ResolvedImage": i} for i in self.images],
            "CurrentWeight": self.weight,
            "DesiredWeight": self.weight,
        }
        if self.instance_count is not None:
            out["CurrentInstanceCount"] = self.instance_count
            out["DesiredInstanceCount"] = self.instance_count
        if self.serverless:
            out["CurrentServerlessConfig"] = self.serverless
            out["DesiredServerlessConfig"] = self.serverless
        if pending and self.instance_type:
            out["InstanceType"] = self.instance_type
        return out


@dataclass
class Outcome:
    kind: Literal["succeeded", "rolled_back", "failed", "rollback_failed"]
    at: float
    reason: str | None = None


@dataclass
class Update:
    old_config: str
    new_config: str
    started: float
    plan: RolloutPlan
    variants: list[Variant]
    broken: str | None
    """Why the new fleet cannot start (a missing model artifact), if it cannot."""
    data_capture: dict[str, Any] | None = None
    fault: str | None = None
    """An injected outcome (Failed / UpdateRollbackFailed) for FAULTS 13."""
    outcome: Outcome | None = None
    loading: int = 0
    """The new fleet's models still loading: it stays Creating until they are ready."""

    def phase(self, now: float) -> Phase | None:
        """The phase at ``now``: Creating for as long as the new fleet's models load."""
        if self.loading:
            return self.plan.phases[0]
        return next((p for p in self.plan.phases if p.start <= now < p.end), None)


@dataclass
class EndpointRecord:
    account_id: str
    region: str
    name: str
    config_name: str
    variants: list[Variant]
    created: float
    ready_at: float
    create_failure: str | None
    data_capture: dict[str, Any] | None = None
    """DescribeEndpoint's DataCaptureConfig (a DataCaptureConfigSummary) of the live config."""
    update: Update | None = None
    terminal: str | None = None
    """Failed or UpdateRollbackFailed once reached (only DeleteEndpoint / a new update leave it)."""
    failure_reason: str | None = None
    last_deployment_config: dict[str, Any] | None = None
    last_change: float = 0.0
    weights_until: float = 0.0
    history: list[Outcome] = field(default_factory=list)
    loading: int = 0
    """Models of a new endpoint still loading: it stays Creating until they are ready."""
    credits: dict[tuple[str, str], float] = field(default_factory=dict)
    """Smooth weighted round-robin credit per (variant, model): routing by exact shares."""

    # -- routing ------------------------------------------------------------------------
    def fleets(self, now: float) -> list[tuple[Variant, float]]:
        """Every (variant, weight) serving at ``now``: the live variants, and during a blue/green
        traffic step the new fleet with the step's share of each variant's traffic."""
        update = self.update
        share = 0.0
        if update is not None and update.outcome is None:
            phase = update.phase(now)
            share = phase.traffic_percent / 100.0 if phase is not None else 0.0
        fleets = [(v, v.weight * (1.0 - share)) for v in self.variants]
        if update is not None and share > 0:
            fleets += [(v, v.weight * share) for v in update.variants]
        return [(v, w) for v, w in fleets if w > 0]

    def route(self, now: float, target: str | None = None) -> Variant | None:
        """The fleet that serves the next request (``TargetVariant`` overrides the weights)."""
        fleets = self.fleets(now)
        if target is not None:
            fleets = [(v, w) for v, w in fleets if v.name == target]
        if not fleets:
            return None
        total = sum(w for _, w in fleets)
        best: tuple[Variant, tuple[str, str]] | None = None
        for variant, weight in fleets:
            key = (variant.name, variant.model_name)
            self.credits[key] = self.credits.get(key, 0.0) + weight
            if best is None or self.credits[key] > self.credits[best[1]]:
                best = (variant, key)
        assert best is not None
        self.credits[best[1]] -= total
        return best[0]

    # -- deciding -----------------------------------------------------------------------
    def _decide(self, update: Update, now: float, clock: SimClock) -> None:
        if update.outcome is not None:
            return
        plan = update.plan
        candidates: list[Outcome] = [Outcome("succeeded", plan.end)]
        creating_end = plan.phases[0].end
        if update.broken:
            candidates.append(Outcome("rolled_back", creating_end, update.broken))
        if update.fault:
            first_bake = next((p.start for p in plan.phases if p.monitored), plan.phases[1].start)
            kind: Literal["failed", "rollback_failed"] = (
                "failed" if update.fault == "Failed" else "rollback_failed"
            )
            candidates.append(
                Outcome(kind, first_bake, f"Injected fault ({update.fault}) from the local cloud")
            )
        if plan.timeout_seconds is not None and plan.end > update.started + plan.timeout_seconds:
            candidates.append(
                Outcome(
                    "rolled_back",
                    update.started + plan.timeout_seconds,
                    f"The deployment exceeded MaximumExecutionTimeoutInSeconds "
                    f"({plan.timeout_seconds:g} s); traffic was returned to {update.old_config}",
                )
            )
        windows = [(p.start, min(p.end, now)) for p in plan.phases if p.monitored and p.start < now]
        if windows and plan.alarm_names:
            hit = first_alarm(
                cloudwatch_backend(self.account_id, self.region), plan.alarm_names, windows
            )
            if hit is not None:
                candidates.append(
                    Outcome(
                        "rolled_back",
                        hit[0],
                        f"Alarm {hit[1]} went into ALARM during the baking period; the update to "
                        f"{update.new_config} was rolled back to {update.old_config}",
                    )
                )
        first = min(candidates, key=lambda o: o.at)
        if first.at <= now:
            update.outcome = first

    def hold_while_loading(self, now: float) -> None:
        """A fleet whose models are still loading stays Creating (in simulated time too), so
        clock compression never lets a rollout bake a fleet that could not answer yet."""
        if self.loading and now > self.ready_at:
            self.ready_at = now
        update = self.update
        if update is not None and update.loading and update.outcome is None:
            update.plan = update.plan.provisioned_at(now)

    def model_loaded(self, update: Update | None, now: float) -> None:
        """One of a fleet's models finished loading (or failed to: the first request says so)."""
        self.hold_while_loading(now)
        if update is None:
            self.loading = max(0, self.loading - 1)
        else:
            update.loading = max(0, update.loading - 1)

    def settle(self, now: float, clock: SimClock) -> None:
        """Decide what can be decided at ``now`` and fold finished updates into the record."""
        self.hold_while_loading(now)
        update = self.update
        if update is None:
            return
        self._decide(update, now, clock)
        outcome = update.outcome
        if outcome is None:
            return
        if outcome.kind == "succeeded":
            self.config_name, self.variants = update.new_config, update.variants
            self.data_capture = update.data_capture
            self.failure_reason = None
            self.last_change = outcome.at
        elif outcome.kind == "failed":
            self.terminal, self.failure_reason = "Failed", outcome.reason
            self.last_change = outcome.at
        elif now >= outcome.at + ROLLBACK_SECONDS:
            self.failure_reason = outcome.reason
            self.last_change = outcome.at + ROLLBACK_SECONDS
            if outcome.kind == "rollback_failed":
                self.terminal = "UpdateRollbackFailed"
        else:
            return  # still RollingBack
        self.history.append(outcome)
        self.update = None

    # -- showing ------------------------------------------------------------------------
    def status(self, now: float) -> str:
        if now < self.ready_at or self.loading:
            return "Creating"
        if self.create_failure:
            return "Failed"
        if self.update is not None:
            return "RollingBack" if self.update.outcome is not None else "Updating"
        if self.terminal:
            return self.terminal
        if now < self.weights_until:
            return "Updating"
        return "InService"

    def view(self, now: float) -> dict[str, Any]:
        """The attributes of moto's FakeEndpoint (botocore member names, snake_cased)."""
        status = self.status(now)
        variants = [v.summary() for v in self.variants]
        pending: dict[str, Any] | None = None
        failure = self.failure_reason
        last_change = max(self.last_change, self.ready_at if now >= self.ready_at else self.created)
        if status == "Creating":
            for v in variants:
                v["VariantStatus"] = [
                    {"Status": "Creating", "StartTime": to_datetime(self.created)}
                ]
        elif status == "Failed" and self.create_failure:
            failure, last_change = self.create_failure, self.ready_at
        elif self.update is not None:
            update = self.update
            last_change = update.started
            if update.outcome is not None:  # RollingBack
                last_change = update.outcome.at
            else:
                phase = update.phase(now) or update.plan.phases[-1]
                last_change = phase.start
                summaries = []
                for new_variant in update.variants:
                    s = new_variant.summary(pending=True)
                    # the new fleet's weight is the share of traffic it gets in this step
                    s["CurrentWeight"] = new_variant.weight * phase.traffic_percent / 100.0
                    if phase.status == "Creating":
                        s["CurrentInstanceCount"] = 0
                    s["VariantStatus"] = [
                        {
                            "Status": phase.status,
                            "StatusMessage": phase.message,
                            "StartTime": to_datetime(phase.start),
                        }
                    ]
                    summaries.append(s)
                pending = {
                    "EndpointConfigName": update.new_config,
                    "ProductionVariants": summaries,
                    "StartTime": to_datetime(update.started),
                }
        return {
            "endpoint_status": status,
            "endpoint_config_name": self.config_name,
            "production_variants": variants,
            "data_capture_config": self.data_capture,
            "failure_reason": failure,
            "pending_deployment_summary": pending,
            "last_deployment_config": self.last_deployment_config,
            "last_modified_time": to_datetime(last_change),
        }

    def sync(self, clock: SimClock) -> None:
        now = clock.now()
        self.settle(now, clock)
        endpoint = sagemaker_backend(self.account_id, self.region).endpoints.get(self.name)
        if endpoint is None:
            return
        for key, value in self.view(now).items():
            setattr(endpoint, key, value)


# -- building blocks ----------------------------------------------------------------------
def _model_images(model: Any) -> list[dict[str, Any]]:
    containers = [model.primary_container] if model.primary_container else []
    return containers + list(model.containers or [])


def config_variants(ctx: Context, config_name: str) -> list[Variant]:
    backend = ctx.sagemaker()
    config = backend.endpoint_configs.get(config_name)
    if config is None:
        raise validation(
            f'Could not find endpoint configuration "{ctx.arn("endpoint-config", config_name)}".'
        )
    variants = []
    for pv in config.production_variants:
        model = backend._models.get(pv.get("ModelName"))
        images = [c["Image"] for c in _model_images(model) if c.get("Image")] if model else []
        variants.append(
            Variant(
                name=pv["VariantName"],
                model_name=pv.get("ModelName", ""),
                instance_type=pv.get("InstanceType"),
                instance_count=pv.get("InitialInstanceCount"),
                weight=float(pv.get("InitialVariantWeight", 1.0)),
                images=images,
                serverless=pv.get("ServerlessConfig"),
                config_name=config_name,
            )
        )
    return variants


def capture_summary(ctx: Context, config_name: str) -> dict[str, Any] | None:
    """The endpoint config's DataCaptureConfig as DescribeEndpoint reports it."""
    config = ctx.sagemaker().endpoint_configs.get(config_name)
    capture = getattr(config, "data_capture_config", None) or {}
    if not capture:
        return None
    enabled = bool(capture.get("EnableCapture", True))
    return {
        "EnableCapture": enabled,
        "CaptureStatus": "Started" if enabled else "Stopped",
        "CurrentSamplingPercentage": int(capture.get("InitialSamplingPercentage", 0)),
        "DestinationS3Uri": capture.get("DestinationS3Uri", ""),
        "KmsKeyId": capture.get("KmsKeyId", ""),
    }


def startup_failure(ctx: Context, variants: list[Variant]) -> str | None:
    """AWS's FailureReason when a variant's fleet cannot start (its model data is not in S3,
    or its container cannot reach its inference code), else ``None``."""
    backend, s3 = ctx.sagemaker(), s3_backend(ctx.account_id, ctx.region)
    for variant in variants:
        model = backend._models.get(variant.model_name)
        if model is None:
            return f"Could not find model {ctx.arn('model', variant.model_name)!r} of variant {variant.name}."
        for index, container in enumerate(_model_images(model), start=1):
            url = container.get("ModelDataUrl")
            if url and not s3io.exists(s3, url):
                return (
                    f'Failed to download model data for container "container_{index}" of variant '
                    f'"{variant.name}" from URL: "{url}". Please ensure that there is an object '
                    "located at the URL and that the role passed to CreateModel has permissions "
                    "to download the object."
                )
        unreachable = bundle.unreachable_code(model)
        if unreachable is not None:
            return f"{bundle.HEALTH_CHECK_FAILED.format(variant=variant.name)} ({unreachable})"
    return None


def _take_fault(ctx: Context, name: str) -> str | None:
    return ctx.state.faults.pop((ctx.account_id, ctx.region, name), None)


def _record(ctx: Context, name: str) -> EndpointRecord:
    record = ctx.state.endpoints.get((ctx.account_id, ctx.region, name))
    if record is None or name not in ctx.sagemaker().endpoints:
        raise validation(f'Could not find endpoint "{ctx.arn("endpoint", name)}".')
    return record


# -- operations ---------------------------------------------------------------------------
def create_endpoint(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name, config_name = params["EndpointName"], params["EndpointConfigName"]
    backend = ctx.sagemaker()
    if name in backend.endpoints:
        raise validation(f'Cannot create already existing endpoint "{ctx.arn("endpoint", name)}".')
    variants = config_variants(ctx, config_name)
    from moto.sagemaker.models import FakeEndpoint

    config = backend.endpoint_configs[config_name]
    endpoint_class: Any = FakeEndpoint
    endpoint = endpoint_class(
        account_id=ctx.account_id,
        region_name=ctx.region,
        endpoint_name=name,
        endpoint_config_name=config_name,
        production_variants=config.production_variants,
        data_capture_config=config.data_capture_config or {},
        tags=params.get("Tags") or [],
    )
    backend.endpoints[name] = endpoint
    now = ctx.clock.now()
    failure = startup_failure(ctx, variants)
    fault = _take_fault(ctx, name)
    if failure is None and fault is not None:
        failure = f"Injected fault ({fault}) from the local cloud"
    endpoint.creation_time = to_datetime(now)
    record = EndpointRecord(
        account_id=ctx.account_id,
        region=ctx.region,
        name=name,
        config_name=config_name,
        variants=variants,
        created=now,
        ready_at=now + CREATE_SECONDS,
        create_failure=failure,
        data_capture=capture_summary(ctx, config_name),
        last_change=now,
    )
    ctx.state.endpoints[(ctx.account_id, ctx.region, name)] = record
    record.sync(ctx.clock)
    return {"EndpointArn": endpoint.arn}


def _retain(live: list[Variant], new: list[Variant], params: dict[str, Any]) -> list[Variant]:
    if not params.get("RetainAllVariantProperties"):
        return new
    excluded = {
        p.get("VariantPropertyType") for p in params.get("ExcludeRetainedVariantProperties") or []
    }
    by_name = {v.name: v for v in live}
    kept = []
    for variant in new:
        variant = copy.deepcopy(variant)
        old = by_name.get(variant.name)
        if old is not None:
            if "DesiredInstanceCount" not in excluded and old.instance_count is not None:
                variant.instance_count = old.instance_count
            if "DesiredWeight" not in excluded:
                variant.weight = old.weight
        kept.append(variant)
    return kept


def _check_autoscaling(ctx: Context, name: str, live: list[Variant], new: list[Variant]) -> None:
    """AWS refuses to change the instance type of (or remove) an autoscaled variant."""
    targets = ctx.autoscaling().describe_scalable_targets("sagemaker", None, AUTOSCALING_DIMENSION)
    scaled = {t.resource_id for t in targets}
    new_by_name = {v.name: v for v in new}
    for variant in live:
        resource = f"endpoint/{name}/variant/{variant.name}"
        if resource not in scaled:
            continue
        replacement = new_by_name.get(variant.name)
        if replacement is None or replacement.instance_type != variant.instance_type:
            change = (
                "removes it"
                if replacement is None
                else f"changes its instance type from {variant.instance_type} to {replacement.instance_type}"
            )
            raise validation(
                f"Variant {variant.name} of endpoint {name} has automatic scaling registered "
                f"({resource}) and the new endpoint configuration {change}. Delete its scaling "
                "policies and deregister the scalable target before the update, then register "
                "them again afterwards."
            )


def update_endpoint(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name, config_name = params["EndpointName"], params["EndpointConfigName"]
    record = _record(ctx, name)
    now = ctx.clock.now()
    record.settle(now, ctx.clock)
    status = record.status(now)
    arn = ctx.arn("endpoint", name)
    if status in IN_PROGRESS:
        raise validation(f'Cannot update in-progress endpoint "{arn}".')
    if status == "Failed":
        raise validation(
            f'Cannot update endpoint "{arn}" in status Failed; only DeleteEndpoint is allowed.'
        )
    new = config_variants(ctx, config_name)
    deployment = params.get("DeploymentConfig")
    if deployment is None and params.get("RetainDeploymentConfig"):
        deployment = record.last_deployment_config
    if deployment is not None:
        check_same_variants([v.name for v in record.variants], [v.name for v in new], name)
    new = _retain(record.variants, new, params)
    _check_autoscaling(ctx, name, record.variants, new)
    instances = sum(v.instance_count or 0 for v in new) or None
    plan = plan_rollout(deployment, instances, now)
    update = Update(
        old_config=record.config_name,
        new_config=config_name,
        started=now,
        plan=plan,
        variants=new,
        broken=startup_failure(ctx, new),
        data_capture=capture_summary(ctx, config_name),
        fault=_take_fault(ctx, name),
    )
    record.update, record.terminal, record.failure_reason = update, None, None
    if deployment is not None:
        record.last_deployment_config = copy.deepcopy(deployment)
    record.sync(ctx.clock)
    return {"EndpointArn": arn}


def update_weights(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateEndpointWeightsAndCapacities: Updating for one traffic shift, then applied."""
    name = params["EndpointName"]
    record = _record(ctx, name)
    now = ctx.clock.now()
    record.settle(now, ctx.clock)
    arn = ctx.arn("endpoint", name)
    if record.status(now) != "InService":
        raise validation(f'Cannot update in-progress endpoint "{arn}".')
    by_name = {v.name: v for v in record.variants}
    for desired in params.get("DesiredWeightsAndCapacities", []):
        variant = by_name.get(desired.get("VariantName"))
        if variant is None:
            raise validation(
                f'The variant name(s) "{desired.get("VariantName")}" is/are not present within '
                f'endpoint configuration "{record.config_name}".'
            )
        if "DesiredWeight" in desired:
            variant.weight = float(desired["DesiredWeight"])
        if "DesiredInstanceCount" in desired:
            variant.instance_count = int(desired["DesiredInstanceCount"])
    record.weights_until = now + SHIFT_SECONDS
    record.last_change = now
    record.sync(ctx.clock)
    return {"EndpointArn": arn}


def delete_endpoint(ctx: Context, params: dict[str, Any]) -> None:
    """Forget our record; moto then deletes its endpoint (or says it does not exist)."""
    ctx.state.endpoints.pop((ctx.account_id, ctx.region, params.get("EndpointName", "")), None)


def arm_fault(ctx: Context, endpoint: str, outcome: str) -> str:
    """Force the next (or the in-flight) create/update of ``endpoint`` to end in ``outcome``."""
    if outcome not in FAULT_OUTCOMES:
        raise ApiError(
            "ValidationException",
            f"outcome must be one of {', '.join(FAULT_OUTCOMES)}, got {outcome!r}",
        )
    record = ctx.state.endpoints.get((ctx.account_id, ctx.region, endpoint))
    if record is not None and record.update is not None and record.update.outcome is None:
        record.update.fault = outcome
        return "in-flight update"
    ctx.state.faults[(ctx.account_id, ctx.region, endpoint)] = outcome
    return "next create or update"
