"""Bucket policies the way the local cloud can honour them.

moto evaluates a bucket policy on object requests but cannot evaluate conditions: a
statement with a ``Condition`` it cannot check counts as an explicit deny. The stack's
TLS-only statement (deny when ``aws:SecureTransport`` is false) would then deny every
object request, although the local cloud serves only loopback. So, for every bucket
whose policy is set through the local cloud, enforcement keeps the unconditional
statements (an unconditional deny still denies) and skips the conditional ones:
loopback counts as a secure transport, and request context such as ``aws:SourceArn``
does not exist locally. ``GetBucketPolicy`` still returns the policy as written.
"""

from __future__ import annotations

import functools
import json
from typing import Any


def enforce_unconditional_statements(s3: Any, bucket_name: str) -> None:
    bucket = s3.buckets.get(bucket_name)
    if bucket is not None:
        bucket.get_permission = functools.partial(_permission, bucket)


def _permission(bucket: Any, action: str, resource: str) -> Any:
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    raw = bucket.policy.decode() if isinstance(bucket.policy, bytes) else str(bucket.policy)
    document = json.loads(raw)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = [s for s in statements if "Condition" not in s]
    if not kept:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps({**document, "Statement": kept})).is_action_permitted(
        action, resource
    )
