"""The drift job's image: what its Dockerfile installs, and that its entry point runs here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from pipelines.monitoring.endpoint_cli import JOB_ENTRY_POINT

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "docker" / "monitor.Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    return [(line.split(None, 1)[0], line.split(None, 1)[1]) for line in lines]


def test_the_image_installs_the_project_from_the_lock_with_the_monitor_extra() -> None:
    steps = instructions()
    runs = [arg for op, arg in steps if op == "RUN"]
    syncs = [r for r in runs if "uv sync" in r]
    assert syncs and all(
        "--frozen" in r and "--extra monitor" in r and "--no-dev" in r for r in syncs
    )
    env = " ".join(arg for op, arg in steps if op == "ENV")
    assert "UV_COMPILE_BYTECODE=1" in env
    copied = {arg.split()[0] for op, arg in steps if op == "COPY"}
    assert {"pyproject.toml", "components", "pipelines"} <= copied
    assert ("USER", "10001") in steps  # not root
    assert any(op == "FROM" and "python:3.11" in arg for op, arg in steps)


def test_the_processing_entry_point_is_the_jobs_module() -> None:
    assert JOB_ENTRY_POINT == ["python3", "-m", "pipelines.monitoring.job"]
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.monitoring.job", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0 and "--job" in done.stdout


def test_a_job_without_its_inputs_exits_2_with_the_reason(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.monitoring.job", "--job", str(tmp_path / "job.json")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert "job.json" in done.stderr and "Traceback" not in done.stderr
