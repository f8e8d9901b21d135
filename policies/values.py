"""Reading planned properties: unknown values, nested lookups and IAM policy documents.

Pure helpers with no pulumi import. A value the engine cannot know until apply is
"unknown": pulumi's ``Unknown`` object (mocks in preview), one of pulumi's unknown
sentinel strings (the engine's wire format, also what CrossGuard hands a policy),
or this package's own :data:`UNKNOWN` marker (for hand-written or JSON plans).
A rule that meets one raises :class:`CannotCheck`; it is reported as
"cannot check until apply", never as a pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

UNKNOWN: Final = "<unknown until apply>"
"""Marker for a planned value that only apply will know (use it in hand-built or JSON plans)."""

OTHER_UNKNOWN_MARKERS: Final = frozenset({"<unknown until deployed>"})
"""Markers other plan producers use (``stacks.offline.UNKNOWN``)."""

PULUMI_UNKNOWN_SENTINELS: Final = frozenset(
    {
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string (pulumi.runtime.rpc.UNKNOWN)
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)
"""The sentinels pulumi and pulumi_policy use for unknown values (pulumi_policy/proxy.py)."""


class CannotCheck(Exception):
    """A rule needs a value that is unknown until apply."""

    def __init__(self, path: str, reason: str = "unknown until apply"):
        self.path = path
        self.reason = reason
        super().__init__(f"cannot check until apply: {path} is {reason}")


def is_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return (
            value == UNKNOWN or value in PULUMI_UNKNOWN_SENTINELS or value in OTHER_UNKNOWN_MARKERS
        )
    cls = type(value)
    return cls.__name__ == "Unknown" and cls.__module__.startswith("pulumi")


def contains_unknown(text: str) -> bool:
    """A serialised document (e.g. a policy JSON) that embeds an unknown value."""
    markers = {UNKNOWN, *PULUMI_UNKNOWN_SENTINELS, *OTHER_UNKNOWN_MARKERS}
    return any(marker in text for marker in markers)


def plain(value: Any) -> Any:
    """Copy ``value`` into plain dicts and lists, keeping unknowns as they are.

    Unwraps pulumi_policy's unknown-checking proxies (which raise on access to an
    unknown) so rules can see the unknown and say so themselves.
    """
    if type(value).__name__ in {"_DictProxy", "_ListProxy"}:
        value = value["__target"]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(v) for v in value]
    return value


_ABSENT: Final = object()


def get(props: Any, path: str, *, ref: bool = False, missing_is_unknown: bool = False) -> Any:
    """The value at dotted ``path`` (``"dataCaptureConfig.kmsKeyId"``); ``None`` when absent.

    Raises :class:`CannotCheck` when the value, or a mapping on the way to it, is unknown.
    ``ref=True`` marks a value that normally comes from another resource's output (a key
    ARN, a bucket id): when ``missing_is_unknown`` is set too, its absence is reported as
    unknown, because pulumi mocks leave unresolved outputs out of the planned inputs.
    """
    current: Any = props
    walked: list[str] = []
    for part in path.split("."):
        walked.append(part)
        if is_unknown(current):
            raise CannotCheck(".".join(walked[:-1]) or path)
        if not isinstance(current, Mapping):
            return None
        current = current.get(part, _ABSENT)
        if current is _ABSENT or current is None:
            if ref and missing_is_unknown and len(walked) == len(path.split(".")):
                raise CannotCheck(path, "not in the plan (unknown until apply, or not set)")
            return None
    if is_unknown(current):
        raise CannotCheck(path)
    return current


def items(value: Any, path: str) -> list[Any]:
    """A list property (``None`` → empty); an unknown list raises :class:`CannotCheck`."""
    if value is None:
        return []
    if is_unknown(value):
        raise CannotCheck(path)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return [value]


def text_list(value: Any) -> list[str]:
    """IAM's ``"x"`` or ``["x", "y"]`` as a list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return [str(v) for v in value]
    return [str(value)]


def policy_document(value: Any, path: str) -> dict[str, Any] | None:
    """Parse an IAM/S3 policy given as JSON text or a mapping; ``None`` when absent."""
    if value is None:
        return None
    if is_unknown(value):
        raise CannotCheck(path)
    if isinstance(value, str):
        if contains_unknown(value):
            raise CannotCheck(path, "built from values unknown until apply")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return {"Statement": [], "_invalid": True}
        return parsed if isinstance(parsed, dict) else {"Statement": [], "_invalid": True}
    if isinstance(value, Mapping):
        return dict(value)
    return {"Statement": [], "_invalid": True}


def statements(document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The statements of a policy document (``Statement`` may be one object or a list)."""
    raw = document.get("Statement")
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return
    for statement in raw:
        if isinstance(statement, Mapping):
            yield dict(statement)
