"""The pure policy builders: key policy, trust, TLS-only, scoped grants, wildcard checks."""

from __future__ import annotations

import fnmatch

import pytest

from components import iam

ACCOUNT = "123456789012"
REGION = "eu-west-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _by_sid(doc: iam.Document) -> dict[str, iam.Statement]:
    return {st["Sid"]: st for st in doc["Statement"]}


def test_key_policy_lets_the_account_administer_but_use_only_through_platform_services() -> None:
    policy = _by_sid(iam.key_policy("aws", REGION, ACCOUNT))
    assert list(policy) == [
        "AccountAdministersTheKey",
        "AccountUsesTheKeyThroughPlatformServices",
        "ServicesCreateGrantsForTheirResources",
        "CloudWatchLogsEncryptsThisAccountsLogGroups",
        "CloudWatchAlarmsPublishToTheEncryptedTopic",
    ]
    admin = policy["AccountAdministersTheKey"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert "kms:PutKeyPolicy" in admin["Action"] and "kms:ScheduleKeyDeletion" in admin["Action"]
    # administering is not using: no data-plane action without a service condition
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} & set(admin["Action"])
    assert all(not a.endswith("*") for a in admin["Action"])

    use = policy["AccountUsesTheKeyThroughPlatformServices"]
    assert use["Condition"] == {
        "StringEquals": {
            "kms:CallerAccount": ACCOUNT,
            "kms:ViaService": [
                f"s3.{REGION}.amazonaws.com",
                f"sagemaker.{REGION}.amazonaws.com",
                f"ecr.{REGION}.amazonaws.com",
                f"sns.{REGION}.amazonaws.com",
                f"logs.{REGION}.amazonaws.com",
            ],
        }
    }
    grants = policy["ServicesCreateGrantsForTheirResources"]
    assert grants["Action"] == ["kms:CreateGrant"]
    assert grants["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}

    logs = policy["CloudWatchLogsEncryptsThisAccountsLogGroups"]
    assert logs["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert logs["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"
        }
    }
    alarms = policy["CloudWatchAlarmsPublishToTheEncryptedTopic"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_trust_policy_is_limited_to_the_service_acting_for_this_account() -> None:
    assert iam.service_trust_policy("sagemaker.amazonaws.com", ACCOUNT) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TrustOnlyTheService",
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ],
    }


def test_tls_only_statement_denies_every_call_without_tls_on_bucket_and_objects() -> None:
    assert iam.tls_only_statement("aws", "b") == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_s3_statements_scope_listing_and_objects_to_the_prefixes() -> None:
    statements = iam.s3_statements("aws", "m", ("training/", "checkpoints/"), write=True)
    by_sid = {st["Sid"]: st for st in statements}
    assert by_sid["ListM"]["Condition"] == {
        "StringLike": {"s3:prefix": ["training/*", "checkpoints/*"]}
    }
    assert by_sid["LocateM"] == {
        "Sid": "LocateM",
        "Effect": "Allow",
        "Action": "s3:GetBucketLocation",
        "Resource": "arn:aws:s3:::m",
    }
    assert by_sid["ReadWriteM"]["Resource"] == [
        "arn:aws:s3:::m/training/*",
        "arn:aws:s3:::m/checkpoints/*",
    ]
    assert "s3:PutObject" in by_sid["ReadWriteM"]["Action"]
    assert "s3:DeleteObject" not in by_sid["ReadWriteM"]["Action"]


def test_read_only_statements_have_no_write_action() -> None:
    statements = iam.s3_statements("aws", "d", write=False, label="data")
    actions = {a for st in statements for a in iam._as_list(st["Action"])}
    assert actions == {"s3:ListBucket", "s3:GetBucketLocation", *iam.S3_READ_OBJECT}


