"""KMS keys: automatic rotation for symmetric encryption keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies import tokens
from policies.model import Context, Rule
from policies.values import get

_SYMMETRIC = "SYMMETRIC_DEFAULT"


def check_rotation(props: Mapping[str, Any], ctx: Context) -> list[str]:
    spec = get(props, "customerMasterKeySpec") or _SYMMETRIC
    usage = get(props, "keyUsage") or "ENCRYPT_DECRYPT"
    if spec != _SYMMETRIC or usage != "ENCRYPT_DECRYPT":
        return []  # AWS rotates only symmetric encryption keys
    if get(props, "enableKeyRotation") is True:
        return []
    return ["enableKeyRotation is not true; customer-managed keys must rotate"]


RULES: list[Rule] = [
    Rule(
        id="kms-key-rotation",
        description="KMS symmetric keys rotate automatically",
        checkov_id="CKV_AWS_7",
        resource_types=tokens.KMS_KEY,
        check=check_rotation,
    ),
]
