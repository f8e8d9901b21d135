"""The environment's configuration: ``stacks/Pulumi.<env>.yaml`` → ``EnvironmentConfig``.

Everything a stack file may say is declared here with its default behaviour. Parsing
is strict (``extra="forbid"``): a typo, a wrong type, an out-of-range deployment
setting or an unsafe option in prod fails before any resource is registered, with a
message naming the YAML path, the value received and what is allowed.

This module imports neither pulumi nor boto3: the CLI, the pipeline and the stack
program all use it.
"""

from __future__ import annotations

import difflib
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from components import instance_types, stack_yaml
from components.quoting import shown

CONFIG_KEY = "mlops:platform"
"""The stack config key holding the whole environment (an object)."""

_NAME_RE = r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$"


class ConfigError(ValueError):
    """A stack file is missing, malformed or refused. ``problems`` are one line each."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(
            f"{source}: invalid configuration\n" + "\n".join(f"  - {p}" for p in problems)
        )


class _Model(BaseModel):
    # strict: "4" or true is not a count, "yes" is not a flag (YAML already types its scalars);
    # no NaN or infinity anywhere.
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, strict=True, allow_inf_nan=False
    )


# --------------------------------------------------------------------------- storage


class Retention(StrEnum):
    RETAIN = "RETAIN"
    """Stateful resources survive `pulumi destroy` (retain_on_delete) and are protected."""
    DESTROY = "DESTROY"
    """Stateful resources are deleted with the stack (non-empty buckets still fail unless force_destroy)."""


class LifecycleTiers(_Model):
    """Object lifecycle for the data/model/capture buckets."""

    infrequent_access_after_days: int = Field(30, ge=30)
    """Move current objects to STANDARD_IA after this many days (S3 minimum: 30)."""
    glacier_after_days: int = Field(180, ge=60)
    """Move current objects to GLACIER_IR after this many days."""
    noncurrent_expire_after_days: int = Field(90, ge=1)
    """Delete non-current object versions after this many days."""
    capture_expire_after_days: int = Field(365, ge=1)
    """Delete captured inference traffic after this many days."""

    @model_validator(mode="after")
    def _ordered(self) -> LifecycleTiers:
        if self.glacier_after_days <= self.infrequent_access_after_days:
            raise ValueError(
                f"glacier_after_days ({self.glacier_after_days}) must be greater than "
                f"infrequent_access_after_days ({self.infrequent_access_after_days})"
            )
        return self


class AuditLockConfig(_Model):
    """S3 Object Lock on the audit trail's own bucket: every record is locked on write."""

    mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE"
    """COMPLIANCE: no one, the account's root user included, can delete or rewrite a record
    before its retention ends. GOVERNANCE: principals with ``s3:BypassGovernanceRetention``
    can."""
    retention_days: int = Field(2557, ge=1, le=36500)
    """How long each record stays locked (default: 7 years)."""


class StorageConfig(_Model):
    retention: Retention = Field(Retention.RETAIN, strict=False)
    """RETAIN (default) protects buckets and keeps them on destroy; DESTROY is refused in prod."""
    lifecycle: LifecycleTiers = LifecycleTiers()
    access_log_expire_after_days: int = Field(365, ge=1)
    """Delete S3 server access logs after this many days."""
    audit_lock: AuditLockConfig | None = None
    """Put the audit trail in its own bucket under S3 Object Lock. Prod always does (default
    ``{mode: COMPLIANCE, retention_days: 2557}``); elsewhere only when set, otherwise the trail
    stays under ``audit/`` in the model bucket, protected by ``IfNoneMatch`` and versioning."""


class UnsafeConfig(_Model):
    """Escape hatches. The first four are for throwaway environments and refused in prod; the
    rest acknowledge a weaker serving setup that prod otherwise refuses (the plan reports each
    acknowledgement in use)."""

    force_destroy_buckets: bool = False
    """Let `pulumi destroy` delete non-empty buckets."""
    public_buckets: bool = False
    """Turn off the four S3 public-access blocks."""
    disable_encryption: bool = False
    """Use SSE-S3 instead of the environment's customer-managed KMS key."""
    unprotected_stateful: bool = False
    """Drop `protect` from buckets, key and registry even with retention RETAIN."""
    network_access: bool = False
    """Prod: accept ``network_isolation: false`` for training or an endpoint (containers get
    outbound network access, e.g. to call a feature store)."""
    no_vpc: bool = False
    """Prod: accept training and endpoints outside a VPC (no ``training.vpc``)."""
    single_instance: bool = False
    """Prod: accept an endpoint variant of one instance (AWS FSBP SageMaker.4 asks for more, so
    that an instance failure or an Availability Zone outage does not take the model down)."""
    no_data_capture: bool = False
    """Prod: accept an endpoint without data capture (nothing to monitor drift on)."""


PROD_REFUSED_UNSAFE: tuple[str, ...] = (
    "force_destroy_buckets",
    "public_buckets",
    "disable_encryption",
    "unprotected_stateful",
)
"""``unsafe.*`` options prod never accepts."""
PROD_ACKNOWLEDGEMENTS: tuple[str, ...] = (
    "network_access",
    "no_vpc",
    "single_instance",
    "no_data_capture",
)
"""``unsafe.*`` options that acknowledge a weak serving setup prod otherwise refuses."""


# -------------------------------------------------------------------------- registry


class RegistryConfig(_Model):
    keep_last_images: int = Field(30, ge=1, le=10000)
    """ECR lifecycle: keep this many tagged images."""
    untagged_expire_after_days: int = Field(7, ge=1)
    """ECR lifecycle: expire untagged images after this many days."""
    cross_account_ids: list[Annotated[str, Field(pattern=r"^\d{12}$")]] = []
    """Promotion targets: accounts that may read this environment's model packages, images and
    model artifacts (the key lets them decrypt through S3 only)."""


# -------------------------------------------------------------------------- training


class VpcConfig(_Model):
    vpc_id: str = Field(pattern=r"^vpc-[0-9a-f]{8,17}$")
    subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        min_length=1
    )


