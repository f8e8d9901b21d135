"""`mlops lineage`: from the audit trail and the packages' records, the chain dataset →
training job → package → config → endpoint, with the time each config served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.pipeline.test_cli import mlops, write_outputs

pytestmark = pytest.mark.localcloud


@pytest.fixture
def two_versions(stack: Any) -> tuple[Any, str, str, Any, Any]:
    from pipelines.deploy import deploy

    v1 = stack.approved_package(0.9)
    first = deploy(stack.ctx, "churn", v1)
    v2 = stack.approved_package(0.95)
    second = deploy(stack.ctx, "churn", v2)
    return stack, v1, v2, first, second


def test_endpoint_lineage_shows_live_and_previous_models_with_data_and_approvals(
    two_versions: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, v1, v2, first, second = two_versions
    outputs = write_outputs(stack, tmp_path)
    code, out = mlops(
        capsys, "lineage", "--endpoint", "churn", "--stack", "test", "--outputs", outputs, "--json"
    )
    assert code == 0, out
    assert [p["arn"] for p in out["packages"]] == [v2, v1]  # the live one first
    live = out["packages"][0]
    assert live["status"] == "Approved" and live["training_job"]
    assert live["datasets"]["train"].startswith("sha256:")
    assert live["metrics"]["validation:accuracy"] == pytest.approx(0.95)
    assert [h["action"] for h in live["history"]] == ["register"]
    assert live["history"][0]["status"] == "Approved"
    served = out["served"]
    assert [(s["config"], s["package_arn"]) for s in served] == [
        (first.config_name, v1),
        (second.config_name, v2),
    ]
    assert served[0]["until"] == served[1]["since"] and served[1]["until"] is None
    assert out["missing"] == []
    code, text = mlops(
        capsys, "lineage", "--endpoint", "churn", "--stack", "test", "--outputs", outputs
    )
    assert code == 0 and f"served {second.config_name} from" in text and "now (live)" in text


def test_package_and_dataset_lineage_go_the_other_way(
    two_versions: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, v1, v2, first, _ = two_versions
    outputs = write_outputs(stack, tmp_path)
    common = ["--stack", "test", "--outputs", outputs, "--json"]
    code, out = mlops(capsys, "lineage", "--package", v1, *common)
    assert code == 0
    assert [s["config"] for s in out["served"]] == [first.config_name]
    assert out["served"][0]["until"] is not None  # replaced by v2
    version = out["packages"][0]["datasets"]["train"].removeprefix("sha256:")[:12]
    code, out = mlops(capsys, "lineage", "--dataset", f"train:{version}", *common)
    assert code == 0
    assert {p["arn"] for p in out["packages"]} == {v1, v2}  # same data, both versions
    assert len(out["served"]) == 2
    code, out = mlops(capsys, "lineage", "--dataset", "train:0000", *common)
    assert code == 2 and "no model package" in out["message"]
    code, out = mlops(capsys, "lineage", "--dataset", "train", *common)
    assert code == 2 and "expected CHANNEL:VERSION" in out["message"]


def test_graph_formats(
    two_versions: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack, *_ = two_versions
    common = ["--endpoint", "churn", "--stack", "test", "--outputs", write_outputs(stack, tmp_path)]
    code, graph = mlops(capsys, "lineage", *common, "--format", "mermaid")
    assert code == 0 and graph.startswith("flowchart LR")
    assert graph.count("-->") >= 6  # data → job → package → config → endpoint, twice
    assert "model package v2 (Approved)" in graph
    code, graph = mlops(capsys, "lineage", *common, "--format", "dot")
    assert code == 0 and graph.startswith("digraph lineage {") and graph.rstrip().endswith("}")


def test_a_rollback_to_a_config_without_a_deploy_record_says_what_is_missing(stack: Any) -> None:
    from pipelines import provenance

    stack.ctx.audit.record(
        "rollback",
        "succeeded",
        {"endpoint": stack.outputs.endpoint("churn").endpoint_name},
        config="mlops-stack-test-churn-old",
    )
    lineage = provenance.for_endpoint(stack.ctx, "churn")
    assert [s.config for s in lineage.served] == ["mlops-stack-test-churn-old"]
    assert lineage.missing == [
        "config mlops-stack-test-churn-old: no deploy record names its model package"
    ]
