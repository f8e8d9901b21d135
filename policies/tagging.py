"""Required tags (``components.tags.REQUIRED_TAGS``) on every taggable resource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies import tokens
from policies.model import Context, Rule
from policies.values import CannotCheck, get, is_unknown


def check_required_tags(props: Mapping[str, Any], ctx: Context) -> list[str]:
    merged: dict[str, Any] = dict(ctx.default_tags)
    for prop in ("tagsAll", "tags"):
        value = get(props, prop)
        if isinstance(value, Mapping):
            merged.update(value)
    missing, unknown = [], []
    for tag in ctx.required_tags:
        value = merged.get(tag)
        if is_unknown(value):
            unknown.append(tag)
        elif not (isinstance(value, str) and value.strip()):
            missing.append(tag)
    if missing:
        return [f"missing required tags: {', '.join(missing)}"]
    if unknown:
        raise CannotCheck(f"tags {', '.join(unknown)}")
    return []


RULES: list[Rule] = [
    Rule(
        id="required-tags",
        description="Taggable resources carry the environment, owner and cost-centre tags",
        checkov_id=None,
        resource_types=tokens.TAGGABLE,
        check=check_required_tags,
    ),
]
