"""``StackOutputs``: the one contract between the stack (Pulumi) and the pipeline.

The stack program exports exactly ``StackOutputs.model_dump(mode="json")`` as its
stack outputs (one output per top-level field); the pipeline reads them back from
``pulumi stack output --json``, a JSON file (a CI artifact) or the local cloud and
validates them with the same model. ``contract_version`` changes whenever a field
changes meaning or a required field is added; the pipeline refuses any other version.

Well-formed is not enough. ``region`` (a region of an AWS partition,
``components.regions``) and ``account_id`` (12 digits) are the anchors, written by the stack
program from ``aws:region`` and the caller's identity; every other place the contract names
an account or region must agree with them: each ARN (KMS keys, IAM roles - which have no
region -, the alerts topic) is in that account, region and partition, the ECR repository URL
is that account's registry in that region, and every S3 URI is in the contract's own bucket
for it (training output and checkpoints: the model bucket; the audit trail: the model bucket
or the stack's own audit bucket; captured traffic and drift reports: the capture bucket;
baselines: the model bucket). Counts and waits are bounded as SageMaker bounds them. A
refusal names the field, the value (cut at 200 characters) and what is allowed.

No pulumi or boto3 import here (botocore's region list is read on first use).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from components import instance_types, regions
from components.config import DriftMethod, threshold_problem
from components.quoting import shown

CONTRACT_VERSION = 1


class ContractProblems(ValueError):
    """What the cross-checks of one contract found: one ``<field path>: <value> ...; allowed:
    ...`` sentence each (``pipelines.outputs`` lists them one a line)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def _region(value: str) -> str:
    problem = regions.region_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _instance_type(value: str) -> str:
    if not instance_types.is_known(value):
        raise ValueError(
            f"{shown(value)} is not a SageMaker ML instance type; allowed: "
            f"{instance_types.describe_allowed(allow_cpu=True)}"
        )
    return value


