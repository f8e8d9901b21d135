"""One model's serving process: the SageMaker framework containers' handler contract, locally.

``python -m localcloud.serving.worker --model-dir D [--code-dir C --program P]`` imports the
handler script, calls ``model_fn(model_dir)`` once, then answers requests framed on stdin /
stdout (``localcloud.serving.frames``). Handlers, as the SageMaker inference toolkit calls
them: ``transform_fn(model, body, content_type, accept)``, or ``input_fn(body,
content_type)`` → ``predict_fn(data, model)`` → ``output_fn(prediction, accept)``, each with
a default when the script does not define it (JSON and CSV decoding and encoding; a model
that is callable or has ``predict``).

A handler that raises answers status 500 (or the exception's ``status_code`` when it has a
4xx/5xx one), with its message; the process keeps serving. The handlers' own prints go to
stderr, never into the protocol.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO

from localcloud.serving.frames import read_frame, write_frame


def decode(body: bytes, content_type: str) -> Any:
    """The default ``input_fn``: JSON, or CSV rows of numbers (strings kept where not numeric)."""
    text = body.decode("utf-8")
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json":
        return json.loads(text)
    if kind == "text/csv":
        return [[_number(cell) for cell in line.split(",")] for line in text.splitlines() if line]
    raise UnsupportedType(
        f"unsupported content type {content_type!r}: use text/csv or application/json"
    )


def encode(prediction: Any, accept: str) -> tuple[bytes, str]:
    """The default ``output_fn``: JSON, or CSV (one row per line)."""
    kind = (accept or "application/json").split(";", 1)[0].strip().lower()
    if kind in ("application/json", "*/*"):
        return json.dumps(prediction).encode(), "application/json"
    if kind == "text/csv":
        rows = prediction if isinstance(prediction, list) else [prediction]
        lines = [",".join(map(str, r)) if isinstance(r, list | tuple) else str(r) for r in rows]
        return "\n".join(lines).encode(), "text/csv"
    raise UnsupportedType(f"unsupported accept type {accept!r}: use text/csv or application/json")


class UnsupportedType(ValueError):
    status_code = 415


def _number(cell: str) -> Any:
    try:
        return float(cell)
    except ValueError:
        return cell


def _predict(data: Any, model: Any) -> Any:
    if callable(model):
        return model(data)
    if hasattr(model, "predict"):
        return model.predict(data)
    raise TypeError("the model is neither callable nor has predict(): define predict_fn")


def load_script(code_dir: Path, program: str) -> ModuleType:
    sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location(Path(program).stem, code_dir / program)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {program} from {code_dir}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RequestContext:
    """What a handler that takes a ``context`` argument gets (as the SageMaker inference toolkit
    passes one): the request's ``custom_attributes`` (``X-Amzn-SageMaker-Custom-Attributes``)
    and ``response_custom_attributes``, returned to the caller as ``CustomAttributes``."""

    def __init__(self, custom_attributes: str | None) -> None:
        self.custom_attributes = custom_attributes
        self.response_custom_attributes: str | None = None


def _call(fn: Callable[..., Any], args: tuple[Any, ...], context: RequestContext) -> Any:
    """``fn(*args)``, or ``fn(*args, context)`` when it takes one more parameter."""
    try:
        wants = len(inspect.signature(fn).parameters) > len(args)
    except (TypeError, ValueError):
        wants = False
    return fn(*args, context) if wants else fn(*args)


class Handlers:
    def __init__(self, script: ModuleType | None) -> None:
        def get(name: str) -> Callable[..., Any] | None:
            fn = getattr(script, name, None)
            return fn if callable(fn) else None

        self.model_fn, self.transform_fn = get("model_fn"), get("transform_fn")
        self.input_fn, self.predict_fn, self.output_fn = (
            get("input_fn"),
            get("predict_fn"),
            get("output_fn"),
        )

    def load(self, model_dir: str) -> Any:
        if self.model_fn is None:
            raise RuntimeError("the inference script defines no model_fn(model_dir)")
        return self.model_fn(model_dir)

    def __call__(
        self, model: Any, body: bytes, content_type: str, accept: str, context: RequestContext
    ) -> tuple[bytes, str]:
        if self.transform_fn is not None:
            out = _call(self.transform_fn, (model, body, content_type, accept), context)
            result, kind = out if isinstance(out, tuple) else (out, accept)
            return _bytes(result), kind or accept
        data = (
            _call(self.input_fn, (body, content_type), context)
            if self.input_fn
            else decode(body, content_type)
        )
        prediction = (
            _call(self.predict_fn, (data, model), context)
            if self.predict_fn
            else _predict(data, model)
        )
        if self.output_fn is None:
            return encode(prediction, accept)
        out = _call(self.output_fn, (prediction, accept), context)
        result, kind = out if isinstance(out, tuple) else (out, accept)
        return _bytes(result), kind or accept


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return str(value).encode("utf-8")


def _status(exc: BaseException) -> int:
    code = getattr(exc, "status_code", None)
    return code if isinstance(code, int) and 400 <= code <= 599 else 500


def serve(handlers: Handlers, model: Any, requests: BinaryIO, replies: BinaryIO) -> None:
    while (frame := read_frame(requests)) is not None:
        header, body = frame
        start = time.perf_counter()
        accept = str(header.get("accept") or "application/json")
        context = RequestContext(header.get("custom_attributes"))
        try:
            result, kind = handlers(
                model, body, str(header.get("content_type", "")), accept, context
            )
            reply: dict[str, Any] = {"status": 200, "content_type": kind}
            if context.response_custom_attributes:
                reply["custom_attributes"] = str(context.response_custom_attributes)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            result = b""
            reply = {"status": _status(exc), "message": f"{type(exc).__name__}: {exc}"}
        reply["model_latency_us"] = int((time.perf_counter() - start) * 1e6)
        write_frame(replies, reply, result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud.serving.worker")
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--code-dir", default="")
    parser.add_argument("--program", default="")
    args = parser.parse_args(argv)
    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the handlers' prints go to stderr
    sys.stdout = sys.stderr
    try:
        script = load_script(Path(args.code_dir), args.program) if args.program else None
        handlers = Handlers(script)
        model = handlers.load(args.model_dir)
    except BaseException as exc:
        traceback.print_exc(file=sys.stderr)
        write_frame(replies, {"ready": False, "message": f"{type(exc).__name__}: {exc}"}, b"")
        return 1
    write_frame(replies, {"ready": True}, b"")
    serve(handlers, model, requests, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
