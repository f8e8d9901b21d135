"""Model worker processes: one per (endpoint, variant, model), started on first use.

A model runs in its own process so that it can neither crash nor block the server: a request
waits at most ``INVOCATION_TIMEOUT_SECONDS`` (real; SageMaker's own limit is 60 s), after
which the worker is killed and restarted on the next request.
"""

from __future__ import annotations

import select
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud.serving.frames import read_frame, write_frame

INVOCATION_TIMEOUT_SECONDS = 60.0
LOAD_TIMEOUT_SECONDS = 120.0


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str
    message: str
    model_latency_us: int
    custom_attributes: str | None = None


@dataclass(frozen=True)
class Bundle:
    """A model laid out on disk as a serving container sees it."""

    model_dir: Path
    code_dir: Path | None
    program: str | None


class WorkerFailed(Exception):
    """The worker could not load the model, crashed, or timed out (the message says which)."""


class Worker:
    def __init__(self, bundle: Bundle, log_path: Path, env: dict[str, str]) -> None:
        self.bundle, self.log_path, self.env = bundle, log_path, env
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "localcloud.serving.worker", "--model-dir"]
        command.append(str(self.bundle.model_dir))
        if self.bundle.program and self.bundle.code_dir is not None:
            command += ["--code-dir", str(self.bundle.code_dir), "--program", self.bundle.program]
        log = self.log_path.open("ab")
        proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=self.env,
            bufsize=0,
            cwd=str(self.bundle.model_dir),
        )
        log.close()
        header = self._reply(proc, LOAD_TIMEOUT_SECONDS, "loading the model")[0]
        if not header.get("ready"):
            proc.wait(timeout=10)
            raise WorkerFailed(f"the model failed to load: {header.get('message', '')}")
        return proc

    def _reply(
        self, proc: subprocess.Popen[bytes], timeout: float, doing: str
    ) -> tuple[dict[str, Any], bytes]:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        if not ready:
            proc.kill()
            proc.wait()
            raise WorkerFailed(f"timed out after {timeout:g} s {doing}")
        frame = read_frame(proc.stdout)  # type: ignore[arg-type]
        if frame is None:
            code = proc.wait()
            raise WorkerFailed(f"the model process exited (code {code}) while {doing}")
        return frame

    def invoke(
        self,
        body: bytes,
        content_type: str,
        accept: str,
        custom_attributes: str | None = None,
        timeout: float = INVOCATION_TIMEOUT_SECONDS,
    ) -> Reply:
        """One request; ``WorkerFailed`` when the process failed (it is restarted next time)."""
        with self.lock:
            proc = self._running()
            assert proc.stdin is not None
            try:
                request = {
                    "content_type": content_type,
                    "accept": accept,
                    "custom_attributes": custom_attributes,
                }
                write_frame(proc.stdin, request, body)  # type: ignore[arg-type]
                header, result = self._reply(proc, timeout, "answering the request")
            except (WorkerFailed, BrokenPipeError, OSError) as exc:
                self.proc = None
                raise WorkerFailed(str(exc)) from None
        return Reply(
            status=int(header.get("status", 500)),
            body=result,
            content_type=str(header.get("content_type") or accept),
            message=str(header.get("message", "")),
            model_latency_us=int(header.get("model_latency_us", 0)),
            custom_attributes=header.get("custom_attributes"),
        )

    def _running(self) -> subprocess.Popen[bytes]:
        """The process, started (and the model loaded) if it is not running (holding the lock)."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            self.proc = self._start()
        return self.proc

    def warm_up(self, done: Callable[[], None]) -> None:
        """Start the process and load the model in the background, as SageMaker does while a
        fleet is provisioned, then call ``done`` (also after a failure, which the first request
        reports and retries)."""

        def start() -> None:
            try:
                with self.lock:
                    try:
                        self._running()
                    except (WorkerFailed, OSError):
                        self.proc = None
            finally:
                done()

        threading.Thread(target=start, name="model-warm-up", daemon=True).start()

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