def test_ecr_lifecycle_policy_keeps_last_tagged_and_expires_untagged() -> None:
    assert iam.ecr_lifecycle_policy(30, 7) == {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Expire untagged images after 7 days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 7,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": "Keep the last 30 tagged images",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": 30,
                },
                "action": {"type": "expire"},
            },
        ]
    }


def test_wildcard_problems_flags_star_actions_and_star_resources_on_scopable_actions() -> None:
    doc = iam.document(
        [
            {"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"},
            {"Sid": "B", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"},
            {"Sid": "C", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"},
            {"Sid": "D", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Sid": "E", "Effect": "Deny", "Action": "s3:*", "Resource": "*"},
        ]
    )
    assert iam.wildcard_problems(doc) == [
        "A: wildcard action '*'",
        "B: wildcard action 's3:*'",
        "C: resource '*' for scopable actions ['s3:GetObject']",
    ]


def test_document_refuses_repeated_sids() -> None:
    with pytest.raises(ValueError, match=r"repeat Sids \['X'\]"):
        iam.document([{"Sid": "X"}, {"Sid": "X"}])


def test_vpc_statements_name_subnets_and_security_groups() -> None:
    statements = {
        st["Sid"]: st for st in iam.vpc_statements("aws", REGION, ACCOUNT, ["subnet-1"], ["sg-1"])
    }
    ec2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
    assert statements["CreateNetworkInterfacesInOurSubnets"]["Resource"] == [
        f"{ec2}:network-interface/*",
        f"{ec2}:subnet/subnet-1",
        f"{ec2}:security-group/sg-1",
    ]
    assert statements["ManageOwnNetworkInterfaces"]["Resource"] == f"{ec2}:network-interface/*"
    # Describe* are the only "*" resources, and iam says why they are allowed
    assert iam.wildcard_problems(iam.document(statements.values())) == []


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("eu-west-1", "aws"),
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        # botocore's partition data, not prefixes: the isolated partitions have their own
        ("us-isob-east-1", "aws-iso-b"),
        ("us-iso-east-1", "aws-iso"),
        # a region newer than the installed botocore: its partition's regionRegex
        ("eu-north-9", "aws"),
    ],
)
def test_partition_of_region(region: str, partition: str) -> None:
    assert iam.partition_of(region) == partition


# --------------------------------------------------- the drift job's processing role

ENDPOINT = "mlops-stack-prod-churn"
CAPTURE = "mlops-stack-prod-capture"
MODEL = "mlops-stack-prod-model"
REPO = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/mlops-stack-prod-models"


def _processing(**overrides: object) -> iam.Document:
    args: dict[str, object] = {
        "partition": "aws",
        "region": REGION,
        "account_id": ACCOUNT,
        "endpoint_name": ENDPOINT,
        "kms_key_arn": KEY,
        "capture_bucket": CAPTURE,
        "model_bucket": MODEL,
        "repository_arn": REPO,
        **overrides,
    }
    return iam.processing_role_policy(**args)  # type: ignore[arg-type]


def test_processing_role_policy_exact() -> None:
    assert _processing()["Statement"] == [
        {
            "Sid": "ListCapturedData",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{CAPTURE}",
            "Condition": {"StringLike": {"s3:prefix": [f"{ENDPOINT}/*"]}},
        },
        {
            "Sid": "ReadCapturedData",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{CAPTURE}/{ENDPOINT}/*",
        },
        {
            "Sid": "ListBaselines",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{MODEL}",
            "Condition": {"StringLike": {"s3:prefix": ["training/*/baseline/*", "baselines/*"]}},
        },
        {
            "Sid": "ReadBaselines",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [
                f"arn:aws:s3:::{MODEL}/training/*/baseline/*",
                f"arn:aws:s3:::{MODEL}/baselines/*",
            ],
        },
        {
            "Sid": "WriteDriftReports",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{CAPTURE}/{ENDPOINT}/reports/*",
        },
        {
            "Sid": "UsePlatformKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": KEY,
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
        },
        {
            # SageMaker encrypts the job's volume (VolumeKmsKeyId) through a grant
            "Sid": "KeyGrantVolumes",
            "Effect": "Allow",
            "Action": ["kms:CreateGrant"],
            "Resource": KEY,
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
        {
            "Sid": "PutMetricsInOwnNamespaces",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": ["MLOps/ModelMonitoring"]}},
        },
        {
            "Sid": "WriteLogsProcessing",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
            ],
            "Resource": [
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/ProcessingJobs:*"
            ],
        },
        {
            "Sid": "PullMonitorImage",
            "Effect": "Allow",
            "Action": [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            "Resource": REPO,
        },
        {
            "Sid": "RegistryLogin",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        },
    ]
    assert iam.wildcard_problems(_processing()) == []


def test_processing_role_in_a_vpc_attaches_its_network_interfaces() -> None:
    subnets, groups = ["subnet-0123456789abcdef0"], ["sg-0123456789abcdef0"]
    doc = _processing(subnet_ids=subnets, security_group_ids=groups)
    assert doc["Statement"][-3:] == iam.vpc_statements("aws", REGION, ACCOUNT, subnets, groups)
    assert doc["Statement"][:-3] == _processing()["Statement"]
    assert iam.wildcard_problems(doc) == []


def _allows(doc: iam.Document, action: str, arn: str) -> bool:
    """An Allow statement grants ``action`` on ``arn`` (IAM's ``*`` matches across ``/``)."""

    for st in doc["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        allows = st["Effect"] == "Allow" and action in actions
        if allows and any(fnmatch.fnmatchcase(arn, r) for r in resources):
            return True
    return False


JOB = "mlops-stack-prod-20250101-120000-123"
CAPTURED = f"{ENDPOINT}/{ENDPOINT}/AllTraffic/2025/01/01/10/00-00-000-abc.jsonl"


@pytest.mark.parametrize(
    ("action", "bucket", "key", "allowed"),
    [
        ("s3:GetObject", CAPTURE, CAPTURED, True),  # the endpoint's own capture
        ("s3:GetObject", CAPTURE, f"{ENDPOINT}/reports/AllTraffic/2025/01/01/10-00/x", True),
        ("s3:GetObject", CAPTURE, "mlops-stack-prod-ranker/mlops-stack-prod-ranker/x", False),
        ("s3:GetObject", MODEL, f"training/{JOB}/baseline/statistics.json", True),
        ("s3:GetObject", MODEL, "baselines/churn/statistics.json", True),
        ("s3:GetObject", MODEL, f"training/{JOB}/output/model.tar.gz", False),
        ("s3:GetObject", MODEL, f"source/{JOB}/sourcedir.tar.gz", False),
        ("s3:GetObject", MODEL, "audit/prod/2025/01/01/record.json", False),
        ("s3:GetObject", "mlops-stack-prod-data", "train.csv", False),
        ("s3:PutObject", CAPTURE, f"{ENDPOINT}/reports/AllTraffic/2025/01/01/10-00/r.json", True),
        ("s3:PutObject", CAPTURE, CAPTURED, False),  # never the captured traffic itself
        ("s3:PutObject", CAPTURE, "mlops-stack-prod-ranker/reports/x", False),
        ("s3:PutObject", MODEL, "baselines/churn/statistics.json", False),
        ("s3:DeleteObject", CAPTURE, CAPTURED, False),
    ],
)
def test_processing_role_reads_its_capture_and_baselines_and_writes_reports_only(
    action: str, bucket: str, key: str, allowed: bool
) -> None:
    assert _allows(_processing(), action, f"arn:aws:s3:::{bucket}/{key}") is allowed


def test_baseline_keys_register_writes_are_readable() -> None:
    from components.naming import baseline_key

    key = f"{baseline_key(f'training/{JOB}/output/model.tar.gz')}/constraints.json"
    assert _allows(_processing(), "s3:GetObject", f"arn:aws:s3:::{MODEL}/{key}")
