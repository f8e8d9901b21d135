"""Small check builders shared by the rule modules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.model import Context, ResourceCheck
from policies.values import get


def require_reference(path: str, purpose: str) -> ResourceCheck:
    """``path`` must name another resource (a KMS key, typically): set and non-empty."""

    def check(props: Mapping[str, Any], ctx: Context) -> list[str]:
        value = get(props, path, ref=True, missing_is_unknown=ctx.missing_is_unknown)
        return [] if value else [f"{path} is not set: {purpose}"]

    return check


def require_true(path: str, default: bool = False) -> ResourceCheck:
    """A boolean that must be true (``default`` is the provider's value when it is absent)."""

    def check(props: Mapping[str, Any], ctx: Context) -> list[str]:
        value = get(props, path)
        if (default if value is None else value) is True:
            return []
        shown = f"absent (defaults to {str(default).lower()})" if value is None else repr(value)
        return [f"{path} is {shown}; it must be true"]

    return check


def is_aws_managed_key(value: str) -> bool:
    """``alias/aws/sns`` or ``arn:aws:kms:<region>:<account>:alias/aws/sns``: an AWS-managed
    key (its policy is AWS's; other services and accounts cannot be granted it)."""
    alias = value.split(":", 5)[5] if value.startswith("arn:") and value.count(":") >= 5 else value
    return alias.startswith("alias/aws/")


def require_customer_managed_key(path: str, purpose: str) -> ResourceCheck:
    """``path``, when set, must not name an AWS-managed key (absent: another rule's concern)."""

    def check(props: Mapping[str, Any], ctx: Context) -> list[str]:
        value = get(props, path)
        if not isinstance(value, str) or not is_aws_managed_key(value):
            return []
        return [
            f"{path} is {value!r}, an AWS-managed key; {purpose} (the platform key's ARN, "
            "components.kms.PlatformKey)"
        ]

    return check