class TrainingConfig(_Model):
    instance_type: str = "ml.g5.xlarge"
    instance_count: int = Field(1, ge=1, le=64)
    volume_size_gib: int = Field(50, ge=1, le=16384)
    use_spot: bool = True
    """Managed spot training with checkpoints in the model bucket."""
    max_runtime_seconds: int = Field(86400, ge=60, le=2419200)
    max_wait_seconds: int | None = Field(None, ge=60, le=2419200)
    """Spot only: total time including waiting for capacity. Default: 2 × max_runtime_seconds."""
    vpc: VpcConfig | None = None
    """Run training (and endpoints) in these private subnets behind a dedicated security group."""
    network_isolation: bool = True
    """Training containers get no outbound network access."""

    @model_validator(mode="after")
    def _check(self) -> TrainingConfig:
        if instance_types.family_of(self.instance_type) is None or not instance_types.is_known(
            self.instance_type
        ):
            raise ValueError(
                f"instance_type {self.instance_type!r} is not a SageMaker ML instance; "
                f"allowed: {instance_types.describe_allowed(allow_cpu=True)}"
            )
        if (
            self.use_spot
            and self.max_wait_seconds is not None
            and self.max_wait_seconds < self.max_runtime_seconds
        ):
            raise ValueError(
                f"max_wait_seconds ({self.max_wait_seconds}) must be ≥ max_runtime_seconds "
                f"({self.max_runtime_seconds}) for spot training"
            )
        return self

    @property
    def effective_max_wait_seconds(self) -> int | None:
        if not self.use_spot:
            return None
        return self.max_wait_seconds or min(2 * self.max_runtime_seconds, 2419200)


# ------------------------------------------------------------------------- endpoints


class Strategy(StrEnum):
    ALL_AT_ONCE = "ALL_AT_ONCE"
    CANARY = "CANARY"
    LINEAR = "LINEAR"


class CapacityType(StrEnum):
    INSTANCE_COUNT = "INSTANCE_COUNT"
    CAPACITY_PERCENT = "CAPACITY_PERCENT"


class Capacity(_Model):
    type: CapacityType = Field(CapacityType.CAPACITY_PERCENT, strict=False)
    value: int = Field(ge=1)


class CanaryConfig(_Model):
    size: Capacity
    """Traffic shifted first. ≤ 50% of the variant's instances (SageMaker limit)."""
    bake_seconds: int = Field(600, ge=0, le=3600)
    """Wait (watching the rollback alarms) before shifting the rest."""


class LinearConfig(_Model):
    step: Capacity
    """Traffic per step: 10–50% of the variant's capacity (SageMaker limit)."""
    interval_seconds: int = Field(300, ge=0, le=3600)
    """Bake between steps, watching the rollback alarms."""


ALARM_NAME_RE = r"^[^*?\x00-\x1f\x7f]+$"
"""A CloudWatch alarm name that is a name inside an ARN, never an IAM wildcard."""


class DeploymentConfig(_Model):
    strategy: Strategy = Field(Strategy.ALL_AT_ONCE, strict=False)
    canary: CanaryConfig | None = None
    linear: LinearConfig | None = None
    termination_wait_seconds: int = Field(0, ge=0, le=3600)
    """Keep the old fleet this long after full traffic shift (fast manual rollback)."""
    max_execution_timeout_seconds: int = Field(3600, ge=600, le=28800)
    """SageMaker aborts (and rolls back) an update that runs longer; must exceed the total waits."""
    rollback_alarms: list[Literal["5xx", "latency", "errors", "gpu_utilization", "gpu_memory"]] = [
        "5xx",
        "latency",
    ]
    """Which of the endpoint's Monitoring alarms gate the rollout (AutoRollbackConfiguration)."""
    extra_rollback_alarm_names: list[
        Annotated[str, Field(min_length=1, max_length=255, pattern=ALARM_NAME_RE)]
    ] = []
    """Alarms defined elsewhere that also gate the rollout (1–10 alarms in total). Names, not
    patterns: the endpoint role gets ``cloudwatch:DescribeAlarms`` on exactly these ARNs, so
    ``*``/``?`` (IAM wildcards) and control characters are refused."""
    marketplace_container: bool = False
    """The model is a Marketplace container: SageMaker ignores canary/linear (warning)."""


MAX_ENDPOINT_INSTANCES = 100
"""Instances per production variant. SageMaker's per-account instance quotas for endpoints
start far lower; above this, ask AWS for a quota and split the traffic over endpoints."""


class AutoscalingConfig(_Model):
    min_instances: int = Field(1, ge=1, le=MAX_ENDPOINT_INSTANCES)
    max_instances: int = Field(ge=1, le=MAX_ENDPOINT_INSTANCES)
    target_invocations_per_instance: int = Field(100, ge=1)
    """Target-tracking on SageMakerVariantInvocationsPerInstance."""
    scale_in_cooldown_seconds: int = Field(300, ge=0)
    scale_out_cooldown_seconds: int = Field(60, ge=0)


class DataCaptureConfig(_Model):
    enabled: bool = True
    sampling_percent: int = Field(20, ge=0, le=100)


# ------------------------------------------------------------------ drift monitoring


class DriftMethod(StrEnum):
    """How a feature's drift is measured: the current window against the model's baseline."""

    AUTO = "auto"
    """Evidently's rule: a reference of more than ``AUTO_REFERENCE_ROWS`` rows →
    wasserstein (numeric) / jensen_shannon (categorical), at 0.1; smaller → ks / chi_square,
    at p < 0.05."""
    WASSERSTEIN = "wasserstein"
    """Numeric: Wasserstein distance over the reference's standard deviation."""
    PSI = "psi"
    """Numeric: population stability index over the baseline's bins."""
    KS = "ks"
    """Numeric: p-value of the two-sample Kolmogorov-Smirnov test."""
    JENSEN_SHANNON = "jensen_shannon"
    """Categorical: Jensen-Shannon distance of the category frequencies."""
    CHI_SQUARE = "chi_square"
    """Categorical: p-value of the chi-square test of the category counts."""


FeatureKind = Literal["numeric", "categorical"]

