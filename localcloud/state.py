"""What the local cloud adds to moto's backends: endpoint records, training runs, faults."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.alarm_evaluation import AlarmEvaluator
from localcloud.capture import CaptureBuffer
from localcloud.clock import SimClock
from localcloud.context import s3_backend
from localcloud.endpoints import EndpointRecord
from localcloud.metrics import TrafficMetrics
from localcloud.serving.pool import Worker
from localcloud.training import TrainingRun
from localcloud.wire import ApiError

Key = tuple[str, str, str]
"""(account id, region, resource name)."""


@dataclass
class InjectedError:
    """The next ``remaining`` calls of ``service:operation`` fail with this error (FAULTS 16)."""

    service: str
    operation: str
    code: str
    status: int
    message: str
    remaining: int


@dataclass
class CloudState:
    cloud_env: dict[str, str] = field(default_factory=dict)
    """The environment a training script gets (AWS_* pointing at the local cloud)."""
    endpoints: dict[Key, EndpointRecord] = field(default_factory=dict)
    training: dict[Key, TrainingRun] = field(default_factory=dict)
    faults: dict[Key, str] = field(default_factory=dict)
    errors: list[InjectedError] = field(default_factory=list)
    group_policies: dict[Key, str] = field(default_factory=dict)
    """Model package group resource policies (PutModelPackageGroupPolicy)."""
    metrics: TrafficMetrics = field(default_factory=TrafficMetrics)
    """Invocation metrics from traffic (also in moto's CloudWatch backend)."""
    alarms: AlarmEvaluator = field(default_factory=AlarmEvaluator)
    capture: CaptureBuffer = field(default_factory=CaptureBuffer)
    workers: dict[tuple[str, ...], Worker] = field(default_factory=dict)
    """(account, region, endpoint, variant, model) → the model's serving process."""
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="localcloud-")))

    def tick(self, clock: SimClock) -> None:
        """Bring alarms, endpoints, training jobs and capture files up to the simulated now
        (holding the lock). Alarms first: a rollout decides from their history."""
        now = clock.now()
        self.alarms.run(cloudwatch_backends(), self.metrics, now)
        for record in list(self.endpoints.values()):
            record.sync(clock)
        for run in list(self.training.values()):
            run.sync(clock)
        if self.capture.batches:
            self.capture.flush(s3_backend, now)
        self._stop_idle_workers()

    def _stop_idle_workers(self) -> None:
        """A worker whose endpoint is gone, or whose fleet no longer serves, is stopped."""
        for key in list(self.workers):
            account, region, endpoint, variant, model = key
            record = self.endpoints.get((account, region, endpoint))
            serving = record is not None and any(
                (v.name, v.model_name) == (variant, model)
                for v in [*record.variants, *(record.update.variants if record.update else [])]
            )
            if not serving:
                self.workers.pop(key).stop()

    def take_error(self, service: str, operation: str | None) -> ApiError | None:
        for injected in self.errors:
            if injected.operation == operation and injected.service in ("", service):
                injected.remaining -= 1
                if injected.remaining <= 0:
                    self.errors.remove(injected)
                return ApiError(injected.code, injected.message, injected.status)
        return None

    def reset(self) -> None:
        for run in self.training.values():
            run.cleanup()
        for worker in self.workers.values():
            worker.stop()
        self.workers.clear()
        self.metrics.clear()
        self.alarms.clear()
        self.capture.clear()
        self.endpoints.clear()
        self.training.clear()
        self.faults.clear()
        self.errors.clear()
        self.group_policies.clear()

    def close(self) -> None:
        self.reset()
        shutil.rmtree(self.workdir, ignore_errors=True)


def cloudwatch_backends() -> Iterator[tuple[str, str, Any]]:
    """Every CloudWatch backend moto has created: (account, region, backend)."""
    from moto.cloudwatch.models import cloudwatch_backends as backends

    for account, regions in list(backends.items()):
        for region, backend in list(regions.items()):
            if backend.alarms:
                yield account, region, backend
