"""``TrainingCompute``: the SageMaker execution role training jobs run as, the optional VPC
security group, and the training defaults the pipeline reads from the stack outputs.

The role trusts only ``sagemaker.amazonaws.com`` acting for this account, and its inline
policy names this environment's buckets (data: read; model: read/write under
``training/`` and ``checkpoints/``), the platform key, the ECR repository, the model
package group and the SageMaker training log group. No ``*`` action; ``*`` resources
only where AWS has no resource type (``components.iam.UNSCOPABLE_ACTIONS``).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components import iam, naming
from components._resources import AwsContext, aws_context, child_options, json_output, resolved
from components.config import TrainingConfig
from components.contract import TrainingDefaults, dump_json
from components.storage import CHECKPOINT_PREFIX, TRAINING_PREFIX, grant_statements

TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
"""SageMaker writes every training job's logs here (an AWS-named, account-wide group)."""
TRAINING_METRIC_NAMESPACE = "/aws/sagemaker/TrainingJobs"
HTTPS = 443
_MAX_ROLE_NAME = 64


class TrainingComputeArgs(TypedDict):
    project: str
    environment: str
    kms_key_arn: pulumi.Input[str]
    """Encrypts training volumes, outputs and checkpoints."""
    data_bucket: str
    """Read-only for training jobs."""
    model_bucket: str
    """Training output (``training/``) and spot checkpoints (``checkpoints/``)."""
    repository_arn: str
    """The ECR repository training images are pulled from."""
    model_package_group_name: str
    """Read access (a training job may warm-start from a registered version)."""
    training: NotRequired[TrainingConfig]
    """Instance type, spot, runtime limits, VPC. Default: ``TrainingConfig()`` (ml.g5.xlarge,
    spot with checkpoints, 24 h, no VPC, network isolation)."""
    account_id: NotRequired[str]
    region: NotRequired[str]
    tags: NotRequired[dict[str, str]]


def role_name(project: str, environment: str) -> str:
    name = f"{naming.prefix(project, environment)}-sagemaker-training"
    if len(name) > _MAX_ROLE_NAME:
        raise ValueError(
            f"role name {name!r} is {len(name)} characters; IAM allows {_MAX_ROLE_NAME} "
            "(shorten the project name)"
        )
    return name


def execution_role_statements(
    ctx: AwsContext,
    kms_key_arn: Any,
    *,
    data_bucket: str,
    model_bucket: str,
    repository_arn: str,
    model_package_group_name: str,
) -> list[iam.Statement]:
    """The training role's permissions, each scoped to this environment. Pure."""
    log_groups = [iam.log_group_arn(ctx.partition, ctx.region, ctx.account_id, TRAINING_LOG_GROUP)]
    return [
        *grant_statements(ctx, data_bucket, None, write=False, label="data-bucket"),
        *grant_statements(
            ctx,
            model_bucket,
            None,
            (TRAINING_PREFIX, CHECKPOINT_PREFIX),
            write=True,
            label="model-bucket",
        ),
        iam.kms_statement(kms_key_arn, encrypt=True, label="platform"),
        iam.kms_grant_statement(kms_key_arn, label="volumes"),
        *iam.ecr_pull_statements(repository_arn, label="training-images"),
        iam.model_registry_read_statement(
            ctx.partition, ctx.region, ctx.account_id, model_package_group_name
        ),
        *iam.log_statements(log_groups, label="training"),
        iam.put_metric_statement([TRAINING_METRIC_NAMESPACE]),
    ]


def security_group_rules(training: TrainingConfig) -> dict[str, list[dict[str, Any]]]:
    """No ingress; egress HTTPS only (S3/ECR/KMS/CloudWatch through VPC endpoints or NAT).

    Distributed training (instance_count > 1) also needs the instances to talk to each
    other: SageMaker requires the group to allow all traffic from and to itself.
    """
    egress: list[dict[str, Any]] = [
        {
            "description": "HTTPS to AWS APIs (VPC endpoints or NAT)",
            "protocol": "tcp",
            "from_port": HTTPS,
            "to_port": HTTPS,
            "cidr_blocks": ["0.0.0.0/0"],
        }
    ]
    ingress: list[dict[str, Any]] = []
    if training.instance_count > 1:
        peer = {
            "description": "Distributed training between the job's instances",
            "protocol": "-1",
            "from_port": 0,
            "to_port": 0,
            "self": True,
        }
        ingress.append(dict(peer))
        egress.append(dict(peer))
    return {"ingress": ingress, "egress": egress}


