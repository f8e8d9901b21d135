"""Violations for people and machines: what ``mlops plan`` prints and returns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from policies.model import Violation

_ORDER = {"mandatory": 0, "advisory": 1, "unknown": 2}
_LABEL = {"mandatory": "MANDATORY", "advisory": "advisory", "unknown": "cannot check until apply"}


def as_json(violations: Iterable[Violation]) -> list[dict[str, Any]]:
    """``--json``'s ``"violations"``: policy, resource, level, message (+ checkov_id)."""
    return [
        {
            "policy": v.policy,
            "resource": v.resource,
            "level": v.level,
            "message": v.message,
            "checkov_id": v.checkov_id,
        }
        for v in violations
    ]


def summary(violations: Iterable[Violation]) -> str:
    found = list(violations)
    counts = {level: sum(v.level == level for v in found) for level in _ORDER}
    return (
        f"policy: {counts['mandatory']} mandatory, {counts['advisory']} advisory, "
        f"{counts['unknown']} cannot check until apply"
    )


def render(violations: Iterable[Violation]) -> list[str]:
    """One line per violation, mandatory first, then a summary line."""
    found = sorted(violations, key=lambda v: (_ORDER[v.level], v.policy, v.resource))
    lines = []
    for v in found:
        rule = f"{v.policy} ({v.checkov_id})" if v.checkov_id else v.policy
        lines.append(f"{_LABEL[v.level]}: {rule} on {v.resource}: {v.message}")
    lines.append(summary(found))
    return lines


def exit_code(violations: Iterable[Violation]) -> int:
    """1 when a mandatory rule fails (``mlops plan``'s contract), else 0."""
    return 1 if any(v.level == "mandatory" for v in violations) else 0
