"""``PlatformKey``: rotation, deletion window, policy and alias under mocks; protection."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.config import Retention
from components.iam import key_policy
from components.kms import PlatformKey, key_settings

ACCOUNT = "123456789012"


def test_key_has_rotation_a_30_day_window_and_the_platform_policy(run_mocked: Any) -> None:
    def program() -> None:
        key = PlatformKey("k", {"alias": "mlops-stack-prod", "tags": {"owner": "ml"}})
        pulumi.export("arn", key.arn)
        pulumi.export("alias", key.alias_name)

    run = run_mocked(program, region="eu-west-1")
    assert [(r.type, r.name) for r in run.resources] == [
        ("mlops:security:PlatformKey", "k"),
        ("aws:kms/key:Key", "k"),
        ("aws:kms/alias:Alias", "k-alias"),
    ]
    key = run.named("k").inputs
    assert key["enableKeyRotation"] is True
    assert key["deletionWindowInDays"] == 30
    assert key["keyUsage"] == "ENCRYPT_DECRYPT"
    assert key["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert key["tags"] == {"owner": "ml"}
    assert json.loads(key["policy"]) == key_policy("aws", "eu-west-1", ACCOUNT)

    alias = run.named("k-alias").inputs
    assert alias["name"] == "alias/mlops-stack-prod"
    assert alias["targetKeyId"] == run.named("k").id
    assert run.outputs["arn"].startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/")
    assert run.outputs["alias"] == "alias/mlops-stack-prod"


def test_key_arn_is_unknown_in_preview_and_nothing_crashes(run_mocked: Any) -> None:
    def program() -> None:
        pulumi.export("arn", PlatformKey("k", {"alias": "a"}).arn)

    run = run_mocked(program, preview=True)
    assert run.outputs["arn"] == "<unknown until deployed>"
    # the policy is built from plain strings: known even in preview
    assert json.loads(run.named("k").inputs["policy"])["Statement"]


@pytest.mark.parametrize(
    ("retention", "protect", "protect_arg", "retain"),
    [
        (Retention.RETAIN, True, None, True),
        (Retention.RETAIN, False, False, True),
        (Retention.DESTROY, False, None, False),
    ],
)
def test_key_protection_follows_retention(
    retention: Retention, protect: bool, protect_arg: bool | None, retain: bool
) -> None:
    args: Any = {"alias": "a", "retention": retention}
    if protect_arg is not None:
        args["protect"] = protect_arg
    settings = key_settings(args)
    assert (settings.protection.protect, settings.protection.retain_on_delete) == (
        protect,
        retain,
    )


def test_deletion_window_outside_kms_limits_is_refused() -> None:
    with pytest.raises(ValueError, match="deletion_window_days 3 is outside KMS's 7–30 days"):
        key_settings({"alias": "a", "deletion_window_days": 3})
