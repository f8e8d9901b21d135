"""`status` and `teardown`: what the pipeline runs in an environment, and removing it.

Pipeline-created resources are invisible to `pulumi destroy`; they all carry
``mlops:stack=<stack>`` and ``mlops:managed-by``, which is how teardown finds them
(and why it never touches anything else).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from components.tags import MANAGED_BY, STACK_TAG
from pipelines import autoscaling
from pipelines.audit import AuditRecord
from pipelines.aws import aws_call, is_not_found, tag_dict
from pipelines.context import Context
from pipelines.deploy import LAST_ROLLOUT_TAG, PREVIOUS_CONFIG_TAG, read_endpoint
from pipelines.errors import MlopsError


def _last_rollout_actions(ctx: Context, endpoints: set[str]) -> dict[str, AuditRecord]:
    """The newest deploy/rollback record per endpoint, reading the trail from its end only as
    far as needed (one GET per record read)."""
    found: dict[str, AuditRecord] = {}
    if not endpoints:
        return found
    for record in ctx.audit.newest_first():
        endpoint = record.inputs.get("endpoint")
        if record.action in ("deploy", "rollback") and endpoint in endpoints:
            found.setdefault(endpoint, record)
            if len(found) == len(endpoints):
                break
    return found


def endpoint_status(ctx: Context) -> list[dict[str, Any]]:
    """Every endpoint of the stack: live config, model package, last rollout outcome."""
    last_actions = _last_rollout_actions(
        ctx, {spec.endpoint_name for spec in ctx.outputs.endpoints}
    )
    out = []
    for spec in ctx.outputs.endpoints:
        state = read_endpoint(ctx, spec.endpoint_name)
        last = last_actions.get(spec.endpoint_name)
        row: dict[str, Any] = {
            "name": spec.name,
            "endpoint": spec.endpoint_name,
            "exists": state is not None,
            "status": state.status if state else "absent",
            "live_config": state.config_name if state else None,
            "previous_config": state.tags.get(PREVIOUS_CONFIG_TAG) if state else None,
            "model_package_arn": state.package_arn if state else None,
            "instance_type": state.instance_type if state else spec.instance_type,
            "strategy": spec.deployment.strategy,
            "last_rollout": (state.tags.get(LAST_ROLLOUT_TAG) if state else None),
            "last_action": None,
        }
        if last is not None:
            row["last_action"] = {
                "action": last.action,
                "outcome": last.outcome,
                "when": last.when,
                "who": last.who,
            }
            row["last_rollout"] = row["last_rollout"] or last.outcome
        out.append(row)
    return out


def _paged(call: Callable[..., Any], key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    token = None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        yield from page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return


def _ours(ctx: Context, arn: str) -> bool:
    with aws_call("ListTags"):
        tags = tag_dict(ctx.aws.sagemaker.list_tags(ResourceArn=arn).get("Tags", []))
    return tags.get(STACK_TAG) == ctx.stack and MANAGED_BY in tags


def teardown(ctx: Context, *, include_packages: bool = False) -> list[str]:
    """Delete the stack's pipeline-created endpoints, configs, models, scaling (and packages)."""
    sm = ctx.aws.sagemaker
    deleted: list[str] = []
    inputs = {"include_packages": include_packages}
    try:
        with aws_call("ListEndpoints"):
            endpoints = list(_paged(sm.list_endpoints, "Endpoints", MaxResults=100))
        for ep in endpoints:
            if not _ours(ctx, ep["EndpointArn"]):
                continue
            name = ep["EndpointName"]
            state = read_endpoint(ctx, name)
            if (
                state
                and state.variant_name
                and autoscaling.deregister(ctx, name, state.variant_name)
            ):
                deleted.append(
                    f"scalable-target/{autoscaling.resource_id(name, state.variant_name)}"
                )
            _delete(sm.delete_endpoint, {"EndpointName": name}, f"endpoint/{name}", deleted)
        with aws_call("ListEndpointConfigs"):
            configs = list(_paged(sm.list_endpoint_configs, "EndpointConfigs", MaxResults=100))
        for c in configs:
            if _ours(ctx, c["EndpointConfigArn"]):
                n = c["EndpointConfigName"]
                _delete(
                    sm.delete_endpoint_config,
                    {"EndpointConfigName": n},
                    f"endpoint-config/{n}",
                    deleted,
                )
        with aws_call("ListModels"):
            models = list(_paged(sm.list_models, "Models", MaxResults=100))
        for m in models:
            if _ours(ctx, m["ModelArn"]):
                n = m["ModelName"]
                _delete(sm.delete_model, {"ModelName": n}, f"model/{n}", deleted)
        if include_packages:
            group = ctx.outputs.model_package_group_name
            with aws_call("ListModelPackages"):
                packages = list(
                    _paged(
                        sm.list_model_packages,
                        "ModelPackageSummaryList",
                        ModelPackageGroupName=group,
                        MaxResults=100,
                    )
                )
            for p in packages:
                arn = p["ModelPackageArn"]
                _delete(
                    sm.delete_model_package,
                    {"ModelPackageName": arn},
                    f"model-package/{arn}",
                    deleted,
                )
    except MlopsError as exc:
        ctx.audit.record("teardown", "failed", inputs, deleted=deleted, error=str(exc))
        raise
    ctx.audit.record("teardown", "succeeded", inputs, deleted=deleted)
    return deleted


def _delete(
    call: Callable[..., Any], kwargs: dict[str, Any], label: str, deleted: list[str]
) -> None:
    with aws_call(f"delete {label}"):
        try:
            call(**kwargs)
        except Exception as exc:
            if is_not_found(exc):
                return
            raise
    deleted.append(label)
