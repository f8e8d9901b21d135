"""Quoting a received value in an error message, cut so that a huge value cannot make a huge
message (a 554-byte YAML alias bomb once wrote a 2 GB error)."""

from __future__ import annotations

from typing import Any

MAX_SHOWN_CHARS = 200
"""A value quoted in an error is cut here: a huge value must not make a huge message."""


def shown(value: Any) -> str:
    """``repr(value)``, cut to ``MAX_SHOWN_CHARS``."""
    text = repr(value)
    return (
        text if len(text) <= MAX_SHOWN_CHARS else f"{text[:MAX_SHOWN_CHARS]}... ({len(text)} chars)"
    )
