"""The S3 stack rules: settings joined to their bucket by the ``bucket`` input."""

from __future__ import annotations

import pytest

import policies
from tests.policies.plans import Planned, find, storage_plan, without


def s3_violations(plan: list[Planned], environment: str = "prod") -> list[policies.Violation]:
    return [v for v in policies.evaluate(plan, environment) if v.policy.startswith("s3-")]


def test_compliant_storage_has_no_violation() -> None:
    assert policies.evaluate(storage_plan(), "prod") == []


# stack rule, the settings resource removed from the data bucket, expected message fragment
MISSING = [
    ("s3-bucket-encryption-kms", "data-encryption", "no server-side encryption configuration"),
    ("s3-bucket-versioning", "data-versioning", "no versioning configuration"),
    ("s3-bucket-public-access-block", "data-public-access-block", "no public access block"),
    ("s3-bucket-tls-only", "data-tls-only", "no bucket policy denying requests without TLS"),
    ("s3-bucket-access-logging", "data-access-logs", "no server access logging"),
    ("s3-bucket-lifecycle", "data-lifecycle", "no lifecycle configuration"),
]


def test_every_stack_rule_has_a_case() -> None:
    """(The audit trail's Object Lock rule has its own tests: test_audit_lock.py; the drift
    job's role rule: test_monitor_role.py.)"""
    own_tests = ["s3-audit-object-lock", "iam-monitor-role-scoped"]
    assert sorted([m[0] for m in MISSING] + own_tests) == sorted(r.id for r in policies.STACK_RULES)


@pytest.mark.parametrize(("rule_id", "removed", "fragment"), MISSING, ids=[m[0] for m in MISSING])
def test_missing_setting_fails_for_that_bucket_only(
    rule_id: str, removed: str, fragment: str
) -> None:
    found = s3_violations(without(storage_plan(), removed))
    assert [(v.policy, v.resource, v.level) for v in found] == [(rule_id, "data", "mandatory")]
    assert fragment in found[0].message


def test_sse_s3_accepted_only_on_the_access_log_target() -> None:
    plan = storage_plan()
    sse = find(plan, "models-encryption")
    sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "AES256"}
    found = s3_violations(plan)
    assert [(v.policy, v.resource, v.checkov_id) for v in found] == [
        ("s3-bucket-encryption-kms", "models", "CKV_AWS_145")
    ]
    assert "'AES256'" in found[0].message
    # the logs bucket (AES256) passes because data and models log into it


def test_sse_s3_log_bucket_fails_when_nothing_logs_into_it() -> None:
    plan = [r for r in storage_plan() if not r.name.endswith("-access-logs")]
    found = s3_violations(plan)
    assert ("s3-bucket-encryption-kms", "logs") in {(v.policy, v.resource) for v in found}


def test_self_logging_does_not_make_a_log_target() -> None:
    plan = storage_plan()
    find(plan, "models-access-logs").inputs["targetBucket"] = "models-id"
    find(plan, "models-encryption").inputs["rules"][0]["applyServerSideEncryptionByDefault"] = {
        "sseAlgorithm": "AES256"
    }
    assert ("s3-bucket-encryption-kms", "models") in {
        (v.policy, v.resource) for v in s3_violations(plan)
    }


def test_open_bucket_fails_flags_and_levels_in_dev() -> None:
    plan = storage_plan()
    pab = find(plan, "data-public-access-block")
    pab.inputs.update(blockPublicPolicy=False, restrictPublicBuckets=False)
    found = s3_violations(plan, "dev")
    assert {(v.policy, v.resource, v.level) for v in found} == {
        ("s3-block-public-policy", "data-public-access-block", "mandatory"),
        ("s3-restrict-public-buckets", "data-public-access-block", "mandatory"),
    }


def test_bucket_policy_without_tls_deny_fails() -> None:
    plan = storage_plan()
    find(plan, "data-tls-only").inputs["policy"] = '{"Statement": []}'
    found = s3_violations(plan)
    assert {v.policy for v in found} == {"s3-policy-tls-only", "s3-bucket-tls-only"}
    assert {v.resource for v in found} == {"data-tls-only", "data"}


def test_join_uses_planned_id_and_state() -> None:
    # the settings name the bucket by the id the engine assigned, not by an input
    plan = storage_plan()
    data = find(plan, "data")
    data.inputs.pop("bucket")
    assert s3_violations(plan) == []
    data.id = None
    data.state = {"bucket": "data-id"}
    assert s3_violations(plan) == []


def test_non_prod_levels() -> None:
    found = s3_violations(
        without(without(storage_plan(), "data-versioning"), "data-encryption"), "staging"
    )
    assert {(v.policy, v.level) for v in found} == {
        ("s3-bucket-versioning", "advisory"),
        ("s3-bucket-encryption-kms", "mandatory"),
    }
