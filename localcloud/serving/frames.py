"""The worker protocol: a frame is a JSON header and a byte body, each length-prefixed."""

from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO

_LENGTHS = struct.Struct(">II")


def write_frame(stream: BinaryIO, header: dict[str, Any], body: bytes) -> None:
    head = json.dumps(header).encode()
    stream.write(_LENGTHS.pack(len(head), len(body)) + head + body)
    stream.flush()


def read_frame(stream: BinaryIO) -> tuple[dict[str, Any], bytes] | None:
    """The next frame, or ``None`` at the end of the stream."""
    prefix = _read_exactly(stream, _LENGTHS.size)
    if prefix is None:
        return None
    head_length, body_length = _LENGTHS.unpack(prefix)
    head = _read_exactly(stream, head_length)
    body = _read_exactly(stream, body_length) if body_length else b""
    if head is None or body is None:
        return None
    header: dict[str, Any] = json.loads(head)
    return header, body


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data
