"""`mlops demo --json` end to end, in its own process (it starts its own local cloud)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.localcloud
def test_demo_deploys_a_canary_and_rolls_one_back(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "demo", "--json", "--speed", "1200"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["stack"] == "local" and report["ok"] is True
    outcomes = [(s["name"], s["outcome"]) for s in report["steps"]]
    assert [o for _, o in outcomes] == [
        "materialised",
        "uploaded",
        "approved",
        "created",
        "approved",
        "deployed",
        "drift_alarm",
        "approved",
        "rolled_back",
    ]
    deployed, drifted, rolled_back = report["steps"][5], report["steps"][6], report["steps"][8]
    # Causal: traffic shifted on two features; the drift job named exactly those, its
    # DriftedFeatures datum crossed the drift alarm's threshold, and the alarm went into ALARM.
    assert drifted["drifted"] == drifted["expected"] == ["_c1", "_c2"]
    assert drifted["samples"] == 500 and drifted["files"] >= 1
    assert drifted["alarm_state"] == "ALARM"
    assert drifted["alarm_reason"].startswith("Threshold Crossed: 1 datapoint [2 (")
    assert drifted["report"].endswith("/report.html")
    assert rolled_back["endpoint_still_on_v2"] is True
    assert rolled_back["live_config"] == deployed["config"]
    assert "alarm" in rolled_back["error"] and "5xx" in rolled_back["error"]
    assert (
        rolled_back["alarm"].endswith("-5xx")
        and rolled_back["alarm"] in rolled_back["failure_reason"]
    )
    assert rolled_back["previous_config"] == deployed["config"] != rolled_back["config"]
    # Causal: v2 served traffic without a single model error; v3's canary answered ModelError
    # to part of the traffic, and that is what put the 5XX alarm into ALARM.
    assert deployed["traffic"]["requests"] > 0 and deployed["traffic"]["errors"] == {}
    assert rolled_back["traffic"]["model_errors"] >= 1
    assert 0 < rolled_back["traffic"]["error_rate"] < 1
    assert "above the range this model handles" in rolled_back["traffic"]["first_model_error"]
    audit = [(r["action"], r["outcome"]) for r in report["audit"]]
    assert audit.count(("train", "succeeded")) == 3 and audit.count(("register", "succeeded")) == 3
    assert [o for a, o in audit if a == "deploy"] == ["succeeded", "succeeded", "rolled_back"]
    assert audit.count(("monitor", "succeeded")) == 1
    assert report["audit_chain"] == {"ok": True, "records": len(audit), "problem": None}
    # lineage of the endpoint: v2 live (the v3 rollout rolled back), v1 before it, each with
    # its training data and approval
    lineage = report["lineage"]
    assert [s["config"] for s in lineage["served"]] == [
        report["steps"][3]["config"],
        deployed["config"],
    ]
    assert lineage["served"][-1]["until"] is None
    assert [p["version"] for p in lineage["packages"]] == [2, 1]
    assert all(p["datasets"]["train"].startswith("sha256:") for p in lineage["packages"])
    assert all(p["history"][0]["action"] == "register" for p in lineage["packages"])
    assert [r["config"] for r in lineage["rolled_back"]] == [rolled_back["config"]]
    assert (tmp_path / ".mlops" / "local" / "outputs-local.json").exists()
