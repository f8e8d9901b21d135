"""The examples run against the local cloud as documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.localcloud


def test_canary_rollback_script_ends_on_the_old_config(local_cloud: Any) -> None:
    from examples import canary_rollback

    said: list[str] = []
    final = canary_rollback.run(local_cloud.endpoint_url, say=said.append)
    assert final["EndpointStatus"] == "InService"
    assert final["EndpointConfigName"] == f"{canary_rollback.ENDPOINT}-v1"
    assert canary_rollback.ALARM in final["FailureReason"]
    assert any("RollingBack" in line for line in said)
    assert any("answering [0.5]" in line for line in said)  # v1 served for real
    assert any(line.startswith(f"{canary_rollback.ALARM}: Threshold Crossed") for line in said)
    assert "set_alarm_state" not in Path(canary_rollback.__file__).read_text()


def test_canary_rollback_script_refuses_non_loopback_endpoints() -> None:
    from examples import canary_rollback

    with pytest.raises(SystemExit, match="loopback"):
        canary_rollback.run("https://sagemaker.us-east-1.amazonaws.com")


def test_tabular_dataset_is_deterministic() -> None:
    from examples.tabular.make_dataset import make_splits

    first, again, other = make_splits(seed=7), make_splits(seed=7), make_splits(seed=8)
    assert first == again and first != other
    assert len(first["train"].splitlines()) == 600 and len(first["validation"].splitlines()) == 200


def test_tabular_inference_handlers_score_rows() -> None:
    from examples.tabular import inference

    model = {"weights": [1.0, -1.0, 0.0, 0.0], "bias": 0.0}
    data = inference.input_fn("3,0,0,0\n-3,0,0,0\n", "text/csv")
    scores = inference.predict_fn(data, model)
    assert scores[0] > 0.9 and scores[1] < 0.1
    assert inference.output_fn(scores, "text/csv").count("\n") == 1