Region = Annotated[str, AfterValidator(_region)]
AccountId = Annotated[str, Field(pattern=r"^\d{12}$")]
BucketName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
"""S3's rules for a bucket name: 3-63 lowercase letters, digits, dots and hyphens."""
SageMakerName = Annotated[str, Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")]
"""Endpoint, variant and model package group names (SageMaker's pattern, ≤ 63 characters)."""
InstanceType = Annotated[str, AfterValidator(_instance_type)]
MAX_RUNTIME_SECONDS = 2419200
"""SageMaker's limit on MaxRuntimeInSeconds and MaxWaitTimeInSeconds (28 days)."""


class _Model(BaseModel):
    # Unknown fields are ignored, so an older pipeline can read outputs that only *add* fields
    # within one contract version.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Buckets(_Model):
    data: BucketName
    model: BucketName
    capture: BucketName
    access_logs: BucketName
    audit: BucketName | None = None
    """The audit trail's own bucket under S3 Object Lock (prod); none: it is in ``model``."""


class AuditLockSpec(_Model):
    """S3 Object Lock on every audit record (``components.config.AuditLockConfig``)."""

    mode: Literal["COMPLIANCE", "GOVERNANCE"]
    retention_days: int = Field(ge=1, le=36500)


Acknowledgement = Literal["network_access", "no_vpc", "single_instance", "no_data_capture"]


class TrainingDefaults(_Model):
    instance_type: InstanceType
    instance_count: int = Field(ge=1)
    volume_size_gib: int = Field(ge=1, le=16384)
    use_spot: bool
    max_runtime_seconds: int = Field(ge=1, le=MAX_RUNTIME_SECONDS)
    max_wait_seconds: int | None = Field(ge=1, le=MAX_RUNTIME_SECONDS)
    """Only with spot training."""
    output_s3_uri: str
    """s3://<model bucket>/training/ — each job writes under its own name."""
    checkpoint_s3_uri: str | None
    """s3://<model bucket>/checkpoints/ when spot training is on."""
    subnet_ids: list[str] = []
    security_group_ids: list[str] = []
    network_isolation: bool = True


class CapacitySpec(_Model):
    type: Literal["INSTANCE_COUNT", "CAPACITY_PERCENT"]
    value: int = Field(ge=1)

    @model_validator(mode="after")
    def _percent(self) -> CapacitySpec:
        if self.type == "CAPACITY_PERCENT" and self.value > 100:
            raise ValueError(f"value {self.value} is above 100 for CAPACITY_PERCENT")
        return self


class DeploymentSpec(_Model):
    # The bounds are UpdateEndpoint's (BlueGreenUpdatePolicy, TrafficRoutingConfig).
    strategy: Literal["ALL_AT_ONCE", "CANARY", "LINEAR"]
    canary_size: CapacitySpec | None = None
    linear_step: CapacitySpec | None = None
    wait_interval_seconds: int = Field(0, ge=0, le=3600)
    """The canary bake or the linear interval."""
    termination_wait_seconds: int = Field(0, ge=0, le=3600)
    max_execution_timeout_seconds: int = Field(3600, ge=600, le=28800)


class AutoscalingSpec(_Model):
    min_instances: int = Field(ge=0)
    max_instances: int = Field(ge=1)
    target_invocations_per_instance: int = Field(ge=1)
    scale_in_cooldown_seconds: int = Field(300, ge=0)
    scale_out_cooldown_seconds: int = Field(60, ge=0)

    @model_validator(mode="after")
    def _order(self) -> AutoscalingSpec:
        if self.min_instances > self.max_instances:
            raise ValueError(
                f"min_instances {self.min_instances} is above max_instances {self.max_instances}"
            )
        return self


class DataCaptureSpec(_Model):
    enabled: bool
    sampling_percent: int = Field(ge=0, le=100)
    destination_s3_uri: str
    kms_key_arn: str


class ServerlessSpec(_Model):
    memory_size_mib: int = Field(ge=1024, le=6144)
    max_concurrency: int = Field(ge=1, le=200)


DriftMethodName = Literal["auto", "wasserstein", "psi", "ks", "jensen_shannon", "chi_square"]
"""``components.config.DriftMethod``'s values (its table - kinds, default thresholds, p-value
methods - lives there)."""


def _processing_instance_type(value: str) -> str:
    if not instance_types.is_processing(value):
        raise ValueError(
            f"{shown(value)} is not a SageMaker Processing instance type; allowed: "
            f"{instance_types.describe_processing()}"
        )
    return value


def _threshold_fits(metric: str | None, threshold: float | None) -> None:
    if threshold is None or metric is None or metric == DriftMethod.AUTO:
        return
    problem = threshold_problem(DriftMethod(metric), threshold)
    if problem:
        raise ValueError(problem)


class FeatureMonitoringSpec(_Model):
    """One feature's overrides (``components.config.FeatureMonitoringConfig``)."""

    kind: Literal["numeric", "categorical"] | None = None
    """Forced by the stack file, or the kind of ``metric``; ``None``: the baseline's."""
    metric: DriftMethodName | None = None
    """``None``: the endpoint's ``metric`` when it fits the kind, else auto."""
    threshold: float | None = None
    """``None``: the method's default (``components.config.DEFAULT_THRESHOLD``)."""
    enabled: bool = True

    @model_validator(mode="after")
    def _fits(self) -> FeatureMonitoringSpec:
        _threshold_fits(self.metric, self.threshold)
        return self


class MonitoringSpec(_Model):
    """What ``mlops monitor`` needs to judge one endpoint's drift (``endpoints[].monitoring``)."""

    window_seconds: int = Field(ge=600, le=86400, multiple_of=60)
    """The drift window; the drift alarm's period."""
    metric: DriftMethodName
    """Applies to the features whose kind it fits (``components.config.METHOD_KIND``)."""
    threshold: float | None = None
    """``None``: the method's default."""
    min_samples: int = Field(ge=1)
    """Fewer captured rows in a window: insufficient data, never drift."""
    alarm_windows: int = Field(ge=1, le=24)
    features: dict[str, FeatureMonitoringSpec] = {}
    namespace: str
    """CloudWatch namespace of the drift metrics (``components.naming.DRIFT_NAMESPACE``)."""
    drift_alarm_name: str
    """Watches ``DriftedFeatures`` ≥ 1 for ``alarm_windows`` windows; not a rollback alarm."""
    processing_role_arn: str
    """The drift job's role: reads the capture and the baselines, writes reports and metrics."""
    capture_s3_uri: str
    """The endpoint's data capture destination (``data_capture.destination_s3_uri``)."""
    reports_s3_uri: str
    """Where the drift job writes its reports (in the capture bucket, next to the capture)."""
    baselines_s3_uri: str
    """``s3://<model bucket>/baselines/``: baselines a user uploads (``register`` writes one
    next to each training job's artifacts: ``components.naming.baseline_key``)."""
    instance_type: Annotated[str, AfterValidator(_processing_instance_type)]
    max_runtime_seconds: int = Field(ge=60, le=86400)

    @model_validator(mode="after")
    def _fits(self) -> MonitoringSpec:
        _threshold_fits(self.metric, self.threshold)
        return self


class ServingSpec(_Model):
    """Everything the pipeline needs to build an EndpointConfig and roll it out."""

    name: str
    """The short name in the stack file."""
    endpoint_name: SageMakerName
    """The SageMaker endpoint name (``<project>-<environment>-<name>``)."""
    variant_name: SageMakerName
    instance_type: InstanceType
    initial_instance_count: int = Field(ge=1)
    gpu: bool
    network_isolation: bool
    kms_key_arn: str
    """Encrypts the endpoint's ML storage volumes and captured data."""
    execution_role_arn: str
    """The role the endpoint's models run as (ECR pull, model bucket read, capture write)."""
    autoscaling: AutoscalingSpec | None = None
    data_capture: DataCaptureSpec | None = None
    serverless: ServerlessSpec | None = None
    scale_to_zero: bool = False
    deployment: DeploymentSpec
    rollback_alarm_names: list[str] = Field(min_length=1, max_length=10)
    alarm_names: list[str] = []
    """Every alarm Monitoring defines for this endpoint (the rollback ones included)."""
    subnet_ids: list[str] = []
    """The Model's VpcConfig subnets (empty: no VPC)."""
    security_group_ids: list[str] = []
    """The Model's VpcConfig security groups (empty: no VPC)."""
    log_group_name: str | None = None
    """``/aws/sagemaker/Endpoints/<endpoint name>``, created by the stack with retention and KMS."""
    monitoring: MonitoringSpec | None = None
    """Drift monitoring of the captured traffic; ``None``: the endpoint is not monitored."""

    @property
    def volume_kms_key_arn(self) -> str | None:
        """EndpointConfig ``KmsKeyId``: none for serverless variants and for instance types with
        local NVMe storage (hardware-encrypted; CreateEndpointConfig fails if a key is given)."""
        if self.serverless is not None or instance_types.has_local_nvme(self.instance_type):
            return None
        return self.kms_key_arn

    def deployment_config(self) -> dict[str, Any]:
        """The ``DeploymentConfig`` of UpdateEndpoint (botocore shape names and enum values)."""
        d = self.deployment
        # WaitIntervalInSeconds is a required member of TrafficRoutingConfig, ALL_AT_ONCE included.
        routing: dict[str, Any] = {
            "Type": d.strategy,
            "WaitIntervalInSeconds": d.wait_interval_seconds,
        }
        if d.strategy == "CANARY" and d.canary_size is not None:
            routing["CanarySize"] = {"Type": d.canary_size.type, "Value": d.canary_size.value}
        elif d.strategy == "LINEAR" and d.linear_step is not None:
            routing["LinearStepSize"] = {"Type": d.linear_step.type, "Value": d.linear_step.value}
        return {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": routing,
                "TerminationWaitInSeconds": d.termination_wait_seconds,
                "MaximumExecutionTimeoutInSeconds": d.max_execution_timeout_seconds,
            },
            "AutoRollbackConfiguration": {
                "Alarms": [{"AlarmName": name} for name in self.rollback_alarm_names]
            },
        }


