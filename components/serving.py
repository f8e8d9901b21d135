"""``GpuEndpoint``: one endpoint's serving spec and execution role (and, when the endpoint is
monitored, its drift job's processing role).

The stack owns the serving *shape*; the pipeline creates the Models, EndpointConfigs and
the Endpoint from the ``spec`` output (see DESIGN.md, "Two owners, one contract"). The
spec and the role policy are built by pure functions in ``components.deployment``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from components import iam, naming
from components._resources import aws_context, derived, resolved
from components.config import EndpointConfig, fallback_warning
from components.contract import ServingSpec, dump_json
from components.deployment import (
    arn_parts,
    bucket_name_of,
    capture_warning,
    execution_role_name,
    execution_role_policy,
    serving_spec,
)
from components.tags import MONITOR_ROLE, ROLE_TAG

TYPE_TOKEN = "mlops:serving:GpuEndpoint"


@dataclass(frozen=True, kw_only=True)
class GpuEndpointArgs:
    project: str
    environment: str
    endpoint: EndpointConfig
    """Validated: instance type, capacity, deployment limits (``components.config``)."""
    kms_key_arn: pulumi.Input[str]
    """Encrypts ML storage volumes and captured data; the role may decrypt/generate data keys."""
    model_bucket_arn: pulumi.Input[str]
    """The role may read model artifacts here, and nothing else in the bucket
    (``naming.MODEL_ARTIFACT_KEYS``: not the training source, checkpoints, lineage or audit);
    a monitored endpoint's processing role reads the baselines (``naming.BASELINE_KEYS``)."""
    capture_bucket_name: pulumi.Input[str]
    """Captured traffic goes to ``s3://<bucket>/<endpoint name>/`` (the role may write there only;
    the processing role reads it and writes reports under ``naming.reports_prefix``)."""
    ecr_repository_arn: pulumi.Input[str]
    """The roles may pull images from this repository only."""
    rollback_alarm_names: list[str]
    """AutoRollbackConfiguration alarms (1–10), usually ``Monitoring.rollback_alarm_names[name]``."""
    rollback_alarm_arns: pulumi.Input[list[str]]
    """Their ARNs: the role gets ``cloudwatch:DescribeAlarms`` on exactly these."""
    alarm_names: list[str]
    """Every alarm watching this endpoint (reported in the spec)."""
    subnet_ids: list[str] = field(default_factory=list)
    """Private subnets for the Model's VpcConfig. Default: no VPC."""
    security_group_ids: pulumi.Input[list[str]] = field(default_factory=list)
    """Security groups for the Model's VpcConfig (with ``subnet_ids``)."""
    tags: dict[str, str] = field(default_factory=dict)
    log_group_arn: pulumi.Input[str] | None = None
    """The endpoint's log group. Default: ``/aws/sagemaker/Endpoints/<endpoint name>`` in the
    KMS key's region and account."""
    account_id: str | None = None
    """The account SageMaker must act for to assume the role (``aws:SourceAccount``). Default:
    the caller's account (one ``getCallerIdentity`` lookup)."""


def processing_policy(endpoint: str, v: dict[str, Any], subnet_ids: list[str]) -> dict[str, Any]:
    """The drift job role's policy from the resolved inputs (``components.iam``)."""
    partition, region, account = arn_parts(v["kms"])
    return iam.processing_role_policy(
        partition=partition,
        region=region,
        account_id=account,
        endpoint_name=endpoint,
        kms_key_arn=v["kms"],
        capture_bucket=v["capture"],
        model_bucket=bucket_name_of(v["bucket"]),
        repository_arn=v["ecr"],
        subnet_ids=subnet_ids,
        security_group_ids=v["sgs"],
    )


def check_args(args: GpuEndpointArgs) -> None:
    """Inputs the config model cannot see: the rollback alarm list as wired by the caller."""
    names = args.rollback_alarm_names
    if not 1 <= len(names) <= 10:
        raise ValueError(
            f"GpuEndpointArgs.rollback_alarm_names has {len(names)} alarms ({names}); "
            "AutoRollbackConfiguration takes 1–10 alarms"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"GpuEndpointArgs.rollback_alarm_names has duplicates: {names}")


def endpoint_warnings(ep: EndpointConfig) -> list[str]:
    """What SageMaker will silently do differently from the config (FAULTS 7)."""
    return [w for w in (fallback_warning(ep), capture_warning(ep)) if w]


