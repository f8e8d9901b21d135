"""Values unknown until apply are reported as "cannot check until apply", never as a pass."""

from __future__ import annotations

import json
from typing import Any

import pytest

import policies
from policies.values import PULUMI_UNKNOWN_SENTINELS
from tests.policies.plans import KEY_ARN, TAGS, Planned, find, storage_plan


def _pulumi_unknown() -> Any:
    from pulumi.output import Unknown

    return Unknown()


UNKNOWNS = [
    pytest.param(lambda: policies.UNKNOWN, id="marker"),
    pytest.param(lambda: sorted(PULUMI_UNKNOWN_SENTINELS)[0], id="pulumi-sentinel"),
    pytest.param(_pulumi_unknown, id="pulumi-Unknown"),
]


@pytest.mark.parametrize("make_unknown", UNKNOWNS)
def test_unknown_key_is_cannot_check(make_unknown: Any) -> None:
    plan = [
        Planned(
            "aws:cloudwatch/logGroup:LogGroup",
            "lg",
            {"retentionInDays": 365, "kmsKeyId": make_unknown(), "tags": TAGS},
        )
    ]
    found = policies.evaluate(plan, "prod")
    assert [(v.policy, v.level) for v in found] == [
        ("logs-kms-encryption", "unknown"),
        ("logs-kms-customer-managed-key", "unknown"),
    ]
    assert all(v.message.startswith("cannot check until apply: kmsKeyId") for v in found)
    assert not policies.has_mandatory(found)


@pytest.mark.parametrize("make_unknown", UNKNOWNS)
def test_unknown_policy_document_is_cannot_check(make_unknown: Any) -> None:
    plan = [Planned("aws:iam/rolePolicy:RolePolicy", "p", {"role": "r", "policy": make_unknown()})]
    found = policies.evaluate(plan, "dev")
    assert {(v.policy, v.level) for v in found} == {
        ("iam-no-wildcard-action", "unknown"),
        ("iam-no-wildcard-resource", "unknown"),
        ("iam-no-service-wildcard-action", "unknown"),
        ("iam-no-broad-resource-arn", "unknown"),
        ("iam-pass-role-scoped", "unknown"),
    }


def test_policy_json_embedding_an_unknown_is_cannot_check() -> None:
    policy = json.dumps(
        {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": policies.UNKNOWN}]}
    )
    found = policies.evaluate(
        [Planned("aws:iam/policy:Policy", "p", {"policy": policy, "tags": TAGS})], "prod"
    )
    assert {v.level for v in found} == {"unknown"}


def test_missing_reference_is_unknown_in_mock_plans_and_unset_otherwise() -> None:
    plan = [Planned("aws:sns/topic:Topic", "alerts", {"tags": TAGS})]
    (mock,) = policies.evaluate(plan, "prod")
    assert (mock.policy, mock.level) == ("sns-topic-kms-encryption", "unknown")
    assert "not in the plan" in mock.message
    (engine,) = policies.evaluate(plan, "prod", missing_is_unknown=False)
    assert (engine.policy, engine.level) == ("sns-topic-kms-encryption", "mandatory")


def test_missing_literal_is_judged_by_its_default() -> None:
    # a flag the user did not set takes the provider default (insecure): a violation
    plan = [Planned("aws:ecr/repository:Repository", "repo", {"tags": TAGS})]
    found = {v.policy: v.level for v in policies.evaluate(plan, "prod")}
    assert found == {
        "ecr-scan-on-push": "mandatory",
        "ecr-immutable-tags": "mandatory",
        "ecr-kms-encryption": "mandatory",
    }


def test_unknown_tags_are_cannot_check() -> None:
    plan = [
        Planned("aws:kms/key:Key", "key", {"enableKeyRotation": True, "tags": policies.UNKNOWN})
    ]
    (v,) = policies.evaluate(plan, "prod")
    assert (v.policy, v.level) == ("required-tags", "unknown")


def test_unknown_bucket_join_is_cannot_check_per_bucket() -> None:
    # in preview the settings' `bucket` (= the bucket's id) is unknown: nothing can be joined
    plan = storage_plan()
    for r in plan:
        if "bucket" in r.inputs and r.type != "aws:s3/bucket:Bucket":
            r.inputs["bucket"] = policies.UNKNOWN
        if "targetBucket" in r.inputs:
            r.inputs["targetBucket"] = policies.UNKNOWN
    found = [v for v in policies.evaluate(plan, "prod") if v.policy.startswith("s3-bucket-")]
    assert found and {v.level for v in found} == {"unknown"}
    assert {v.resource for v in found} == {"data", "models", "logs"}
    assert all(v.message.startswith("cannot check until apply") for v in found)


def test_unknown_log_target_makes_sse_s3_uncheckable() -> None:
    plan = storage_plan()
    find(plan, "data-access-logs").inputs["targetBucket"] = policies.UNKNOWN
    find(plan, "models-access-logs").inputs["targetBucket"] = policies.UNKNOWN
    found = {(v.policy, v.resource): v.level for v in policies.evaluate(plan, "prod")}
    assert found == {
        ("s3-bucket-encryption-kms", "logs"): "unknown",
        ("s3-bucket-access-logging", "logs"): "unknown",
    }


def test_known_key_passes() -> None:
    plan = [
        Planned(
            "aws:cloudwatch/logGroup:LogGroup",
            "lg",
            {"retentionInDays": 365, "kmsKeyId": KEY_ARN, "tags": TAGS},
        )
    ]
    assert policies.evaluate(plan, "prod") == []
