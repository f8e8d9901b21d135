"""``LocalCloud``: moto in server mode on 127.0.0.1, extended with SageMaker's behaviour.

Every request goes through ``LocalCloudApp``, a WSGI wrapper around moto's app that

- serialises all request handling with one lock (moto is not thread-safe) and brings
  endpoints and training jobs up to the simulated now before each request;
- answers the SageMaker operations in ``sagemaker_ops.HANDLERS`` itself, and the processing
  job operations through ``processing.ProcessingJobs``;
- turns moto's ``NotImplementedError`` into an error the client sees
  (``NotImplemented: the local cloud does not implement sagemaker:X``, HTTP 501,
  never retried) instead of a 500 page;
- serves its own control API under ``/_localcloud/``:

  ``GET  /_localcloud/clock``  → ``{"now": <simulated epoch seconds>, "speed": <float>}``
  ``POST /_localcloud/faults`` ``{"endpoint": name, "outcome": "Failed" | "UpdateRollbackFailed",
  "region": optional}`` → forces the in-flight (or else the next) create/update of the
  endpoint to end that way (FAULTS 13); ``GET`` lists the armed faults.
  ``POST /_localcloud/errors`` ``{"operation": "DescribeEndpoint", "service": "sagemaker",
  "code": "ThrottlingException", "status": 400, "count": 2}`` → the next ``count`` calls of
  that operation fail with that error (throttling, transient 5xx; FAULTS 16).
  ``POST /moto-api/reset`` (moto's) also forgets the local cloud's own state.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from localcloud import alarm_history, cloudformation, processing
from localcloud.alarm_evaluation import restamp
from localcloud.clock import SimClock
from localcloud.context import Context, account_for
from localcloud.endpoints import arm_fault
from localcloud.s3policy import enforce_unconditional_statements
from localcloud.sagemaker_ops import HANDLERS, POST_HOOKS
from localcloud.serving import invoke
from localcloud.state import CloudState, InjectedError
from localcloud.wire import (
    DEFAULT_REGION,
    ApiError,
    Call,
    error_response,
    json_response,
    not_implemented,
    operation_from_message,
)

HOST = "127.0.0.1"
"""The only address the local cloud listens on."""
TICK_SECONDS = 0.05
"""How often (real seconds) a background thread reaps and times training processes."""

Response = tuple[int, list[tuple[str, str]], bytes]
StartResponse = Callable[..., Any]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


class LocalCloudApp:
    """The WSGI application: control API, extensions, then moto."""

    def __init__(
        self,
        moto_app: Any,
        clock: SimClock,
        state: CloudState,
        lock: threading.RLock,
        region: str = DEFAULT_REGION,
        processing_jobs: processing.ProcessingJobs | None = None,
    ) -> None:
        self.moto_app, self.clock, self.state, self.lock = moto_app, clock, state, lock
        self.region = region
        self.processing = processing_jobs or processing.ProcessingJobs()
        self.invocations = invoke.Invocations(clock, state, lock)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        invocation = invoke.match(environ)
        if path.startswith("/_localcloud/"):
            status, headers, body = self._control(environ, path)
        elif invocation is not None:  # takes the lock itself: the model runs outside it
            try:
                status, headers, body = self.invocations(environ, invocation, _read_body(environ))
            except Exception as exc:  # a bug of ours must reach the client, loudly
                call = Call.from_environ(environ, None)
                call.operation = "InvokeEndpoint"
                status, headers, body = error_response(call, _internal(call, exc))
        else:
            status, headers, body = self._aws(environ, path)
        start_response(f"{status} {_REASONS.get(status, 'Status')}", headers)
        return [body]

    # -- control API --------------------------------------------------------------------
    def _control(self, environ: dict[str, Any], path: str) -> Response:
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/_localcloud/clock" and method == "GET":
            return _json(200, {"now": self.clock.now(), "speed": self.clock.speed})
        if path == "/_localcloud/faults" and method == "GET":
            with self.lock:
                armed = [
                    {"account": a, "region": r, "endpoint": n, "outcome": o}
                    for (a, r, n), o in self.state.faults.items()
                ]
            return _json(200, {"faults": armed})
        if path == "/_localcloud/faults" and method == "POST":
            try:
                request = json.loads(_read_body(environ) or b"{}")
                endpoint, outcome = request["endpoint"], request["outcome"]
            except (ValueError, KeyError, TypeError):
                return _json(
                    400,
                    {
                        "error": 'expected JSON {"endpoint": name, "outcome": "Failed" | "UpdateRollbackFailed"}'
                    },
                )
            ctx = Context(
                request.get("account", account_for("testing")),
                request.get("region", self.region),
                self.clock,
                self.state,
            )
            try:
                with self.lock:
                    applies = arm_fault(ctx, str(endpoint), str(outcome))
            except ApiError as exc:
                return _json(400, {"error": exc.message})
            return _json(200, {"endpoint": endpoint, "outcome": outcome, "applies_to": applies})
        if path == "/_localcloud/errors" and method == "POST":
            try:
                request = json.loads(_read_body(environ) or b"{}")
                injected = InjectedError(
                    service=str(request.get("service", "")),
                    operation=str(request["operation"]),
                    code=str(request.get("code", "ThrottlingException")),
                    status=int(request.get("status", 400)),
                    message=str(
                        request.get("message", "Rate exceeded (injected by the local cloud)")
                    ),
                    remaining=int(request.get("count", 1)),
                )
            except (ValueError, KeyError, TypeError):
                return _json(
                    400,
                    {
                        "error": 'expected JSON {"operation": name, "code": str, "status": int, '
                        '"count": int, "service": optional, "message": optional}'
                    },
                )
            with self.lock:
                self.state.errors.append(injected)
            return _json(200, {"operation": injected.operation, "remaining": injected.remaining})
        return _json(404, {"error": f"no local cloud control route {method} {path}"})

    # -- AWS requests -------------------------------------------------------------------
    def _aws(self, environ: dict[str, Any], path: str) -> Response:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        form = environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
        body = _read_body(environ) if target.startswith("SageMaker.") or form else None
        call = Call.from_environ(environ, body)
        with self.lock:
            if path.startswith("/moto-api/reset"):
                self.state.reset()
                self.processing.reset()
            else:
                self.state.tick(self.clock)
                self.processing.tick(self.clock)
            injected = self.state.take_error(call.service, call.operation)
            if injected is not None:
                return error_response(call, injected)
            if (
                call.service == "sagemaker"
                and call.protocol == "json"
                and self.processing.handles(call.operation)
            ):
                ctx = Context(account_for(call.access_key), call.region, self.clock, self.state)
                try:
                    params = json.loads(body or b"{}")
                    return json_response(self.processing.handle(str(call.operation), ctx, params))
                except ApiError as exc:
                    return error_response(call, exc)
                except Exception as exc:  # moto's own validation, or a bug of ours: loudly
                    return error_response(call, _service_error(exc) or _internal(call, exc))
            if (
                call.service == "sagemaker"
                and call.protocol == "json"
                and call.operation in HANDLERS
            ):
                ctx = Context(account_for(call.access_key), call.region, self.clock, self.state)
                try:
                    result = HANDLERS[call.operation](ctx, json.loads(body or b"{}"))
                except ApiError as exc:
                    return error_response(call, exc)
                except Exception as exc:  # moto's own validation, or a bug of ours: loudly
                    return error_response(call, _service_error(exc) or _internal(call, exc))
                if call.operation in ("CreateEndpoint", "UpdateEndpoint"):
                    self.invocations.provision(ctx, str(json.loads(body or b"{}")["EndpointName"]))
                if result is not None:
                    return json_response(result)
            response = self._moto(environ, call)
            hook = POST_HOOKS.get(call.operation or "") if call.service == "sagemaker" else None
            if hook is not None and response[0] < 300 and call.protocol == "json":
                ctx = Context(account_for(call.access_key), call.region, self.clock, self.state)
                hook(ctx, json.loads(body or b"{}"), json.loads(response[2] or b"{}"))
            if call.service == "cloudwatch" and response[0] < 300:
                ctx = Context(account_for(call.access_key), call.region, self.clock, self.state)
                restamp(ctx.cloudwatch(), self.clock.now())
                if call.operation == "PutMetricData":
                    self.state.metrics.all_dirty = True
            if call.service == "s3" and _is_put_bucket_policy(environ) and response[0] < 300:
                bucket = environ.get("PATH_INFO", "").strip("/").split("/", 1)[0]
                ctx = Context(account_for(call.access_key), call.region, self.clock, self.state)
                enforce_unconditional_statements(ctx.s3(), bucket)
            return response

    def _moto(self, environ: dict[str, Any], call: Call) -> Response:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        try:
            chunks = self.moto_app(environ, capture)
            try:
                body = b"".join(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        except NotImplementedError as exc:
            operation = call.operation or operation_from_message(str(exc)) or "unknown operation"
            return error_response(call, not_implemented(call.service or "unknown", operation))
        except Exception as exc:  # a moto bug must reach the client, loudly
            return error_response(call, _internal(call, exc))
        return int(str(captured["status"]).split()[0]), list(captured["headers"]), body


def _is_put_bucket_policy(environ: dict[str, Any]) -> bool:
    query = environ.get("QUERY_STRING", "")
    return environ.get("REQUEST_METHOD") == "PUT" and "policy" in query.split("&")


def _service_error(exc: Exception) -> ApiError | None:
    """A moto client error raised inside one of our handlers (an unknown model, a value out of
    range): its code and message as the 400 AWS answers, not a retried 500."""
    from moto.core.exceptions import JsonRESTError, ServiceException

    if isinstance(exc, ServiceException):
        return ApiError(str(exc.code), str(exc.message), 400)
    if isinstance(exc, JsonRESTError) and 400 <= int(exc.code) < 500:
        return ApiError(str(exc.error_type), str(exc.message), int(exc.code))
    return None


def _internal(call: Call, exc: Exception) -> ApiError:
    operation = call.operation or "unknown operation"
    message = f"the local cloud failed on {call.service}:{operation}: {type(exc).__name__}: {exc}"
    return ApiError("InternalFailure", message, 500)


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return bytes(body)


def _warm_up(region: str) -> None:
    """Import the backends the extensions use now, not inside the first timed request."""
    from localcloud.context import Context
    from localcloud.sagemaker_ops import production_variant_instance_types

    state = CloudState()
    ctx = Context(account_for("testing"), region, SimClock(), state)
    ctx.sagemaker(), ctx.s3(), ctx.cloudwatch(), ctx.autoscaling()
    production_variant_instance_types()
    processing.check_request("ListProcessingJobs", {})  # loads botocore's SageMaker model
    state.close()


def _json(status: int, payload: dict[str, Any]) -> Response:
    return status, [("Content-Type", "application/json")], json.dumps(payload).encode()


class LocalCloud:
    """moto on ``127.0.0.1:<port>`` (0 = any free port) with SageMaker's rollout and training
    behaviour and a compressed clock (``speed`` simulated seconds per real second).

    ``with LocalCloud() as cloud: boto3.client("sagemaker", endpoint_url=cloud.endpoint_url, ...)``
    """

    def __init__(self, port: int = 0, speed: float = 600.0, region: str = DEFAULT_REGION) -> None:
        self.port = port
        self.region = region
        self.clock = SimClock(speed)
        self.lock = threading.RLock()
        self.state = CloudState()
        self.processing = processing.ProcessingJobs()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._ticker: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> LocalCloud:
        if self._server is not None:
            return self
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                pass

        _warm_up(self.region)
        alarm_history.install()
        cloudformation.install(self.clock, self.state)
        app = LocalCloudApp(
            DomainDispatcherApplication(create_backend_app),
            self.clock,
            self.state,
            self.lock,
            self.region,
            self.processing,
        )
        self._server = make_server(
            HOST, self.port, app, threaded=True, request_handler=QuietHandler
        )
        self.port = int(self._server.server_address[1])
        self.state.cloud_env = self.env()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="localcloud-http", daemon=True
        )
        self._thread.start()
        self._stopping.clear()
        self._ticker = threading.Thread(
            target=self._tick_forever, name="localcloud-tick", daemon=True
        )
        self._ticker.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        if self._ticker is not None:
            self._ticker.join()
        with self.lock:
            self.processing.reset()
            self.state.close()
        self._server = None

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _tick_forever(self) -> None:
        while not self._stopping.wait(TICK_SECONDS):
            with self.lock:
                if self.state.training:
                    self.state.tick(self.clock)
                if self.processing.active:
                    self.processing.tick(self.clock)

    # -- using it -----------------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError(
                "the local cloud is not started: call start() or use it as a context manager"
            )
        return f"http://{HOST}:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3 (and the AWS CLI) at this local cloud."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            # A proxy set on the machine must never carry local-cloud traffic off loopback.
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` on this local cloud."""
        import boto3

        factory: Any = boto3.client
        return factory(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def reset(self) -> None:
        """Empty every backend and forget all endpoints, jobs and faults (a fresh cloud)."""
        from moto.moto_api._internal.models import moto_api_backend

        with self.lock:
            self.state.reset()
            self.processing.reset()
            moto_api_backend.reset()
