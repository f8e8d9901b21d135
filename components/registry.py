"""``ModelRegistry``: the environment's ECR repository and SageMaker model package group.

The repository scans on push, refuses tag overwrites (IMMUTABLE), is encrypted with the
platform key and expires images by a lifecycle policy (``lifecycle_policy``). The model
package group ``<prefix>-models`` holds every registered model version. With
``registry.cross_account_ids``, those accounts (and only those) may read the packages
and pull the images — how a later environment promotes a model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components import iam, naming
from components._resources import (
    AwsContext,
    Protection,
    aws_context,
    child_options,
    stateful_options,
)
from components.config import RegistryConfig, Retention, UnsafeConfig


class ModelRegistryArgs(TypedDict):
    project: str
    environment: str
    kms_key_arn: pulumi.Input[str]
    """Encrypts the repository's images."""
    registry: NotRequired[RegistryConfig]
    """Lifecycle and cross-account readers. Default: keep 30 tagged, untagged expire in 7 days,
    no other account."""
    retention: NotRequired[Retention]
    """RETAIN (default): the repository and the group are protected and kept on destroy."""
    unsafe: NotRequired[UnsafeConfig]
    account_id: NotRequired[str]
    region: NotRequired[str]
    tags: NotRequired[dict[str, str]]


@dataclass(frozen=True)
class RegistryPlan:
    repository_name: str
    repository_arn: str
    group_name: str
    group_arn: str
    lifecycle_policy: iam.Document
    repository_policy: iam.Document | None
    group_policy: iam.Document | None
    protection: Protection


def lifecycle_policy(registry: RegistryConfig) -> iam.Document:
    """The ECR lifecycle policy: untagged images expire, the last N tagged are kept. Pure."""
    return iam.ecr_lifecycle_policy(registry.keep_last_images, registry.untagged_expire_after_days)


def plan_registry(
    project: str,
    environment: str,
    ctx: AwsContext,
    registry: RegistryConfig | None = None,
    retention: Retention = Retention.RETAIN,
    unsafe: UnsafeConfig | None = None,
) -> RegistryPlan:
    registry = registry or RegistryConfig()
    prefix = naming.prefix(project, environment)
    repository = f"{prefix}-models"
    group = f"{prefix}-models"
    accounts = [a for a in registry.cross_account_ids if a != ctx.account_id]
    return RegistryPlan(
        repository_name=repository,
        repository_arn=iam.ecr_repository_arn(
            ctx.partition, ctx.region, ctx.account_id, repository
        ),
        group_name=group,
        group_arn=iam.model_package_group_arn(ctx.partition, ctx.region, ctx.account_id, group),
        lifecycle_policy=lifecycle_policy(registry),
        repository_policy=iam.cross_account_ecr_policy(ctx.partition, accounts)
        if accounts
        else None,
        group_policy=iam.cross_account_model_package_group_policy(
            ctx.partition, ctx.region, ctx.account_id, group, accounts
        )
        if accounts
        else None,
        protection=Protection.of(retention, unsafe),
    )


class ModelRegistry(pulumi.ComponentResource):
    """ECR repository + SageMaker model package group (+ cross-account read policies)."""

    if TYPE_CHECKING:  # not at run time: Pulumi reads them as output types per registration
        repository_url: pulumi.Output[str]
        repository_arn: str
        repository_name: str
        model_package_group_name: pulumi.Output[str]
        model_package_group_arn: str

    def __init__(
        self, name: str, args: ModelRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:registry:ModelRegistry", name, None, opts)
        ctx = aws_context(args.get("account_id"), args.get("region"))
        self.plan = plan = plan_registry(
            args["project"],
            args["environment"],
            ctx,
            args.get("registry"),
            args.get("retention", Retention.RETAIN),
            args.get("unsafe"),
        )
        tags = args.get("tags", {})
        self.repository = aws.ecr.Repository(
            f"{name}-repository",
            name=plan.repository_name,
            image_scanning_configuration={"scan_on_push": True},
            image_tag_mutability="IMMUTABLE",
            encryption_configurations=[
                {"encryption_type": "KMS", "kms_key": args["kms_key_arn"]},
            ],
            force_delete=False,
            tags=tags,
            opts=stateful_options(self, plan.protection),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-repository-lifecycle",
            repository=self.repository.name,
            policy=json.dumps(plan.lifecycle_policy),
            opts=child_options(self),
        )
        self.group = aws.sagemaker.ModelPackageGroup(
            f"{name}-models",
            model_package_group_name=plan.group_name,
            model_package_group_description=(
                f"Model versions of {args['project']} {args['environment']}"
            ),
            tags=tags,
            opts=stateful_options(self, plan.protection),
        )
        if plan.repository_policy is not None:
            aws.ecr.RepositoryPolicy(
                f"{name}-repository-cross-account",
                repository=self.repository.name,
                policy=json.dumps(plan.repository_policy),
                opts=child_options(self),
            )
        if plan.group_policy is not None:
            aws.sagemaker.ModelPackageGroupPolicy(
                f"{name}-models-cross-account",
                model_package_group_name=self.group.model_package_group_name,
                resource_policy=json.dumps(plan.group_policy),
                opts=child_options(self),
            )
        self.repository_url = self.repository.repository_url
        self.repository_arn = plan.repository_arn
        self.repository_name = plan.repository_name
        self.model_package_group_name = self.group.model_package_group_name
        self.model_package_group_arn = plan.group_arn
        self.register_outputs(
            {
                "repository_url": self.repository_url,
                "repository_arn": self.repository_arn,
                "model_package_group_name": self.model_package_group_name,
                "model_package_group_arn": self.model_package_group_arn,
            }
        )