METHOD_KIND: dict[str, FeatureKind] = {
    DriftMethod.WASSERSTEIN: "numeric",
    DriftMethod.PSI: "numeric",
    DriftMethod.KS: "numeric",
    DriftMethod.JENSEN_SHANNON: "categorical",
    DriftMethod.CHI_SQUARE: "categorical",
}
"""The kind of feature each method measures (``auto`` fits both). Keys are ``DriftMethod``
members, so a plain method name (``"ks"``) finds its entry too."""
P_VALUE_METHODS: frozenset[str] = frozenset({DriftMethod.KS, DriftMethod.CHI_SQUARE})
"""Methods whose value is a p-value: drifted when ``p < threshold``. The others are distances:
drifted when ``value >= threshold``."""
DEFAULT_THRESHOLD: dict[str, float] = {
    DriftMethod.WASSERSTEIN: 0.1,
    DriftMethod.PSI: 0.1,
    DriftMethod.KS: 0.05,
    DriftMethod.JENSEN_SHANNON: 0.1,
    DriftMethod.CHI_SQUARE: 0.05,
}
"""A method's threshold when the stack file sets none."""
THRESHOLD_MAX: dict[str, tuple[float, bool]] = {
    DriftMethod.KS: (1.0, False),
    DriftMethod.CHI_SQUARE: (1.0, False),
    DriftMethod.JENSEN_SHANNON: (1.0, True),
}
"""Upper bound of a method's threshold and whether it is allowed itself (every threshold is
above 0; a method not listed has no upper bound)."""
AUTO_REFERENCE_ROWS = 1000
"""``auto`` takes the distance methods for a reference of more rows than this."""
AUTO_METHODS: dict[FeatureKind, tuple[DriftMethod, DriftMethod]] = {
    "numeric": (DriftMethod.KS, DriftMethod.WASSERSTEIN),
    "categorical": (DriftMethod.CHI_SQUARE, DriftMethod.JENSEN_SHANNON),
}
"""What ``auto`` picks per kind: (reference of at most ``AUTO_REFERENCE_ROWS`` rows,
larger reference)."""

MIN_WINDOW_SECONDS = 600
MAX_WINDOW_SECONDS = 86400
MAX_ALARM_SPAN_SECONDS = 7 * 86400
"""CloudWatch: an alarm's period × evaluation periods is at most 7 days (1 day below a period
of an hour, which ``alarm_windows`` ≤ 24 never exceeds)."""

_DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_DURATION_ALLOWED = (
    "seconds (an integer) or a duration like 15m, 1h, 2h30m, 1d; a multiple of 60 s from "
    f"10m ({MIN_WINDOW_SECONDS} s) to 1d ({MAX_WINDOW_SECONDS} s)"
)


def duration_seconds(value: Any) -> int:
    """``3600``, ``"1h"``, ``"2h30m"``, ``"1d"`` → seconds (``ValueError`` naming the value)."""
    seconds: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and value.strip():
        match = _DURATION_RE.match(value.strip())
        if match:
            d, h, m, s = (int(g) if g else 0 for g in match.groups())
            seconds = ((d * 24 + h) * 60 + m) * 60 + s
    if seconds is None:
        raise ValueError(f"{shown(value)} is not a duration; allowed: {_DURATION_ALLOWED}")
    return seconds


def _window(value: Any) -> int:
    seconds = duration_seconds(value)
    if seconds % 60:
        raise ValueError(
            f"{shown(value)} ({seconds} s) is not a whole number of minutes; allowed: "
            f"{_DURATION_ALLOWED}"
        )
    if not MIN_WINDOW_SECONDS <= seconds <= MAX_WINDOW_SECONDS:
        raise ValueError(
            f"{shown(value)} ({seconds} s) is outside {MIN_WINDOW_SECONDS}-{MAX_WINDOW_SECONDS} s; "
            f"allowed: {_DURATION_ALLOWED}"
        )
    return seconds


def threshold_problem(method: DriftMethod, threshold: float) -> str | None:
    """Why ``threshold`` cannot be ``method``'s (``None``: it can)."""
    meaning = (
        "a p-value (drifted when p < threshold)"
        if method in P_VALUE_METHODS
        else "a distance (drifted when the value ≥ threshold)"
    )
    upper = THRESHOLD_MAX.get(method)
    if threshold > 0 and (
        upper is None or threshold < upper[0] or (upper[1] and threshold == upper[0])
    ):
        return None
    if upper is None:
        allowed = "above 0"
    else:
        allowed = f"above 0 and {'at most' if upper[1] else 'below'} {upper[0]:g}"
    return (
        f"threshold {threshold:g} does not fit {method.value}, {meaning}; allowed: {allowed} "
        f"(default {DEFAULT_THRESHOLD[method]:g})"
    )


def auto_method(kind: FeatureKind, reference_rows: int) -> DriftMethod:
    """Evidently's choice for a feature of ``kind`` against a reference of ``reference_rows``."""
    small, large = AUTO_METHODS[kind]
    return large if reference_rows > AUTO_REFERENCE_ROWS else small


def drift_method(
    kind: FeatureKind,
    reference_rows: int,
    *,
    metric: str = DriftMethod.AUTO,
    threshold: float | None = None,
    feature_metric: str | None = None,
    feature_threshold: float | None = None,
) -> tuple[DriftMethod, float]:
    """The method and threshold one feature is judged by: the feature's own metric (and
    threshold), else the endpoint's when it fits the feature's kind, else ``auto``; a threshold
    not set is the method's default."""
    if feature_metric is not None:
        chosen, limit = DriftMethod(feature_metric), feature_threshold
    elif metric != DriftMethod.AUTO and METHOD_KIND[DriftMethod(metric)] == kind:
        chosen, limit = DriftMethod(metric), threshold
    else:
        chosen, limit = DriftMethod.AUTO, None
    if chosen is DriftMethod.AUTO:
        chosen = auto_method(kind, reference_rows)
    return chosen, DEFAULT_THRESHOLD[chosen] if limit is None else limit


def is_drifted(method: DriftMethod, value: float, threshold: float) -> bool:
    """p-value methods: ``value < threshold``; distances: ``value >= threshold``."""
    return value < threshold if method in P_VALUE_METHODS else value >= threshold


