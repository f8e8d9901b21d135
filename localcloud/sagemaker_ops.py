"""SageMaker operations the local cloud answers itself, or fixes before moto answers them.

``HANDLERS`` maps an operation to a function ``(Context, params) -> result``; a result of
``None`` means "now let moto answer" (after a check or a state sync).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

from localcloud import endpoints, training
from localcloud.context import Context
from localcloud.wire import validation

Handler = Callable[[Context, dict[str, Any]], dict[str, Any] | None]

_MOTO_KNOWN_TYPE = "ml.m5.large"
"""An instance type moto's fixed list accepts, used as a stand-in while moto validates."""


@functools.cache
def production_variant_instance_types() -> frozenset[str]:
    """Every value of botocore's ``ProductionVariantInstanceType`` enum (AWS's own list)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    shape: Any = model.shape_for("ProductionVariantInstanceType")
    return frozenset(shape.enum)


def create_endpoint_config(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Accept every instance type botocore knows (moto's list lacks g5, g6, p4d, p5, ...)."""
    name = params["EndpointConfigName"]
    backend = ctx.sagemaker()
    if name in backend.endpoint_configs:
        raise validation(
            "Cannot create already existing endpoint configuration "
            f'"{ctx.arn("endpoint-config", name)}".'
        )
    variants = params.get("ProductionVariants") or []
    _unique_variants([v.get("VariantName") for v in variants], "ProductionVariants")
    allowed = production_variant_instance_types()
    stand_ins = copy.deepcopy(variants)
    for index, (variant, stand_in) in enumerate(zip(variants, stand_ins, strict=True)):
        instance_type = variant.get("InstanceType")
        if instance_type is None:
            continue
        if instance_type not in allowed:
            raise validation(
                f"Value '{instance_type}' at 'productionVariants.{index + 1}.member.instanceType' "
                f"failed to satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(sorted(allowed))}]"
            )
        stand_in["InstanceType"] = _MOTO_KNOWN_TYPE
    config = backend.create_endpoint_config(
        endpoint_config_name=name,
        production_variants=stand_ins,
        data_capture_config=params.get("DataCaptureConfig"),
        async_inference_config=params.get("AsyncInferenceConfig"),
        tags=params.get("Tags") or [],
        kms_key_id=params.get("KmsKeyId"),
    )
    config.production_variants = copy.deepcopy(variants)
    config.data_capture_config = params.get("DataCaptureConfig")  # moto reports {} when absent
    config.creation_time = ctx.clock.now_datetime()
    for key in (
        "ShadowProductionVariants",
        "ExecutionRoleArn",
        "VpcConfig",
        "EnableNetworkIsolation",
    ):
        if key in params:
            setattr(config, _snake(key), params[key])
    return {"EndpointConfigArn": config.endpoint_config_arn}