class GpuEndpoint(pulumi.ComponentResource):
    """The serving spec of one endpoint and the least-privilege role its models run as."""

    if TYPE_CHECKING:  # not at run time: Pulumi reads them as output types per registration
        serving_spec: pulumi.Output[ServingSpec]
        """The validated spec: what ``MLOpsPlatform`` exports (a model, not a dict, so that
        combining it with other Outputs does not make Pulumi unwrap every nested field)."""
        execution_role_arn: pulumi.Output[str]
        processing_role_arn: pulumi.Output[str] | None
        """The drift job's role when ``endpoint.monitoring.enabled``, else ``None``."""
        endpoint_name: str
        """``<project>-<environment>-<name>`` (known before deployment)."""

    def __init__(
        self, name: str, args: GpuEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        check_args(args)
        ep = args.endpoint
        for warning in endpoint_warnings(ep):
            pulumi.log.warn(warning, resource=self)
        child = pulumi.ResourceOptions(parent=self)
        self.endpoint_name = endpoint = naming.endpoint_name(
            args.project, args.environment, ep.name
        )
        tags = {**args.tags, "mlops:endpoint": ep.name}
        trust = json.dumps(
            iam.service_trust_policy(
                "sagemaker.amazonaws.com", args.account_id or aws_context().account_id
            )
        )

        role = aws.iam.Role(
            f"{name}-role",
            name=execution_role_name(endpoint),
            description=f"Execution role of SageMaker endpoint {endpoint}",
            assume_role_policy=trust,
            tags=tags,
            opts=child,
        )
        subnet_ids = list(args.subnet_ids)
        policy_json = derived(
            dict(
                kms=args.kms_key_arn,
                bucket=args.model_bucket_arn,
                capture=args.capture_bucket_name,
                ecr=args.ecr_repository_arn,
                alarms=args.rollback_alarm_arns,
                logs=args.log_group_arn,
                sgs=args.security_group_ids,
            ),
            lambda v: json.dumps(
                execution_role_policy(
                    endpoint_name=endpoint,
                    kms_key_arn=v["kms"],
                    model_bucket_arn=v["bucket"],
                    capture_bucket_name=v["capture"],
                    ecr_repository_arn=v["ecr"],
                    rollback_alarm_arns=v["alarms"],
                    log_group_arn=v["logs"],
                    subnet_ids=subnet_ids,
                    security_group_ids=v["sgs"],
                )
            ),
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            name="serving",
            policy=policy_json,
            opts=child,
        )
        self.execution_role_arn = role.arn
        waits: dict[str, Any] = {"_policy": policy.id}

        self.processing_role_arn = None
        if ep.monitoring.enabled:
            processing = aws.iam.Role(
                f"{name}-monitor-role",
                name=naming.processing_role_name(endpoint),
                description=f"Drift monitoring (processing jobs) of SageMaker endpoint {endpoint}",
                assume_role_policy=trust,
                tags={**tags, ROLE_TAG: MONITOR_ROLE},
                opts=child,
            )
            monitor_policy = aws.iam.RolePolicy(
                f"{name}-monitor-policy",
                role=processing.id,
                name="monitoring",
                policy=derived(
                    dict(
                        kms=args.kms_key_arn,
                        bucket=args.model_bucket_arn,
                        capture=args.capture_bucket_name,
                        ecr=args.ecr_repository_arn,
                        sgs=args.security_group_ids,
                    ),
                    lambda v: json.dumps(processing_policy(endpoint, v, subnet_ids)),
                ),
                opts=child,
            )
            self.processing_role_arn = processing.arn
            waits.update(processing=processing.arn, _monitor_policy=monitor_policy.id)

        project, environment = args.project, args.environment
        rollback, alarms = list(args.rollback_alarm_names), list(args.alarm_names)
        # The spec waits for the policies: a pipeline reading it finds the roles usable.
        self.serving_spec = resolved(
            dict(
                kms=args.kms_key_arn,
                capture=args.capture_bucket_name,
                bucket=args.model_bucket_arn,
                role=role.arn,
                sgs=args.security_group_ids,
                **waits,
            )
        ).apply(
            lambda v: serving_spec(
                project,
                environment,
                ep,
                kms_key_arn=v["kms"],
                execution_role_arn=v["role"],
                capture_bucket_name=v["capture"],
                alarm_names=alarms,
                rollback_alarm_names=rollback,
                subnet_ids=subnet_ids,
                security_group_ids=v["sgs"],
                model_bucket_name=bucket_name_of(v["bucket"]),
                processing_role_arn=v.get("processing"),
            )
        )
        # The spec is exported by the stack (``StackOutputs.endpoints``), not again here.
        self.register_outputs(
            {
                "execution_role_arn": self.execution_role_arn,
                "processing_role_arn": self.processing_role_arn,
                "endpoint_name": self.endpoint_name,
            }
        )

    @functools.cached_property
    def spec(self) -> pulumi.Output[dict[str, Any]]:
        """``serving_spec`` as JSON (``ServingSpec.model_dump(mode="json")``); made on first
        use (every Output costs the engine work, wanted or not)."""
        return self.serving_spec.apply(dump_json)
