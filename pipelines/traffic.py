"""Predictions and bounded load: InvokeEndpoint against real AWS or the local cloud.

``invoke`` sends one request and returns what the endpoint answered (``ModelError`` and
``ValidationException`` as an ``Answer`` with the status, not an exception, so a load run
counts them). ``send_load`` sends ``rate × duration`` requests paced at ``rate`` a second of the
context's clock (simulated on the local cloud), or sends until ``stop`` is set, cycling
through the payloads; its summary counts requests, errors by code and variants, with latency
percentiles.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.aws import aws_call
from pipelines.clock import Clock
from pipelines.errors import BadInput

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024


@dataclass(frozen=True)
class Payload:
    body: bytes
    content_type: str


@dataclass(frozen=True)
class Answer:
    status: int
    """200, or the HTTP status of the error (424 for ModelError, 400 for validation)."""
    variant: str | None
    content_type: str | None
    body: bytes
    error_code: str | None = None
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "variant": self.variant,
            "content_type": self.content_type,
            "body": self.body.decode("utf-8", "replace"),
        }
        if self.error_code:
            out["error"] = {"code": self.error_code, "message": self.message}
        return out


def read_payloads(path: Path, content_type: str, flag: str = "--payloads") -> list[Payload]:
    """One payload per non-empty line of ``path`` (CSV rows or JSON documents)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{flag} {str(path)!r}: cannot read it as UTF-8 text ({exc})") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise BadInput(f"{flag} {str(path)!r}: no payloads (one per non-empty line)")
    return [Payload(line.encode(), content_type) for line in lines]


def invoke(
    runtime: Any,
    endpoint: str,
    payload: Payload,
    *,
    accept: str | None = None,
    variant: str | None = None,
    custom_attributes: str | None = None,
) -> Answer:
    from botocore.exceptions import ClientError

    if len(payload.body) > MAX_PAYLOAD_BYTES:
        raise BadInput(
            f"the request body is {len(payload.body)} bytes; InvokeEndpoint takes at most "
            f"{MAX_PAYLOAD_BYTES} (6 MB)"
        )
    request: dict[str, Any] = {
        "EndpointName": endpoint,
        "Body": payload.body,
        "ContentType": payload.content_type,
    }
    if accept:
        request["Accept"] = accept
    if variant:
        request["TargetVariant"] = variant
    if custom_attributes:
        request["CustomAttributes"] = custom_attributes
    with aws_call(f"InvokeEndpoint {endpoint}"):
        try:
            response = runtime.invoke_endpoint(**request)
        except ClientError as exc:
            return _error_answer(exc)
    return Answer(
        status=200,
        variant=response.get("InvokedProductionVariant"),
        content_type=response.get("ContentType"),
        body=response["Body"].read(),
    )


def _error_answer(exc: Any) -> Answer:
    meta = exc.response.get("ResponseMetadata", {})
    error = exc.response.get("Error", {})
    return Answer(
        status=int(meta.get("HTTPStatusCode", 0)),
        variant=None,
        content_type=None,
        body=b"",
        error_code=str(error.get("Code", "")),
        message=str(exc.response.get("OriginalMessage") or error.get("Message", "")),
    )


@dataclass
class LoadSummary:
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    variants: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    first_error: str = ""

    def add(self, answer: Answer, latency_ms: float) -> None:
        self.requests += 1
        self.latencies_ms.append(latency_ms)
        if answer.variant:
            self.variants[answer.variant] += 1
        if answer.error_code:
            self.errors[answer.error_code] += 1
            self.first_error = self.first_error or answer.message

    def percentile(self, p: int) -> float | None:
        if not self.latencies_ms:
            return None
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[p - 1]

    def error_rate(self) -> float:
        return sum(self.errors.values()) / self.requests if self.requests else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": dict(self.errors),
            "variants": dict(self.variants),
            "latency_ms": {f"p{p}": self.percentile(p) for p in (50, 90, 99)},
        }


def send_load(
    runtime: Any,
    endpoint: str,
    payloads: list[Payload],
    *,
    rate: float,
    clock: Clock,
    duration: float | None = None,
    stop: threading.Event | None = None,
    on_progress: Any = None,
) -> LoadSummary:
    """``rate`` requests a second (of ``clock``): ``rate × duration`` requests in all, or until
    ``stop``. A request that falls behind the schedule is sent at once (none is dropped), so
    the count is exact and only the pacing is best effort."""
    if not payloads:
        raise BadInput("no payloads to send")
    if not rate > 0:
        raise BadInput(f"--rate {rate!r}: must be a positive number of requests a second")
    summary = LoadSummary()
    start = clock.now()
    interval = 1.0 / rate
    total = None if duration is None else max(1, round(rate * duration))
    while not (stop is not None and stop.is_set()):
        if total is not None and summary.requests >= total:
            break
        elapsed = clock.now() - start
        due = start + summary.requests * interval
        if clock.now() < due:
            clock.sleep(min(due - clock.now(), 1.0))
            continue
        payload = payloads[summary.requests % len(payloads)]
        sent = time.perf_counter()
        answer = invoke(runtime, endpoint, payload)
        summary.add(answer, (time.perf_counter() - sent) * 1000.0)
        if on_progress is not None:
            on_progress(summary, elapsed)
    return summary
