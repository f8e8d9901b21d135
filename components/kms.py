"""``PlatformKey``: the environment's customer-managed KMS key (rotation on) and its alias."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from components import iam
from components._resources import Protection, aws_context, child_options, stateful_options
from components.config import Retention


class PlatformKeyArgs(TypedDict):
    alias: str
    """The alias name without ``alias/`` (the environment's prefix, e.g. ``mlops-stack-prod``)."""
    description: NotRequired[str]
    """Default: "<alias> platform key (S3, SageMaker, ECR, SNS, CloudWatch Logs)"."""
    deletion_window_days: NotRequired[int]
    """Waiting period before a scheduled deletion completes. Default: 30 (the maximum)."""
    retention: NotRequired[Retention]
    """RETAIN (default) protects the key and keeps it on destroy (retained buckets need it)."""
    protect: NotRequired[bool]
    """Default: True with RETAIN. False only when ``unsafe.unprotected_stateful``."""
    read_accounts: NotRequired[list[str]]
    """Accounts that may decrypt, through S3 only, the model artifacts the store shares with
    them (``registry.cross_account_ids``: promotion targets). Default: none."""
    account_id: NotRequired[str]
    """Default: ``aws.get_caller_identity()``."""
    region: NotRequired[str]
    """Default: ``aws.get_region()``."""
    tags: NotRequired[dict[str, str]]


@dataclass(frozen=True)
class KeySettings:
    description: str
    deletion_window_in_days: int
    protection: Protection


def key_settings(args: PlatformKeyArgs) -> KeySettings:
    """The key's settings and resource protection (pure; validated)."""
    window = args.get("deletion_window_days", 30)
    if not 7 <= window <= 30:
        raise ValueError(f"deletion_window_days {window} is outside KMS's 7–30 days")
    retention = args.get("retention", Retention.RETAIN)
    return KeySettings(
        description=args.get(
            "description",
            f"{args['alias']} platform key (S3, SageMaker, ECR, SNS, CloudWatch Logs)",
        ),
        deletion_window_in_days=window,
        protection=Protection(
            protect=args.get("protect", retention is Retention.RETAIN),
            retain_on_delete=retention is Retention.RETAIN,
        ),
    )


class PlatformKey(pulumi.ComponentResource):
    """A symmetric KMS key with yearly rotation whose policy lets only this account's
    platform services use it; ``alias/<alias>`` points at it."""

    if TYPE_CHECKING:  # not at run time: Pulumi reads them as output types per registration
        arn: pulumi.Output[str]
        """The key ARN (IAM policies and encryption settings name this, not the alias)."""
        key_id: pulumi.Output[str]
        alias_name: str

    def __init__(
        self, name: str, args: PlatformKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:security:PlatformKey", name, None, opts)
        ctx = aws_context(args.get("account_id"), args.get("region"))
        settings = key_settings(args)
        policy = iam.key_policy(
            ctx.partition,
            ctx.region,
            ctx.account_id,
            [a for a in args.get("read_accounts", []) if a != ctx.account_id],
        )
        self.key = aws.kms.Key(
            f"{name}",
            description=settings.description,
            enable_key_rotation=True,
            deletion_window_in_days=settings.deletion_window_in_days,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            policy=json.dumps(policy),
            tags=args.get("tags", {}),
            opts=stateful_options(self, settings.protection),
        )
        self.alias_name = f"alias/{args['alias']}"
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            name=self.alias_name,
            target_key_id=self.key.key_id,
            opts=child_options(self),
        )
        self.arn = self.key.arn
        self.key_id = self.key.key_id
        self.register_outputs({"arn": self.arn, "key_id": self.key_id, "alias": self.alias_name})
