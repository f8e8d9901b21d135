"""``s3-audit-object-lock``: the audit trail's bucket is under S3 Object Lock (prod must have it)."""

from __future__ import annotations

from typing import Any

import pytest

import policies
from tests.policies.plans import BUCKET, Planned, bucket, find, storage_plan

LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"


def _tag(plan: list[Planned], name: str, purpose: str) -> None:
    find(plan, name).inputs["tags"]["mlops:bucket"] = purpose


def locked_plan(**retention: Any) -> list[Planned]:
    """The compliant storage plan with a model bucket and an audit bucket under Object Lock."""
    plan = [*storage_plan(), *bucket("audit")]
    _tag(plan, "models", "model")
    _tag(plan, "audit", "audit")
    find(plan, "audit").inputs["objectLockEnabled"] = True
    plan.append(
        Planned(
            LOCK,
            "audit-object-lock",
            {
                "bucket": "audit-id",
                "objectLockEnabled": "Enabled",
                "rule": {"defaultRetention": retention or {"mode": "COMPLIANCE", "days": 2557}},
            },
        )
    )
    return plan


def lock_violations(plan: list[Planned], environment: str = "prod") -> list[tuple[str, str, str]]:
    return [
        (v.resource, v.level, v.message)
        for v in policies.evaluate(plan, environment)
        if v.policy == "s3-audit-object-lock"
    ]


def test_an_audit_bucket_under_object_lock_passes() -> None:
    assert lock_violations(locked_plan()) == []
    assert lock_violations(locked_plan(mode="GOVERNANCE", years=1)) == []


def test_prod_without_an_audit_bucket_fails_on_the_model_bucket() -> None:
    plan = storage_plan()
    _tag(plan, "models", "model")
    found = lock_violations(plan)
    assert [(r, level) for r, level, _ in found] == [("models", "mandatory")]
    assert "prod keeps its audit trail in a bucket of its own under S3 Object Lock" in found[0][2]
    # outside prod the trail may stay in the model bucket
    assert lock_violations(plan, "dev") == []


def test_an_audit_bucket_created_without_object_lock_fails() -> None:
    plan = locked_plan()
    del find(plan, "audit").inputs["objectLockEnabled"]
    found = lock_violations(plan)
    assert [(r, level) for r, level, _ in found] == [("audit", "mandatory")]
    assert "not created with objectLockEnabled: true" in found[0][2]


def test_an_audit_bucket_without_a_lock_configuration_fails_everywhere_it_exists() -> None:
    plan = [r for r in locked_plan() if r.type != LOCK]
    found = lock_violations(plan, "dev")
    assert [(r, level) for r, level, _ in found] == [("audit", "advisory")]
    assert "has no BucketObjectLockConfiguration with a default retention" in found[0][2]


@pytest.mark.parametrize(
    ("retention", "fragment"),
    [
        ({"mode": "LEGAL", "days": 30}, "rule.defaultRetention.mode is 'LEGAL'; allowed: "),
        ({"mode": "COMPLIANCE"}, "rule.defaultRetention needs days or years above 0"),
        ({"mode": "COMPLIANCE", "days": 0}, "rule.defaultRetention needs days or years above 0"),
    ],
)
def test_a_weak_default_retention_fails(retention: dict[str, Any], fragment: str) -> None:
    found = lock_violations(locked_plan(**retention))
    assert len(found) == 1 and found[0][0] == "audit"
    assert fragment in found[0][2]


def test_the_shipped_prod_plan_locks_its_audit_trail() -> None:
    """The real stack program's prod plan: the audit bucket and its lock pass the rule."""
    from stacks.offline import run_offline

    run = run_offline("prod")
    assert [r.name for r in run.resources if r.type == LOCK] == [
        "mlops-stack-prod-storage-audit-object-lock"
    ]
    assert [r for r in run.resources if r.type == BUCKET and "audit" in r.name]
    assert lock_violations(run.resources) == []  # type: ignore[arg-type]
