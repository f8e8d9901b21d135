"""Enforcement per environment: prod mandatory, data protection mandatory everywhere."""

from __future__ import annotations

import pytest

import policies

DATA_PROTECTION = {
    "s3-block-public-acls",
    "s3-block-public-policy",
    "s3-ignore-public-acls",
    "s3-restrict-public-buckets",
    "s3-policy-tls-only",
    "s3-bucket-encryption-kms",
    "s3-bucket-public-access-block",
    "s3-bucket-tls-only",
    "ecr-kms-encryption",
    "iam-no-wildcard-action",
    "sagemaker-endpoint-config-kms",
    "sagemaker-data-capture-kms",
    "sagemaker-monitoring-output-kms",
    "sagemaker-monitoring-volume-kms",
    "sagemaker-inter-container-encryption",
    "logs-kms-encryption",
    "logs-kms-customer-managed-key",
    "iam-no-service-wildcard-action",
    "s3-bucket-policy-principals",
    "kms-key-policy-principals",
    "ecr-repository-policy-principals",
    "sns-topic-policy-principals",
    "sqs-queue-policy-principals",
    "sagemaker-model-package-group-policy-principals",
    "secretsmanager-secret-policy-principals",
}

ALL_RULES: list[policies.Rule | policies.StackRule] = [*policies.RULES, *policies.STACK_RULES]


def test_rule_ids_are_unique_kebab_case() -> None:
    ids = policies.rule_ids()
    assert len(ids) == len(set(ids))
    assert all(i == i.lower() and " " not in i for i in ids)


@pytest.mark.parametrize("environment", ["dev", "staging", "local"])
def test_outside_prod_only_data_protection_is_mandatory(environment: str) -> None:
    mandatory = {r.id for r in ALL_RULES if r.level(environment) == "mandatory"}
    assert mandatory == DATA_PROTECTION


def test_everything_is_mandatory_in_prod() -> None:
    assert {r.level("prod") for r in ALL_RULES} == {"mandatory"}


def test_checkov_ids_of_the_baseline() -> None:
    by_rule = {r.id: r.checkov_id for r in ALL_RULES}
    expected = {
        "CKV_AWS_145", "CKV_AWS_21", "CKV2_AWS_6", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55",
        "CKV_AWS_56", "CKV_AWS_18", "CKV2_AWS_61", "CKV_AWS_163", "CKV_AWS_51", "CKV_AWS_98",
        "CKV_AWS_136", "CKV_AWS_370", "CKV_AWS_367", "CKV_AWS_368", "CKV_AWS_369", "CKV_AWS_63",
        "CKV_AWS_355", "CKV_AWS_66", "CKV_AWS_338", "CKV_AWS_158", "CKV_AWS_7", "CKV_AWS_319",
    }  # fmt: skip
    assert expected <= set(by_rule.values())
    assert by_rule["s3-bucket-encryption-kms"] == "CKV_AWS_145"
    assert by_rule["s3-bucket-tls-only"] is None  # no checkov equivalent: our own
    # resource policies open to '*' map to checkov's per-service checks
    assert by_rule["s3-bucket-policy-principals"] == "CKV_AWS_70"
    assert by_rule["kms-key-policy-principals"] == "CKV_AWS_33"
    assert by_rule["ecr-repository-policy-principals"] == "CKV_AWS_32"
    assert by_rule["sns-topic-policy-principals"] == "CKV_AWS_169"
    assert by_rule["sqs-queue-policy-principals"] == "CKV_AWS_168"


def test_required_tags_follow_components() -> None:
    from components.tags import REQUIRED_TAGS

    assert (
        policies.Context("dev").required_tags
        == REQUIRED_TAGS
        == ("environment", "owner", "cost-centre")
    )
