"""The audit trail's hash chain: `mlops audit verify` passes on an untouched trail and names
the record when one is altered, removed or inserted."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from pipelines.audit import content_digest
from tests.pipeline.test_cli import mlops, write_outputs

pytestmark = pytest.mark.localcloud


def trail(stack: Any, n: int = 4) -> list[Any]:
    return [stack.ctx.audit.record("approve", "succeeded", {"i": i}) for i in range(n)]


def key_of(stack: Any, record: Any) -> str:
    return f"{stack.ctx.audit.prefix}{record.id}.json"


def test_records_link_to_the_one_before(stack: Any) -> None:
    records = trail(stack)
    assert [r.sequence for r in records] == [1, 2, 3, 4]
    assert records[0].previous is None
    assert [r.previous for r in records[1:]] == [r.digest for r in records[:-1]]
    stored = json.loads(
        stack.client("s3")
        .get_object(Bucket=stack.ctx.audit.bucket, Key=key_of(stack, records[2]))["Body"]
        .read()
    )
    assert stored["digest"] == content_digest(stored) == records[2].digest
    check = stack.ctx.audit.verify()
    assert check.ok and check.records == 4 and check.unchained == 0


def test_concurrent_writers_never_fork_the_chain(stack: Any) -> None:
    contexts = [stack.context() for _ in range(4)]
    threads = [
        threading.Thread(
            target=lambda c=c: [c.audit.record("deploy", "succeeded") for _ in range(3)]
        )
        for c in contexts
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check = stack.ctx.audit.verify()
    assert check.ok, check.problem
    assert check.records == 12


@pytest.mark.parametrize("which", [0, 2, 3])
def test_an_altered_record_is_named(
    stack: Any, which: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = trail(stack)
    s3 = stack.client("s3")
    key = key_of(stack, records[which])
    doc = json.loads(s3.get_object(Bucket=stack.ctx.audit.bucket, Key=key)["Body"].read())
    doc["outcome"] = "failed"  # history rewritten
    s3.put_object(Bucket=stack.ctx.audit.bucket, Key=key, Body=json.dumps(doc).encode())
    code, out = mlops(
        capsys,
        "audit",
        "verify",
        "--stack",
        "test",
        "--outputs",
        write_outputs(stack, tmp_path),
        "--json",
    )
    assert code == 1
    assert out["ok"] is False and out["records"] == which
    assert key in out["problem"] and "altered" in out["problem"]


def test_an_altered_record_with_a_recomputed_digest_breaks_the_next_link(stack: Any) -> None:
    records = trail(stack)
    s3 = stack.client("s3")
    key = key_of(stack, records[1])
    doc = json.loads(s3.get_object(Bucket=stack.ctx.audit.bucket, Key=key)["Body"].read())
    doc["who"] = "someone else"
    doc["digest"] = content_digest(doc)
    s3.put_object(Bucket=stack.ctx.audit.bucket, Key=key, Body=json.dumps(doc).encode())
    check = stack.ctx.audit.verify()
    assert not check.ok and check.records == 2
    assert key_of(stack, records[2]) in str(check.problem)
    assert "does not link to record 2" in str(check.problem)


def test_a_removed_record_is_named(stack: Any) -> None:
    records = trail(stack)
    s3 = stack.client("s3")
    s3.delete_object(Bucket=stack.ctx.audit.bucket, Key=key_of(stack, records[1]))
    check = stack.ctx.audit.verify()
    assert not check.ok and check.records == 1
    assert key_of(stack, records[2]) in str(check.problem) and "removed" in str(check.problem)


def test_an_intact_trail_verifies_through_the_cli(
    stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trail(stack, 3)
    outputs = write_outputs(stack, tmp_path)
    code, text = mlops(capsys, "audit", "verify", "--stack", "test", "--outputs", outputs)
    assert code == 0 and "3 record(s), chain intact" in text
    code, listed = mlops(capsys, "audit", "--stack", "test", "--outputs", outputs, "--json")
    assert code == 0 and [r["sequence"] for r in listed["records"]] == [1, 2, 3]
