"""What ``mlops plan`` prints and returns for violations."""

from __future__ import annotations

import json

from policies import Violation, report

FOUND = [
    Violation("s3-bucket-versioning", "logs", "advisory", "no versioning", "CKV_AWS_21"),
    Violation(
        "logs-kms-encryption", "lg", "unknown", "cannot check until apply: kmsKeyId", "CKV_AWS_158"
    ),
    Violation("s3-bucket-encryption-kms", "data", "mandatory", "is 'AES256'", "CKV_AWS_145"),
]


def test_json_has_the_issue_fields() -> None:
    rows = report.as_json(FOUND)
    assert rows[2] == {
        "policy": "s3-bucket-encryption-kms",
        "resource": "data",
        "level": "mandatory",
        "message": "is 'AES256'",
        "checkov_id": "CKV_AWS_145",
    }
    json.dumps(rows)


def test_render_puts_mandatory_first_and_counts() -> None:
    lines = report.render(FOUND)
    assert lines[0] == "MANDATORY: s3-bucket-encryption-kms (CKV_AWS_145) on data: is 'AES256'"
    assert lines[-1] == "policy: 1 mandatory, 1 advisory, 1 cannot check until apply"


def test_exit_code() -> None:
    assert report.exit_code(FOUND) == 1
    assert report.exit_code(FOUND[:2]) == 0
    assert report.exit_code([]) == 0