_FEATURE_NAME_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,255}$")
"""A feature (column) name: it becomes a CloudWatch ``Feature`` dimension value."""


def _metric_threshold_problem(metric: DriftMethod | None, threshold: float | None) -> str | None:
    if threshold is None:
        return None
    if metric is None or metric is DriftMethod.AUTO:
        return (
            f"threshold {threshold:g} needs a metric: auto takes a p-value test or a distance "
            "by the reference's size, and one threshold cannot mean both; allowed: set metric "
            f"({', '.join(METHOD_KIND)}) or remove threshold"
        )
    return threshold_problem(metric, threshold)


class FeatureMonitoringConfig(_Model):
    """One feature's drift settings (overriding the endpoint's)."""

    kind: FeatureKind | None = None
    """Force the kind (e.g. ``categorical`` for integer-coded categories). Default: the kind of
    ``metric`` when set, else what the baseline recorded (numbers numeric, the rest
    categorical)."""
    metric: DriftMethod | None = Field(None, strict=False)
    """Default: the endpoint's ``metric`` when it fits the feature's kind, else ``auto``."""
    threshold: float | None = None
    """Needs ``metric`` (not auto). Default: the method's (``DEFAULT_THRESHOLD``)."""
    enabled: bool = True
    """false: the feature is not judged (nor counted in ``DriftedFeatures``)."""

    @model_validator(mode="after")
    def _check(self) -> FeatureMonitoringConfig:
        metric = self.metric
        if (
            self.kind is not None
            and metric is not None
            and metric is not DriftMethod.AUTO
            and METHOD_KIND[metric] != self.kind
        ):
            fits = [m for m, k in METHOD_KIND.items() if k == self.kind]
            raise ValueError(
                f"metric {metric.value} measures {METHOD_KIND[metric]} features, and kind is "
                f"{self.kind}; allowed: auto, {', '.join(fits)}"
            )
        problem = _metric_threshold_problem(metric, self.threshold)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def effective_kind(self) -> FeatureKind | None:
        """``kind``, else the kind ``metric`` measures; ``None``: the baseline decides."""
        if self.kind is not None:
            return self.kind
        if self.metric is None or self.metric is DriftMethod.AUTO:
            return None
        return METHOD_KIND[self.metric]


class EndpointMonitoringConfig(_Model):
    """Drift and data-quality monitoring of one endpoint's captured traffic (``mlops monitor``):
    a drift alarm, dashboard widgets and a processing role that may read the capture and the
    baselines and write reports and metrics, nothing else."""

    enabled: bool = False
    """Needs data capture (``data_capture.enabled`` with ``sampling_percent`` > 0)."""
    window: Annotated[int, BeforeValidator(_window)] = 3600
    """The drift window: seconds or a duration (``15m``, ``1h``, ``2h30m``, ``1d``); a multiple
    of 60 s within 10m-1d. Default: 1h. Also the drift alarm's period."""
    metric: DriftMethod = Field(DriftMethod.AUTO, strict=False)
    """Applies to the features whose kind it fits; the others stay ``auto``."""
    threshold: float | None = None
    """Needs ``metric`` (not auto). Default: the method's (``DEFAULT_THRESHOLD``)."""
    min_samples: int = Field(100, ge=1)
    """Fewer captured rows in a window: "insufficient data", never drift."""
    alarm_windows: int = Field(1, ge=1, le=24)
    """The drift alarm fires when ``DriftedFeatures`` ≥ 1 for this many consecutive windows."""
    features: dict[str, FeatureMonitoringConfig] = {}
    """Per-feature overrides, by column name."""
    instance_type: str = "ml.m5.xlarge"
    """The processing job's instance (a SageMaker Processing type)."""
    max_runtime_seconds: int = Field(3600, ge=60, le=86400)
    """The processing job is stopped after this long."""

    @model_validator(mode="after")
    def _check(self) -> EndpointMonitoringConfig:
        problem = _metric_threshold_problem(self.metric, self.threshold)
        if problem:
            raise ValueError(problem)
        if not instance_types.is_processing(self.instance_type):
            raise ValueError(
                f"instance_type {shown(self.instance_type)} is not a SageMaker Processing "
                f"instance type; allowed: {instance_types.describe_processing()}"
            )
        span = self.window * self.alarm_windows
        if span > MAX_ALARM_SPAN_SECONDS:
            raise ValueError(
                f"alarm_windows {self.alarm_windows} × window {self.window} s is {span} s; "
                f"CloudWatch evaluates at most {MAX_ALARM_SPAN_SECONDS} s (7 days); allowed: "
                f"alarm_windows up to {MAX_ALARM_SPAN_SECONDS // self.window} for this window"
            )
        for name in self.features:
            if not _FEATURE_NAME_RE.match(name):
                raise ValueError(
                    f"features {shown(name)}: not a feature name; allowed: 1-255 characters, no "
                    "control characters (it becomes a CloudWatch dimension value)"
                )
        return self

    @property
    def window_seconds(self) -> int:
        return self.window


class ServerlessConfig(_Model):
    """Serverless inference (CPU only, non-prod): idles at no cost."""

    memory_size_mib: int = Field(2048, ge=1024, le=6144)
    max_concurrency: int = Field(5, ge=1, le=200)


class AlarmThresholds(_Model):
    latency_p99_ms: int = Field(1000, ge=1)
    """ModelLatency p99 above this (milliseconds) alarms."""
    error_rate_5xx: int = Field(1, ge=1)
    """Invocation5XXErrors sum per minute at or above this alarms."""
    error_rate_4xx: int = Field(20, ge=1)
    gpu_utilization_percent: int = Field(90, ge=1, le=100)
    gpu_memory_percent: int = Field(90, ge=1, le=100)
    evaluation_minutes: int = Field(3, ge=1, le=60)


