"""Shared fixtures. Heavy SDKs are imported inside the fixtures, not at collection."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
STACKS_DIR = REPO / "stacks"


@dataclass
class Recorded:
    """What a program registered under the mocks, and what it exported."""

    resources: list[Any]
    """``stacks.offline.PlannedResource`` in registration order."""
    outputs: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Any]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Any:
        found = [r for r in self.resources if r.name == name and r.custom]
        assert len(found) == 1, f"expected one resource named {name!r}, found {len(found)}"
        return found[0]

    def names(self, type_: str) -> list[str]:
        return sorted(r.name for r in self.of_type(type_))


@pytest.fixture
def run_mocked() -> Callable[..., Recorded]:
    """Run a program (a function registering resources and exporting values) under a fresh
    Pulumi mock runtime with ``stacks.offline.PlatformMocks``; unstubbed invokes raise."""

    def run(
        program: Callable[[], Any],
        *,
        preview: bool = False,
        region: str = "eu-west-1",
        stack: str = "test",
        config: dict[str, str] | None = None,
        mocks: Any = None,
    ) -> Recorded:
        from stacks.offline import PlatformMocks, run_program

        mocks = mocks if mocks is not None else PlatformMocks()
        outputs, warnings = run_program(
            program,
            mocks=mocks,
            stack=stack,
            config={"aws:region": region, **(config or {})},
            preview=preview,
        )
        return Recorded(resources=list(mocks.resources), outputs=outputs, warnings=warnings)

    return run


LOCAL_CLOUD_SPEED = float(os.environ.get("MLOPS_LOCALCLOUD_SPEED", "1500"))
"""Simulated seconds per real second in tests: a 10-minute canary bake lasts 0.4 s."""


@pytest.fixture(scope="session")
def _local_cloud_server() -> Iterator[Any]:
    from localcloud import LocalCloud

    with LocalCloud(port=0, speed=LOCAL_CLOUD_SPEED) as cloud:
        yield cloud


@pytest.fixture
def local_cloud(_local_cloud_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A ``localcloud.LocalCloud`` on 127.0.0.1 (one server per xdist worker, port 0) with
    empty backends for this test, and the AWS_* environment pointing at it."""
    cloud = _local_cloud_server
    cloud.reset()
    for key, value in cloud.env().items():
        monkeypatch.setenv(key, value)
    return cloud


def pytest_configure(config: pytest.Config) -> None:
    # pulumi_aws warns about its own deprecated V2 classes when its modules are imported,
    # whether or not a program uses them (we use the current, non-V2 resources).
    config.addinivalue_line("filterwarnings", r"ignore::DeprecationWarning:pulumi_aws\..*")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Under ``make``, say how long the whole ``make test`` took (setup, lint, types, tests)."""
    started = os.environ.get("MLOPS_MAKE_STARTED", "")
    if started.isdigit():
        import time

        elapsed = time.time() - int(started)
        terminalreporter.write_line(
            f"make: {elapsed:.0f} s since it started (setup, lint and types included); "
            "the suite's budget is 5 minutes on 2 cores"
        )
