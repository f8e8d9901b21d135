"""Pure IAM / KMS / S3 policy-document builders (no pulumi import).

Every statement the platform attaches is built here from plain ARNs, so the shapes
are unit-testable without a runtime and no component hand-writes a policy. Values
may be ``pulumi.Output`` objects inside the returned dicts (e.g. a key ARN): the
caller turns the whole document into JSON with ``components._resources.json_output``.

Wildcards: no statement uses a ``*`` action. A ``*`` resource appears only for the
actions AWS cannot scope to a resource (``UNSCOPABLE_ACTIONS``); each use says why.
Key policies are the exception AWS defines: inside a key policy ``"Resource": "*"``
means "this key".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from components import naming, regions

VERSION = "2012-10-17"

Statement = dict[str, Any]
Document = dict[str, Any]

UNSCOPABLE_ACTIONS: frozenset[str] = frozenset(
    {
        # ECR registry login: the action has no resource type (Service Authorization Reference).
        "ecr:GetAuthorizationToken",
        # CloudWatch metrics have no ARN; we narrow it with a cloudwatch:namespace condition.
        "cloudwatch:PutMetricData",
        # EC2 Describe* calls SageMaker makes for VPC mode support no resource-level permissions.
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeVpcs",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
    }
)
"""Actions that only accept ``"Resource": "*"``; everything else names its ARNs."""


def document(statements: Iterable[Statement]) -> Document:
    """A policy document; Sids must be unique (IAM rejects duplicates)."""
    listed = list(statements)
    sids = [st["Sid"] for st in listed if "Sid" in st]
    repeated = sorted({s for s in sids if sids.count(s) > 1})
    if repeated:
        raise ValueError(f"policy statements repeat Sids {repeated}")
    return {"Version": VERSION, "Statement": listed}


# ------------------------------------------------------------------------------ ARNs


def partition_of(region: str) -> str:
    """The ARN partition of ``region`` from botocore's partition data (``components.regions``);
    ``aws`` for a name no partition would hold (stack files refuse those before this)."""
    return regions.partition_of(region) or "aws"


def bucket_arn(partition: str, bucket: str) -> str:
    return f"arn:{partition}:s3:::{bucket}"


def objects_arn(partition: str, bucket: str, prefix: str = "") -> str:
    return f"arn:{partition}:s3:::{bucket}/{prefix}*"


def ecr_repository_arn(partition: str, region: str, account_id: str, name: str) -> str:
    return f"arn:{partition}:ecr:{region}:{account_id}:repository/{name}"


def model_package_group_arn(partition: str, region: str, account_id: str, group: str) -> str:
    return f"arn:{partition}:sagemaker:{region}:{account_id}:model-package-group/{group}"


def model_packages_arn(partition: str, region: str, account_id: str, group: str) -> str:
    """Every version in the group: ``model-package/<group>/*``."""
    return f"arn:{partition}:sagemaker:{region}:{account_id}:model-package/{group}/*"


def log_group_arn(partition: str, region: str, account_id: str, name: str) -> str:
    """The group and its streams (``…:log-group:<name>:*``)."""
    return f"arn:{partition}:logs:{region}:{account_id}:log-group:{name}:*"


def account_root_arn(partition: str, account_id: str) -> str:
    return f"arn:{partition}:iam::{account_id}:root"


# --------------------------------------------------------------------------- trust


def service_trust_policy(service: str, account_id: str) -> Document:
    """Only ``service`` may assume the role, and only on behalf of this account."""
    return document(
        [
            {
                "Sid": "TrustOnlyTheService",
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ]
    )


# ------------------------------------------------------------------------------ S3


def tls_only_statement(partition: str, bucket: str) -> Statement:
    """Deny every S3 call on the bucket and its objects that does not use TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn(partition, bucket), objects_arn(partition, bucket)],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def cross_account_artifact_read_statement(
    partition: str, bucket: str, prefixes: Sequence[str], account_ids: Sequence[str]
) -> Statement:
    """Let the listed accounts read (not list, not write) model artifacts and metrics, so the
    next environment's pipeline can promote a package from this one."""
    return {
        "Sid": "CrossAccountReadModelArtifacts",
        "Effect": "Allow",
        "Principal": {"AWS": [account_root_arn(partition, a) for a in account_ids]},
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": [objects_arn(partition, bucket, p) for p in prefixes],
    }


def access_log_delivery_statement(
    partition: str, log_bucket: str, source_buckets: Sequence[str], account_id: str
) -> Statement:
    """S3 server access logging writes with the logging service principal (no ACLs under
    bucket-owner-enforced ownership), only for this account's source buckets."""
    return {
        "Sid": "AllowServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": objects_arn(partition, log_bucket),
        "Condition": {
            "ArnLike": {"aws:SourceArn": [bucket_arn(partition, b) for b in source_buckets]},
            "StringEquals": {"aws:SourceAccount": account_id},
        },
    }


S3_READ_OBJECT = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"]
S3_WRITE_OBJECT = [
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
]
S3_LIST_BUCKET = ["s3:ListBucket", "s3:GetBucketLocation"]


def _sid(*parts: str) -> str:
    """``("read", "model-bucket")`` → ``ReadModelBucket`` (Sids are alphanumeric)."""
    words = [w for part in parts for w in re.split(r"[^A-Za-z0-9]+", part) if w]
    return "".join(w[:1].upper() + w[1:] for w in words)


def s3_statements(
    partition: str,
    bucket: str,
    prefixes: Sequence[str] = ("",),
    *,
    write: bool = False,
    label: str | None = None,
) -> list[Statement]:
    """List the bucket (limited to ``prefixes``) and read — or read and write — their objects.

    ``prefixes`` are key prefixes ending in ``/`` (``""`` = the whole bucket).
    """
    label = label or bucket
    objects = [objects_arn(partition, bucket, p) for p in prefixes]
    statements: list[Statement] = []
    if all(prefixes):
        # Listing limited to the prefixes; GetBucketLocation carries no s3:prefix key.
        statements += [
            {
                "Sid": _sid("locate", label),
                "Effect": "Allow",
                "Action": "s3:GetBucketLocation",
                "Resource": bucket_arn(partition, bucket),
            },
            {
                "Sid": _sid("list", label),
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn(partition, bucket),
                "Condition": {"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}},
            },
        ]
    else:
        statements.append(
            {
                "Sid": _sid("list", label),
                "Effect": "Allow",
                "Action": list(S3_LIST_BUCKET),
                "Resource": bucket_arn(partition, bucket),
            }
        )
    actions = S3_READ_OBJECT + (S3_WRITE_OBJECT if write else [])
    return [
        *statements,
        {
            "Sid": _sid("read", "write", label) if write else _sid("read", label),
            "Effect": "Allow",
            "Action": actions,
            "Resource": objects,
        },
    ]


# ----------------------------------------------------------------------------- KMS

KMS_DECRYPT = ["kms:Decrypt", "kms:DescribeKey"]
KMS_ENCRYPT = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]


def kms_statement(key_arn: Any, *, encrypt: bool, label: str) -> Statement:
    """Use the platform key (S3 SSE-KMS needs Decrypt to read, GenerateDataKey to write)."""
    return {
        "Sid": _sid("key", label),
        "Effect": "Allow",
        "Action": list(KMS_ENCRYPT if encrypt else KMS_DECRYPT),
        "Resource": key_arn,
    }


def kms_grant_statement(key_arn: Any, *, label: str) -> Statement:
    """SageMaker encrypts ML volumes through a grant it creates for the job/endpoint."""
    return {
        "Sid": _sid("key", "grant", label),
        "Effect": "Allow",
        "Action": ["kms:CreateGrant"],
        "Resource": key_arn,
        "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
    }


KEY_ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]
"""What the account (through IAM) may do to administer the key — not use it."""

KEY_USE_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]

KEY_SERVICES = ("s3", "sagemaker", "ecr", "sns", "logs")
"""Services through which principals of this account may use the key."""


def key_policy(
    partition: str, region: str, account_id: str, read_accounts: Sequence[str] = ()
) -> Document:
    """The platform key's policy.

    - the account (through IAM policies) administers the key;
    - principals of this account may *use* it only through the services that store
      the platform's data (S3 buckets, SageMaker volumes/capture, ECR images, the SNS
      alerts topic, CloudWatch Logs), never directly — so a leaked role cannot decrypt
      a downloaded object outside S3;
    - SageMaker and ECR create grants for the resources they encrypt;
    - CloudWatch Logs encrypts this account's log groups (encryption-context condition);
    - CloudWatch alarms publish to the KMS-encrypted alerts topic;
    - ``read_accounts`` (promotion targets) may decrypt, through S3 only, what the model
      bucket lets them read.

    ``"Resource": "*"`` in a key policy means this key (AWS's key-policy convention).
    """
    root = account_root_arn(partition, account_id)
    via = [f"{service}.{region}.amazonaws.com" for service in KEY_SERVICES]
    return document(
        [
            {
                "Sid": "AccountAdministersTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": list(KEY_ADMIN_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "AccountUsesTheKeyThroughPlatformServices",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": list(KEY_USE_ACTIONS),
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:CallerAccount": account_id, "kms:ViaService": via}
                },
            },
            {
                "Sid": "ServicesCreateGrantsForTheirResources",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": ["kms:CreateGrant"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account_id,
                        "kms:ViaService": [
                            f"sagemaker.{region}.amazonaws.com",
                            f"ecr.{region}.amazonaws.com",
                        ],
                    },
                    "Bool": {"kms:GrantIsForAWSResource": "true"},
                },
            },
            {
                "Sid": "CloudWatchLogsEncryptsThisAccountsLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
                        )
                    }
                },
            },
            *(
                [
                    {
                        "Sid": "PromotionTargetsDecryptArtifactsThroughS3",
                        "Effect": "Allow",
                        "Principal": {
                            "AWS": [account_root_arn(partition, a) for a in read_accounts]
                        },
                        "Action": ["kms:Decrypt", "kms:DescribeKey"],
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}
                        },
                    }
                ]
                if read_accounts
                else []
            ),
            {
                # CloudWatch publishes alarm notifications to the encrypted SNS topic with its
                # own service principal (it does not pass a source-account context to KMS).
                "Sid": "CloudWatchAlarmsPublishToTheEncryptedTopic",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
            },
        ]
    )


# ----------------------------------------------------------------------------- ECR


ECR_PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def ecr_pull_statements(repository_arn: str, *, label: str = "repository") -> list[Statement]:
    return [
        {
            "Sid": _sid("pull", label),
            "Effect": "Allow",
            "Action": list(ECR_PULL),
            "Resource": repository_arn,
        },
        {
            # No resource type exists for the registry login (AWS forces "*").
            "Sid": "RegistryLogin",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        },
    ]


def ecr_lifecycle_policy(keep_last_images: int, untagged_expire_after_days: int) -> Document:
    """Expire untagged images after ``untagged_expire_after_days``; keep the last N tagged."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {untagged_expire_after_days} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": untagged_expire_after_days,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Keep the last {keep_last_images} tagged images",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_last_images,
                },
                "action": {"type": "expire"},
            },
        ]
    }


def cross_account_ecr_policy(partition: str, account_ids: Sequence[str]) -> Document:
    return document(
        [
            {
                "Sid": "CrossAccountPull",
                "Effect": "Allow",
                "Principal": {"AWS": [account_root_arn(partition, a) for a in account_ids]},
                "Action": list(ECR_PULL),
            }
        ]
    )


# ----------------------------------------------------------------------- SageMaker

MODEL_PACKAGE_READ = ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"]


def model_registry_read_statement(
    partition: str, region: str, account_id: str, group: str
) -> Statement:
    return {
        "Sid": "ReadModelPackageGroup",
        "Effect": "Allow",
        "Action": list(MODEL_PACKAGE_READ),
        "Resource": [
            model_package_group_arn(partition, region, account_id, group),
            model_packages_arn(partition, region, account_id, group),
        ],
    }


def cross_account_model_package_group_policy(
    partition: str, region: str, account_id: str, group: str, account_ids: Sequence[str]
) -> Document:
    """Let the listed accounts read (not change) this environment's model packages."""
    return document(
        [
            {
                "Sid": "CrossAccountReadModelPackages",
                "Effect": "Allow",
                "Principal": {"AWS": [account_root_arn(partition, a) for a in account_ids]},
                "Action": [
                    "sagemaker:DescribeModelPackage",
                    "sagemaker:DescribeModelPackageGroup",
                    "sagemaker:ListModelPackages",
                ],
                "Resource": [
                    model_package_group_arn(partition, region, account_id, group),
                    model_packages_arn(partition, region, account_id, group),
                ],
            }
        ]
    )


# ---------------------------------------------------------------- logs and metrics


def log_statements(log_group_arns: Sequence[str], *, label: str) -> list[Statement]:
    return [
        {
            "Sid": _sid("write", "logs", label),
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
            ],
            "Resource": list(log_group_arns),
        }
    ]


def put_metric_statement(namespaces: Sequence[str]) -> Statement:
    # CloudWatch metrics have no ARN (AWS forces "*"); the namespace condition scopes it.
    return {
        "Sid": "PutMetricsInOwnNamespaces",
        "Effect": "Allow",
        "Action": "cloudwatch:PutMetricData",
        "Resource": "*",
        "Condition": {"StringEquals": {"cloudwatch:namespace": list(namespaces)}},
    }


# ----------------------------------------------------------------------------- VPC


def vpc_statements(
    partition: str,
    region: str,
    account_id: str,
    subnet_ids: Sequence[str],
    security_group_ids: Sequence[Any],
) -> list[Statement]:
    """What SageMaker needs to attach training (or endpoint) ENIs in our subnets."""
    ec2 = f"arn:{partition}:ec2:{region}:{account_id}"
    enis = f"{ec2}:network-interface/*"
    return [
        {
            # The EC2 Describe* calls support no resource-level permissions (AWS forces "*").
            "Sid": "DescribeNetwork",
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcs",
            ],
            "Resource": "*",
        },
        {
            "Sid": "CreateNetworkInterfacesInOurSubnets",
            "Effect": "Allow",
            "Action": ["ec2:CreateNetworkInterface"],
            "Resource": [
                enis,
                *[f"{ec2}:subnet/{s}" for s in subnet_ids],
                *[_join_sg_arn(ec2, sg) for sg in security_group_ids],
            ],
        },
        {
            "Sid": "ManageOwnNetworkInterfaces",
            "Effect": "Allow",
            "Action": [
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission",
            ],
            "Resource": enis,
        },
    ]


def _join_sg_arn(ec2_prefix: str, sg: Any) -> Any:
    if isinstance(sg, str):
        return f"{ec2_prefix}:security-group/{sg}"
    return sg.apply(lambda v: f"{ec2_prefix}:security-group/{v}")


# ------------------------------------------------------------- the drift job's role


def kms_through_s3_statement(key_arn: Any, region: str, *, label: str) -> Statement:
    """Read and write SSE-KMS objects with the platform key, and nothing else with it: only
    through S3 (``kms:ViaService``), so the role cannot decrypt a downloaded object itself."""
    return {
        "Sid": _sid("use", label, "key", "through", "s3"),
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": key_arn,
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
    }


def processing_role_policy(
    *,
    partition: str,
    region: str,
    account_id: str,
    endpoint_name: str,
    kms_key_arn: Any,
    capture_bucket: str,
    model_bucket: str,
    repository_arn: Any,
    subnet_ids: Sequence[str] = (),
    security_group_ids: Sequence[Any] = (),
) -> Document:
    """A monitored endpoint's drift job (a SageMaker processing job): list and read that
    endpoint's captured traffic, read the baselines (``naming.BASELINE_KEYS``), write reports
    under ``naming.reports_prefix`` only, use the platform key through S3 only (and let
    SageMaker take a grant on it for the job's volume), put metrics in
    ``naming.DRIFT_NAMESPACE`` only, write its logs, pull the platform's image, and (in a VPC)
    attach its network interfaces. Nothing else: no other endpoint's capture, no model
    artifact, no delete."""
    capture = naming.capture_prefix(endpoint_name)
    logs = log_group_arn(partition, region, account_id, naming.PROCESSING_LOG_GROUP)
    model = bucket_arn(partition, model_bucket)
    statements: list[Statement] = [
        {
            "Sid": "ListCapturedData",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn(partition, capture_bucket),
            "Condition": {"StringLike": {"s3:prefix": [f"{capture}*"]}},
        },
        {
            "Sid": "ReadCapturedData",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": objects_arn(partition, capture_bucket, capture),
        },
        {
            "Sid": "ListBaselines",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": model,
            "Condition": {"StringLike": {"s3:prefix": list(naming.BASELINE_KEYS)}},
        },
        {
            "Sid": "ReadBaselines",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [f"{model}/{key}" for key in naming.BASELINE_KEYS],
        },
        {
            "Sid": "WriteDriftReports",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": objects_arn(
                partition, capture_bucket, naming.reports_prefix(endpoint_name)
            ),
        },
        kms_through_s3_statement(kms_key_arn, region, label="platform"),
        # the job's ML storage volume (VolumeKmsKeyId), as for training jobs
        kms_grant_statement(kms_key_arn, label="volumes"),
        put_metric_statement([naming.DRIFT_NAMESPACE]),
        *log_statements([logs], label="processing"),
        *ecr_pull_statements(repository_arn, label="monitor-image"),
    ]
    if subnet_ids:
        statements += vpc_statements(
            partition, region, account_id, subnet_ids, list(security_group_ids)
        )
    return document(statements)


# -------------------------------------------------------------------------- checks


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcard_problems(doc: Document) -> list[str]:
    """Identity-policy checks (CKV_AWS_63 / CKV_AWS_355): no ``*`` action, no service-wide
    ``svc:*`` action on an Allow, and ``*`` resources only for ``UNSCOPABLE_ACTIONS``."""
    problems = []
    for st in doc.get("Statement", []):
        if st.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in _as_list(st.get("Action", []))]
        resources = _as_list(st.get("Resource", []))
        sid = st.get("Sid", "?")
        for action in actions:
            if action == "*" or action.endswith(":*"):
                problems.append(f"{sid}: wildcard action {action!r}")
        if "*" in resources:
            scoped = [a for a in actions if a not in UNSCOPABLE_ACTIONS]
            if scoped:
                problems.append(f"{sid}: resource '*' for scopable actions {scoped}")
    return problems
