"""Read and write S3 objects straight in moto's S3 backend (the caller holds the cloud lock)."""

from __future__ import annotations

from typing import Any

from localcloud.wire import ApiError


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key/part`` → ``("bucket", "key/part")``."""
    if not uri.startswith("s3://"):
        raise ApiError("ValidationException", f"not an S3 URI: {uri!r} (expected s3://bucket/key)")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def _bucket(s3: Any, name: str) -> Any | None:
    if name not in s3.buckets:
        return None
    return s3.buckets[name]


def exists(s3: Any, uri: str) -> bool:
    bucket_name, key = split_uri(uri)
    if _bucket(s3, bucket_name) is None:
        return False
    return s3.get_object(bucket_name, key) is not None


def read(s3: Any, uri: str) -> bytes:
    bucket_name, key = split_uri(uri)
    if _bucket(s3, bucket_name) is None:
        raise FileNotFoundError(f"{uri}: bucket {bucket_name!r} does not exist")
    obj = s3.get_object(bucket_name, key)
    if obj is None:
        raise FileNotFoundError(f"{uri}: no such object")
    return bytes(obj.value)


def list_prefix(s3: Any, uri: str) -> list[tuple[str, bytes]]:
    """Every object under the prefix, as ``(key relative to the prefix, content)``."""
    from moto.s3.models import FakeKey

    bucket_name, prefix = split_uri(uri)
    bucket = _bucket(s3, bucket_name)
    if bucket is None:
        raise FileNotFoundError(f"{uri}: bucket {bucket_name!r} does not exist")
    found: list[tuple[str, bytes]] = []
    for key_name, obj in bucket.keys.items():
        if not key_name.startswith(prefix) or not isinstance(obj, FakeKey):
            continue
        relative = key_name[len(prefix) :].lstrip("/") or key_name.rsplit("/", 1)[-1]
        if key_name.endswith("/"):
            continue
        found.append((relative, bytes(obj.value)))
    return found


def write(s3: Any, uri: str, data: bytes, *, kms_key_id: str | None = None) -> None:
    """Put an object (SSE-KMS under ``kms_key_id`` when given)."""
    bucket_name, key = split_uri(uri)
    if _bucket(s3, bucket_name) is None:
        raise FileNotFoundError(f"{uri}: bucket {bucket_name!r} does not exist")
    if kms_key_id:
        s3.put_object(bucket_name, key, data, encryption="aws:kms", kms_key_id=kms_key_id)
    else:
        s3.put_object(bucket_name, key, data)
