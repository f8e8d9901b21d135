"""The audit trail under S3 Object Lock (issue 15, item 9), on the local cloud: every record is
written locked, nobody can delete it before its retention ends, and a trail promised a lock
refuses to act on a bucket without one."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from pipelines.audit import AuditLock, AuditTrail
from pipelines.errors import AuditWriteFailed
from tests.pipeline.conftest import REGION, client

LOCKED, PLAIN = "audit-locked", "audit-plain"


def _buckets(cloud: Any) -> Any:
    s3 = client(cloud, "s3")
    where = {"LocationConstraint": REGION}
    s3.create_bucket(Bucket=PLAIN, CreateBucketConfiguration=where)
    s3.put_bucket_versioning(Bucket=PLAIN, VersioningConfiguration={"Status": "Enabled"})
    s3.create_bucket(
        Bucket=LOCKED, CreateBucketConfiguration=where, ObjectLockEnabledForBucket=True
    )
    s3.put_object_lock_configuration(
        Bucket=LOCKED,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}},
        },
    )
    return s3


def test_records_are_written_locked_and_cannot_be_deleted(env: Any) -> None:
    s3 = _buckets(env)
    trail = AuditTrail(s3, f"s3://{LOCKED}/audit/", "prod", "tester", AuditLock("COMPLIANCE", 400))
    trail.check_lock()
    record = trail.record("deploy", "succeeded", {"endpoint": "churn"})
    key = f"audit/prod/{record.id}.json"
    head = s3.head_object(Bucket=LOCKED, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    retained = (head["ObjectLockRetainUntilDate"] - head["LastModified"]).days
    assert 399 <= retained <= 400
    with pytest.raises(ClientError) as denied:
        s3.delete_object(Bucket=LOCKED, Key=key, VersionId=head["VersionId"])
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert [r.id for r in trail.records()] == [record.id]


def test_a_trail_promised_a_lock_refuses_a_bucket_without_one(env: Any) -> None:
    s3 = _buckets(env)
    trail = AuditTrail(s3, f"s3://{PLAIN}/audit/", "prod", "tester", AuditLock("COMPLIANCE", 400))
    with pytest.raises(AuditWriteFailed) as refused:
        trail.check_lock()
    assert f"s3://{PLAIN}" in str(refused.value)
    assert "must be under S3 Object Lock (COMPLIANCE, 400 days)" in str(refused.value)
    assert "nothing was done" in str(refused.value)
    # and S3 itself refuses a locked write there: no record is ever written unlocked
    with pytest.raises(AuditWriteFailed) as failed:
        trail.record("deploy", "succeeded")
    assert "Object Lock" in str(failed.value) or "ObjectLock" in str(failed.value)
    assert s3.list_objects_v2(Bucket=PLAIN).get("KeyCount") == 0


def test_without_a_lock_the_trail_writes_as_before(env: Any) -> None:
    s3 = _buckets(env)
    trail = AuditTrail(s3, f"s3://{PLAIN}/audit/", "dev", "tester")
    trail.check_lock()  # nothing promised, nothing to check
    record = trail.record("train", "failed")
    head = s3.head_object(Bucket=PLAIN, Key=f"audit/dev/{record.id}.json")
    assert "ObjectLockMode" not in head
