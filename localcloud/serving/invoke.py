"""sagemaker-runtime InvokeEndpoint: the request runs the deployed model for real.

``POST /endpoints/{name}/invocations`` (rest-json). Under the cloud's lock: find the
endpoint, route the request to a fleet (the variants' weights; during a blue/green traffic
step the new fleet gets the step's share; ``X-Amzn-SageMaker-Target-Variant`` overrides),
and make sure that fleet's model is unpacked. Outside the lock: the model's worker process
answers. Under the lock again: metrics and data capture, timestamped at the simulated now.

Errors as AWS gives them: an unknown endpoint → ``ValidationException`` "Endpoint X of
account Y not found."; one that is not serving (Creating, Failed, ...) or a body over 6 MB →
``ValidationException``; a model that answers 4xx/5xx, raises, crashes or times out →
``ModelError`` (HTTP 424) with ``OriginalStatusCode``, ``OriginalMessage`` and
``LogStreamArn``. InvokeEndpointWithResponseStream and InvokeEndpointAsync answer
NotImplemented.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from localcloud import capture, metrics
from localcloud.clock import SimClock
from localcloud.context import Context, account_for, s3_backend
from localcloud.endpoints import Update, Variant
from localcloud.serving import bundle
from localcloud.serving.pool import Reply, Worker, WorkerFailed
from localcloud.state import CloudState
from localcloud.wire import ApiError, Call, error_response, not_implemented, validation

PATH = re.compile(
    r"^/endpoints/(?P<name>[^/]+)/(?P<kind>invocations|invocations-response-stream|async-invocations)$"
)
MAX_BODY_BYTES = 6 * 1024 * 1024
NOT_SERVING = ("Creating", "Failed", "OutOfService", "Deleting")
UNIMPLEMENTED = {
    "invocations-response-stream": "InvokeEndpointWithResponseStream",
    "async-invocations": "InvokeEndpointAsync",
}
Response = tuple[int, list[tuple[str, str]], bytes]


@dataclass
class Routed:
    ctx: Context
    endpoint: str
    variant: str
    config_name: str
    instances: int | None
    worker: Worker | None
    failure: str | None
    """Why the fleet cannot answer at all (no handler script), if it cannot."""


def match(environ: dict[str, Any]) -> re.Match[str] | None:
    if environ.get("REQUEST_METHOD") != "POST":
        return None
    return PATH.match(environ.get("PATH_INFO", ""))


class Invocations:
    def __init__(self, clock: SimClock, state: CloudState, lock: threading.RLock) -> None:
        self.clock, self.state, self.lock = clock, state, lock

    def __call__(self, environ: dict[str, Any], found: re.Match[str], body: bytes) -> Response:
        call = Call.from_environ(environ, None)
        if found.group("kind") in UNIMPLEMENTED:
            return error_response(
                call, not_implemented("sagemaker", UNIMPLEMENTED[found.group("kind")])
            )
        name = unquote(found.group("name"))
        content_type = environ.get("CONTENT_TYPE") or "application/octet-stream"
        accept = environ.get("HTTP_ACCEPT") or "application/json"
        target = environ.get("HTTP_X_AMZN_SAGEMAKER_TARGET_VARIANT") or None
        inference_id = environ.get("HTTP_X_AMZN_SAGEMAKER_INFERENCE_ID") or None
        custom = environ.get("HTTP_X_AMZN_SAGEMAKER_CUSTOM_ATTRIBUTES") or None
        started = time.perf_counter()
        try:
            with self.lock:
                self.state.tick(self.clock)
                routed = self._route(call, name, target, len(body))
        except ApiError as exc:
            return error_response(call, exc)
        if routed.failure is not None or routed.worker is None:
            reply = Reply(500, b"", accept, routed.failure or "no model", 0)
        else:
            try:
                reply = routed.worker.invoke(body, content_type, accept, custom)
            except WorkerFailed as failed:
                reply = Reply(500, b"", accept, str(failed), 0)
        overhead_us = max(0, int((time.perf_counter() - started) * 1e6) - reply.model_latency_us)
        with self.lock:
            now = self.clock.now()
            ctx = routed.ctx
            metrics.record_invocation(
                self.state.metrics,
                ctx.cloudwatch(),
                ctx.account_id,
                ctx.region,
                name,
                routed.variant,
                now,
                metrics.invocation_values(
                    reply.status, routed.instances, reply.model_latency_us, overhead_us
                ),
            )
            config = ctx.sagemaker().endpoint_configs.get(routed.config_name)
            capture.capture(
                self.state.capture,
                account_id=ctx.account_id,
                region=ctx.region,
                config_name=routed.config_name,
                config=getattr(config, "data_capture_config", None),
                endpoint=name,
                variant=routed.variant,
                request=(body, content_type),
                response=(reply.body, reply.content_type) if reply.status < 400 else None,
                at=now,
                inference_id=inference_id,
            )
        if reply.status >= 400:
            return _model_error(call, routed, reply)
        headers = [
            ("Content-Type", reply.content_type),
            ("x-Amzn-Invoked-Production-Variant", routed.variant),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ]
        if reply.custom_attributes:
            headers.append(("X-Amzn-SageMaker-Custom-Attributes", reply.custom_attributes))
        return 200, headers, reply.body

    def _route(self, call: Call, name: str, target: str | None, size: int) -> Routed:
        ctx = Context(account_for(call.access_key), call.region, self.clock, self.state)
        record = self.state.endpoints.get((ctx.account_id, ctx.region, name))
        if record is None or name not in ctx.sagemaker().endpoints:
            raise validation(f"Endpoint {name} of account {ctx.account_id} not found.")
        if size > MAX_BODY_BYTES:
            raise validation(
                f"Request body of {size} bytes is larger than the maximum of {MAX_BODY_BYTES} "
                "bytes (6 MB) for InvokeEndpoint."
            )
        now = self.clock.now()
        status = record.status(now)
        if status in NOT_SERVING:
            raise validation(
                f"Endpoint {ctx.arn('endpoint', name)} is {status}; it accepts invocations once "
                "it is InService."
            )
        variant = record.route(now, target)
        if variant is None:
            known = sorted({v.name for v in record.variants})
            raise validation(
                f"The variant {target!r} is not serving on endpoint {name}; its variants: "
                f"{', '.join(known)}."
            )
        routed = Routed(
            ctx, name, variant.name, variant.config_name, variant.instance_count, None, None
        )
        try:
            routed.worker = self._worker(ctx, name, variant)
        except (ValueError, FileNotFoundError) as exc:
            routed.failure = str(exc)
        return routed

    def _worker(self, ctx: Context, endpoint: str, variant: Variant) -> Worker:
        """The fleet's model process (unpacked on first use; holding the lock)."""
        key = (ctx.account_id, ctx.region, endpoint, variant.name, variant.model_name)
        worker = self.state.workers.get(key)
        if worker is None:
            model = ctx.sagemaker()._models.get(variant.model_name)
            into = self.state.workdir / "serving" / "-".join(key).replace("/", "_")
            if model is None:
                raise ValueError(f"model {variant.model_name} does not exist")
            laid_out = bundle.prepare(s3_backend(ctx.account_id, ctx.region), model, into)
            env = {**os.environ, **self.state.cloud_env, "PYTHONDONTWRITEBYTECODE": "1"}
            worker = Worker(laid_out, into / "container.log", env)
            self.state.workers[key] = worker
        return worker

    def provision(self, ctx: Context, endpoint: str) -> None:
        """After CreateEndpoint / UpdateEndpoint: load every new fleet's model in the background
        (holding the lock), as SageMaker starts the containers while the fleet is Creating."""
        record = self.state.endpoints.get((ctx.account_id, ctx.region, endpoint))
        if record is None:
            return
        update = record.update
        fleet = update.variants if update is not None else record.variants
        for variant in fleet:
            try:
                worker = self._worker(ctx, endpoint, variant)
            except (ValueError, FileNotFoundError):
                continue  # nothing to load: the first request says why
            if update is not None:
                update.loading += 1
            else:
                record.loading += 1

            def loaded(update: Update | None = update) -> None:
                with self.lock:
                    record.model_loaded(update, self.clock.now())

            worker.warm_up(loaded)


def _model_error(call: Call, routed: Routed, reply: Reply) -> Response:
    ctx = routed.ctx
    kind = "client" if reply.status < 500 else "server"
    log_group = f"/aws/sagemaker/Endpoints/{routed.endpoint}"
    stream = f"{routed.variant}/i-local"
    log_arn = (
        f"arn:aws:logs:{ctx.region}:{ctx.account_id}:log-group:{log_group}:log-stream:{stream}"
    )
    message = (
        f'Received {kind} error ({reply.status}) from primary with message "{reply.message}". '
        f"See {log_group} (stream {stream}) in account {ctx.account_id} for more information."
    )
    body = {
        "__type": "ModelError",
        "message": message,
        "OriginalStatusCode": reply.status,
        "OriginalMessage": reply.message,
        "LogStreamArn": log_arn,
    }
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-ErrorType", "ModelError"),
        ("x-amzn-RequestId", str(uuid.uuid4())),
    ]
    return 424, headers, json.dumps(body).encode()
