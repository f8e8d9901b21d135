"""The audit trail's bucket is under S3 Object Lock (always in prod).

The stack tags each bucket with its purpose (``mlops:bucket``). A bucket tagged ``audit``
must be created with Object Lock and carry a ``BucketObjectLockConfiguration`` whose default
retention locks every record on write; in prod the plan must have such a bucket at all
(otherwise the trail would sit in the model bucket, protected by ``IfNoneMatch`` only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from policies import tokens
from policies.model import Context, Finding, Resource, StackRule
from policies.s3 import _Plan, settings_of
from policies.values import CannotCheck, get

S3_OBJECT_LOCK = tokens.S3_OBJECT_LOCK
PURPOSE_TAG = "mlops:bucket"
LOCK_MODES = ("COMPLIANCE", "GOVERNANCE")


def _purpose(bucket: Resource) -> Any:
    tags = bucket.props.get("tags")
    return tags.get(PURPOSE_TAG) if isinstance(tags, dict) else None


def _retention_problems(lock: Resource) -> list[str]:
    retention = get(lock.props, "rule.defaultRetention")
    if not isinstance(retention, dict):
        return [f"{lock.name} has no rule.defaultRetention: records would be written unlocked"]
    problems = []
    mode = get(retention, "mode")
    if mode not in LOCK_MODES:
        problems.append(
            f"{lock.name}: rule.defaultRetention.mode is {mode!r}; allowed: {', '.join(LOCK_MODES)}"
        )
    days, years = get(retention, "days"), get(retention, "years")
    if not any(isinstance(v, int | float) and v > 0 for v in (days, years)):
        problems.append(
            f"{lock.name}: rule.defaultRetention needs days or years above 0 (got days {days!r}, "
            f"years {years!r})"
        )
    enabled = get(lock.props, "objectLockEnabled")
    if enabled not in (None, "Enabled"):
        problems.append(f"{lock.name}: objectLockEnabled is {enabled!r}; allowed: 'Enabled'")
    return problems


def check_audit_object_lock(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    plan = _Plan(resources)
    findings: list[Finding] = []
    audit = [b for b in plan.buckets if _purpose(b) == "audit"]
    for bucket in audit:
        if bucket.props.get("objectLockEnabled") is not True:
            findings.append(
                Finding(
                    bucket,
                    "the audit bucket is not created with objectLockEnabled: true (S3 Object "
                    "Lock can only be switched on for the bucket's whole life)",
                )
            )
        try:
            locks, unresolved = settings_of(plan, bucket, S3_OBJECT_LOCK)
            if not locks and unresolved:
                raise CannotCheck("the bucket of each BucketObjectLockConfiguration", "unknown")
        except CannotCheck as exc:
            findings.append(Finding(bucket, str(exc), unknown=True))
            continue
        if not locks:
            findings.append(
                Finding(
                    bucket,
                    "the audit bucket has no BucketObjectLockConfiguration with a default "
                    "retention: records could be deleted or rewritten",
                )
            )
        for lock in locks:
            findings += [Finding(bucket, m) for m in _retention_problems(lock)]
    if ctx.is_prod and not audit:
        for bucket in plan.buckets:
            if _purpose(bucket) == "model":
                findings.append(
                    Finding(
                        bucket,
                        "prod keeps its audit trail in a bucket of its own under S3 Object Lock "
                        f"(a bucket tagged {PURPOSE_TAG}: audit); none is planned",
                    )
                )
    return findings


STACK_RULES: list[StackRule] = [
    StackRule(
        id="s3-audit-object-lock",
        description="The audit trail's bucket is under S3 Object Lock with a default retention "
        "(prod must have one)",
        checkov_id="CKV_AWS_143",
        resource_types=tokens.S3_BUCKET | S3_OBJECT_LOCK,
        check=check_audit_object_lock,
        data_protection=False,
    )
]
