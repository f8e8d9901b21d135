"""``ArtifactStore``: exact resources and inputs under mocks, the pure plan, the options."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components._resources import AwsContext, Protection, stateful_options
from components.config import (
    LifecycleTiers,
    Retention,
    StorageConfig,
    UnsafeConfig,
)
from components.storage import (
    ArtifactStore,
    ArtifactStoreArgs,
    lifecycle_rules,
    plan_storage,
)

ACCOUNT = "123456789012"
REGION = "eu-west-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CTX = AwsContext(account_id=ACCOUNT, region=REGION, partition="aws")
NAME = "mlops-stack-dev-storage"
PURPOSES = ("data", "model", "capture", "access-logs")


def bucket(purpose: str) -> str:
    return f"mlops-stack-dev-{purpose}-{ACCOUNT}-{REGION}"


def store(run_mocked: Any, preview: bool = False, **overrides: Any) -> Any:
    args: ArtifactStoreArgs = {
        "project": "mlops-stack",
        "environment": "dev",
        "kms_key_arn": KEY,
        "tags": {"environment": "dev"},
        **overrides,  # type: ignore[typeddict-item]
    }

    def program() -> None:
        s = ArtifactStore(NAME, args)
        pulumi.export("names", s.bucket_names)
        pulumi.export("audit", s.audit_s3_uri)
        pulumi.export("grant", pulumi.Output.from_input(s.access_statements("model", write=True)))
        pulumi.export("read", pulumi.Output.from_input(s.access_statements("data", ("raw/",))))

    return run_mocked(program, preview=preview)


def test_every_bucket_gets_the_full_baseline(run_mocked: Any) -> None:
    run = store(run_mocked)
    assert run.names("aws:s3/bucket:Bucket") == sorted(f"{NAME}-{p}" for p in PURPOSES)
    expected_children = {
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "ownership",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "public-access",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "encryption",
        "aws:s3/bucketVersioning:BucketVersioning": "versioning",
        "aws:s3/bucketPolicy:BucketPolicy": "policy",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "lifecycle",
    }
    for type_, suffix in expected_children.items():
        assert run.names(type_) == sorted(f"{NAME}-{p}-{suffix}" for p in PURPOSES), type_
    # access logging for the three data buckets, into the log bucket
    assert run.names("aws:s3/bucketLogging:BucketLogging") == sorted(
        f"{NAME}-{p}-logging" for p in ("data", "model", "capture")
    )
    assert run.names("mlops:storage:ArtifactStore") == [NAME]

    for purpose in PURPOSES:
        name = bucket(purpose)
        b = run.named(f"{NAME}-{purpose}").inputs
        assert b["bucket"] == name
        assert b["forceDestroy"] is False
        assert b["tags"] == {"environment": "dev", "mlops:bucket": purpose}
        assert run.named(f"{NAME}-{purpose}-ownership").inputs == {
            "bucket": name,
            "rule": {"objectOwnership": "BucketOwnerEnforced"},
        }
        assert run.named(f"{NAME}-{purpose}-public-access").inputs == {
            "bucket": name,
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        }
        assert run.named(f"{NAME}-{purpose}-versioning").inputs == {
            "bucket": name,
            "versioningConfiguration": {"status": "Enabled"},
        }
        policy = json.loads(run.named(f"{NAME}-{purpose}-policy").inputs["policy"])
        assert policy["Statement"][0] == {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }


def test_data_buckets_use_the_platform_key_and_the_log_bucket_sse_s3(run_mocked: Any) -> None:
    run = store(run_mocked)
    for purpose in ("data", "model", "capture"):
        assert run.named(f"{NAME}-{purpose}-encryption").inputs == {
            "bucket": bucket(purpose),
            "rules": [
                {
                    "applyServerSideEncryptionByDefault": {
                        "sseAlgorithm": "aws:kms",
                        "kmsMasterKeyId": KEY,
                    },
                    "bucketKeyEnabled": True,
                }
            ],
        }
    # S3 server access logging cannot deliver to an SSE-KMS bucket
    assert run.named(f"{NAME}-access-logs-encryption").inputs["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
    ]


def test_access_logging_targets_the_log_bucket_which_admits_only_our_buckets(
    run_mocked: Any,
) -> None:
    run = store(run_mocked)
    for purpose in ("data", "model", "capture"):
        assert run.named(f"{NAME}-{purpose}-logging").inputs == {
            "bucket": bucket(purpose),
            "targetBucket": bucket("access-logs"),
            "targetPrefix": f"{purpose}/",
        }
    policy = json.loads(run.named(f"{NAME}-access-logs-policy").inputs["policy"])
    delivery = policy["Statement"][1]
    assert delivery == {
        "Sid": "AllowServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket('access-logs')}/*",
        "Condition": {
            "ArnLike": {
                "aws:SourceArn": [f"arn:aws:s3:::{bucket(p)}" for p in ("data", "model", "capture")]
            },
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
        },
    }


def test_lifecycle_rules_follow_the_configured_tiers(run_mocked: Any) -> None:
    run = store(run_mocked)
    for purpose in ("data", "model"):
        assert run.named(f"{NAME}-{purpose}-lifecycle").inputs["rules"] == [
            {
                "id": "tiering",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "transitions": [
                    {"days": 30, "storageClass": "STANDARD_IA"},
                    {"days": 180, "storageClass": "GLACIER_IR"},
                ],
                "noncurrentVersionExpiration": {"noncurrentDays": 90},
                "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
            }
        ]
    capture = run.named(f"{NAME}-capture-lifecycle").inputs["rules"][0]
    assert capture["expiration"] == {"days": 365}
    logs = run.named(f"{NAME}-access-logs-lifecycle").inputs["rules"]
    assert logs == [
        {
            "id": "expire-access-logs",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "expiration": {"days": 365},
            "noncurrentVersionExpiration": {"noncurrentDays": 90},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
        }
    ]


def test_capture_tiers_that_outlive_the_expiry_are_dropped() -> None:
    storage = StorageConfig(
        lifecycle=LifecycleTiers(
            infrequent_access_after_days=30, glacier_after_days=90, capture_expire_after_days=60
        )
    )
    (rule,) = lifecycle_rules("capture", storage)
    assert rule["transitions"] == [{"days": 30, "storage_class": "STANDARD_IA"}]
    assert rule["expiration"] == {"days": 60}
    short = StorageConfig(lifecycle=LifecycleTiers(capture_expire_after_days=7))
    (rule,) = lifecycle_rules("capture", short)
    assert "transitions" not in rule


def test_outputs_names_audit_prefix_and_grants(run_mocked: Any) -> None:
    run = store(run_mocked)
    assert run.outputs["names"] == {p: bucket(p) for p in PURPOSES}
    assert run.outputs["audit"] == f"s3://{bucket('model')}/audit/"
    grant = {st["Sid"]: st for st in run.outputs["grant"]}
    assert grant["ReadWriteModelBucket"]["Resource"] == [f"arn:aws:s3:::{bucket('model')}/*"]
    assert grant["KeyModelBucket"] == {
        "Sid": "KeyModelBucket",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
        "Resource": KEY,
    }
    read = {st["Sid"]: st for st in run.outputs["read"]}
    assert read["KeyDataBucket"]["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
    assert all(
        not a.startswith(("s3:Put", "s3:Delete", "kms:Encrypt", "kms:GenerateDataKey"))
        for st in read.values()
        for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
    )
    assert f"arn:aws:s3:::{bucket('data')}/raw/*" in json.dumps(read)


def test_preview_knows_every_bucket_input(run_mocked: Any) -> None:
    """Children reference the bucket *name* (an input), so a preview shows them all."""
    run = store(run_mocked, preview=True)
    for r in run.resources:
        assert "<unknown" not in json.dumps(r.inputs), r.name
    assert run.outputs["names"]["model"] == bucket("model")


def test_unsafe_options_change_the_shape_only_when_asked(run_mocked: Any) -> None:
    unsafe = UnsafeConfig(force_destroy_buckets=True, public_buckets=True, disable_encryption=True)
    run = store(run_mocked, unsafe=unsafe)
    data = bucket("data")
    assert run.named(f"{NAME}-data").inputs["forceDestroy"] is True
    assert run.named(f"{NAME}-data-public-access").inputs == {
        "bucket": data,
        "blockPublicAcls": False,
        "blockPublicPolicy": False,
        "ignorePublicAcls": False,
        "restrictPublicBuckets": False,
    }
    assert run.named(f"{NAME}-data-encryption").inputs["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
    ]
    # the TLS-only policy stays whatever the escape hatches say
    policy = json.loads(run.named(f"{NAME}-data-policy").inputs["policy"])
    assert policy["Statement"][0]["Sid"] == "DenyInsecureTransport"


def test_bucket_names_come_from_the_account_and_region_invokes(run_mocked: Any) -> None:
    recorded = run_mocked(
        lambda: ArtifactStore("s", {"project": "p", "environment": "staging", "kms_key_arn": KEY}),
        region="us-east-1",
    )
    assert recorded.named("s-data").inputs["bucket"] == f"p-staging-data-{ACCOUNT}-us-east-1"


# ------------------------------------------------------------------ protection (pure)


@pytest.mark.parametrize(
    ("retention", "unprotected", "protect", "retain"),
    [
        (Retention.RETAIN, False, True, True),
        (Retention.RETAIN, True, False, True),
        (Retention.DESTROY, False, False, False),
    ],
)
def test_stateful_options_follow_retention(
    retention: Retention, unprotected: bool, protect: bool, retain: bool
) -> None:
    protection = Protection.of(retention, UnsafeConfig(unprotected_stateful=unprotected))
    opts = stateful_options(None, protection)
    assert (opts.protect, opts.retain_on_delete) == (protect, retain)


def test_plan_storage_protects_buckets_with_retain_and_not_with_destroy() -> None:
    keep = plan_storage("mlops-stack", "prod", CTX, StorageConfig(retention=Retention.RETAIN))
    assert keep.protection == Protection(protect=True, retain_on_delete=True)
    drop = plan_storage(
        "mlops-stack",
        "dev",
        CTX,
        StorageConfig(retention=Retention.DESTROY),
        UnsafeConfig(force_destroy_buckets=True),
    )
    assert drop.protection == Protection(protect=False, retain_on_delete=False)
    assert all(b.force_destroy for b in drop.buckets.values())
    assert not any(b.force_destroy for b in keep.buckets.values())


def test_plan_storage_encrypts_all_but_the_log_bucket_with_kms() -> None:
    plan = plan_storage("mlops-stack", "prod", CTX)
    assert {p: b.kms for p, b in plan.buckets.items()} == {
        "data": True,
        "model": True,
        "capture": True,
        "access-logs": False,
    }
    assert plan.buckets["access-logs"].log_prefix is None


# --------------------------------------- issue 15 item 9: the audit trail under Object Lock


def test_an_audit_lock_puts_the_trail_in_its_own_object_locked_bucket(run_mocked: Any) -> None:
    from components.config import AuditLockConfig

    lock = AuditLockConfig(mode="GOVERNANCE", retention_days=400)
    run = store(run_mocked, audit_lock=lock)
    with_audit = (*PURPOSES, "audit")
    assert run.names("aws:s3/bucket:Bucket") == sorted(f"{NAME}-{p}" for p in with_audit)
    audit = run.named(f"{NAME}-audit").inputs
    assert audit == {
        "bucket": bucket("audit"),
        "forceDestroy": False,
        "objectLockEnabled": True,
        "tags": {"environment": "dev", "mlops:bucket": "audit"},
    }
    # Object Lock exists only on the audit bucket, with the configured default retention
    assert run.names("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration") == [
        f"{NAME}-audit-object-lock"
    ]
    assert run.named(f"{NAME}-audit-object-lock").inputs == {
        "bucket": bucket("audit"),
        "objectLockEnabled": "Enabled",
        "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 400}},
    }
    assert "objectLockEnabled" not in run.named(f"{NAME}-model").inputs
    # the rest of the baseline applies to the audit bucket like any other
    for suffix in ("encryption", "versioning", "public-access", "policy", "lifecycle", "logging"):
        assert run.named(f"{NAME}-audit-{suffix}").inputs["bucket"] == bucket("audit")
    assert run.outputs["audit"] == f"s3://{bucket('audit')}/audit/"
    assert run.outputs["names"]["audit"] == bucket("audit")


def test_without_an_audit_lock_the_trail_stays_in_the_model_bucket(run_mocked: Any) -> None:
    run = store(run_mocked)
    assert run.names("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration") == []
    assert run.outputs["audit"] == f"s3://{bucket('model')}/audit/"


def test_prod_always_locks_the_audit_trail_and_elsewhere_only_when_asked() -> None:
    from components.config import EnvironmentConfig

    base = {"owner": "o", "cost_centre": "c"}
    prod = EnvironmentConfig.model_validate({**base, "environment": "prod"})
    assert prod.audit_lock is not None
    assert (prod.audit_lock.mode, prod.audit_lock.retention_days) == ("COMPLIANCE", 2557)
    dev = EnvironmentConfig.model_validate({**base, "environment": "dev"})
    assert dev.audit_lock is None
    asked = EnvironmentConfig.model_validate(
        {**base, "environment": "dev", "storage": {"audit_lock": {"retention_days": 30}}}
    )
    assert asked.audit_lock is not None and asked.audit_lock.retention_days == 30
