"""Pure translations from an endpoint's configuration to what serves and guards it.

- ``alarm_specs``: the CloudWatch alarms that watch one endpoint (and gate its rollouts),
  defined on the EndpointName/VariantName dimensions so they exist before the endpoint.
- ``serving_spec``: the ``ServingSpec`` the pipeline builds EndpointConfigs and
  DeploymentConfigs from.
- ``execution_role_policy``: least-privilege IAM for the endpoint's models (its trust is
  ``components.iam.service_trust_policy``, as the training role's).

No pulumi or boto3 import: the components, the CLI and the tests all call these.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from components import iam, instance_types, naming
from components.config import EndpointConfig, Strategy
from components.contract import (
    AutoscalingSpec,
    CapacitySpec,
    DataCaptureSpec,
    DeploymentSpec,
    FeatureMonitoringSpec,
    MonitoringSpec,
    ServerlessSpec,
    ServingSpec,
)

AlarmKey = Literal["5xx", "latency", "errors", "gpu_utilization", "gpu_memory", "drift"]
ALARM_KEYS: tuple[AlarmKey, ...] = (
    "5xx",
    "latency",
    "errors",
    "gpu_utilization",
    "gpu_memory",
    "drift",
)
"""Every alarm Monitoring can define per endpoint, in creation order (``drift`` only for a
monitored endpoint; it notifies and never gates a rollout)."""

SAGEMAKER_NAMESPACE = "AWS/SageMaker"
"""Invocation metrics (Invocations, Invocation4XX/5XXErrors, ModelLatency, ...)."""
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"
"""Instance metrics (CPU/GPU utilisation, memory, disk)."""
ALARM_PERIOD_SECONDS = 60

# GPUs per instance for the sizes that have more than one (everything else in a GPU
# family has one). CloudWatch reports GPUUtilization / GPUMemoryUtilization as the
# *sum* over the instance's GPUs (0–100 × GPUs), so thresholds scale with this.
_MULTI_GPU: dict[str, int] = {
    "ml.p2.8xlarge": 8,
    "ml.p2.16xlarge": 16,
    "ml.p3.8xlarge": 4,
    "ml.p3.16xlarge": 8,
    "ml.p3dn.24xlarge": 8,
    "ml.g4dn.12xlarge": 4,
    "ml.g5.12xlarge": 4,
    "ml.g5.24xlarge": 4,
    "ml.g5.48xlarge": 8,
    "ml.g6.12xlarge": 4,
    "ml.g6.24xlarge": 4,
    "ml.g6.48xlarge": 8,
    "ml.g6e.12xlarge": 4,
    "ml.g6e.24xlarge": 4,
    "ml.g6e.48xlarge": 8,
    "ml.g7e.12xlarge": 2,
    "ml.g7e.24xlarge": 4,
    "ml.g7e.48xlarge": 8,
    "ml.p4d.24xlarge": 8,
    "ml.p4de.24xlarge": 8,
    "ml.p5.48xlarge": 8,
    "ml.p5e.48xlarge": 8,
    "ml.p5en.48xlarge": 8,
    "ml.p6-b200.48xlarge": 8,
    "ml.p6-b300.48xlarge": 8,
    "ml.p6e-gb200.36xlarge": 4,
}


def gpu_count(instance_type: str) -> int:
    """GPUs on one instance (0 for CPU/accelerator types); 1 for single-GPU sizes."""
    if not instance_types.is_gpu(instance_type):
        return 0
    return _MULTI_GPU.get(instance_type, 1)


@dataclass(frozen=True)
class AlarmSpec:
    """One CloudWatch metric alarm, with the argument names of ``aws.cloudwatch.MetricAlarm``."""

    key: AlarmKey
    name: str
    namespace: str
    metric_name: str
    dimensions: dict[str, str]
    threshold: float
    comparison_operator: str
    evaluation_periods: int
    description: str
    statistic: str | None = None
    extended_statistic: str | None = None
    period: int = ALARM_PERIOD_SECONDS
    treat_missing_data: str = "notBreaching"
    datapoints_to_alarm: int | None = None
    """M of an "M out of N" alarm; ``None``: all ``evaluation_periods``."""


def alarm_specs(project: str, environment: str, ep: EndpointConfig) -> list[AlarmSpec]:
    """The alarms for one endpoint: 5XX, p99 model latency, 4XX, GPU ones on GPU instances, and
    drift on a monitored endpoint."""
    endpoint = naming.endpoint_name(project, environment, ep.name)
    dims = {"EndpointName": endpoint, "VariantName": ep.variant_name}
    t = ep.alarms
    minutes = t.evaluation_minutes
    specs = [
        AlarmSpec(
            key="5xx",
            name=naming.alarm_name(endpoint, "5xx"),
            namespace=SAGEMAKER_NAMESPACE,
            metric_name="Invocation5XXErrors",
            dimensions=dims,
            statistic="Sum",
            threshold=float(t.error_rate_5xx),
            comparison_operator="GreaterThanOrEqualToThreshold",
            evaluation_periods=minutes,
            description=(
                f"{endpoint}/{ep.variant_name}: ≥ {t.error_rate_5xx} 5XX responses a minute "
                f"for {minutes} min"
            ),
        ),
        AlarmSpec(
            key="latency",
            name=naming.alarm_name(endpoint, "latency"),
            namespace=SAGEMAKER_NAMESPACE,
            metric_name="ModelLatency",
            dimensions=dims,
            extended_statistic="p99",
            # ModelLatency is reported in microseconds.
            threshold=float(t.latency_p99_ms * 1000),
            comparison_operator="GreaterThanThreshold",
            evaluation_periods=minutes,
            description=(
                f"{endpoint}/{ep.variant_name}: model latency p99 > {t.latency_p99_ms} ms "
                f"for {minutes} min"
            ),
        ),
        AlarmSpec(
            key="errors",
            name=naming.alarm_name(endpoint, "errors"),
            namespace=SAGEMAKER_NAMESPACE,
            metric_name="Invocation4XXErrors",
            dimensions=dims,
            statistic="Sum",
            threshold=float(t.error_rate_4xx),
            comparison_operator="GreaterThanOrEqualToThreshold",
            evaluation_periods=minutes,
            description=(
                f"{endpoint}/{ep.variant_name}: ≥ {t.error_rate_4xx} 4XX responses a minute "
                f"for {minutes} min"
            ),
        ),
    ]
    if ep.gpu:
        gpus = gpu_count(ep.instance_type)
        gpu_metrics: tuple[tuple[AlarmKey, str, int], ...] = (
            ("gpu_utilization", "GPUUtilization", t.gpu_utilization_percent),
            ("gpu_memory", "GPUMemoryUtilization", t.gpu_memory_percent),
        )
        for key, metric, pct in gpu_metrics:
            specs.append(
                AlarmSpec(
                    key=key,
                    name=naming.alarm_name(endpoint, key),
                    namespace=INSTANCE_NAMESPACE,
                    metric_name=metric,
                    dimensions=dims,
                    statistic="Average",
                    # Summed over the instance's GPUs: 0–100 × GPUs.
                    threshold=float(pct * gpus),
                    comparison_operator="GreaterThanThreshold",
                    evaluation_periods=minutes,
                    description=(
                        f"{endpoint}/{ep.variant_name}: {metric} > {pct}% per GPU "
                        f"({ep.instance_type}, {gpus} GPU{'s' if gpus > 1 else ''}) for {minutes} min"
                    ),
                )
            )
    if ep.monitoring.enabled:
        specs.append(drift_alarm_spec(endpoint, ep))
    return specs


def drift_alarm_spec(endpoint: str, ep: EndpointConfig) -> AlarmSpec:
    """``DriftedFeatures`` (the drift job's, one datapoint per window) ≥ 1 for ``alarm_windows``
    consecutive windows. No data (no run, or too few samples) is not drift."""
    m = ep.monitoring
    windows = m.alarm_windows
    return AlarmSpec(
        key="drift",
        name=naming.alarm_name(endpoint, "drift"),
        namespace=naming.DRIFT_NAMESPACE,
        metric_name=naming.DRIFT_METRIC,
        dimensions={"EndpointName": endpoint, "VariantName": ep.variant_name},
        statistic="Maximum",
        threshold=1.0,
        comparison_operator="GreaterThanOrEqualToThreshold",
        evaluation_periods=windows,
        datapoints_to_alarm=windows,
        period=m.window_seconds,
        description=(
            f"{endpoint}/{ep.variant_name}: ≥ 1 drifted feature in {windows} consecutive "
            f"window{'s' if windows > 1 else ''} of {m.window_seconds} s"
        ),
    )


def rollback_alarm_names(project: str, environment: str, ep: EndpointConfig) -> list[str]:
    """The alarms passed to AutoRollbackConfiguration: the chosen keys, then the extra names."""
    endpoint = naming.endpoint_name(project, environment, ep.name)
    return [naming.alarm_name(endpoint, k) for k in ep.deployment.rollback_alarms] + list(
        ep.deployment.extra_rollback_alarm_names
    )


def log_group_name(endpoint_name: str) -> str:
    """Where SageMaker writes an endpoint's container logs."""
    return f"/aws/sagemaker/Endpoints/{endpoint_name}"


TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
"""Where SageMaker writes every training job's logs (one per account and region)."""


def execution_role_name(endpoint_name: str) -> str:
    """``<endpoint name>-exec``; over IAM's 64 characters it is shortened with a stable hash."""
    name = f"{endpoint_name}-exec"
    if len(name) <= 64:
        return name
    digest = hashlib.sha256(endpoint_name.encode()).hexdigest()[:8]
    return f"{endpoint_name[:50]}-{digest}-exec"


# ------------------------------------------------------------------------ serving spec


def deployment_spec(ep: EndpointConfig) -> DeploymentSpec:
    """The validated deployment settings, in the contract's shape."""
    d = ep.deployment
    canary = linear = None
    wait = 0
    if d.strategy is Strategy.CANARY and d.canary is not None:
        canary = CapacitySpec(type=d.canary.size.type.value, value=d.canary.size.value)
        wait = d.canary.bake_seconds
    elif d.strategy is Strategy.LINEAR and d.linear is not None:
        linear = CapacitySpec(type=d.linear.step.type.value, value=d.linear.step.value)
        wait = d.linear.interval_seconds
    return DeploymentSpec(
        strategy=d.strategy.value,
        canary_size=canary,
        linear_step=linear,
        wait_interval_seconds=wait,
        termination_wait_seconds=d.termination_wait_seconds,
        max_execution_timeout_seconds=d.max_execution_timeout_seconds,
    )


def capture_s3_uri(capture_bucket_name: str, endpoint_name: str) -> str:
    return f"s3://{capture_bucket_name}/{naming.capture_prefix(endpoint_name)}"


def reports_s3_uri(capture_bucket_name: str, endpoint_name: str) -> str:
    """Where the drift job writes an endpoint's reports (next to its capture)."""
    return f"s3://{capture_bucket_name}/{naming.reports_prefix(endpoint_name)}"


BASELINES_PREFIX = "baselines/"
"""Baselines a user uploads to the model bucket (``naming.BASELINE_KEYS``)."""


def monitoring_spec(
    endpoint_name: str,
    ep: EndpointConfig,
    *,
    capture_bucket_name: str,
    model_bucket_name: str,
    processing_role_arn: str,
) -> MonitoringSpec:
    """What ``mlops monitor`` needs for one monitored endpoint (``ep.monitoring.enabled``)."""
    m = ep.monitoring
    return MonitoringSpec(
        window_seconds=m.window_seconds,
        metric=m.metric.value,
        threshold=m.threshold,
        min_samples=m.min_samples,
        alarm_windows=m.alarm_windows,
        features={
            name: FeatureMonitoringSpec(
                kind=f.effective_kind,
                metric=f.metric.value if f.metric is not None else None,
                threshold=f.threshold,
                enabled=f.enabled,
            )
            for name, f in m.features.items()
        },
        namespace=naming.DRIFT_NAMESPACE,
        drift_alarm_name=naming.alarm_name(endpoint_name, "drift"),
        processing_role_arn=processing_role_arn,
        capture_s3_uri=capture_s3_uri(capture_bucket_name, endpoint_name),
        reports_s3_uri=reports_s3_uri(capture_bucket_name, endpoint_name),
        baselines_s3_uri=f"s3://{model_bucket_name}/{BASELINES_PREFIX}",
        instance_type=m.instance_type,
        max_runtime_seconds=m.max_runtime_seconds,
    )


def serving_spec(
    project: str,
    environment: str,
    ep: EndpointConfig,
    *,
    kms_key_arn: str,
    execution_role_arn: str,
    capture_bucket_name: str,
    alarm_names: list[str],
    rollback_alarm_names: list[str],
    subnet_ids: Sequence[str] = (),
    security_group_ids: Sequence[str] = (),
    model_bucket_name: str | None = None,
    processing_role_arn: str | None = None,
) -> ServingSpec:
    """Everything the pipeline needs for one endpoint, from its config and resolved ARNs.

    Serverless endpoints get no data capture (SageMaker does not offer it there). A monitored
    endpoint (``monitoring.enabled``) needs ``model_bucket_name`` (its baselines) and
    ``processing_role_arn`` (its drift job's role).
    """
    endpoint = naming.endpoint_name(project, environment, ep.name)
    autoscaling = None
    if ep.autoscaling is not None:
        a = ep.autoscaling
        autoscaling = AutoscalingSpec(
            min_instances=a.min_instances,
            max_instances=a.max_instances,
            target_invocations_per_instance=a.target_invocations_per_instance,
            scale_in_cooldown_seconds=a.scale_in_cooldown_seconds,
            scale_out_cooldown_seconds=a.scale_out_cooldown_seconds,
        )
    capture = None
    if ep.serverless is None:
        capture = DataCaptureSpec(
            enabled=ep.data_capture.enabled,
            sampling_percent=ep.data_capture.sampling_percent,
            destination_s3_uri=capture_s3_uri(capture_bucket_name, endpoint),
            kms_key_arn=kms_key_arn,
        )
    monitoring = None
    if ep.monitoring.enabled:
        if model_bucket_name is None or processing_role_arn is None:
            raise ValueError(
                f"endpoint {ep.name!r} is monitored: serving_spec needs model_bucket_name and "
                "processing_role_arn"
            )
        monitoring = monitoring_spec(
            endpoint,
            ep,
            capture_bucket_name=capture_bucket_name,
            model_bucket_name=model_bucket_name,
            processing_role_arn=processing_role_arn,
        )
    serverless = None
    if ep.serverless is not None:
        serverless = ServerlessSpec(
            memory_size_mib=ep.serverless.memory_size_mib,
            max_concurrency=ep.serverless.max_concurrency,
        )
    return ServingSpec(
        name=ep.name,
        endpoint_name=endpoint,
        variant_name=ep.variant_name,
        instance_type=ep.instance_type,
        initial_instance_count=ep.initial_instance_count,
        gpu=ep.gpu,
        network_isolation=ep.network_isolation,
        kms_key_arn=kms_key_arn,
        execution_role_arn=execution_role_arn,
        autoscaling=autoscaling,
        data_capture=capture,
        serverless=serverless,
        scale_to_zero=ep.scale_to_zero,
        deployment=deployment_spec(ep),
        rollback_alarm_names=list(rollback_alarm_names),
        alarm_names=list(alarm_names),
        subnet_ids=list(subnet_ids),
        security_group_ids=list(security_group_ids),
        log_group_name=log_group_name(endpoint),
        monitoring=monitoring,
    )


def capture_warning(ep: EndpointConfig) -> str | None:
    """Data capture asked for explicitly on a serverless endpoint, where SageMaker has none."""
    if (
        ep.serverless is not None
        and "data_capture" in ep.model_fields_set
        and ep.data_capture.enabled
    ):
        return (
            f"endpoint {ep.name!r}: data capture is not available on serverless endpoints; "
            "the serving spec carries none"
        )
    return None


# -------------------------------------------------------------------------------- IAM

_ARN_RE = re.compile(
    r"^arn:(?P<partition>[^:]+):(?P<service>[^:]+):(?P<region>[^:]*):(?P<account>\d{12}):"
)


def arn_parts(arn: str) -> tuple[str, str, str]:
    """``(partition, region, account)`` of a regional ARN such as the KMS key's."""
    match = _ARN_RE.match(arn)
    if not match or not match.group("region"):
        raise ValueError(
            f"expected a regional ARN like arn:aws:kms:eu-west-1:123456789012:key/..., got {arn!r}"
        )
    return match.group("partition"), match.group("region"), match.group("account")


def bucket_name_of(bucket_arn: str) -> str:
    prefix = "arn:aws:s3:::"
    if not re.match(r"^arn:[^:]+:s3:::[^/]+$", bucket_arn):
        raise ValueError(f"expected an S3 bucket ARN like {prefix}my-bucket, got {bucket_arn!r}")
    return bucket_arn.rsplit(":", 1)[1]


_ARTIFACT_LIST_PREFIXES = tuple(
    dict.fromkeys(f"{key.split('/', 1)[0]}/*" for key in naming.MODEL_ARTIFACT_KEYS)
)
"""Listing limited to the artifacts' top-level prefixes (``training/*``, ``promoted/*``)."""


def execution_role_policy(
    *,
    endpoint_name: str,
    kms_key_arn: str,
    model_bucket_arn: str,
    capture_bucket_name: str,
    ecr_repository_arn: str,
    rollback_alarm_arns: list[str],
    log_group_arn: str | None = None,
    subnet_ids: Sequence[str] = (),
    security_group_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """The endpoint role's inline policy: every action named, every resource scoped.

    The only ``*`` resources are for actions IAM cannot scope (``ecr:GetAuthorizationToken``
    and, in a VPC, the ``ec2:Describe*`` calls SageMaker makes to attach its ENIs).
    """
    partition, region, account = arn_parts(kms_key_arn)
    bucket_name_of(model_bucket_arn)
    if not rollback_alarm_arns:
        raise ValueError(
            "rollback_alarm_arns is empty; AutoRollbackConfiguration takes 1–10 alarms"
        )
    log_group = log_group_arn or (
        f"arn:{partition}:logs:{region}:{account}:log-group:{log_group_name(endpoint_name)}"
    )
    log_group = log_group.removesuffix(":*")
    statements: list[dict[str, Any]] = [
        *iam.ecr_pull_statements(ecr_repository_arn, label="model-image"),
        {
            # Model artifacts only (naming.MODEL_ARTIFACT_KEYS): never the training source,
            # checkpoints, lineage or the audit trail kept in the same bucket.
            "Sid": "ReadModelArtifacts",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [f"{model_bucket_arn}/{key}" for key in naming.MODEL_ARTIFACT_KEYS],
        },
        {
            "Sid": "ListModelArtifacts",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": model_bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": list(_ARTIFACT_LIST_PREFIXES)}},
        },
        {
            "Sid": "WriteCapturedData",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"arn:{partition}:s3:::{capture_bucket_name}/{endpoint_name}/*",
        },
        {
            "Sid": "UsePlatformKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": kms_key_arn,
        },
        {
            "Sid": "WriteEndpointLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [log_group, f"{log_group}:log-stream:*"],
        },
        {
            "Sid": "ReadRollbackAlarms",
            "Effect": "Allow",
            "Action": "cloudwatch:DescribeAlarms",
            "Resource": sorted(set(rollback_alarm_arns)),
        },
    ]
    if subnet_ids:
        statements += iam.vpc_statements(
            partition, region, account, subnet_ids, list(security_group_ids)
        )
    return {"Version": "2012-10-17", "Statement": statements}


def alarm_arn(reference_arn: str, alarm: str) -> str:
    """The ARN of an alarm named ``alarm`` in the region/account of ``reference_arn``."""
    partition, region, account = arn_parts(reference_arn)
    return f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{alarm}"
