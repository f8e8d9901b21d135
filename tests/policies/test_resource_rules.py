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
        "required-tags",
        "aws:s3/bucket:Bucket",
        {"tags": TAGS},
        {"tags": {"environment": "prod", "owner": "ml-platform"}},
        "missing required tags: cost-centre",
    ),
]


def _violations(rule_id: str, type_: str, inputs: dict[str, Any]) -> list[policies.Violation]:
    plan = [Planned(type_, "res", inputs)]
    found = policies.evaluate(plan, "prod", missing_is_unknown=False)
    return [v for v in found if v.policy == rule_id]


def test_every_resource_rule_has_a_case() -> None:
    assert sorted(c[0] for c in CASES) == sorted(r.id for r in policies.RULES)


@pytest.mark.parametrize(
    ("rule_id", "type_", "good", "bad", "fragment"), CASES, ids=[c[0] for c in CASES]
)
def test_rule_passes_and_fails(
    rule_id: str, type_: str, good: dict[str, Any], bad: dict[str, Any], fragment: str
) -> None:
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
