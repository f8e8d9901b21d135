"""Endpoint autoscaling: registered after the endpoint exists, lifted around instance-type changes.

AWS refuses an UpdateEndpoint that changes the instance type of an autoscaled variant
unless its scaling policies are deleted and the scalable target deregistered first;
we re-register after the update (whatever its outcome, on whichever config is live).
"""

from __future__ import annotations

from typing import Final, Literal

from components.contract import ServingSpec
from pipelines.aws import aws_call, is_not_found
from pipelines.context import Context

NAMESPACE: Final[Literal["sagemaker"]] = "sagemaker"
DIMENSION: Final[Literal["sagemaker:variant:DesiredInstanceCount"]] = (
    "sagemaker:variant:DesiredInstanceCount"
)


def resource_id(endpoint: str, variant: str) -> str:
    return f"endpoint/{endpoint}/variant/{variant}"


def policy_name(endpoint: str) -> str:
    return f"{endpoint}-invocations-per-instance"


def is_registered(ctx: Context, endpoint: str, variant: str) -> bool:
    with aws_call("DescribeScalableTargets"):
        found = ctx.aws.autoscaling.describe_scalable_targets(
            ServiceNamespace=NAMESPACE,
            ResourceIds=[resource_id(endpoint, variant)],
            ScalableDimension=DIMENSION,
        )
    return bool(found.get("ScalableTargets"))


def register(ctx: Context, spec: ServingSpec, variant: str) -> bool:
    """Scalable target + target-tracking policy from the spec; False when the spec has none."""
    a = spec.autoscaling
    if a is None or spec.serverless is not None:
        return False
    rid = resource_id(spec.endpoint_name, variant)
    with aws_call(f"RegisterScalableTarget {rid}"):
        ctx.aws.autoscaling.register_scalable_target(
            ServiceNamespace=NAMESPACE,
            ResourceId=rid,
            ScalableDimension=DIMENSION,
            MinCapacity=a.min_instances,
            MaxCapacity=a.max_instances,
        )
    with aws_call(f"PutScalingPolicy {rid}"):
        ctx.aws.autoscaling.put_scaling_policy(
            PolicyName=policy_name(spec.endpoint_name),
            ServiceNamespace=NAMESPACE,
            ResourceId=rid,
            ScalableDimension=DIMENSION,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": float(a.target_invocations_per_instance),
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                },
                "ScaleInCooldown": a.scale_in_cooldown_seconds,
                "ScaleOutCooldown": a.scale_out_cooldown_seconds,
            },
        )
    ctx.event(
        "autoscaling.registered",
        f"autoscaling registered on {rid} ({a.min_instances}-{a.max_instances} instances)",
        resource=rid,
    )
    return True


def deregister(ctx: Context, endpoint: str, variant: str) -> bool:
    """Delete the policies and deregister the target; True if something was registered."""
    rid = resource_id(endpoint, variant)
    if not is_registered(ctx, endpoint, variant):
        return False
    with aws_call(f"DescribeScalingPolicies {rid}"):
        policies = ctx.aws.autoscaling.describe_scaling_policies(
            ServiceNamespace=NAMESPACE, ResourceId=rid, ScalableDimension=DIMENSION
        ).get("ScalingPolicies", [])
    for policy in policies:
        with aws_call(f"DeleteScalingPolicy {policy['PolicyName']}"):
            try:
                ctx.aws.autoscaling.delete_scaling_policy(
                    PolicyName=policy["PolicyName"],
                    ServiceNamespace=NAMESPACE,
                    ResourceId=rid,
                    ScalableDimension=DIMENSION,
                )
            except Exception as exc:
                if not is_not_found(exc):
                    raise
    with aws_call(f"DeregisterScalableTarget {rid}"):
        try:
            ctx.aws.autoscaling.deregister_scalable_target(
                ServiceNamespace=NAMESPACE, ResourceId=rid, ScalableDimension=DIMENSION
            )
        except Exception as exc:
            if not is_not_found(exc):
                raise
    ctx.event("autoscaling.deregistered", f"autoscaling deregistered from {rid}", resource=rid)
    return True