def create_model(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Refuse duplicates like AWS; keep EnableNetworkIsolation (moto drops it)."""
    name = params["ModelName"]
    backend = ctx.sagemaker()
    if name in backend._models:
        raise validation(f'Cannot create already existing model "{ctx.arn("model", name)}".')
    model = backend.create_model(
        model_name=name,
        execution_role_arn=params.get("ExecutionRoleArn"),
        primary_container=params.get("PrimaryContainer"),
        vpc_config=params.get("VpcConfig"),
        containers=params.get("Containers"),
        tags=params.get("Tags") or [],
    )
    model.enable_network_isolation = bool(params.get("EnableNetworkIsolation", False))
    model.vpc_config = params.get("VpcConfig")  # moto reports {} when absent
    model.creation_time = ctx.clock.now_datetime()
    return {"ModelArn": model.arn}


def delete_model_package(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["ModelPackageName"]
    backend = ctx.sagemaker()
    for key, package in list(backend.model_packages.items()):
        if name in (key, package.arn, getattr(package, "model_package_name", None)):
            del backend.model_packages[key]
            return {}
    raise validation(f"Model package {name} does not exist.")


def delete_model_package_group(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """AWS refuses to delete a group that still holds model packages."""
    name = params["ModelPackageGroupName"]
    backend = ctx.sagemaker()
    if name not in backend.model_package_groups:
        raise validation(
            f"ModelPackageGroup {ctx.arn('model-package-group', name)} does not exist."
        )
    members = [p for p in backend.model_packages.values() if p.model_package_group_name == name]
    if members:
        raise validation(
            f"Model package group {name} still holds {len(members)} model package(s); "
            "delete them before the group."
        )
    del backend.model_package_groups[name]
    ctx.state.group_policies.pop((ctx.account_id, ctx.region, name), None)
    return {}


def _group(ctx: Context, name: str) -> Any:
    group = ctx.sagemaker().model_package_groups.get(name)
    if group is None:
        raise validation(
            f"ModelPackageGroup {ctx.arn('model-package-group', name)} does not exist."
        )
    return group


def put_model_package_group_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Cross-account promotion: the group's resource policy (moto has none)."""
    group = _group(ctx, params["ModelPackageGroupName"])
    ctx.state.group_policies[(ctx.account_id, ctx.region, params["ModelPackageGroupName"])] = (
        params["ResourcePolicy"]
    )
    return {"ModelPackageGroupArn": group.arn}


def get_model_package_group_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["ModelPackageGroupName"]
    _group(ctx, name)
    policy = ctx.state.group_policies.get((ctx.account_id, ctx.region, name))
    if policy is None:
        raise validation(f"Cannot find resource policy for model package group {name}.")
    return {"ResourcePolicy": policy}


def delete_model_package_group_policy(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["ModelPackageGroupName"]
    _group(ctx, name)
    if ctx.state.group_policies.pop((ctx.account_id, ctx.region, name), None) is None:
        raise validation(f"Cannot find resource policy for model package group {name}.")
    return {}


def _unique_variants(names: list[Any], field: str) -> None:
    duplicates = sorted({str(n) for n in names if names.count(n) > 1})
    if duplicates:
        raise validation(
            f"The variant name(s) [{', '.join(duplicates)}] in {field} are not unique within "
            "the request."
        )


def describe_model_package(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """moto's answer plus ``ModelPackageName`` (required in botocore's output shape: the group
    name for a versioned package)."""
    package = ctx.sagemaker().describe_model_package(params["ModelPackageName"])
    result: dict[str, Any] = package.gen_response_object()
    result.setdefault(
        "ModelPackageName", package.model_package_group_name or package.model_package_name
    )
    return result


def describe_model_package_group(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """moto's answer plus ``CreatedBy`` (required in botocore's output shape)."""
    group = ctx.sagemaker().describe_model_package_group(params["ModelPackageGroupName"])
    result: dict[str, Any] = group.gen_response_object()
    result.setdefault("CreatedBy", group.created_by)
    return result


def stamp_created(ctx: Context, params: dict[str, Any], response: dict[str, Any]) -> None:
    """moto stamps new packages and groups with the wall clock; every other time the local
    cloud shows (training, endpoints) is simulated."""
    backend, now = ctx.sagemaker(), ctx.clock.now_datetime()
    arn = response.get("ModelPackageArn") or response.get("ModelPackageGroupArn")
    for item in [*backend.model_packages.values(), *backend.model_package_groups.values()]:
        if item.arn == arn:
            item.creation_time = now


def _delete_endpoint(ctx: Context, params: dict[str, Any]) -> None:
    endpoints.delete_endpoint(ctx, params)
    return None


def _snake(name: str) -> str:
    out = ""
    for char in name:
        out += f"_{char.lower()}" if char.isupper() and out else char.lower()
    return out


def _update_weights(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    desired = params.get("DesiredWeightsAndCapacities") or []
    _unique_variants([d.get("VariantName") for d in desired], "DesiredWeightsAndCapacities")
    return endpoints.update_weights(ctx, params)


PostHook = Callable[[Context, dict[str, Any], dict[str, Any]], None]
POST_HOOKS: dict[str, PostHook] = {
    "CreateModelPackage": stamp_created,
    "CreateModelPackageGroup": stamp_created,
}
"""Run after moto answered the operation (successfully): ``(context, request, response)``."""

HANDLERS: dict[str, Handler] = {
    "DescribeModelPackage": describe_model_package,
    "DescribeModelPackageGroup": describe_model_package_group,
    "CreateEndpointConfig": create_endpoint_config,
    "CreateModel": create_model,
    "CreateEndpoint": endpoints.create_endpoint,
    "UpdateEndpoint": endpoints.update_endpoint,
    "UpdateEndpointWeightsAndCapacities": _update_weights,
    "DeleteEndpoint": _delete_endpoint,
    "CreateTrainingJob": training.create_training_job,
    "StopTrainingJob": training.stop_training_job,
    "DeleteModelPackage": delete_model_package,
    "DeleteModelPackageGroup": delete_model_package_group,
    "PutModelPackageGroupPolicy": put_model_package_group_policy,
    "GetModelPackageGroupPolicy": get_model_package_group_policy,
    "DeleteModelPackageGroupPolicy": delete_model_package_group_policy,
}