class StackOutputs(_Model):
    """What the stack exports and the pipeline reads (one output per field)."""

    contract_version: int
    project: str
    stack: str
    environment: str
    region: Region
    """The anchor of every region the contract names (the stack's ``aws:region``)."""
    account_id: AccountId
    """The anchor of every account the contract names (the stack's caller identity)."""
    kms_key_arn: str
    buckets: Buckets
    audit_s3_uri: str
    """Versioned S3 prefix where every mutating pipeline action appends one record."""
    ecr_repository_url: str
    model_package_group_name: SageMakerName
    sagemaker_execution_role_arn: str
    training: TrainingDefaults
    endpoints: list[ServingSpec] = []
    alerts_topic_arn: str | None = None
    quality_gate: dict[str, Any] = {}
    """``components.config.QualityGate`` as JSON (thresholds, on_fail, auto_approve)."""
    keep_endpoint_configs: int = Field(3, ge=1, le=20)
    """As ``components.config.EnvironmentConfig.keep_endpoint_configs``: at least the live one."""
    tags: dict[str, str] = {}
    """Applied to everything the pipeline creates, with ``mlops:stack`` / ``mlops:managed-by``."""
    audit_lock: AuditLockSpec | None = None
    """Every audit record is written under this Object Lock (always in prod)."""
    acknowledged: list[Acknowledgement] = []
    """The stack file's ``unsafe.*`` acknowledgements of a weak serving setup in use: in prod,
    the pipeline builds a Model without network isolation only under ``network_access``."""

    @model_validator(mode="after")
    def _own_resources_only(self) -> StackOutputs:
        problems = [*_foreign_references(self), *_monitoring_problems(self)]
        if problems:
            raise ContractProblems(problems)
        return self

    def endpoint(self, name: str) -> ServingSpec:
        for spec in self.endpoints:
            if name in (spec.name, spec.endpoint_name):
                return spec
        known = ", ".join(s.name for s in self.endpoints) or "none"
        raise KeyError(f"no endpoint {name!r} in stack {self.stack!r} (endpoints: {known})")


