"""`deploy` and `rollback`: blue/green rollouts through guarded UpdateEndpoint calls.

Order of a deploy (each step refuses before touching the endpoint when it can):
package Approved (FAULTS 10) → its model data exists (FAULTS 11) → the endpoint is
not busy / broken (FAULTS 14, 13) → the package is not already live (FAULTS 17) →
new Model → new EndpointConfig (versioned, immutable, the live variant name) →
CreateEndpoint if absent, else UpdateEndpoint with the spec's DeploymentConfig →
the watcher's verdict → on success only: autoscaling, endpoint tags, cleanup after
the termination wait (FAULTS 18). Every outcome, including rolled back, needs an
operator, timed out and conflict, is one audit record.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from components.contract import ServingSpec
from components.naming import endpoint_config_name
from components.tags import STACK_TAG
from pipelines import autoscaling
from pipelines.audit import split_s3_uri
from pipelines.aws import (
    aws_call,
    aws_lookup,
    is_not_found,
    is_update_conflict,
    tag_dict,
    tag_list,
)
from pipelines.context import ENDPOINT_TAG, PACKAGE_TAG, Context
from pipelines.errors import (
    ArtifactMissing,
    BadInput,
    MlopsError,
    RolledBack,
    RolloutNeedsOperator,
    UpdateInProgress,
    WaitTimedOut,
)
from pipelines.prod_guards import check_network_isolation
from pipelines.registry import Package, describe_package, require_approved
from pipelines.watch import Verdict, WatchPlan, WatchResult, watch_endpoint

LIVE_CONFIG_TAG = "mlops:live-config"
PREVIOUS_CONFIG_TAG = "mlops:previous-config"
LAST_ROLLOUT_TAG = "mlops:last-rollout"
BUSY = {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"}
BROKEN = {"Failed", "UpdateRollbackFailed", "OutOfService"}


@dataclass
class EndpointState:
    name: str
    arn: str
    status: str
    config_name: str | None
    variant_name: str | None
    instance_type: str | None
    model_name: str | None
    package_arn: str | None
    tags: dict[str, str] = field(default_factory=dict)
    variants: list[str] = field(default_factory=list)
    """Every production variant DescribeEndpoint lists (A/B or shadow tests have several)."""


@dataclass
class DeployResult:
    outcome: str
    """``deployed``, ``created``, ``no_op``, ``rolled_back`` (the last only from rollback)."""
    endpoint: str
    config_name: str | None
    package_arn: str | None
    previous_config: str | None = None
    watch: WatchResult | None = None
    cleaned: list[str] = field(default_factory=list)
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "endpoint": self.endpoint,
            "config": self.config_name,
            "model_package_arn": self.package_arn,
            "previous_config": self.previous_config,
            "watch": self.watch.to_json() if self.watch else None,
            "cleaned_up": self.cleaned,
            "message": self.message,
        }


def first_variant(config: Any) -> dict[str, Any]:
    """The (single) production variant of a DescribeEndpointConfig response."""
    variants = config.get("ProductionVariants") or [{}]
    return dict(variants[0])


def serving_spec(ctx: Context, endpoint: str) -> ServingSpec:
    try:
        return ctx.outputs.endpoint(endpoint)
    except KeyError as exc:
        raise BadInput(str(exc.args[0])) from None


# ----------------------------------------------------------------------------- reading


def read_endpoint(ctx: Context, name: str) -> EndpointState | None:
    """The endpoint, its live config, variant, instance type, model and package; None if absent."""
    sm = ctx.aws.sagemaker
    d = aws_lookup(f"DescribeEndpoint {name}", sm.describe_endpoint, EndpointName=name)
    if d is None:
        return None
    config = d.get("EndpointConfigName")
    variant = instance = model = package = None
    c = (
        aws_lookup(
            f"DescribeEndpointConfig {config}",
            sm.describe_endpoint_config,
            EndpointConfigName=config,
        )
        if config
        else None
    )
    if c is not None:
        pv = first_variant(c)
        variant, instance, model = (
            pv.get("VariantName"),
            pv.get("InstanceType"),
            pv.get("ModelName"),
        )
        if model:
            package = model_package_of(ctx, model)
    with aws_call(f"ListTags {name}"):
        tags = tag_dict(sm.list_tags(ResourceArn=d["EndpointArn"]).get("Tags", []))
    return EndpointState(
        name=name,
        arn=d["EndpointArn"],
        variants=[str(v["VariantName"]) for v in d.get("ProductionVariants") or []],
        status=d["EndpointStatus"],
        config_name=config,
        variant_name=variant,
        instance_type=instance,
        model_name=model,
        package_arn=package,
        tags=tags,
    )


def model_package_of(ctx: Context, model_name: str) -> str | None:
    sm = ctx.aws.sagemaker
    m = aws_lookup(f"DescribeModel {model_name}", sm.describe_model, ModelName=model_name)
    if m is None:
        return None
    with aws_call(f"ListTags {model_name}"):
        tags = tag_dict(sm.list_tags(ResourceArn=m["ModelArn"]).get("Tags", []))
    return tags.get(PACKAGE_TAG)


def describe_fn(ctx: Context, name: str) -> Any:
    def describe() -> dict[str, Any]:
        with aws_call(f"DescribeEndpoint {name}"):
            return dict(ctx.aws.sagemaker.describe_endpoint(EndpointName=name))

    return describe


def alarm_lookup_fn(ctx: Context, spec: ServingSpec) -> Any:
    """Which rollback alarm fired: one in ALARM now, else the most recently changed one."""

    def lookup() -> tuple[str, str] | None:
        with aws_call("DescribeAlarms"):
            alarms = ctx.aws.cloudwatch.describe_alarms(AlarmNames=spec.rollback_alarm_names).get(
                "MetricAlarms", []
            )
        if not alarms:
            return None
        firing = [a for a in alarms if a.get("StateValue") == "ALARM"]
        pool = firing or alarms
        best = max(pool, key=lambda a: a.get("StateUpdatedTimestamp") or 0)
        if not firing and best.get("StateValue") != "ALARM":
            # Nothing is in ALARM now: name the most recent change but say so.
            reason = f"now {best.get('StateValue')}; last change: {best.get('StateReason', '')}"
            return str(best["AlarmName"]), reason
        return str(best["AlarmName"]), str(best.get("StateReason", ""))

    return lookup


# ----------------------------------------------------------------------------- building


def version_label(package: Package) -> str:
    """``p<package version>-<UTC time>-<random>``: unique even for concurrent deploys."""
    return (
        f"p{package.version}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{secrets.token_hex(2)}"
    )


def model_request(ctx: Context, spec: ServingSpec, package: Package, name: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "ModelName": name,
        "ExecutionRoleArn": spec.execution_role_arn,
        "PrimaryContainer": {
            "Image": package.image,
            "ModelDataUrl": package.model_data_url,
            **({"Environment": package.environment} if package.environment else {}),
        },
        "EnableNetworkIsolation": spec.network_isolation,
        "Tags": tag_list(ctx.tags(**{PACKAGE_TAG: package.arn, ENDPOINT_TAG: spec.endpoint_name})),
    }
    if spec.subnet_ids and spec.security_group_ids:
        request["VpcConfig"] = {
            "Subnets": spec.subnet_ids,
            "SecurityGroupIds": spec.security_group_ids,
        }
    return request


def endpoint_config_request(
    ctx: Context, spec: ServingSpec, name: str, model_name: str, variant: str, package_arn: str
) -> dict[str, Any]:
    pv: dict[str, Any] = {"VariantName": variant, "ModelName": model_name}
    request: dict[str, Any] = {
        "EndpointConfigName": name,
        "ProductionVariants": [pv],
        "Tags": tag_list(ctx.tags(**{PACKAGE_TAG: package_arn, ENDPOINT_TAG: spec.endpoint_name})),
    }
    if spec.serverless is not None:
        pv["ServerlessConfig"] = {
            "MemorySizeInMB": spec.serverless.memory_size_mib,
            "MaxConcurrency": spec.serverless.max_concurrency,
        }
        return request  # KmsKeyId and data capture are not supported on serverless endpoints
    pv["InstanceType"] = spec.instance_type
    pv["InitialInstanceCount"] = spec.initial_instance_count
    if spec.volume_kms_key_arn:  # none for local-NVMe instance types (CreateEndpointConfig refuses)
        request["KmsKeyId"] = spec.volume_kms_key_arn
    dc = spec.data_capture
    if dc is not None and dc.enabled:
        request["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": dc.sampling_percent,
            "DestinationS3Uri": dc.destination_s3_uri,
            "KmsKeyId": dc.kms_key_arn,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {
                "CsvContentTypes": ["text/csv"],
                "JsonContentTypes": ["application/json"],
            },
        }
    return request


def check_serving_code(spec: ServingSpec, package: Package) -> None:
    """A network-isolated container cannot download an S3 source tarball: refuse before any
    call rather than roll out a fleet that fails its health check."""
    code = package.serving_code
    if code is not None and code.form == "s3" and spec.network_isolation:
        raise BadInput(
            f"model package {package.arn} names its inference code as an S3 source tarball "
            f"(SAGEMAKER_SUBMIT_DIRECTORY={code.submit_directory}), which endpoint {spec.name!r} "
            "cannot download: it runs with network isolation. Register the training job with "
            "--serving-code packed (the default), or set network_isolation: false for the "
            "endpoint (not in prod). Nothing was changed."
        )


def check_model_data(ctx: Context, package: Package) -> None:
    """FAULTS 11: the artifact must exist before anything is created."""
    if not package.model_data_url:
        raise ArtifactMissing(f"model package {package.arn} has no ModelDataUrl")
    bucket, key = split_s3_uri(package.model_data_url)
    try:
        ctx.aws.s3.head_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if is_not_found(exc) or "404" in str(exc) or "Not Found" in str(exc):
            raise ArtifactMissing(
                f"model data {package.model_data_url} of package {package.arn} does not exist; "
                "the endpoint was not touched"
            ) from None
        raise


# ----------------------------------------------------------------------------- guards


def wait_until_idle(ctx: Context, name: str, wait_seconds: float) -> EndpointState:
    """FAULTS 14: refuse at once (``wait_seconds`` 0) or back off up to ``wait_seconds``."""
    start = ctx.clock.now()
    delay = 5.0
    while True:
        state = read_endpoint(ctx, name)
        if state is None:
            raise ArtifactMissing(f"endpoint {name} disappeared while waiting for it")
        if state.status not in BUSY:
            return state
        waited = ctx.clock.now() - start
        if waited >= wait_seconds:
            raise UpdateInProgress(
                f"endpoint {name} is {state.status} (another update is in progress); nothing was "
                + (f"changed after waiting {waited:.0f} s" if wait_seconds else "changed")
                + " - re-run when it is InService, or pass --wait-if-busy SECONDS"
            )
        ctx.event(
            "deploy.busy", f"{name} is {state.status}; waiting {delay:.0f} s", status=state.status
        )
        ctx.clock.sleep(min(delay, max(1.0, wait_seconds - waited)))
        delay = min(delay * 2, 120.0)


def refuse_if_broken(state: EndpointState) -> None:
    if state.status in BROKEN:
        raise RolloutNeedsOperator(
            f"endpoint {state.name} is {state.status} on config {state.config_name}; a person must "
            "look (Failed allows only DeleteEndpoint; UpdateRollbackFailed is a mixed fleet). "
            "Nothing was changed."
        )


def set_rollout_tags(ctx: Context, state_arn: str, tags: dict[str, str]) -> None:
    sm = ctx.aws.sagemaker
    with aws_call("tag endpoint"):
        sm.delete_tags(ResourceArn=state_arn, TagKeys=list(tags))
        sm.add_tags(ResourceArn=state_arn, Tags=tag_list(tags))


# ----------------------------------------------------------------------------- deploy


def deploy(
    ctx: Context,
    endpoint: str,
    package_ref: str,
    *,
    wait_if_busy_seconds: float = 0.0,
    cleanup: bool = True,
) -> DeployResult:
    spec = serving_spec(ctx, endpoint)
    name = spec.endpoint_name
    inputs = {"endpoint": name, "package": package_ref}
    try:
        if spec.scale_to_zero:
            raise BadInput(
                f"endpoint {spec.name!r} asks for scale_to_zero, which needs inference components; "
                "the pipeline does not deploy those yet (use serverless or instances with "
                "autoscaling)"
            )
        package = describe_package(ctx, package_ref)
        inputs["model_package_arn"] = package.arn
        require_approved(package)
        check_network_isolation(ctx.outputs, f"endpoint {spec.name!r}", spec.network_isolation)
        check_serving_code(spec, package)
        check_model_data(ctx, package)
    except MlopsError as exc:
        ctx.audit.record("deploy", "refused", inputs, error=str(exc))
        raise
    state = read_endpoint(ctx, name)
    if state is not None:
        try:
            refuse_if_broken(state)
            if state.status in BUSY:
                state = wait_until_idle(ctx, name, wait_if_busy_seconds)
                refuse_if_broken(state)
        except MlopsError as exc:
            outcome = "conflict" if isinstance(exc, UpdateInProgress) else "refused"
            ctx.audit.record("deploy", outcome, inputs, error=str(exc), status=state.status)
            raise
        if state.package_arn == package.arn:
            message = f"{package.arn} is already live on {name} (config {state.config_name}); nothing to do"
            ctx.audit.record("deploy", "no_op", inputs, config=state.config_name)
            return DeployResult("no_op", name, state.config_name, package.arn, message=message)
    label = version_label(package)
    resource_name = endpoint_config_name(name, label)
    variant = (state.variant_name if state else None) or spec.variant_name
    sm = ctx.aws.sagemaker
    try:
        with aws_call(f"CreateModel {resource_name}"):
            sm.create_model(**model_request(ctx, spec, package, resource_name))
        with aws_call(f"CreateEndpointConfig {resource_name}"):
            sm.create_endpoint_config(
                **endpoint_config_request(
                    ctx, spec, resource_name, resource_name, variant, package.arn
                )
            )
    except MlopsError as exc:
        ctx.audit.record("deploy", "failed", inputs, error=str(exc), stage="create model/config")
        raise
    ctx.event(
        "deploy.config", f"created model and endpoint config {resource_name}", config=resource_name
    )
    if state is None:
        return _create(ctx, spec, resource_name, variant, package, inputs)
    return rollout(
        ctx, spec, state, resource_name, package.arn, inputs, action="deploy", cleanup=cleanup
    )


def _create(
    ctx: Context,
    spec: ServingSpec,
    config: str,
    variant: str,
    package: Package,
    inputs: dict[str, Any],
) -> DeployResult:
    name = spec.endpoint_name
    sm = ctx.aws.sagemaker
    tags = ctx.tags(**{PACKAGE_TAG: package.arn, LIVE_CONFIG_TAG: config})
    try:
        with aws_call(f"CreateEndpoint {name}"):
            try:
                sm.create_endpoint(
                    EndpointName=name, EndpointConfigName=config, Tags=tag_list(tags)
                )
            except Exception as exc:
                if "already exist" in str(exc).lower() or is_update_conflict(exc):
                    raise UpdateInProgress(
                        f"endpoint {name} was created by someone else meanwhile; nothing was changed "
                        "- re-run the deploy"
                    ) from exc
                raise
    except MlopsError as exc:
        outcome = "conflict" if isinstance(exc, UpdateInProgress) else "failed"
        ctx.audit.record("deploy", outcome, inputs, error=str(exc), config=config)
        raise
    ctx.event("deploy.create", f"creating endpoint {name} with {config}", config=config)
    result = _watch(ctx, spec, config, None, WatchPlan.for_create(), inputs, "deploy")
    with _recorded_after_success(ctx, "deploy", inputs, config):
        autoscaling.register(ctx, spec, variant)
        set_rollout_tags(ctx, _arn(ctx, name), {LAST_ROLLOUT_TAG: "created"})
    ctx.audit.record(
        "deploy", "succeeded", inputs, config=config, created=True, watch=result.to_json()
    )
    return DeployResult(
        "created", name, config, package.arn, watch=result, message=f"created {name} on {config}"
    )


@contextmanager
def _recorded_after_success(
    ctx: Context, action: str, inputs: dict[str, Any], config: str
) -> Iterator[None]:
    """Steps after a successful rollout (tags, autoscaling, cleanup): a failure is recorded
    as such, saying that the endpoint does serve the new config."""
    try:
        yield
    except MlopsError as exc:
        ctx.audit.record(
            action,
            "failed",
            inputs,
            config=config,
            stage="after rollout",
            endpoint_serves=config,
            error=str(exc),
        )
        raise


def _arn(ctx: Context, name: str) -> str:
    with aws_call(f"DescribeEndpoint {name}"):
        return str(ctx.aws.sagemaker.describe_endpoint(EndpointName=name)["EndpointArn"])


def _watch(
    ctx: Context,
    spec: ServingSpec,
    target: str,
    old: str | None,
    plan: WatchPlan,
    inputs: dict[str, Any],
    action: str,
) -> WatchResult:
    """Run the watcher; record and raise every verdict but DEPLOYED."""
    name = spec.endpoint_name
    try:
        result = watch_endpoint(
            describe_fn(ctx, name),
            endpoint_name=name,
            target_config=target,
            old_config=old,
            plan=plan,
            clock=ctx.clock,
            emit=ctx.emit,
            alarm_lookup=alarm_lookup_fn(ctx, spec),
        )
    except WaitTimedOut as exc:
        ctx.audit.record(
            action, "timed_out", inputs, config=target, previous_config=old, error=str(exc)
        )
        raise
    except MlopsError as exc:
        ctx.audit.record(
            action, "failed", inputs, config=target, previous_config=old, error=str(exc)
        )
        raise
    if result.verdict is Verdict.DEPLOYED:
        return result
    details = {"config": target, "previous_config": old, "watch": result.to_json()}
    if result.verdict is Verdict.ROLLED_BACK:
        ctx.audit.record(
            action,
            "rolled_back",
            inputs,
            alarm=result.alarm,
            failure_reason=result.failure_reason,
            **details,
        )
        _tag_quietly(ctx, name, {LAST_ROLLOUT_TAG: "rolled_back"})
        raise RolledBack(result.summary() + "; the old config and model are kept")
    ctx.audit.record(
        action,
        "needs_operator",
        inputs,
        verdict=result.verdict.value,
        failure_reason=result.failure_reason,
        **details,
    )
    _tag_quietly(ctx, name, {LAST_ROLLOUT_TAG: result.verdict.value})
    raise RolloutNeedsOperator(result.summary() + "; nothing was deleted - a person must look")


def _tag_quietly(ctx: Context, name: str, tags: dict[str, str]) -> None:
    try:
        set_rollout_tags(ctx, _arn(ctx, name), tags)
    except MlopsError:
        ctx.event("deploy.tag", f"could not tag {name} with {tags}")


def rollout(
    ctx: Context,
    spec: ServingSpec,
    state: EndpointState,
    target: str,
    package_arn: str | None,
    inputs: dict[str, Any],
    *,
    action: str,
    cleanup: bool = True,
    target_instance_type: str | None = None,
) -> DeployResult:
    """The guarded UpdateEndpoint + watch shared by deploy and rollback.

    ``target_instance_type`` is the new config's (default: the spec's): when it differs
    from the live one, autoscaling is lifted around the update as AWS requires.
    """
    name = spec.endpoint_name
    sm = ctx.aws.sagemaker
    old = state.config_name
    variant = state.variant_name or spec.variant_name
    new_type = target_instance_type if target_instance_type is not None else spec.instance_type
    instance_change = spec.serverless is None and state.instance_type not in (None, new_type)
    scaled = spec.serverless is None and autoscaling.is_registered(ctx, name, variant)
    lifted = False
    if instance_change and scaled:
        lifted = autoscaling.deregister(ctx, name, variant)
    request: dict[str, Any] = {"EndpointName": name, "EndpointConfigName": target}
    deployment_config = None if spec.serverless is not None else spec.deployment_config()
    if deployment_config is not None:
        request["DeploymentConfig"] = deployment_config
    if scaled and not instance_change:
        request["RetainAllVariantProperties"] = True
    started = ctx.clock.now()
    try:
        with aws_call(f"UpdateEndpoint {name}"):
            try:
                sm.update_endpoint(**request)
            except Exception as exc:
                if is_update_conflict(exc):
                    raise UpdateInProgress(
                        f"endpoint {name}: another update is in progress ({exc}); nothing was "
                        "changed - re-run when it is InService, or pass --wait-if-busy SECONDS"
                    ) from exc
                raise
    except MlopsError as exc:
        if lifted:
            autoscaling.register(ctx, spec, variant)
        outcome = "conflict" if isinstance(exc, UpdateInProgress) else "failed"
        ctx.audit.record(
            action, outcome, inputs, config=target, previous_config=old, error=str(exc)
        )
        raise
    ctx.event(
        "deploy.update",
        f"updating {name}: {old} → {target} ({spec.deployment.strategy})",
        config=target,
        previous=old,
    )
    try:
        result = _watch(
            ctx, spec, target, old, WatchPlan.for_update(deployment_config), inputs, action
        )
    finally:
        if lifted:
            autoscaling.register(ctx, spec, variant)
    last = "deployed" if action == "deploy" else "rolled_back_manually"
    tags = {LIVE_CONFIG_TAG: target, LAST_ROLLOUT_TAG: last}
    if old:
        tags[PREVIOUS_CONFIG_TAG] = old
    cleaned: list[str] = []
    with _recorded_after_success(ctx, action, inputs, target):
        set_rollout_tags(ctx, state.arn, tags)
        if cleanup:
            _await_termination_wait(ctx, spec, started, result)
            cleaned = cleanup_old(ctx, spec, live=target, previous=old)
    ctx.audit.record(
        action,
        "succeeded",
        inputs,
        config=target,
        previous_config=old,
        cleaned_up=cleaned,
        watch=result.to_json(),
    )
    outcome = "deployed" if action == "deploy" else "rolled_back"
    return DeployResult(
        outcome,
        name,
        target,
        package_arn,
        previous_config=old,
        watch=result,
        cleaned=cleaned,
        message=result.summary(),
    )


def _await_termination_wait(
    ctx: Context, spec: ServingSpec, started: float, result: WatchResult
) -> None:
    """FAULTS 18: nothing is deleted before the old fleet's termination wait has passed."""
    earliest = started + spec.deployment.termination_wait_seconds
    remaining = earliest - ctx.clock.now()
    if remaining > 0:
        ctx.event(
            "deploy.termination_wait",
            f"waiting {remaining:.0f} s (termination wait) before cleanup",
        )
        ctx.clock.sleep(remaining)