def training_defaults(
    training: TrainingConfig,
    model_bucket: str,
    security_group_ids: pulumi.Input[list[str]] | list[str],
) -> dict[str, Any]:
    """The ``TrainingDefaults`` contract fields (may hold Outputs; validate after resolving)."""
    return {
        "instance_type": training.instance_type,
        "instance_count": training.instance_count,
        "volume_size_gib": training.volume_size_gib,
        "use_spot": training.use_spot,
        "max_runtime_seconds": training.max_runtime_seconds,
        "max_wait_seconds": training.effective_max_wait_seconds,
        "output_s3_uri": f"s3://{model_bucket}/{TRAINING_PREFIX}",
        "checkpoint_s3_uri": f"s3://{model_bucket}/{CHECKPOINT_PREFIX}"
        if training.use_spot
        else None,
        "subnet_ids": list(training.vpc.subnet_ids) if training.vpc else [],
        "security_group_ids": security_group_ids,
        "network_isolation": training.network_isolation,
    }


class TrainingCompute(pulumi.ComponentResource):
    """The training execution role, its VPC security group (when configured) and the
    training defaults."""

    if TYPE_CHECKING:  # not at run time: Pulumi reads them as output types per registration
        role_arn: pulumi.Output[str]
        role_name: str
        security_group_ids: pulumi.Output[list[str]] | list[str]
        """The training security group (empty without a VPC)."""
        subnet_ids: list[str]
        training_defaults: pulumi.Output[TrainingDefaults]
        """Validated; what ``MLOpsPlatform`` exports (a model: see ``GpuEndpoint.serving_spec``)."""

    def __init__(
        self, name: str, args: TrainingComputeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:training:TrainingCompute", name, None, opts)
        ctx = aws_context(args.get("account_id"), args.get("region"))
        training = args.get("training", TrainingConfig())
        tags = args.get("tags", {})
        self.role_name = role_name(args["project"], args["environment"])
        self.role = aws.iam.Role(
            f"{name}-role",
            name=self.role_name,
            description=(
                f"SageMaker training jobs of {args['project']} {args['environment']} "
                "(managed by Pulumi)"
            ),
            assume_role_policy=json_output(
                iam.service_trust_policy("sagemaker.amazonaws.com", ctx.account_id)
            ),
            max_session_duration=3600,
            tags=tags,
            opts=child_options(self),
        )
        statements = execution_role_statements(
            ctx,
            args["kms_key_arn"],
            data_bucket=args["data_bucket"],
            model_bucket=args["model_bucket"],
            repository_arn=args["repository_arn"],
            model_package_group_name=args["model_package_group_name"],
        )
        aws.iam.RolePolicy(
            f"{name}-access",
            role=self.role.name,
            name="sagemaker-training-access",
            policy=json_output(iam.document(statements)),
            opts=child_options(self),
        )
        self.subnet_ids = list(training.vpc.subnet_ids) if training.vpc else []
        if training.vpc is not None:
            rules = security_group_rules(training)
            self.security_group = aws.ec2.SecurityGroup(
                f"{name}-sg",
                name=f"{naming.prefix(args['project'], args['environment'])}-training",
                description="SageMaker training jobs: no ingress, HTTPS egress only",
                vpc_id=training.vpc.vpc_id,
                ingress=rules["ingress"],
                egress=rules["egress"],
                revoke_rules_on_delete=True,
                tags=tags,
                opts=child_options(self),
            )
            self.security_group_ids = self.security_group.id.apply(lambda sg: [sg])
            aws.iam.RolePolicy(
                f"{name}-vpc",
                role=self.role.name,
                name="sagemaker-training-vpc",
                policy=json_output(
                    iam.document(
                        iam.vpc_statements(
                            ctx.partition,
                            ctx.region,
                            ctx.account_id,
                            self.subnet_ids,
                            [self.security_group.id],
                        )
                    )
                ),
                opts=child_options(self),
            )
        else:
            self.security_group_ids = []
        self.role_arn = self.role.arn
        self.training_defaults = resolved(
            training_defaults(training, args["model_bucket"], self.security_group_ids)
        ).apply(TrainingDefaults.model_validate)
        self.register_outputs(
            {"role_arn": self.role_arn, "security_group_ids": self.security_group_ids}
        )

    @functools.cached_property
    def defaults(self) -> pulumi.Output[dict[str, Any]]:
        """``training_defaults`` as JSON, made on first use (the stack exports the model)."""
        return self.training_defaults.apply(dump_json)
