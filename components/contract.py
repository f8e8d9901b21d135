"""``StackOutputs``: the one contract between the stack (Pulumi) and the pipeline.

The stack program exports exactly ``StackOutputs.model_dump(mode="json")`` as its
stack outputs (one output per top-level field); the pipeline reads them back from
``pulumi stack output --json``, a JSON file (a CI artifact) or the local cloud and
validates them with the same model. ``contract_version`` changes whenever a field
changes meaning or a required field is added; the pipeline refuses any other version.

No pulumi or boto3 import here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from components import instance_types

CONTRACT_VERSION = 1


class _Model(BaseModel):
    # Unknown fields are ignored, so an older pipeline can read outputs that only *add* fields
    # within one contract version.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Buckets(_Model):
    data: str
    model: str
    capture: str
    access_logs: str


class TrainingDefaults(_Model):
    instance_type: str
    instance_count: int
    volume_size_gib: int
    use_spot: bool
    max_runtime_seconds: int
    max_wait_seconds: int | None
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
    value: int


class DeploymentSpec(_Model):
    strategy: Literal["ALL_AT_ONCE", "CANARY", "LINEAR"]
    canary_size: CapacitySpec | None = None
    linear_step: CapacitySpec | None = None
    wait_interval_seconds: int = 0
    """The canary bake or the linear interval."""
    termination_wait_seconds: int = 0
    max_execution_timeout_seconds: int = 3600


class AutoscalingSpec(_Model):
    min_instances: int
    max_instances: int
    target_invocations_per_instance: int
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60


class DataCaptureSpec(_Model):
    enabled: bool
    sampling_percent: int
    destination_s3_uri: str
    kms_key_arn: str


class ServerlessSpec(_Model):
    memory_size_mib: int
    max_concurrency: int


class ServingSpec(_Model):
    """Everything the pipeline needs to build an EndpointConfig and roll it out."""

    name: str
    """The short name in the stack file."""
    endpoint_name: str
    """The SageMaker endpoint name (``<project>-<environment>-<name>``)."""
    variant_name: str
    instance_type: str
    initial_instance_count: int
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
    region: str
    account_id: str
    kms_key_arn: str
    buckets: Buckets
    audit_s3_uri: str
    """Versioned S3 prefix where every mutating pipeline action appends one record."""
    ecr_repository_url: str
    model_package_group_name: str
    sagemaker_execution_role_arn: str
    training: TrainingDefaults
    endpoints: list[ServingSpec] = []
    alerts_topic_arn: str | None = None
    quality_gate: dict[str, Any] = {}
    """``components.config.QualityGate`` as JSON (thresholds, on_fail, auto_approve)."""
    keep_endpoint_configs: int = 3
    tags: dict[str, str] = {}
    """Applied to everything the pipeline creates, with ``mlops:stack`` / ``mlops:managed-by``."""

    def endpoint(self, name: str) -> ServingSpec:
        for spec in self.endpoints:
            if name in (spec.name, spec.endpoint_name):
                return spec
        known = ", ".join(s.name for s in self.endpoints) or "none"
        raise KeyError(f"no endpoint {name!r} in stack {self.stack!r} (endpoints: {known})")


def dump_json(model: BaseModel) -> dict[str, Any]:
    """A contract model as the JSON the stack exports."""
    return model.model_dump(mode="json")


def output_names() -> list[str]:
    """The stack output keys the program exports, in contract order."""
    return list(StackOutputs.model_fields)
