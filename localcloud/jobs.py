"""What training and processing jobs share: an entry point that really runs in a subprocess.

``JobProcess`` launches the entry point with stdout and stderr in the job's work directory,
reaps it, times it in real seconds against ``MaxRuntimeInSeconds`` (a process second is
compute, so one real second counts as one simulated second and the outcome never depends on
the clock's speed), stops it with SIGTERM and then SIGKILL after ``KILL_GRACE_SECONDS``, and
publishes its output to CloudWatch Logs (stream ``<job>/algo-1-<epoch>``) when the job's log
group exists. It never decides a job's state: ``training.TrainingRun`` and
``processing.ProcessingRun`` do, from simulated time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from localcloud.clock import SimClock

KILL_GRACE_SECONDS = 2.0
"""Real seconds between SIGTERM and SIGKILL when a job is stopped."""
STDERR_LINES = 8
"""How many of the last stderr lines a failure reason quotes."""


def base_env(cloud_env: dict[str, str]) -> dict[str, str]:
    """The few variables of ours a job's process keeps, plus the local cloud's AWS settings."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(cloud_env)
    return env


@dataclass(kw_only=True)
class JobProcess:
    account_id: str
    region: str
    name: str
    workdir: Path
    created: float
    """Simulated creation time."""
    started_real: float
    max_runtime: float | None
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    setup_failure: str | None = None
    """Why the job could not start (its inputs, its entry point): it fails with this reason."""
    exit_code: int | None = None
    exited_real: float | None = None
    stop_sim: float | None = None
    stop_real: float | None = None
    max_runtime_exceeded: bool = False
    done: bool = False

    @property
    def stdout(self) -> Path:
        return self.workdir / "stdout.log"

    @property
    def stderr(self) -> Path:
        return self.workdir / "stderr.log"

    @property
    def compute_seconds(self) -> float:
        """Real seconds the entry point ran (0 when it never exited or never started)."""
        if self.exited_real is None:
            return 0.0
        return self.exited_real - self.started_real

    def launch(self, argv: list[str], cwd: Path) -> None:
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.proc = subprocess.Popen(
                argv, cwd=cwd, env=self.env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
            )

    def request_stop(self, now: float, *, max_runtime: bool = False) -> None:
        self.stop_sim, self.stop_real = now, time.time()
        self.max_runtime_exceeded = max_runtime
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def poll(self, clock: SimClock) -> None:
        """Reap or kill the process (real time); never decides the job's state."""
        proc = self.proc
        if proc is None or self.exit_code is not None:
            return
        code = proc.poll()
        now_real = time.time()
        if code is not None:
            self.exit_code, self.exited_real = code, now_real
            return
        if self.stop_real is None and self.max_runtime is not None:
            if now_real - self.started_real > self.max_runtime:
                self.request_stop(self.runtime_exceeded_at(clock), max_runtime=True)
        elif self.stop_real is not None and now_real - self.stop_real > KILL_GRACE_SECONDS:
            proc.kill()

    def runtime_exceeded_at(self, clock: SimClock) -> float:
        """The simulated time the job is stopped at when it outlives MaxRuntimeInSeconds."""
        assert self.max_runtime is not None
        return clock.sim_at(self.started_real) + self.max_runtime

    def stderr_tail(self, lines: int = STDERR_LINES) -> str:
        if not self.stderr.exists():
            return ""
        return "\n".join(self.stderr.read_text(errors="replace").strip().splitlines()[-lines:])

    def publish_logs(self, group: str) -> None:
        """stdout and stderr to ``group``, stream ``<job>/algo-1-<epoch>``, when that log group
        exists (the stack creates it), as SageMaker does."""
        from moto.logs.models import logs_backends

        logs = logs_backends[self.account_id][self.region]
        if group not in logs.groups:
            return
        lines: list[str] = []
        for path in (self.stdout, self.stderr):
            if path.exists():
                lines += path.read_text(errors="replace").splitlines()
        stream = f"{self.name}/algo-1-{int(self.created)}"
        if stream not in logs.groups[group].streams:
            logs.create_log_stream(group, stream)
        stamp = int(time.time() * 1000)  # CloudWatch Logs drops events > 2 h in the future
        events = [{"timestamp": stamp, "message": line} for line in lines if line] or [
            {"timestamp": stamp, "message": "(no output)"}
        ]
        logs.put_log_events(group, stream, events)

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)
