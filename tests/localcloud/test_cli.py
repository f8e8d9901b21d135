"""`mlops local serve` in the foreground: prints the endpoint and env lines, serves, stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.localcloud


def test_local_serve_prints_the_environment_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "local",
            "serve",
            "--port",
            "0",
            "--speed",
            "60",
            "--empty",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line.strip())
            if line.startswith("Ctrl-C"):
                break
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in lines
            if line.startswith("export AWS_")
        )
        url = exports["AWS_ENDPOINT_URL"]
        assert url.startswith("http://127.0.0.1:")
        assert exports["AWS_ACCESS_KEY_ID"] == "testing"
        with urllib.request.urlopen(f"{url}/_localcloud/clock") as response:
            assert json.load(response)["speed"] == 60.0
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
