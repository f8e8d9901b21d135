"""The audit trail: one immutable S3 object per mutating action.

Each record is its own object under ``StackOutputs.audit_s3_uri``, written with
``IfNoneMatch="*"`` so nothing is ever overwritten (the bucket is versioned too). Failed,
rolled-back and timed-out actions are recorded like successful ones.

The records form a hash chain: record ``n`` is ``seq-<n, 12 digits>.json``, holds the SHA-256
``digest`` of its own content and the ``previous`` record's digest. Two writers that race for
the same number cannot both win (``IfNoneMatch``): the loser reads the new head and takes the
next one. ``verify`` walks the chain and reports the first record that was altered, removed
or inserted. (Records written before the chain, ``<UTC timestamp>-<random>.json``, sort first
and are listed, not verified.)

Under S3 Object Lock (prod; ``StackOutputs.audit_lock``) each record is also written with
its own lock mode and retain-until date, so S3 refuses the write outright if the bucket is
not under Object Lock, and nobody (in COMPLIANCE mode not even the root user) can delete or
rewrite a record before its retention ends. :meth:`AuditTrail.check_lock` verifies the
bucket before any action runs.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from pipelines.aws import describe_failure
from pipelines.errors import AuditWriteFailed, ContractError
from pipelines.lineage import git_commit

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sts import STSClient


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` → (``bucket``, ``a/b``)."""
    if not uri.startswith("s3://") or len(uri) <= 5:
        raise ContractError(f"expected an s3://bucket/prefix URI, got {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ContractError(f"expected an s3://bucket/prefix URI, got {uri!r}")
    return bucket, key


@dataclass(frozen=True)
class AuditRecord:
    action: str
    """``train``, ``register``, ``approve``, ``deploy``, ``rollback``, ``promote``, ``teardown``…"""
    outcome: str
    """``succeeded``, ``failed``, ``rolled_back``, ``needs_operator``, ``timed_out``, ``conflict``, ``no_op``…"""
    who: str
    when: str
    stack: str
    git_commit: str | None
    inputs: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    sequence: int | None = None
    """Its place in the hash chain (1 = the first chained record); None before the chain."""
    previous: str | None = None
    """The previous record's digest (None for the first)."""
    digest: str | None = None
    """SHA-256 of this record's content without this field (``content_digest``)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


SEQUENCE_PREFIX = "seq-"
"""Chained records' ids: ``seq-000000000001``; they sort after the older timestamped ids."""
MAX_APPEND_ATTEMPTS = 20


def content_digest(doc: dict[str, Any]) -> str:
    """SHA-256 of a record's canonical JSON without its own ``digest``."""
    content = {k: v for k, v in doc.items() if k != "digest"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def sequence_id(sequence: int) -> str:
    return f"{SEQUENCE_PREFIX}{sequence:012d}"


@dataclass(frozen=True)
class ChainCheck:
    """What ``AuditTrail.verify`` found."""

    records: int
    """Chained records checked."""
    unchained: int
    """Records from before the chain (listed, not verifiable)."""
    problem: str | None = None
    """The first break, naming the record; None when the chain holds."""

    @property
    def ok(self) -> bool:
        return self.problem is None


def caller_identity(sts: STSClient | None) -> str:
    """``<STS ARN> (<local user>)``; the local user alone when STS is unreachable."""
    user = os.environ.get("USER") or os.environ.get("USERNAME")
    if not user:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
    if sts is None:
        return user
    try:
        arn = sts.get_caller_identity()["Arn"]
    except (ClientError, BotoCoreError):
        return user
    return f"{arn} ({user})"


@dataclass(frozen=True)
class AuditLock:
    """The Object Lock every record is written under."""

    mode: str
    """``COMPLIANCE`` or ``GOVERNANCE``."""
    retention_days: int


def _lost_race(exc: ClientError) -> bool:
    """PutObject with IfNoneMatch refused because the key exists (412 PreconditionFailed, or
    409 ConditionalRequestConflict while another write of it is in flight)."""
    code = exc.response.get("Error", {}).get("Code")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412)


def _unreadable(promised: str, exc: Exception) -> AuditWriteFailed:
    return AuditWriteFailed(
        f"{promised}'s lock configuration cannot be read: "
        f"{describe_failure('GetObjectLockConfiguration', exc)}; nothing was done"
    )


class AuditTrail:
    """Append and list the records of one stack."""

    def __init__(
        self, s3: S3Client, uri: str, stack: str, who: str, lock: AuditLock | None = None
    ) -> None:
        self._s3 = s3
        self.bucket, prefix = split_s3_uri(uri)
        self.prefix = f"{prefix.rstrip('/')}/{stack}/".lstrip("/")
        self.stack = stack
        self.who = who
        self.lock = lock
        self._commit = git_commit()

    def check_lock(self) -> None:
        """Refuse to act when the contract promises Object Lock and the bucket lacks it."""
        lock = self.lock
        if lock is None:
            return
        promised = (
            f"the audit trail must be under S3 Object Lock ({lock.mode}, "
            f"{lock.retention_days} days) but s3://{self.bucket}"
        )
        enabled: str | None = None
        try:
            found = self._s3.get_object_lock_configuration(Bucket=self.bucket)
            enabled = found.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ObjectLockConfigurationNotFoundError":
                raise _unreadable(promised, exc) from exc
        except BotoCoreError as exc:
            raise _unreadable(promised, exc) from exc
        if enabled != "Enabled":
            raise AuditWriteFailed(
                f"{promised} has Object Lock off; deploy the stack (pulumi up) before running "
                "the pipeline; nothing was done"
            )

    def _lock_arguments(self, now: datetime) -> dict[str, Any]:
        if self.lock is None:
            return {}
        return {
            "ObjectLockMode": self.lock.mode,
            "ObjectLockRetainUntilDate": now + timedelta(days=self.lock.retention_days),
            # S3 requires an integrity checksum with Object Lock parameters
            "ChecksumAlgorithm": "SHA256",
        }

    def record(
        self,
        action: str,
        outcome: str,
        inputs: dict[str, Any] | None = None,
        **details: Any,
    ) -> AuditRecord:
        failure = (
            f"{action} ended {outcome!r} but its audit record could not be written to "
            f"s3://{self.bucket}/{self.prefix}"
        )
        for _ in range(MAX_APPEND_ATTEMPTS):
            try:
                head = self._head()
            except (ClientError, BotoCoreError, ValueError) as exc:
                raise AuditWriteFailed(
                    f"{failure}: the chain's head cannot be read ({exc})"
                ) from exc
            now = datetime.now(UTC)
            sequence = (head.sequence or 0) + 1 if head is not None else 1
            record = AuditRecord(
                id=sequence_id(sequence),
                action=action,
                outcome=outcome,
                who=self.who,
                when=now.isoformat(),
                stack=self.stack,
                git_commit=self._commit,
                inputs=dict(inputs or {}),
                details=details,
                sequence=sequence,
                previous=head.digest if head is not None else None,
            )
            doc = json.loads(json.dumps(record.to_json(), default=str))
            doc["digest"] = content_digest(doc)
            body = json.dumps(doc, sort_keys=True).encode()
            try:
                self._s3.put_object(
                    Bucket=self.bucket,
                    Key=f"{self.prefix}{record.id}.json",
                    Body=body,
                    ContentType="application/json",
                    IfNoneMatch="*",
                    **self._lock_arguments(now),
                )
            except ClientError as exc:
                if _lost_race(exc):
                    continue  # another writer took this number: chain after theirs
                raise AuditWriteFailed(f"{failure}: {describe_failure('PutObject', exc)}") from exc
            except BotoCoreError as exc:
                raise AuditWriteFailed(f"{failure}: {describe_failure('PutObject', exc)}") from exc
            return AuditRecord(**doc)
        raise AuditWriteFailed(
            f"{failure}: {MAX_APPEND_ATTEMPTS} other writers took the next place in the chain"
        )

    def _head(self) -> AuditRecord | None:
        """The newest chained record (None before the first)."""
        keys = [k for k in self._keys() if k[len(self.prefix) :].startswith(SEQUENCE_PREFIX)]
        return self._read(keys[-1]) if keys else None

    def _keys(self) -> list[str]:
        """Record keys, oldest first (keys start with the UTC time of the record)."""
        keys: list[str] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            keys.extend(
                obj["Key"] for obj in page.get("Contents", []) if obj["Key"].endswith(".json")
            )
        return sorted(keys)

    def _read(self, key: str) -> AuditRecord:
        raw = json.loads(self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        return AuditRecord(**raw)

    def records(self) -> list[AuditRecord]:
        """Every record of this stack, oldest first."""
        return [self._read(key) for key in self._keys()]

    def verify(self) -> ChainCheck:
        """Walk the chain oldest first: each record's digest of its own content, its number in
        sequence, and its link to the one before. The first break is named."""
        keys = self._keys()
        chained = [k for k in keys if k[len(self.prefix) :].startswith(SEQUENCE_PREFIX)]
        unchained = len(keys) - len(chained)
        previous: str | None = None
        for expected, key in enumerate(chained, start=1):
            name = f"s3://{self.bucket}/{key}"
            try:
                doc = json.loads(self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
            except ValueError:
                return ChainCheck(expected - 1, unchained, f"{name} is not a JSON record: altered")
            if not isinstance(doc, dict):
                return ChainCheck(expected - 1, unchained, f"{name} is not a record: altered")
            what = f"{name} ({doc.get('action')}, {doc.get('when')})"
            if (
                key != f"{self.prefix}{sequence_id(expected)}.json"
                or doc.get("sequence") != expected
            ):
                return ChainCheck(
                    expected - 1,
                    unchained,
                    f"{what}: expected record {expected} of the chain here; a record was "
                    "removed or inserted before it",
                )
            if doc.get("digest") != content_digest(doc):
                return ChainCheck(
                    expected - 1,
                    unchained,
                    f"{what}: its content does not match its digest: altered",
                )
            if doc.get("previous") != previous:
                return ChainCheck(
                    expected - 1,
                    unchained,
                    f"{what}: it does not link to record {expected - 1}'s digest: "
                    "the record before it was altered or replaced",
                )
            previous = doc["digest"]
        return ChainCheck(len(chained), unchained)

    def newest_first(self) -> Iterator[AuditRecord]:
        """Records newest first, each fetched only when the caller gets that far."""
        for key in reversed(self._keys()):
            yield self._read(key)
