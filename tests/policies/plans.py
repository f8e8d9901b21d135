"""Hand-built plans for the policy tests: a compliant platform and ways to break it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from policies import tokens

TAGS = {"environment": "dev", "owner": "ml-platform", "cost-centre": "cc-1234"}
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"

assert {BUCKET} <= tokens.S3_BUCKET and {SSE} <= tokens.S3_ENCRYPTION


@dataclass
class Planned:
    """Shaped like stacks.offline.PlannedResource."""

    type: str
    name: str
    inputs: dict[str, Any]
    id: str | None = None
    state: dict[str, Any] = field(default_factory=dict)


def tls_policy(bucket_id: str) -> str:
    arn = f"arn:aws:s3:::{bucket_id}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [arn, f"{arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def bucket(
    name: str, *, algorithm: str = "aws:kms", log_to: str | None = "logs-id"
) -> list[Planned]:
    """A bucket with every setting resource, as ArtifactStore would plan it."""
    bid = f"{name}-id"
    out = [
        Planned(BUCKET, name, {"bucket": bid, "tags": dict(TAGS)}, id=bid),
        Planned(
            SSE,
            f"{name}-encryption",
            {
                "bucket": bid,
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": algorithm,
                            **({"kmsMasterKeyId": KEY_ARN} if algorithm == "aws:kms" else {}),
                        },
                        "bucketKeyEnabled": True,
                    }
                ],
            },
        ),
        Planned(
            VERSIONING,
            f"{name}-versioning",
            {"bucket": bid, "versioningConfiguration": {"status": "Enabled"}},
        ),
        Planned(
            PAB,
            f"{name}-public-access-block",
            {
                "bucket": bid,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        Planned(POLICY, f"{name}-tls-only", {"bucket": bid, "policy": tls_policy(bid)}),
        Planned(
            LIFECYCLE,
            f"{name}-lifecycle",
            {"bucket": bid, "rules": [{"id": "tiers", "status": "Enabled"}]},
        ),
    ]
    if log_to is not None:
        out.append(
            Planned(
                LOGGING,
                f"{name}-access-logs",
                {"bucket": bid, "targetBucket": log_to, "targetPrefix": f"{name}/"},
            )
        )
    return out


def storage_plan() -> list[Planned]:
    """Data and model buckets (SSE-KMS) logging to an access-log bucket (SSE-S3)."""
    return [
        *bucket("data"),
        *bucket("models"),
        *bucket("logs", algorithm="AES256", log_to=None),
    ]


def without(plan: list[Planned], name: str) -> list[Planned]:
    return [r for r in plan if r.name != name]


def find(plan: list[Planned], name: str) -> Planned:
    return next(r for r in plan if r.name == name)