# ------------------------------------------------------------------ cross-checks

_ECR_URL = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.(?P<suffix>[a-z0-9.]+)"
    r"/(?P<repository>[a-z0-9][a-z0-9._/-]*)$"
)


def _arn_problem(
    out: StackOutputs, path: str, arn: str, service: str, resource: tuple[str, ...]
) -> str | None:
    """Why ``arn`` is not a ``service`` ARN of the contract's own account and region (IAM: no
    region) whose resource starts with one of ``resource`` (all when empty); ``None`` if it is."""
    partition = regions.partition_of(out.region)
    region = "" if service == "iam" else out.region
    expected = f"arn:{partition}:{service}:{region}:{out.account_id}:{(resource or ('',))[0]}..."
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) != 6 or parts[0] != "arn":
        why = "is not an ARN"
    elif parts[1] != partition:
        why = f"is in partition {parts[1]!r}, not {partition!r} (the partition of {out.region})"
    elif parts[2] != service:
        why = f"is a {parts[2]!r} ARN, not a {service} one"
    elif parts[4] != out.account_id:
        why = f"is in account {parts[4]!r}, not the stack's account_id {out.account_id!r}"
    elif parts[3] != region:
        why = (
            f"is in region {parts[3]!r}, not the stack's region {out.region!r}"
            if region
            else f"names region {parts[3]!r}; IAM ARNs have none"
        )
    elif resource and not parts[5].startswith(resource):
        why = f"names {parts[5]!r}, not a {' or '.join(r.rstrip('/:') for r in resource)}"
    else:
        return None
    return f"{path}: {shown(arn)} {why}; allowed: {expected}"


def _s3_problem(path: str, uri: str, allowed: dict[str, str]) -> str | None:
    """Why ``uri`` is not an ``s3://`` location in one of the ``allowed`` buckets (name → what
    the contract calls it)."""
    scheme, _, rest = uri.partition("://")
    if scheme == "s3" and rest.split("/", 1)[0] in allowed:
        return None
    what = " or ".join(allowed.values())
    why = "is not an s3:// URI" if scheme != "s3" else f"is not in the stack's {what}"
    where = " or ".join(f"s3://{bucket}/..." for bucket in allowed)
    return f"{path}: {shown(uri)} {why}; allowed: {where}"


def _audit_buckets(out: StackOutputs) -> dict[str, str]:
    """Where the audit trail may be: its own bucket when the contract has one (under Object
    Lock), else the model bucket."""
    if out.buckets.audit is not None:
        return {out.buckets.audit: "audit bucket (buckets.audit)"}
    return {out.buckets.model: "model bucket (buckets.model)"}


def _audit_lock_problems(out: StackOutputs) -> Iterator[str]:
    """Prod's trail is under Object Lock, in a bucket of its own."""
    if out.environment == "prod" and out.audit_lock is None:
        yield (
            "audit_lock: missing in a prod contract; allowed: {mode, retention_days} (prod's "
            "audit trail is under S3 Object Lock)"
        )
    if out.audit_lock is not None and out.buckets.audit is None:
        yield (
            "buckets.audit: missing although audit_lock is set; allowed: the audit bucket's name "
            "(a trail under Object Lock has a bucket of its own)"
        )


def _ecr_problem(out: StackOutputs, url: str) -> str | None:
    expected = f"{out.account_id}.dkr.ecr.{out.region}.{regions.dns_suffix(out.region)}/<name>"
    match = _ECR_URL.match(url)
    if match is None:
        why = "is not an ECR repository URL"
    elif match["account"] != out.account_id:
        why = f"is in account {match['account']!r}, not the stack's account_id {out.account_id!r}"
    elif match["region"] != out.region:
        why = f"is in region {match['region']!r}, not the stack's region {out.region!r}"
    elif match["suffix"] != regions.dns_suffix(out.region):
        why = f"is not under {regions.dns_suffix(out.region)} (the partition of {out.region})"
    else:
        return None
    return f"ecr_repository_url: {shown(url)} {why}; allowed: {expected}"


