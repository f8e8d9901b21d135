"""``ArtifactStore``: the data, model, capture and access-log buckets of one environment.

Each bucket: an explicit physical name (``components.naming.bucket_name``), SSE-KMS with
the platform key and an S3 bucket key, versioning, all four public-access blocks,
bucket-owner-enforced ownership (no ACLs), a TLS-only bucket policy, lifecycle tiers
from the config and server access logging into the access-log bucket. The access-log
bucket itself uses SSE-S3: S3 server access logging cannot deliver to a bucket whose
default encryption is SSE-KMS.

Consumers never hand-write S3 or KMS statements: ``access_statements`` returns both,
scoped to the bucket, the prefixes and the key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict

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
from components.config import AuditLockConfig, StorageConfig, UnsafeConfig

Purpose = Literal["data", "model", "capture", "access-logs", "audit"]
PURPOSES: tuple[Purpose, ...] = ("data", "model", "capture", "access-logs")
"""The buckets every environment has (an ``audit`` bucket joins them under Object Lock)."""
LOG_PURPOSE: Purpose = "access-logs"
AUDIT_PURPOSE: Purpose = "audit"

AUDIT_PREFIX = "audit/"
"""Append-only pipeline audit records live under this prefix: of the audit bucket when the
trail is under Object Lock (prod), of the model bucket otherwise."""
TRAINING_PREFIX = "training/"
CHECKPOINT_PREFIX = "checkpoints/"
SHARED_MODEL_PREFIXES = (TRAINING_PREFIX, "model-metrics/", "promoted/")
"""What a promotion target may read: artifacts, metrics, and what was promoted here."""
MODELS_PREFIX = "models/"
CAPTURE_PREFIX = "capture/"

ABORT_INCOMPLETE_UPLOADS_DAYS = 7


class ArtifactStoreArgs(TypedDict):
    project: str
    """Physical names start with ``<project>-<environment>``."""
    environment: str
    kms_key_arn: pulumi.Input[str]
    """The platform key: default encryption of the data, model and capture buckets."""
    storage: NotRequired[StorageConfig]
    """Retention and lifecycle. Default: ``StorageConfig()`` (RETAIN, 30/180-day tiers)."""
    unsafe: NotRequired[UnsafeConfig]
    """Escape hatches (dev only; the config refuses them in prod). Default: none."""
    read_accounts: NotRequired[list[str]]
    """Accounts that may read model artifacts and metrics (``training/``, ``model-metrics/``,
    ``promoted/``) from the model bucket, to promote packages (``registry.cross_account_ids``;
    the key must let them decrypt through S3 too). Default: none."""
    account_id: NotRequired[str]
    """Default: ``aws.get_caller_identity()``."""
    region: NotRequired[str]
    """Default: ``aws.get_region()``."""
    tags: NotRequired[dict[str, str]]
    audit_lock: NotRequired[AuditLockConfig | None]
    """Keep the audit trail in its own bucket under S3 Object Lock with this default retention
    (``EnvironmentConfig.audit_lock``: always in prod). Default: none, the trail lives under
    ``audit/`` of the model bucket."""


# ----------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class BucketPlan:
    purpose: Purpose
    name: str
    """The physical, globally unique bucket name."""
    kms: bool
    """SSE-KMS with the platform key; False = SSE-S3 (AES256)."""
    block_public_access: bool
    force_destroy: bool
    lifecycle_rules: list[dict[str, Any]]
    log_prefix: str | None
    """Target prefix in the access-log bucket; None for the access-log bucket itself."""
    object_lock: AuditLockConfig | None = None
    """Object Lock with this default retention (created with the bucket; cannot be undone)."""


@dataclass(frozen=True)
class StoragePlan:
    buckets: dict[str, BucketPlan]
    protection: Protection
    ctx: AwsContext
    policies: dict[str, iam.Document] = field(default_factory=dict)


def lifecycle_rules(purpose: Purpose, storage: StorageConfig) -> list[dict[str, Any]]:
    """The bucket's lifecycle rules (pulumi input shape). Pure.

    data / model: current objects move to STANDARD_IA, then GLACIER_IR; old versions expire.
    capture: the same tiers while they fit, and captured traffic expires.
    access-logs: logs expire.
    Every bucket aborts incomplete multipart uploads after 7 days.
    """
    tiers = storage.lifecycle
    abort = {"days_after_initiation": ABORT_INCOMPLETE_UPLOADS_DAYS}
    noncurrent = {"noncurrent_days": tiers.noncurrent_expire_after_days}
    if purpose == LOG_PURPOSE:
        return [
            {
                "id": "expire-access-logs",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "expiration": {"days": storage.access_log_expire_after_days},
                "noncurrent_version_expiration": noncurrent,
                "abort_incomplete_multipart_upload": abort,
            }
        ]
    transitions: list[dict[str, Any]] = [
        {"days": tiers.infrequent_access_after_days, "storage_class": "STANDARD_IA"},
        {"days": tiers.glacier_after_days, "storage_class": "GLACIER_IR"},
    ]
    rule: dict[str, Any] = {
        "id": "tiering",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "noncurrent_version_expiration": noncurrent,
        "abort_incomplete_multipart_upload": abort,
    }
    if purpose == "capture":
        expire = tiers.capture_expire_after_days
        transitions = [t for t in transitions if t["days"] < expire]
        rule["id"] = "tiering-and-expiry"
        rule["expiration"] = {"days": expire}
    if transitions:
        rule["transitions"] = transitions
    return [rule]


def plan_storage(
    project: str,
    environment: str,
    ctx: AwsContext,
    storage: StorageConfig | None = None,
    unsafe: UnsafeConfig | None = None,
    read_accounts: Sequence[str] = (),
    audit_lock: AuditLockConfig | None = None,
) -> StoragePlan:
    """Names, encryption, lifecycle and policies of the buckets (four, or five with the
    audit bucket under Object Lock). Pure."""
    storage = storage or StorageConfig()
    unsafe = unsafe or UnsafeConfig()
    buckets: dict[str, BucketPlan] = {}
    purposes = (*PURPOSES, AUDIT_PURPOSE) if audit_lock is not None else PURPOSES
    for purpose in purposes:
        name = naming.bucket_name(project, environment, purpose, ctx.account_id, ctx.region)
        buckets[purpose] = BucketPlan(
            purpose=purpose,
            name=name,
            # S3 server access logging cannot write to a bucket encrypted with SSE-KMS: the
            # access-log bucket keeps SSE-S3 (AES256) whatever the settings.
            kms=purpose != LOG_PURPOSE and not unsafe.disable_encryption,
            block_public_access=not unsafe.public_buckets,
            force_destroy=unsafe.force_destroy_buckets,
            lifecycle_rules=lifecycle_rules(purpose, storage),
            log_prefix=None if purpose == LOG_PURPOSE else f"{purpose}/",
            object_lock=audit_lock if purpose == AUDIT_PURPOSE else None,
        )
    readers = [a for a in read_accounts if a != ctx.account_id]
    log_bucket = buckets[LOG_PURPOSE].name
    sources = [b.name for b in buckets.values() if b.log_prefix is not None]
    policies = {
        purpose: iam.document(
            [iam.tls_only_statement(ctx.partition, plan.name)]
            + (
                [
                    iam.access_log_delivery_statement(
                        ctx.partition, log_bucket, sources, ctx.account_id
                    )
                ]
                if purpose == LOG_PURPOSE
                else []
            )
            + (
                [
                    iam.cross_account_artifact_read_statement(
                        ctx.partition, plan.name, SHARED_MODEL_PREFIXES, readers
                    )
                ]
                if purpose == "model" and readers
                else []
            )
        )
        for purpose, plan in buckets.items()
    }
    return StoragePlan(
        buckets=buckets,
        protection=Protection.of(storage.retention, unsafe),
        ctx=ctx,
        policies=policies,
    )


def encryption_rule(plan: BucketPlan, kms_key_arn: pulumi.Input[str]) -> dict[str, Any]:
    if plan.kms:
        return {
            "apply_server_side_encryption_by_default": {
                "sse_algorithm": "aws:kms",
                "kms_master_key_id": kms_key_arn,
            },
            "bucket_key_enabled": True,
        }
    return {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}


def grant_statements(
    ctx: AwsContext,
    bucket: str,
    kms_key_arn: pulumi.Input[str] | None,
    prefixes: tuple[str, ...] = ("",),
    *,
    write: bool,
    label: str,
) -> list[iam.Statement]:
    """S3 access to ``prefixes`` of ``bucket`` plus the KMS use it needs. Pure."""
    statements = iam.s3_statements(ctx.partition, bucket, prefixes, write=write, label=label)
    if kms_key_arn is not None:
        statements.append(iam.kms_statement(kms_key_arn, encrypt=write, label=label))
    return statements


# ------------------------------------------------------------------- the component


class ArtifactStore(pulumi.ComponentResource):
    """Encrypted, versioned, private, TLS-only buckets for data, models, captured traffic
    and the access logs of the other three."""

    if TYPE_CHECKING:  # not at run time: Pulumi reads them as output types per registration
        bucket_names: dict[str, str]
        """purpose → physical name (known at plan time)."""
        bucket_arns: dict[str, str]
        audit_s3_uri: str
        """``s3://<audit bucket>/audit/`` under Object Lock, else ``s3://<model bucket>/audit/``."""

    def __init__(
        self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:storage:ArtifactStore", name, None, opts)
        self._ctx = aws_context(args.get("account_id"), args.get("region"))
        self._key_arn = args["kms_key_arn"]
        self.plan = plan_storage(
            args["project"],
            args["environment"],
            self._ctx,
            args.get("storage"),
            args.get("unsafe"),
            args.get("read_accounts", []),
            args.get("audit_lock"),
        )
        tags = args.get("tags", {})
        self.buckets: dict[str, aws.s3.Bucket] = {}
        self.policies: dict[str, aws.s3.BucketPolicy] = {}
        # The access-log bucket first: the others log into it.
        for purpose in (LOG_PURPOSE, *[p for p in self.plan.buckets if p != LOG_PURPOSE]):
            self._bucket(name, self.plan.buckets[purpose], tags)

        self.bucket_names = {p: b.name for p, b in self.plan.buckets.items()}
        self.bucket_arns = {
            p: iam.bucket_arn(self._ctx.partition, n) for p, n in self.bucket_names.items()
        }
        audit_bucket = self.bucket_names.get(AUDIT_PURPOSE, self.bucket_names["model"])
        self.audit_s3_uri = f"s3://{audit_bucket}/{AUDIT_PREFIX}"
        self.register_outputs(
            {
                "bucket_names": self.bucket_names,
                "bucket_ids": {p: b.id for p, b in self.buckets.items()},
                "audit_s3_uri": self.audit_s3_uri,
            }
        )

    def _bucket(self, name: str, plan: BucketPlan, tags: dict[str, str]) -> None:
        base = f"{name}-{plan.purpose}"
        bucket = aws.s3.Bucket(
            base,
            bucket=plan.name,
            force_destroy=plan.force_destroy,
            # only at creation: S3 enables Object Lock for the life of the bucket
            **({"object_lock_enabled": True} if plan.object_lock is not None else {}),
            tags={**tags, "mlops:bucket": plan.purpose},
            opts=stateful_options(self, self.plan.protection),
        )
        self.buckets[plan.purpose] = bucket
        # Reference the name output (an input, known in preview) rather than the id.
        ref = bucket.bucket
        children = child_options(self)
        aws.s3.BucketOwnershipControls(
            f"{base}-ownership",
            bucket=ref,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=children,
        )
        block = aws.s3.BucketPublicAccessBlock(
            f"{base}-public-access",
            bucket=ref,
            block_public_acls=plan.block_public_access,
            block_public_policy=plan.block_public_access,
            ignore_public_acls=plan.block_public_access,
            restrict_public_buckets=plan.block_public_access,
            opts=children,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{base}-encryption",
            bucket=ref,
            rules=[encryption_rule(plan, self._key_arn)],
            opts=children,
        )
        versioning = aws.s3.BucketVersioning(
            f"{base}-versioning",
            bucket=ref,
            versioning_configuration={"status": "Enabled"},
            opts=children,
        )
        if plan.object_lock is not None:
            aws.s3.BucketObjectLockConfiguration(
                f"{base}-object-lock",
                bucket=ref,
                object_lock_enabled="Enabled",
                rule={
                    "default_retention": {
                        "mode": plan.object_lock.mode,
                        "days": plan.object_lock.retention_days,
                    }
                },
                opts=child_options(self, depends_on=[versioning]),
            )
        self.policies[plan.purpose] = aws.s3.BucketPolicy(
            f"{base}-policy",
            bucket=ref,
            policy=json.dumps(self.plan.policies[plan.purpose]),
            opts=child_options(self, depends_on=[block]),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{base}-lifecycle",
            bucket=ref,
            rules=plan.lifecycle_rules,
            opts=child_options(self, depends_on=[versioning]),
        )
        if plan.log_prefix is not None:
            aws.s3.BucketLogging(
                f"{base}-logging",
                bucket=ref,
                target_bucket=self.buckets[LOG_PURPOSE].bucket,
                target_prefix=plan.log_prefix,
                opts=child_options(self, depends_on=[self.policies[LOG_PURPOSE]]),
            )

    # ------------------------------------------------------------------ grants

    def access_statements(
        self, purpose: Purpose, prefixes: tuple[str, ...] = ("",), *, write: bool = False
    ) -> list[iam.Statement]:
        """Read (``write``: and write) ``prefixes`` of the bucket, and use the platform key
        for it (decrypt; ``write``: encrypt too)."""
        return grant_statements(
            self._ctx,
            self.bucket_names[purpose],
            self._key_arn,
            prefixes,
            write=write,
            label=f"{purpose}-bucket",
        )
