"""Data capture: sampled requests and responses as JSON Lines in SageMaker's record format.

Per the serving fleet's EndpointConfig ``DataCaptureConfig``: ``InitialSamplingPercentage``
of the invocations (an exact share, not a coin flip: 20 % is every fifth), ``Input`` and/or
``Output`` (``CaptureOptions``), ``CsvContentTypes`` / ``JsonContentTypes`` telling which
bodies are written as text (``CSV`` / ``JSON``); everything else (and everything when the
config has no ``CaptureContentTypeHeader``) is ``BASE64``, as SageMaker does. Records are batched
per endpoint, variant and hour into files under
``{DestinationS3Uri}/{EndpointName}/{VariantName}/yyyy/mm/dd/hh/{mm-ss-fff}-{uuid}.jsonl``;
a batch is written once it holds ``BATCH_RECORDS`` or is ``BATCH_SECONDS`` (simulated) old,
with SSE-KMS under the config's ``KmsKeyId``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from localcloud import s3io
from localcloud.clock import to_datetime

BATCH_RECORDS = 500
BATCH_SECONDS = 60.0


@dataclass
class Batch:
    account_id: str
    region: str
    prefix: str
    """``{DestinationS3Uri}/{EndpointName}/{VariantName}``."""
    hour: float
    started: float
    kms_key_id: str | None
    lines: list[str] = field(default_factory=list)


@dataclass
class CaptureBuffer:
    batches: dict[tuple[str, float], Batch] = field(default_factory=dict)
    seen: dict[tuple[str, str], int] = field(default_factory=dict)
    """(endpoint config, variant) → invocations so far (for the exact sampling share)."""

    def clear(self) -> None:
        self.batches.clear()
        self.seen.clear()

    def sampled(self, config_name: str, variant: str, percent: float) -> bool:
        """True for exactly ``percent`` % of the calls, spread evenly."""
        key = (config_name, variant)
        n = self.seen.get(key, 0)
        self.seen[key] = n + 1
        return math.floor((n + 1) * percent / 100.0) > math.floor(n * percent / 100.0)

    def add(self, batch_key: tuple[str, float], make: Any, line: str) -> None:
        batch = self.batches.get(batch_key)
        if batch is None:
            batch = self.batches[batch_key] = make()
        batch.lines.append(line)

    def flush(self, s3_for: Any, now: float) -> None:
        """Write every batch that is full or old enough."""
        for key, batch in list(self.batches.items()):
            if len(batch.lines) >= BATCH_RECORDS or now - batch.started >= BATCH_SECONDS:
                del self.batches[key]
                # the capture bucket gone: SageMaker drops the records too
                with contextlib.suppress(FileNotFoundError):
                    write(s3_for(batch.account_id, batch.region), batch)


def encoding(content_type: str, config: dict[str, Any]) -> str:
    header = config.get("CaptureContentTypeHeader") or {}
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in [t.lower() for t in header.get("CsvContentTypes") or ()]:
        return "CSV"
    if kind in [t.lower() for t in header.get("JsonContentTypes") or ()]:
        return "JSON"
    return "BASE64"  # SageMaker's default when no header lists the content type


def _payload(body: bytes, content_type: str, mode: str, config: dict[str, Any]) -> dict[str, Any]:
    kind = encoding(content_type, config)
    try:
        data = body.decode("utf-8") if kind != "BASE64" else None
    except UnicodeDecodeError:
        data, kind = None, "BASE64"
    return {
        "observedContentType": content_type,
        "mode": mode,
        "data": data if data is not None else base64.b64encode(body).decode(),
        "encoding": kind,
    }


def record_line(
    config: dict[str, Any],
    request: tuple[bytes, str],
    response: tuple[bytes, str] | None,
    at: float,
    event_id: str,
    inference_id: str | None = None,
) -> str | None:
    """One capture record (a JSON line), or ``None`` when nothing is captured."""
    modes = {o.get("CaptureMode") for o in config.get("CaptureOptions") or []} or {
        "Input",
        "Output",
    }
    data: dict[str, Any] = {}
    if "Input" in modes:
        data["endpointInput"] = _payload(*request, "INPUT", config)
    if "Output" in modes and response is not None:
        data["endpointOutput"] = _payload(*response, "OUTPUT", config)
    if not data:
        return None
    metadata = {
        "eventId": event_id,
        "inferenceTime": to_datetime(at).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if inference_id:
        metadata["inferenceId"] = inference_id
    return json.dumps({"captureData": data, "eventMetadata": metadata, "eventVersion": "0"})


def capture(
    buffer: CaptureBuffer,
    *,
    account_id: str,
    region: str,
    config_name: str,
    config: dict[str, Any] | None,
    endpoint: str,
    variant: str,
    request: tuple[bytes, str],
    response: tuple[bytes, str] | None,
    at: float,
    inference_id: str | None = None,
) -> bool:
    """Capture one invocation if the config says so; True when a record was kept."""
    if not config or not config.get("EnableCapture", True) or not config.get("DestinationS3Uri"):
        return False
    if not buffer.sampled(config_name, variant, float(config.get("InitialSamplingPercentage", 0))):
        return False
    line = record_line(config, request, response, at, str(uuid.uuid4()), inference_id)
    if line is None:
        return False
    prefix = f"{str(config['DestinationS3Uri']).rstrip('/')}/{endpoint}/{variant}"
    hour = math.floor(at / 3600.0) * 3600.0

    def make() -> Batch:
        return Batch(account_id, region, prefix, hour, at, config.get("KmsKeyId") or None)

    buffer.add((prefix, hour), make, line)
    return True


def write(s3: Any, batch: Batch) -> None:
    stamp = to_datetime(batch.started)
    key = (
        f"{batch.prefix}/{stamp:%Y/%m/%d/%H}/"
        f"{stamp:%M-%S}-{stamp.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
    )
    s3io.write(s3, key, ("\n".join(batch.lines) + "\n").encode(), kms_key_id=batch.kms_key_id)
