"""The example model's metrics, which the shipped stacks' quality gates read by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from examples.tabular import METRIC_DEFINITIONS
from examples.tabular.train import auc

STACKS_DIR = Path(__file__).resolve().parents[2] / "stacks"


@pytest.mark.parametrize(
    ("scored", "expected"),
    [
        ([(0.1, 0), (0.9, 1)], 1.0),
        ([(0.9, 0), (0.1, 1)], 0.0),
        ([(0.5, 0), (0.5, 1)], 0.5),
        ([(0.1, 0), (0.4, 1), (0.35, 0), (0.8, 1)], 1.0),
        ([(0.1, 0), (0.3, 1), (0.35, 0), (0.8, 1)], 0.75),
    ],
)
def test_auc_is_the_rank_statistic(scored: list[tuple[float, int]], expected: float) -> None:
    assert auc(scored) == pytest.approx(expected)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "local"])
def test_every_gate_metric_is_one_the_example_reports(stack: str) -> None:
    """A gate on a metric the job never emits would reject every package."""
    document = yaml.safe_load((STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())
    gate = document["config"]["mlops:platform"].get("quality_gate", {})
    reported = {d["Name"] for d in METRIC_DEFINITIONS}
    assert set(gate.get("thresholds", {})) <= reported
