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
