"""Every resource rule: a passing and a failing case with hand-built inputs (prod levels)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import policies
from tests.policies.plans import KEY_ARN, PAB, POLICY, TAGS, Planned, tls_policy

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
DQ = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def trust(principal: Any) -> str:
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


PAB_OPEN = {
    "bucket": "b",
    "blockPublicAcls": True,
    "blockPublicPolicy": True,
    "ignorePublicAcls": True,
    "restrictPublicBuckets": True,
}
DQ_OK = {
    "dataQualityJobOutputConfig": {"kmsKeyId": KEY_ARN, "monitoringOutputs": {}},
    "jobResources": {"clusterConfig": {"volumeKmsKeyId": KEY_ARN, "instanceCount": 1}},
    "networkConfig": {"enableInterContainerTrafficEncryption": True},
}
VARIANT = {"variantName": "AllTraffic", "instanceType": "ml.m5.xlarge", "modelName": "m"}
S3_ARN = "arn:aws:s3:::data-bucket/*"

# what the rules know about the stack in these cases (as `mlops plan` passes it)
ACCOUNT = "123456789012"
TRUSTED = "210987654321"
PREFIX = "mlops-stack-prod"
FACTS: dict[str, Any] = {
    "account_id": ACCOUNT,
    "trusted_accounts": (TRUSTED,),
    "name_prefix": PREFIX,
}
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-sagemaker-training"
GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
SUB = "token.actions.githubusercontent.com:sub"


def pass_role(resource: Any, condition: Any = None) -> str:
    st = allow("iam:PassRole", resource)
    if condition is not None:
        st["Condition"] = condition
    return doc(st)


PASSED_TO_SAGEMAKER = {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def service_trust(condition: Any = None) -> str:
    st: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": "sagemaker.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    if condition is not None:
        st["Condition"] = condition
    return doc(st)


def oidc_trust(condition: Any) -> str:
    st: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": GITHUB},
        "Action": "sts:AssumeRoleWithWebIdentity",
    }
    if condition is not None:
        st["Condition"] = condition
    return doc(st)


def grant(principal: Any, effect: str = "Allow") -> dict[str, Any]:
    return {"Sid": "Grant", "Effect": effect, "Principal": principal, "Action": "x:Get"}


def resource_policy(*principals: Any) -> str:
    """A resource policy: the TLS-only deny to '*', then an Allow per principal."""
    return doc(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"},
        *[grant(p) for p in principals],
    )


OWN_AND_TRUSTED = resource_policy(
    {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    {"AWS": [TRUSTED, f"arn:aws:iam::{TRUSTED}:root"]},
    {"Service": "logging.s3.amazonaws.com"},
)
FOREIGN = resource_policy({"AWS": "arn:aws:iam::999999999999:root"})
PUBLIC = resource_policy("*")


def principal_cases(rule: str, type_: str, prop: str, extra: dict[str, Any]) -> list[Any]:
    return [
        (rule, type_, {**extra, prop: OWN_AND_TRUSTED}, {**extra, prop: PUBLIC}, "every principal"),
        (
            f"{rule}#foreign",
            type_,
            {**extra, prop: OWN_AND_TRUSTED},
            {**extra, prop: FOREIGN},
            "grants account 999999999999",
        ),
    ]


# rule id, resource type, passing inputs, failing inputs, fragment of the failure message
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], str]] = [
    *[
        (
            f"s3-{rule}",
            PAB,
            PAB_OPEN,
            {**PAB_OPEN, flag: False},
            f"{flag} is False",
        )
        for rule, flag in [
            ("block-public-acls", "blockPublicAcls"),
            ("block-public-policy", "blockPublicPolicy"),
            ("ignore-public-acls", "ignorePublicAcls"),
            ("restrict-public-buckets", "restrictPublicBuckets"),
        ]
    ],
    (
        "s3-versioning-enabled",
        "aws:s3/bucketVersioning:BucketVersioning",
        {"bucket": "b", "versioningConfiguration": {"status": "Enabled"}},
        {"bucket": "b", "versioningConfiguration": {"status": "Suspended"}},
        "'Suspended'",
    ),
    (
        "s3-lifecycle-rule-enabled",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        {
            "bucket": "b",
            "rules": [{"id": "a", "status": "Disabled"}, {"id": "b", "status": "Enabled"}],
        },
        {"bucket": "b", "rules": [{"id": "a", "status": "Disabled"}]},
        "no lifecycle rule is Enabled",
    ),
    (
        "s3-policy-tls-only",
        POLICY,
        {"bucket": "b", "policy": tls_policy("b")},
        {
            "bucket": "b",
            "policy": doc(
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::b/*",
                }
            ),
        },
        "aws:SecureTransport is false",
    ),
    (
        "ecr-scan-on-push",
        "aws:ecr/repository:Repository",
        {"imageScanningConfiguration": {"scanOnPush": True}},
        {"imageScanningConfiguration": {"scanOnPush": False}},
        "scanOnPush is False",
    ),
    (
        "ecr-immutable-tags",
        "aws:ecr/repository:Repository",
        {"imageTagMutability": "IMMUTABLE"},
        {"imageTagMutability": "MUTABLE"},
        "'MUTABLE'",
    ),
    (
        "ecr-kms-encryption",
        "aws:ecr/repository:Repository",
        {"encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY_ARN}]},
        {"encryptionConfigurations": [{"encryptionType": "AES256"}]},
        "must be 'KMS'",
    ),
    (
        "kms-key-rotation",
        "aws:kms/key:Key",
        {"enableKeyRotation": True},
        {"enableKeyRotation": False},
        "enableKeyRotation is not true",
    ),
    (
        "iam-no-wildcard-action",
        ROLE_POLICY,
        {"role": "r", "policy": doc(allow(["s3:GetObject"], S3_ARN))},
        {"role": "r", "policy": doc(allow("*", S3_ARN))},
        "allows every action ('*')",
    ),
    (
        "iam-no-wildcard-resource",
        ROLE_POLICY,
        {
            "role": "r",
            "policy": doc(
                allow("ecr:GetAuthorizationToken", "*"),
                allow(
                    ["ec2:DescribeVpcs", "ec2:CreateNetworkInterface", "sagemaker:ListModels"], "*"
                ),
                allow("s3:GetObject", S3_ARN),
            ),
        },
        {"role": "r", "policy": doc(allow(["ecr:GetAuthorizationToken", "s3:GetObject"], "*"))},
        "grants s3:GetObject on every resource",
    ),
    (
        "iam-service-trust",
        ROLE,
        {"assumeRolePolicy": trust({"Service": "sagemaker.amazonaws.com"}), "tags": TAGS},
        {"assumeRolePolicy": trust({"AWS": "*"}), "tags": TAGS},
        "every principal ('*')",
    ),
    (
        "iam-service-trust#service-wildcard",
        ROLE,
        {"assumeRolePolicy": trust({"Service": "sagemaker.amazonaws.com"}), "tags": TAGS},
        {"assumeRolePolicy": trust({"Service": "*"}), "tags": TAGS},
        "trusts Service '*': a wildcard",
    ),
    (
        "iam-no-service-wildcard-action",
        ROLE_POLICY,
        {
            "role": "r",
            "policy": doc(
                allow(["s3:GetObject", "s3:PutObject"], S3_ARN),
                allow(
                    ["sagemaker:List*", "ec2:Describe*", "application-autoscaling:Describe*"], "*"
                ),
                allow("ec2:CreateTags", "arn:aws:ec2:eu-west-1:1:network-interface/*"),
            ),
        },
        {"role": "r", "policy": doc(allow(["s3:GetObject", "s3:Get*"], S3_ARN))},
        "'s3:Get*' allows every s3 action matching 'Get*'",
    ),
    (
        "iam-no-service-wildcard-action#service-wide",
        ROLE_POLICY,
        {"role": "r", "policy": doc(allow("iam:GetRole", ROLE_ARN))},
        {"role": "r", "policy": doc(allow("iam:*", ROLE_ARN))},
        "'iam:*' allows every iam action",
    ),
    (
        "iam-no-broad-resource-arn",
        ROLE_POLICY,
        {
            "role": "r",
            "policy": doc(
                allow("s3:GetObject", [S3_ARN, "arn:aws:s3:::data-bucket/training/*"]),
                allow("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-*"),
                allow("logs:PutLogEvents", "arn:aws:logs:eu-west-1:1:log-group:/aws/x:*"),
                allow("ec2:CreateNetworkInterface", "arn:aws:ec2:eu-west-1:1:network-interface/*"),
            ),
        },
        {"role": "r", "policy": doc(allow("s3:GetObject", "arn:aws:s3:::*/*"))},
        "'arn:aws:s3:::*/*', every S3 bucket",
    ),
    (
        "iam-no-broad-resource-arn#role",
        ROLE_POLICY,
        {"role": "r", "policy": doc(allow("iam:GetRole", ROLE_ARN))},
        {"role": "r", "policy": doc(allow("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/*"))},
        "every iam role",
    ),
    (
        "iam-pass-role-scoped",
        ROLE_POLICY,
        {"role": "r", "policy": pass_role([ROLE_ARN, f"{ROLE_ARN[:-8]}*"], PASSED_TO_SAGEMAKER)},
        {"role": "r", "policy": pass_role("*", PASSED_TO_SAGEMAKER)},
        "iam:PassRole on every role ('*')",
    ),
    (
        "iam-pass-role-scoped#other-environment",
        ROLE_POLICY,
        {"role": "r", "policy": pass_role(ROLE_ARN, PASSED_TO_SAGEMAKER)},
        {
            "role": "r",
            "policy": pass_role(
                f"arn:aws:iam::{ACCOUNT}:role/mlops-stack-dev-training", PASSED_TO_SAGEMAKER
            ),
        },
        "not one of this environment's roles (names start with 'mlops-stack-prod-')",
    ),
    (
        "iam-pass-role-scoped#passed-to-service",
        ROLE_POLICY,
        {"role": "r", "policy": pass_role(ROLE_ARN, PASSED_TO_SAGEMAKER)},
        {"role": "r", "policy": pass_role(ROLE_ARN)},
        "has no iam:PassedToService condition",
    ),
    (
        "iam-trust-no-other-account",
        ROLE,
        {
            "assumeRolePolicy": trust({"AWS": f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-ci"}),
            "tags": TAGS,
        },
        {
            "assumeRolePolicy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{TRUSTED}:root"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": "x"}},
                }
            ),
            "tags": TAGS,
        },
        f"trusts AWS 'arn:aws:iam::{TRUSTED}:root' in account {TRUSTED}",
    ),
    (
        "iam-trust-service-source",
        ROLE,
        {
            "assumeRolePolicy": service_trust({"StringEquals": {"aws:SourceAccount": ACCOUNT}}),
            "tags": TAGS,
        },
        {"assumeRolePolicy": service_trust(), "tags": TAGS},
        "has no aws:SourceAccount or aws:SourceArn condition",
    ),
    (
        "iam-trust-service-source#other-account",
        ROLE,
        {
            "assumeRolePolicy": service_trust(
                {
                    "ArnLike": {
                        "aws:SourceArn": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:training-job/*"
                    }
                }
            ),
            "tags": TAGS,
        },
        {
            "assumeRolePolicy": service_trust(
                {"StringEquals": {"aws:SourceAccount": "999999999999"}}
            ),
            "tags": TAGS,
        },
        "conditions the source on account(s) ['999999999999']",
    ),
    (
        "iam-trust-oidc-subject",
        ROLE,
        {
            "assumeRolePolicy": oidc_trust({"StringLike": {SUB: "repo:acme/mlops-stack:*"}}),
            "tags": TAGS,
        },
        {"assumeRolePolicy": oidc_trust({"StringLike": {SUB: "repo:acme/*"}}), "tags": TAGS},
        "'repo:acme/*' is a broad wildcard",
    ),
    (
        "iam-trust-oidc-subject#missing",
        ROLE,
        {
            "assumeRolePolicy": oidc_trust(
                {"StringEquals": {SUB: "repo:acme/mlops-stack:ref:refs/heads/main"}}
            ),
            "tags": TAGS,
        },
        {
            "assumeRolePolicy": oidc_trust(
                {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}
            ),
            "tags": TAGS,
        },
        "without a ':sub' condition",
    ),
    *principal_cases("s3-bucket-policy-principals", POLICY, "policy", {"bucket": "b"}),
    *principal_cases(
        "kms-key-policy-principals", "aws:kms/key:Key", "policy", {"enableKeyRotation": True}
    ),
    *principal_cases(
        "ecr-repository-policy-principals",
        "aws:ecr/repositoryPolicy:RepositoryPolicy",
        "policy",
        {"repository": "r"},
    ),
    *principal_cases(
        "sns-topic-policy-principals", "aws:sns/topicPolicy:TopicPolicy", "policy", {"arn": "t"}
    ),
    *principal_cases(
        "sqs-queue-policy-principals",
        "aws:sqs/queuePolicy:QueuePolicy",
        "policy",
        {"queueUrl": "q"},
    ),
    *principal_cases(
        "sagemaker-model-package-group-policy-principals",
        "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy",
        "resourcePolicy",
        {"modelPackageGroupName": "g"},
    ),
    *principal_cases(
        "secretsmanager-secret-policy-principals",
        "aws:secretsmanager/secretPolicy:SecretPolicy",
        "policy",
        {"secretArn": "s"},
    ),
    (
        "sagemaker-endpoint-config-kms",
        ENDPOINT_CONFIG,
        {"productionVariants": [VARIANT], "kmsKeyArn": KEY_ARN},
        {"productionVariants": [VARIANT]},
        "kmsKeyArn is not set",
    ),
    (
        "sagemaker-data-capture-kms",
        ENDPOINT_CONFIG,
        {
            "productionVariants": [VARIANT],
            "kmsKeyArn": KEY_ARN,
            "dataCaptureConfig": {"initialSamplingPercentage": 20, "kmsKeyId": KEY_ARN},
        },
        {
            "productionVariants": [VARIANT],
            "kmsKeyArn": KEY_ARN,
            "dataCaptureConfig": {"initialSamplingPercentage": 20},
        },
        "dataCaptureConfig.kmsKeyId is not set",
    ),
    (
        "sagemaker-model-network-isolation",
        "aws:sagemaker/model:Model",
        {"enableNetworkIsolation": True},
        {},
        "enableNetworkIsolation is absent",
    ),
    (
        "sagemaker-monitoring-output-kms",
        DQ,
        DQ_OK,
        {**DQ_OK, "dataQualityJobOutputConfig": {"monitoringOutputs": {}}},
        "dataQualityJobOutputConfig.kmsKeyId is not set",
    ),
    (
        "sagemaker-monitoring-volume-kms",
        DQ,
        DQ_OK,
        {**DQ_OK, "jobResources": {"clusterConfig": {"instanceCount": 1}}},
        "volumeKmsKeyId is not set",
    ),
    (
        "sagemaker-inter-container-encryption",
        DQ,
        DQ_OK,
        {**DQ_OK, "networkConfig": {}},
        "enableInterContainerTrafficEncryption is absent",
    ),
    (
        "logs-retention-set",
        "aws:cloudwatch/logGroup:LogGroup",
        {"retentionInDays": 30, "kmsKeyId": KEY_ARN},
        {"kmsKeyId": KEY_ARN},
        "retentionInDays is None",
    ),
    (
        "logs-retention-prod-1y",
        "aws:cloudwatch/logGroup:LogGroup",
        {"retentionInDays": 365, "kmsKeyId": KEY_ARN},
        {"retentionInDays": 90, "kmsKeyId": KEY_ARN},
        "at least 365 days",
    ),
    (
        "logs-kms-encryption",
        "aws:cloudwatch/logGroup:LogGroup",
        {"retentionInDays": 365, "kmsKeyId": KEY_ARN},
        {"retentionInDays": 365},
        "kmsKeyId is not set",
    ),
    (
        "logs-kms-customer-managed-key",
        "aws:cloudwatch/logGroup:LogGroup",
        {"retentionInDays": 365, "kmsKeyId": KEY_ARN},
        {"retentionInDays": 365, "kmsKeyId": "alias/aws/logs"},
        "'alias/aws/logs', an AWS-managed key",
    ),
    (
        "alarm-actions-enabled",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        {"actionsEnabled": True, "alarmActions": ["arn:aws:sns:eu-west-1:1:t"]},
        {"actionsEnabled": False},
        "actionsEnabled is false",
    ),
    (
        "sns-topic-kms-encryption",
        "aws:sns/topic:Topic",
        {"kmsMasterKeyId": KEY_ARN},
        {"name": "alerts"},
        "kmsMasterKeyId is not set",
    ),
    (
        "sns-topic-kms-customer-managed-key",
        "aws:sns/topic:Topic",
        {"kmsMasterKeyId": KEY_ARN},
        {"kmsMasterKeyId": "arn:aws:kms:eu-west-1:123456789012:alias/aws/sns"},
        "an AWS-managed key",
    ),
    (
        "required-tags",
        "aws:s3/bucket:Bucket",
        {"tags": TAGS},
        {"tags": {"environment": "prod", "owner": "ml-platform"}},
        "missing required tags: cost-centre",
    ),
]


def _violations(
    rule_id: str, type_: str, inputs: dict[str, Any], **facts: Any
) -> list[policies.Violation]:
    plan = [Planned(type_, "res", inputs)]
    found = policies.evaluate(plan, "prod", missing_is_unknown=False, **(facts or FACTS))
    return [v for v in found if v.policy == rule_id]


def test_every_resource_rule_has_a_case() -> None:
    assert sorted({c[0].split("#")[0] for c in CASES}) == sorted(r.id for r in policies.RULES)


@pytest.mark.parametrize(
    ("case", "type_", "good", "bad", "fragment"), CASES, ids=[c[0] for c in CASES]
)
def test_rule_passes_and_fails(
    case: str, type_: str, good: dict[str, Any], bad: dict[str, Any], fragment: str
) -> None:
    rule_id = case.split("#")[0]
    assert _violations(rule_id, type_, good) == []
    failures = _violations(rule_id, type_, bad)
    assert failures, f"{rule_id} did not fail on {bad}"
    assert all(v.level == "mandatory" and v.resource == "res" for v in failures)
    assert any(fragment in v.message for v in failures), [v.message for v in failures]
    rule = next(r for r in policies.RULES if r.id == rule_id)
    assert {v.checkov_id for v in failures} == {rule.checkov_id}


def test_rules_ignore_other_resource_types() -> None:
    plan = [Planned("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"})]
    assert policies.evaluate(plan, "prod") == []


def test_log_retention_below_a_year_is_fine_outside_prod() -> None:
    plan = [Planned("aws:cloudwatch/logGroup:LogGroup", "lg", {"retentionInDays": 30})]
    assert [v for v in policies.evaluate(plan, "dev") if v.policy == "logs-retention-prod-1y"] == []


def test_endpoint_config_key_not_required_where_aws_refuses_it() -> None:
    gpu = {**VARIANT, "instanceType": "ml.g5.2xlarge"}
    serverless = {
        "variantName": "v",
        "modelName": "m",
        "serverlessConfig": {"memorySizeInMb": 2048},
    }
    for variant in (gpu, serverless):
        assert (
            _violations(
                "sagemaker-endpoint-config-kms", ENDPOINT_CONFIG, {"productionVariants": [variant]}
            )
            == []
        )


def test_scoped_wildcard_patterns_are_not_unscopable() -> None:
    from policies.iam import is_unscopable

    assert is_unscopable("ec2:DescribeSubnets")
    assert is_unscopable("SageMaker:ListEndpoints")
    assert not is_unscopable("ec2:*")
    assert not is_unscopable("sagemaker:*")
    assert not is_unscopable("s3:GetObject")


def test_role_inline_policies_are_checked() -> None:
    inline = [{"name": "too-broad", "policy": doc(allow("*", "*"))}]
    props = {
        "assumeRolePolicy": trust({"Service": "sagemaker.amazonaws.com"}),
        "inlinePolicies": inline,
    }
    found = policies.evaluate([Planned(ROLE, "role", props)], "prod")
    assert {"iam-no-wildcard-action", "iam-no-wildcard-resource"} <= {v.policy for v in found}
    assert any("inline policy 'too-broad'" in v.message for v in found)


def test_trust_in_an_account_needs_a_condition() -> None:
    bare: dict[str, Any] = {
        "assumeRolePolicy": trust({"AWS": "arn:aws:iam::111122223333:root"}),
        "tags": TAGS,
    }
    found = _violations("iam-service-trust", ROLE, bare)
    assert found and "without a Condition" in found[0].message
    conditioned = json.loads(bare["assumeRolePolicy"])
    conditioned["Statement"][0]["Condition"] = {"StringEquals": {"sts:ExternalId": "x"}}
    assert (
        _violations(
            "iam-service-trust", ROLE, {**bare, "assumeRolePolicy": json.dumps(conditioned)}
        )
        == []
    )