def _monitoring_references(out: StackOutputs, at: str, spec: MonitoringSpec) -> list[str | None]:
    capture = {out.buckets.capture: "capture bucket (buckets.capture)"}
    return [
        _arn_problem(out, f"{at}.processing_role_arn", spec.processing_role_arn, "iam", ("role/",)),
        _s3_problem(f"{at}.capture_s3_uri", spec.capture_s3_uri, capture),
        _s3_problem(f"{at}.reports_s3_uri", spec.reports_s3_uri, capture),
        _s3_problem(
            f"{at}.baselines_s3_uri",
            spec.baselines_s3_uri,
            {out.buckets.model: "model bucket (buckets.model)"},
        ),
    ]


def _monitoring_problems(out: StackOutputs) -> Iterator[str]:
    """A monitored endpoint measures its own captured traffic, and its drift alarm tells
    people: it never rolls a deployment back."""
    for i, spec in enumerate(out.endpoints):
        monitoring, at = spec.monitoring, f"endpoints.{i}.monitoring"
        if monitoring is None:
            continue
        capture = spec.data_capture
        if capture is None or not capture.enabled or capture.sampling_percent == 0:
            yield (
                f"{at}: set although endpoints.{i}.data_capture captures nothing; allowed: "
                "monitoring only with data capture enabled and sampling_percent 1-100"
            )
        elif monitoring.capture_s3_uri != capture.destination_s3_uri:
            yield (
                f"{at}.capture_s3_uri: {shown(monitoring.capture_s3_uri)} is not the endpoint's "
                f"data capture destination; allowed: {shown(capture.destination_s3_uri)}"
            )
        if monitoring.drift_alarm_name in spec.rollback_alarm_names:
            yield (
                f"{at}.drift_alarm_name: {shown(monitoring.drift_alarm_name)} is a rollback "
                "alarm; allowed: an alarm that notifies only (drift is no rollout failure)"
            )
        if monitoring.drift_alarm_name not in spec.alarm_names:
            yield (
                f"{at}.drift_alarm_name: {shown(monitoring.drift_alarm_name)} is not among "
                f"endpoints.{i}.alarm_names; allowed: one of {shown(spec.alarm_names)}"
            )


def _foreign_references(out: StackOutputs) -> Iterator[str]:
    """Every ARN, registry and S3 location in ``out`` that is not the stack's own."""
    key, role, topic = ("key/", "alias/"), ("role/",), ()
    model = {out.buckets.model: "model bucket (buckets.model)"}
    checks: list[str | None] = [
        _arn_problem(out, "kms_key_arn", out.kms_key_arn, "kms", key),
        _arn_problem(
            out, "sagemaker_execution_role_arn", out.sagemaker_execution_role_arn, "iam", role
        ),
        _ecr_problem(out, out.ecr_repository_url),
        _s3_problem("audit_s3_uri", out.audit_s3_uri, _audit_buckets(out)),
        _s3_problem("training.output_s3_uri", out.training.output_s3_uri, model),
    ]
    if out.training.checkpoint_s3_uri is not None:
        checks.append(
            _s3_problem("training.checkpoint_s3_uri", out.training.checkpoint_s3_uri, model)
        )
    if out.alerts_topic_arn is not None:
        checks.append(_arn_problem(out, "alerts_topic_arn", out.alerts_topic_arn, "sns", topic))
    for i, spec in enumerate(out.endpoints):
        at = f"endpoints.{i}"
        checks.append(_arn_problem(out, f"{at}.kms_key_arn", spec.kms_key_arn, "kms", key))
        checks.append(
            _arn_problem(out, f"{at}.execution_role_arn", spec.execution_role_arn, "iam", role)
        )
        if spec.data_capture is not None:
            capture = spec.data_capture
            checks.append(
                _arn_problem(out, f"{at}.data_capture.kms_key_arn", capture.kms_key_arn, "kms", key)
            )
            checks.append(
                _s3_problem(
                    f"{at}.data_capture.destination_s3_uri",
                    capture.destination_s3_uri,
                    {out.buckets.capture: "capture bucket (buckets.capture)"},
                )
            )
        if spec.monitoring is not None:
            checks += _monitoring_references(out, f"{at}.monitoring", spec.monitoring)
    yield from (problem for problem in checks if problem is not None)
    yield from _audit_lock_problems(out)


def dump_json(model: BaseModel) -> dict[str, Any]:
    """A contract model as the JSON the stack exports."""
    return model.model_dump(mode="json")


def output_names() -> list[str]:
    """The stack output keys the program exports, in contract order."""
    return list(StackOutputs.model_fields)