# ----------------------------------------------------------------------------- cleanup


LABEL_CHARS = 30
"""Room for ``-p<version>-<YYYYmmddHHMMSS>-<hex4>``; longer endpoint names get cut config names."""


def endpoint_configs(ctx: Context, endpoint: str) -> list[dict[str, Any]]:
    """The pipeline's configs of one endpoint, oldest first (by creation time).

    Names are ``<endpoint>-p<version>-…``; when SageMaker's 63-character limit cut the
    endpoint part, the config's ``mlops:endpoint`` / ``mlops:stack`` tags decide.
    """
    sm = ctx.aws.sagemaker
    exact = len(endpoint) + LABEL_CHARS <= 63
    out: list[dict[str, Any]] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"MaxResults": 100}
        if exact:
            kwargs["NameContains"] = endpoint
        if token:
            kwargs["NextToken"] = token
        with aws_call("ListEndpointConfigs"):
            page = sm.list_endpoint_configs(**kwargs)
        for c in page.get("EndpointConfigs", []):
            name = str(c["EndpointConfigName"])
            if exact and name.startswith(f"{endpoint}-p"):
                out.append(dict(c))
            elif not exact:
                with aws_call(f"ListTags {name}"):
                    tags = tag_dict(
                        sm.list_tags(ResourceArn=c["EndpointConfigArn"]).get("Tags", [])
                    )
                if tags.get(ENDPOINT_TAG) == endpoint and tags.get(STACK_TAG) == ctx.stack:
                    out.append(dict(c))
        token = page.get("NextToken")
        if not token:
            break
    return sorted(out, key=lambda c: (c["CreationTime"], c["EndpointConfigName"]))