class EndpointConfig(_Model):
    name: str = Field(pattern=_NAME_RE)
    """Short name; the SageMaker endpoint is ``<project>-<environment>-<name>``."""
    instance_type: str = "ml.g5.xlarge"
    allow_cpu: bool = False
    """Accept a CPU instance type for this endpoint (GPU is expected otherwise)."""
    variant_name: str = Field("AllTraffic", pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    """Kept across every rollout (blue/green requires the same variant name)."""
    initial_instance_count: int = Field(1, ge=1, le=MAX_ENDPOINT_INSTANCES)
    autoscaling: AutoscalingConfig | None = None
    data_capture: DataCaptureConfig = DataCaptureConfig()
    network_isolation: bool = True
    deployment: DeploymentConfig = DeploymentConfig()
    alarms: AlarmThresholds = AlarmThresholds()
    serverless: ServerlessConfig | None = None
    """Non-prod only: serverless inference instead of instances."""
    scale_to_zero: bool = False
    """Non-prod only: inference components with MinInstanceCount 0 (cold starts of minutes)."""
    monitoring: EndpointMonitoringConfig = EndpointMonitoringConfig()
    """Drift monitoring of the captured traffic. Default: off."""

    @model_validator(mode="after")
    def _check(self) -> EndpointConfig:
        _check_endpoint(self)
        return self

    @property
    def gpu(self) -> bool:
        return self.serverless is None and instance_types.is_gpu(self.instance_type)

    def rollback_alarm_count(self) -> int:
        return len(self.deployment.rollback_alarms) + len(
            self.deployment.extra_rollback_alarm_names
        )


HOSTING_EXCLUDED_FAMILIES: frozenset[str] = frozenset({"p3dn"})
"""GPU/accelerator families SageMaker offers for training but not in ProductionVariantInstanceType."""


def _capacity_percent(capacity: Capacity, instances: int) -> float:
    if capacity.type is CapacityType.CAPACITY_PERCENT:
        return float(capacity.value)
    return 100.0 * capacity.value / instances


def _check_endpoint(ep: EndpointConfig) -> None:
    if ep.serverless is None:
        family = instance_types.family_of(ep.instance_type)
        if family is None or not instance_types.is_known(ep.instance_type):
            raise ValueError(
                f"instance_type {ep.instance_type!r} is not a SageMaker ML instance; allowed: "
                f"{instance_types.describe_allowed(allow_cpu=ep.allow_cpu)}"
            )
        if family in HOSTING_EXCLUDED_FAMILIES:
            raise ValueError(
                f"instance_type {ep.instance_type!r} is offered for training only, not for "
                f"endpoints; allowed: {instance_types.describe_allowed(allow_cpu=ep.allow_cpu)} "
                f"except {', '.join(f'ml.{f}.*' for f in sorted(HOSTING_EXCLUDED_FAMILIES))}"
            )
        if family in instance_types.CPU_FAMILIES and not ep.allow_cpu:
            raise ValueError(
                f"instance_type {ep.instance_type!r} is a CPU instance and this is a GPU endpoint; "
                f"allowed: {instance_types.describe_allowed(allow_cpu=False)}"
            )
    if ep.serverless is not None and ep.scale_to_zero:
        raise ValueError("serverless and scale_to_zero are mutually exclusive: choose one")
    if ep.monitoring.enabled:
        _check_monitored(ep)
    if ep.autoscaling is not None:
        a = ep.autoscaling
        if a.max_instances < a.min_instances:
            raise ValueError(
                f"autoscaling.max_instances ({a.max_instances}) must be ≥ min_instances ({a.min_instances})"
            )
        if not a.min_instances <= ep.initial_instance_count <= a.max_instances:
            raise ValueError(
                f"initial_instance_count ({ep.initial_instance_count}) must lie within autoscaling "
                f"bounds [{a.min_instances}, {a.max_instances}]"
            )
    d = ep.deployment
    if ep.serverless is not None and d.strategy is not Strategy.ALL_AT_ONCE:
        raise ValueError(
            f"deployment.strategy {d.strategy.value} is not available for serverless endpoints; "
            "use ALL_AT_ONCE"
        )
    if ep.scale_to_zero and d.strategy is not Strategy.ALL_AT_ONCE:
        raise ValueError(
            f"deployment.strategy {d.strategy.value} is not available with scale_to_zero: "
            "inference components take rolling updates only; use ALL_AT_ONCE"
        )
    if d.strategy is Strategy.CANARY:
        if d.canary is None:
            raise ValueError(
                "deployment.strategy CANARY needs deployment.canary {size, bake_seconds}"
            )
        if d.linear is not None:
            raise ValueError(
                "deployment.linear is only for strategy LINEAR; remove it or change strategy"
            )
        if ep.initial_instance_count < 2 and ep.serverless is None:
            raise ValueError(
                "deployment.strategy CANARY needs at least 2 instances (initial_instance_count is "
                f"{ep.initial_instance_count}): the canary may be at most 50% of the fleet"
            )
        pct = _capacity_percent(d.canary.size, ep.initial_instance_count)
        if pct > 50:
            raise ValueError(
                f"deployment.canary.size {d.canary.size.value} ({d.canary.size.type.value}) is "
                f"{pct:g}% of the variant's {ep.initial_instance_count} instances; SageMaker allows "
                "a canary of at most 50%"
            )
    elif d.strategy is Strategy.LINEAR:
        if d.linear is None:
            raise ValueError(
                "deployment.strategy LINEAR needs deployment.linear {step, interval_seconds}"
            )
        if d.canary is not None:
            raise ValueError(
                "deployment.canary is only for strategy CANARY; remove it or change strategy"
            )
        pct = _capacity_percent(d.linear.step, ep.initial_instance_count)
        if not 10 <= pct <= 50:
            raise ValueError(
                f"deployment.linear.step {d.linear.step.value} ({d.linear.step.type.value}) is "
                f"{pct:g}% of the variant's {ep.initial_instance_count} instances; SageMaker "
                "allows a linear step of 10–50%"
            )
    elif d.canary is not None or d.linear is not None:
        raise ValueError("deployment.canary / deployment.linear need strategy CANARY / LINEAR")
    total_wait = total_wait_seconds(d, ep.initial_instance_count)
    if d.max_execution_timeout_seconds <= total_wait:
        raise ValueError(
            f"deployment.max_execution_timeout_seconds ({d.max_execution_timeout_seconds}) must be "
            f"greater than the total of the waits ({total_wait} s) and within 600–28800 s"
        )
    count = ep.rollback_alarm_count()
    if not 1 <= count <= 10:
        raise ValueError(
            f"deployment has {count} rollback alarms; AutoRollbackConfiguration takes 1–10 alarms"
        )
    gpu_alarms = {"gpu_utilization", "gpu_memory"} & set(d.rollback_alarms)
    if gpu_alarms and not ep.gpu:
        raise ValueError(
            f"deployment.rollback_alarms {sorted(gpu_alarms)} need a GPU instance type "
            f"({ep.instance_type!r} has no GPU metrics)"
        )
    if len(set(d.rollback_alarms)) != len(d.rollback_alarms):
        raise ValueError(f"deployment.rollback_alarms has duplicates: {d.rollback_alarms}")


def _check_monitored(ep: EndpointConfig) -> None:
    """Drift is measured on captured traffic: a monitored endpoint must capture some."""
    capture = ep.data_capture
    if ep.serverless is not None:
        raise ValueError(
            "monitoring.enabled true needs data capture, which serverless endpoints lack; "
            "allowed: monitoring.enabled false, or instances (no serverless) with "
            "data_capture.enabled true"
        )
    if not capture.enabled or capture.sampling_percent == 0:
        what = (
            "data_capture.enabled is false"
            if not capture.enabled
            else "data_capture.sampling_percent is 0"
        )
        raise ValueError(
            f"monitoring.enabled true needs captured traffic, and {what}; allowed: "
            "data_capture.enabled true with data_capture.sampling_percent 1-100, or "
            "monitoring.enabled false"
        )


def linear_steps(d: DeploymentConfig, instances: int) -> int:
    """How many traffic steps a LINEAR rollout takes (the first step included)."""
    if d.linear is None:
        return 1
    step = d.linear.step
    if step.type is CapacityType.INSTANCE_COUNT:
        return max(1, -(-instances // step.value))
    return max(1, -(-100 // step.value))


def total_wait_seconds(d: DeploymentConfig, instances: int = 100) -> int:
    """The sum of the bakes and the termination wait a rollout sits through: a canary bakes
    twice (after the canary and, the final baking period, after the rest of the traffic)."""
    waits = d.termination_wait_seconds
    if d.strategy is Strategy.CANARY and d.canary is not None:
        waits += 2 * d.canary.bake_seconds
    elif d.strategy is Strategy.LINEAR and d.linear is not None:
        waits += d.linear.interval_seconds * linear_steps(d, instances)
    return waits


def fallback_warning(ep: EndpointConfig) -> str | None:
    """FAULTS 7: SageMaker silently shifts all at once on Inf1 and Marketplace containers."""
    if ep.deployment.strategy is Strategy.ALL_AT_ONCE:
        return None
    reason = None
    if instance_types.family_of(ep.instance_type) in instance_types.FALLBACK_FAMILIES:
        reason = f"instance type {ep.instance_type} (Inf1)"
    elif ep.deployment.marketplace_container:
        reason = "a Marketplace container"
    if reason is None:
        return None
    return (
        f"endpoint {ep.name!r}: {ep.deployment.strategy.value} with {reason}: SageMaker falls back "
        "to all-at-once with no baking for this update"
    )


# ------------------------------------------------------------------------ monitoring


class MonitoringConfig(_Model):
    log_retention_days: Literal[
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    ] = 365
    """CloudWatch Logs retention (a value CloudWatch accepts); ≥ 365 in prod."""
    alarm_emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = []
    """Email subscriptions on the alerts topic (each must be confirmed by its owner)."""
    dashboard: bool = True
    manage_training_log_group: bool = True
    """Own ``/aws/sagemaker/TrainingJobs`` (retention + KMS). It exists once per account and
    region: when several environments share an account, set false in all but one."""
    manage_processing_log_group: bool = True
    """Own ``/aws/sagemaker/ProcessingJobs`` (retention + KMS) when an endpoint is monitored (its
    drift job logs there). Once per account and region, as the training one."""


# ---------------------------------------------------------------------- quality gate


class MetricThreshold(_Model):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one(self) -> MetricThreshold:
        if self.min is None and self.max is None:
            raise ValueError("a metric threshold needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(
                f"min ({self.min:g}) is greater than max ({self.max:g}): no value could pass"
            )
        return self


class QualityGate(_Model):
    thresholds: dict[str, MetricThreshold] = {}
    """Metric name (as in the training job's FinalMetricDataList) → bounds."""
    on_fail: Literal["reject", "skip"] = "reject"
    """reject: register the package as Rejected with the failing metrics; skip: do not register."""
    auto_approve: bool = False
    """Approve automatically when every threshold holds (otherwise PendingManualApproval)."""


# ------------------------------------------------------------------------ the whole


_TAG_RE = re.compile(r"^[\w\s.:/=+\-@]*$")
"""AWS's tag character set (letters, digits, spaces, ``_.:/=+-@``)."""
MAX_CONFIG_TAGS = 40
PLATFORM_TAGS = ("environment", "owner", "cost-centre", "project")
"""Tags the platform sets from the stack file's own fields (a config tag cannot override them)."""


def tag_problem(key: str, value: str) -> str | None:
    """What is wrong with a tag by AWS's rules and the platform's (``None``: nothing)."""
    allowed = "letters, digits, spaces and _.:/=+-@"
    if not 1 <= len(key) <= 128 or not _TAG_RE.match(key):
        return f"the key is not a tag key; allowed: 1-128 {allowed}"
    if key.lower().startswith("aws:"):
        return "the aws: prefix is reserved for AWS; allowed: any other key"
    if key in PLATFORM_TAGS or key.startswith("mlops:"):
        return (
            "set by the platform itself (from environment, owner, cost_centre, the project and "
            "the stack); remove it"
        )
    if len(value) > 256 or not _TAG_RE.match(value):
        return f"value {shown(value)}: allowed: up to 256 {allowed}"
    return None


class Environment(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"
    LOCAL = "local"


class EnvironmentConfig(_Model):
    """One environment's platform, as written under ``mlops:platform`` in its stack file."""

    environment: Environment = Field(strict=False)
    owner: str = Field(min_length=1)
    """Team that owns the environment (tag ``owner``)."""
    cost_centre: str = Field(min_length=1)
    """Billing code (tag ``cost-centre``)."""
    tags: dict[str, str] = {}
    """Extra tags on every resource, pipeline-created ones included (AWS's rules: keys of 1-128
    and values of 0-256 letters, digits, spaces and ``_.:/=+-@``; no ``aws:`` prefix; at most
    ``MAX_CONFIG_TAGS``; not the tags the platform sets itself)."""
    storage: StorageConfig = StorageConfig()
    registry: RegistryConfig = RegistryConfig()
    training: TrainingConfig = TrainingConfig()
    endpoints: list[EndpointConfig] = []
    monitoring: MonitoringConfig = MonitoringConfig()
    quality_gate: QualityGate = QualityGate()
    keep_endpoint_configs: int = Field(3, ge=1, le=20)
    """Pipeline cleanup keeps this many old EndpointConfigs/Models per endpoint for rollback."""
    unsafe: UnsafeConfig = UnsafeConfig()

    @model_validator(mode="after")
    def _check(self) -> EnvironmentConfig:
        for key, value in self.tags.items():
            problem = tag_problem(key, value)
            if problem:
                raise ValueError(f"tags {shown(key)}: {problem}")
        if len(self.tags) > MAX_CONFIG_TAGS:
            raise ValueError(
                f"tags has {len(self.tags)} entries; allowed: at most {MAX_CONFIG_TAGS} (AWS allows "
                "50 tags per resource and the platform sets the rest)"
            )
        for name in ("owner", "cost_centre"):
            value = getattr(self, name)
            if len(value) > 256 or not _TAG_RE.match(value):
                raise ValueError(
                    f"{name} {shown(value)} becomes a tag value: allowed: up to 256 letters, digits, "
                    "spaces and _.:/=+-@"
                )
        names = [e.name for e in self.endpoints]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"endpoint names must be unique; repeated: {dupes}")
        if self.is_prod:
            refused = [k for k in PROD_REFUSED_UNSAFE if getattr(self.unsafe, k)]
            if refused:
                raise ValueError(
                    f"unsafe options are refused in prod: {', '.join('unsafe.' + r for r in refused)}"
                )
            if self.storage.retention is Retention.DESTROY:
                raise ValueError("storage.retention DESTROY is refused in prod; allowed: RETAIN")
            if self.monitoring.log_retention_days < 365:
                raise ValueError(
                    f"monitoring.log_retention_days {self.monitoring.log_retention_days} is below "
                    "the prod minimum of 365"
                )
            for i, ep in enumerate(self.endpoints):
                if ep.serverless is not None or ep.scale_to_zero:
                    raise ValueError(
                        f"endpoints[{i}] ({ep.name}): serverless / scale_to_zero are for non-prod "
                        "environments (cold starts); use instances with autoscaling in prod"
                    )
        return self

    def weak_serving(self) -> list[tuple[str, str, str, str]]:
        """``(unsafe option, YAML path, what is weak, the safe setting)`` for each serving
        choice prod refuses unless acknowledged (issue 15, item 3)."""
        weak: list[tuple[str, str, str, str]] = []
        if not self.training.network_isolation:
            weak.append(("network_access", "training.network_isolation", "false", "true"))
        if self.training.vpc is None:
            weak.append(("no_vpc", "training.vpc", "not set (no VPC)", "a vpc with subnets"))
        for i, ep in enumerate(self.endpoints):
            at = f"endpoints[{i}]"
            if not ep.network_isolation:
                weak.append(("network_access", f"{at}.network_isolation", "false", "true"))
            if ep.serverless is None and ep.initial_instance_count < 2:
                weak.append(
                    (
                        "single_instance",
                        f"{at}.initial_instance_count",
                        f"{ep.initial_instance_count} (AWS FSBP SageMaker.4 asks for more than "
                        "one instance per production variant)",
                        "2 or more",
                    )
                )
            if ep.autoscaling is not None and ep.autoscaling.min_instances < 2:
                weak.append(
                    (
                        "single_instance",
                        f"{at}.autoscaling.min_instances",
                        f"{ep.autoscaling.min_instances} (scales in to one instance)",
                        "2 or more",
                    )
                )
            if not ep.data_capture.enabled:
                weak.append(("no_data_capture", f"{at}.data_capture.enabled", "false", "true"))
            elif ep.data_capture.sampling_percent == 0:
                weak.append(
                    ("no_data_capture", f"{at}.data_capture.sampling_percent", "0", "1-100")
                )
        return weak

    def prod_refusals(self) -> list[str]:
        """One problem per weak serving choice prod refuses (none outside prod)."""
        if not self.is_prod:
            return []
        return [
            f"{CONFIG_KEY}.{path}: {what} is refused in prod; allowed: {fix}, or acknowledge "
            f"it with unsafe.{ack}: true (the plan reports it)"
            for ack, path, what, fix in self.weak_serving()
            if not getattr(self.unsafe, ack)
        ]

    def acknowledged(self) -> list[str]:
        """The acknowledgements in use, one line each, for the plan to report."""
        return [
            f"unsafe.{ack} acknowledges {path}: {what}"
            for ack, path, what, _ in self.weak_serving()
            if getattr(self.unsafe, ack)
        ]

    def acknowledgements_in_use(self) -> list[str]:
        """The ``unsafe.*`` acknowledgements something needs, sorted (for the contract)."""
        return sorted({ack for ack, _, _, _ in self.weak_serving() if getattr(self.unsafe, ack)})

    def unused_acknowledgements(self) -> list[str]:
        """``unsafe.*`` acknowledgements set although nothing needs them."""
        needed = {ack for ack, _, _, _ in self.weak_serving()}
        return [
            ack for ack in PROD_ACKNOWLEDGEMENTS if getattr(self.unsafe, ack) and ack not in needed
        ]

    @property
    def is_prod(self) -> bool:
        return self.environment is Environment.PROD

    @property
    def audit_lock(self) -> AuditLockConfig | None:
        """The audit trail's Object Lock: always in prod, elsewhere when the file sets it."""
        if self.storage.audit_lock is None and self.is_prod:
            return AuditLockConfig()
        return self.storage.audit_lock

    @property
    def protect_stateful(self) -> bool:
        return self.storage.retention is Retention.RETAIN and not self.unsafe.unprotected_stateful

    def warnings(self) -> list[str]:
        warnings = [w for ep in self.endpoints if (w := fallback_warning(ep))]
        if self.is_prod:
            warnings += [f"acknowledged risk: {line}" for line in self.acknowledged()]
        warnings += [
            f"unsafe.{ack} is set but nothing needs it: remove it"
            for ack in self.unused_acknowledgements()
        ]
        return warnings


# ------------------------------------------------------------------- loading + errors


def stack_file(stacks_dir: Path, stack: str) -> Path:
    return stacks_dir / f"Pulumi.{stack}.yaml"


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    out = CONFIG_KEY
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the field at ``loc`` (to suggest the closest key)."""
    model: Any = EnvironmentConfig
    keyed = False
    for part in loc:
        if isinstance(part, int) or keyed:  # a list index, or a key of a mapping of models
            keyed = False
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _unwrap(field.annotation)
        keyed = _is_mapping(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _is_mapping(annotation: Any) -> bool:
    """``dict[str, X]`` (or ``dict[...] | None``): the next part of a location is a key."""
    if get_origin(annotation) is dict:
        return True
    return any(get_origin(arg) is dict for arg in get_args(annotation))


def _unwrap(annotation: Any) -> Any:
    for arg in getattr(annotation, "__args__", ()) or ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        inner = _unwrap(arg)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner  # the model inside list[...], X | None, dict[str, X]
    return annotation if isinstance(annotation, type) else None


def _field_named_by(loc: tuple[int | str, ...], msg: str) -> tuple[str, ...]:
    """A model-level check's message starts with the field it is about (``instance_type …``,
    ``deployment.canary.size …``): extend the YAML path to that field when it exists."""
    first = msg.split(" ", 1)[0]
    parts = tuple(first.split("."))
    model = _model_at(loc)
    for i, part in enumerate(parts):
        if model is None or part not in model.model_fields:
            return parts[:i]
        model = _model_at(loc + parts[: i + 1])
    return parts


def _describe(err: dict[str, Any]) -> str:
    loc = tuple(p for p in err["loc"] if p not in ("function-after",))
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        owner = _model_at(loc[:-1])
        valid = sorted(owner.model_fields) if owner else []
        close = difflib.get_close_matches(key, valid, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{_loc_to_path(loc)}: unknown key {key!r}{hint} (valid keys: {', '.join(valid)})"
    if kind == "missing":
        return f"{_loc_to_path(loc)}: required value is missing"
    msg = err["msg"].removeprefix("Value error, ")
    if kind in {"value_error", "assertion_error"}:
        return f"{_loc_to_path(loc + _field_named_by(loc, msg))}: {msg}"
    return f"{_loc_to_path(loc)}: {msg} (got {shown(value)})"


def environment_of_stack(stack: str) -> Environment | None:
    """The environment a stack is bound to: its name (``acme/mlops-stack/prod`` → prod).

    The one place both the stack program and the CrossGuard pack take the environment
    from, so a stack file cannot talk its way out of prod's refusals. ``None`` when the
    name is no environment's.
    """
    name = stack.rsplit("/", 1)[-1]
    try:
        return Environment(name)
    except ValueError:
        return None


def check_bound_to_stack(config: EnvironmentConfig, stack: str, source: str) -> None:
    """Refuse a stack file whose ``environment:`` is not its stack's (naming both)."""
    bound = environment_of_stack(stack)
    allowed = ", ".join(e.value for e in Environment)
    if bound is None:
        raise ConfigError(
            source,
            [
                f"stack {shown(stack)}: not an environment's stack; name the stack after its "
                f"environment (allowed: {allowed}): the name decides prod's refusals and every "
                "resource name"
            ],
        )
    if config.environment is not bound:
        raise ConfigError(
            source,
            [
                f"{CONFIG_KEY}.environment: {shown(config.environment.value)} does not match the "
                f"stack {shown(stack)}; a stack's environment is its name (allowed here: "
                f"{bound.value})"
            ],
        )


def stack_of_file(path: Path) -> str | None:
    """``Pulumi.prod.yaml`` → ``prod`` (``None`` for another file name)."""
    match = re.fullmatch(r"Pulumi\.(.+)\.ya?ml", path.name)
    return match.group(1) if match else None


def parse_environment(raw: Any, source: str, *, stack: str | None = None) -> EnvironmentConfig:
    """Validate the ``mlops:platform`` object; ``ConfigError`` names every bad YAML path.

    With ``stack``, the environment must also be that stack's (:func:`check_bound_to_stack`).
    """
    if not isinstance(raw, dict):
        raise ConfigError(source, [f"{CONFIG_KEY}: expected a mapping, got {shown(raw)}"])
    try:
        config = EnvironmentConfig.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(dict(e)) for e in exc.errors(include_url=False)]
        raise ConfigError(source, problems) from None
    refused = config.prod_refusals()
    if refused:
        raise ConfigError(source, refused)
    if stack is not None:
        check_bound_to_stack(config, stack, source)
    return config


def load_stack_config(path: Path) -> tuple[dict[str, Any], EnvironmentConfig]:
    """Read a ``Pulumi.<stack>.yaml``: (the whole ``config:`` mapping, the parsed environment)."""
    source = str(path)
    document, problems = stack_yaml.read_document(path)
    if problems:
        raise ConfigError(source, problems)
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise ConfigError(source, ["config: required mapping is missing"])
    config: dict[str, Any] = document["config"]
    if CONFIG_KEY not in config:
        raise ConfigError(source, [f"config.{CONFIG_KEY}: required value is missing"])
    region = config.get("aws:region")
    if not isinstance(region, str):
        raise ConfigError(
            source,
            [f"config.aws:region: expected an AWS region like eu-west-1, got {shown(region)}"],
        )
    from components.regions import region_problem

    problem = region_problem(region)
    if problem:
        raise ConfigError(source, [f"config.aws:region: {problem}"])
    return config, parse_environment(config[CONFIG_KEY], source, stack=stack_of_file(path))
