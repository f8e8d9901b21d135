"""What the local cloud adds to moto's backends: endpoint records, training runs, faults."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from localcloud.clock import SimClock
from localcloud.endpoints import EndpointRecord
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
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="localcloud-")))

    def tick(self, clock: SimClock) -> None:
        """Bring every endpoint and training job up to the simulated now (holding the lock)."""
        for record in list(self.endpoints.values()):
            record.sync(clock)
        for run in list(self.training.values()):
            run.sync(clock)

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
        self.endpoints.clear()
        self.training.clear()
        self.faults.clear()
        self.errors.clear()
        self.group_policies.clear()

    def close(self) -> None:
        self.reset()
        shutil.rmtree(self.workdir, ignore_errors=True)