def cleanup_old(ctx: Context, spec: ServingSpec, *, live: str, previous: str | None) -> list[str]:
    """Delete configs (and their models) beyond the newest ``keep_endpoint_configs``; never live/previous."""
    keep_n = max(ctx.outputs.keep_endpoint_configs, 1)
    configs = endpoint_configs(ctx, spec.endpoint_name)
    names = [c["EndpointConfigName"] for c in configs]
    keep = set(names[-keep_n:]) | {live} | ({previous} if previous else set())
    # Never anything newer than the live config: another deploy may be about to use it.
    older = names[: names.index(live)] if live in names else []
    deleted: list[str] = []
    sm = ctx.aws.sagemaker
    for config in older:
        if config in keep:
            continue
        model = None
        with aws_call(f"DescribeEndpointConfig {config}"):
            try:
                c = sm.describe_endpoint_config(EndpointConfigName=config)
                model = first_variant(c).get("ModelName")
            except Exception as exc:
                if not is_not_found(exc):
                    raise
        with aws_call(f"DeleteEndpointConfig {config}"):
            sm.delete_endpoint_config(EndpointConfigName=config)
        deleted.append(f"endpoint-config/{config}")
        if model and model not in keep:
            with aws_call(f"DeleteModel {model}"):
                try:
                    sm.delete_model(ModelName=model)
                    deleted.append(f"model/{model}")
                except Exception as exc:
                    if not is_not_found(exc):
                        raise
    if deleted:
        ctx.event(
            "deploy.cleanup",
            f"deleted {len(deleted)} old resources of {spec.endpoint_name}",
            deleted=deleted,
        )
    return deleted


# ----------------------------------------------------------------------------- rollback


def rollback(
    ctx: Context, endpoint: str, *, to_config: str | None = None, wait_if_busy_seconds: float = 0.0
) -> DeployResult:
    """FAULTS 19: back to the previous live config through the same guarded update + watch."""
    spec = serving_spec(ctx, endpoint)
    name = spec.endpoint_name
    state = read_endpoint(ctx, name)
    if state is None:
        raise ArtifactMissing(f"endpoint {name} does not exist; nothing to roll back")
    target = to_config or state.tags.get(PREVIOUS_CONFIG_TAG) or None
    inputs = {"endpoint": name, "to_config": target, "from_config": state.config_name}
    try:
        refuse_if_broken(state)
        if state.status in BUSY:
            state = wait_until_idle(ctx, name, wait_if_busy_seconds)
        if not target:
            raise ArtifactMissing(
                f"endpoint {name} has no previous config recorded (tag {PREVIOUS_CONFIG_TAG}); "
                "pass --to-config NAME"
            )
        if target == state.config_name:
            raise BadInput(f"endpoint {name} is already on {target}")
        with aws_call(f"DescribeEndpointConfig {target}"):
            try:
                c = ctx.aws.sagemaker.describe_endpoint_config(EndpointConfigName=target)
            except Exception as exc:
                if is_not_found(exc):
                    raise ArtifactMissing(f"endpoint config {target} no longer exists") from None
                raise
    except MlopsError as exc:
        outcome = "conflict" if isinstance(exc, UpdateInProgress) else "refused"
        ctx.audit.record("rollback", outcome, inputs, error=str(exc))
        raise
    target_variant = first_variant(c)
    model = target_variant.get("ModelName")
    package_arn = model_package_of(ctx, model) if model else None
    return rollout(
        ctx,
        spec,
        state,
        target,
        package_arn,
        inputs,
        action="rollback",
        cleanup=False,
        target_instance_type=target_variant.get("InstanceType") or "",
    )
