"""`mlops plan` through the CLI entry point, for every stack file and a broken one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from components.contract import StackOutputs, output_names
from pipelines.cli import main
from pipelines.commands.plan import plan_payload, short_type

STACKS_DIR = Path(__file__).resolve().parents[2] / "stacks"


def plan_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = main(["plan", *args, "--json", "--stacks-dir", str(STACKS_DIR)])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "local"])
def test_plan_json_for_every_stack(capsys: pytest.CaptureFixture[str], stack: str) -> None:
    payload = plan_json(capsys, "--stack", stack)
    assert list(payload) == ["stack", "resources", "outputs", "warnings", "violations"]
    assert [v for v in payload["violations"] if v["level"] == "mandatory"] == []
    assert payload["stack"] == stack
    assert list(payload["outputs"]) == output_names()
    StackOutputs.model_validate(payload["outputs"])
    assert all(set(r) == {"type", "name", "inputs"} for r in payload["resources"])
    names = [r["name"] for r in payload["resources"]]
    assert names == sorted(names)
    types = {r["type"] for r in payload["resources"]}
    assert {
        "mlops:platform:MLOpsPlatform",
        "aws:kms/key:Key",
        "aws:s3/bucket:Bucket",
        "aws:ecr/repository:Repository",
        "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
        "aws:iam/role:Role",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
    } <= types


def test_plan_prod_json_shows_the_done_when_settings(capsys: pytest.CaptureFixture[str]) -> None:
    payload = plan_json(capsys, "--stack", "prod")
    by_name = {(r["type"], r["name"]): r["inputs"] for r in payload["resources"]}
    key = by_name[("aws:kms/key:Key", "mlops-stack-prod-key")]
    assert key["enableKeyRotation"] is True
    repo = by_name[("aws:ecr/repository:Repository", "mlops-stack-prod-registry-repository")]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    role_policy = by_name[("aws:iam/rolePolicy:RolePolicy", "mlops-stack-prod-training-access")]
    resources = [st["Resource"] for st in json.loads(role_policy["policy"])["Statement"]]
    assert "arn:aws:s3:::mlops-stack-prod-data-123456789012-eu-west-1" in resources


def test_plan_human_output_lists_resources_and_outputs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["plan", "--stack", "staging", "--stacks-dir", str(STACKS_DIR)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("stack staging (mlops-stack, environment staging, eu-west-1)")
    assert "mlops-stack-staging-storage-model  " in out
    assert "aws:s3:Bucket" in out
    assert "outputs:\n  contract_version: 1" in out
    assert "  model_package_group_name: mlops-stack-staging-models" in out


def test_plan_preview_reports_unknowns(capsys: pytest.CaptureFixture[str]) -> None:
    payload = plan_json(capsys, "--stack", "prod", "--preview")
    assert payload["outputs"]["kms_key_arn"] == "<unknown until deployed>"
    assert payload["outputs"]["region"] == "eu-west-1"


def test_broken_stack_file_exits_2_naming_the_yaml_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for f in STACKS_DIR.glob("Pulumi.*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(
        path.read_text().replace("strategy: CANARY", "strategy: CANARY\n          colour: blue")
    )
    code = main(["plan", "--stack", "prod", "--stacks-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert str(path) in captured.err
    assert "mlops:platform.endpoints[0].deployment.colour: unknown key 'colour'" in captured.err


def test_missing_stack_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", "--stack", "qa", "--stacks-dir", str(tmp_path)])
    assert code == 2
    assert "Pulumi.qa.yaml" in capsys.readouterr().err


def test_default_stacks_dir_is_found_from_the_project_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: mlops-stack\nstackConfigDir: envs\n")
    (tmp_path / "envs").mkdir()
    shutil.copy(STACKS_DIR / "Pulumi.dev.yaml", tmp_path / "envs" / "Pulumi.dev.yaml")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert main(["plan", "--stack", "dev", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stack"] == "dev"


def test_plan_payload_is_the_seam_for_policy_results() -> None:
    from stacks.offline import run_offline

    run = run_offline("local", stacks_dir=STACKS_DIR)
    payload = plan_payload(run)
    assert payload["outputs"] == run.outputs
    custom_only = plan_payload(run, components=False)
    assert all(not r["type"].startswith("mlops:") for r in custom_only["resources"])


def _stacks_copy(tmp_path: Path) -> Path:
    for f in STACKS_DIR.glob("Pulumi.*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path / "Pulumi.dev.yaml"


@pytest.mark.parametrize(
    ("unsafe", "rule", "resource"),
    [
        (
            "disable_encryption",
            "s3-bucket-encryption-kms",
            "mlops-stack-dev-storage-data",
        ),
        (
            "public_buckets",
            "s3-block-public-acls",
            "mlops-stack-dev-storage-data-public-access",
        ),
    ],
)
def test_unsafe_bucket_makes_plan_exit_1_naming_rule_and_resource(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], unsafe: str, rule: str, resource: str
) -> None:
    dev = _stacks_copy(tmp_path)
    text = dev.read_text()
    assert "unsafe:" in text  # dev already asks for force_destroy_buckets explicitly
    dev.write_text(text.replace("unsafe:", f"unsafe:\n      {unsafe}: true", 1))
    code = main(["plan", "--stack", "dev", "--json", "--stacks-dir", str(tmp_path)])
    payload = json.loads(capsys.readouterr().out)
    assert code == 1
    mandatory = [v for v in payload["violations"] if v["level"] == "mandatory"]
    assert {"policy": rule, "resource": resource} in [
        {"policy": v["policy"], "resource": v["resource"]} for v in mandatory
    ]
    code = main(["plan", "--stack", "dev", "--stacks-dir", str(tmp_path)])
    human = capsys.readouterr().out
    assert code == 1
    assert f"MANDATORY: {rule}" in human and resource in human


def test_short_type() -> None:
    assert short_type("aws:s3/bucketPolicy:BucketPolicy") == "aws:s3:BucketPolicy"
    assert short_type("mlops:storage:ArtifactStore") == "mlops:storage:ArtifactStore"


def test_plan_prints_config_warnings_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (STACKS_DIR / "Pulumi.local.yaml").read_text()
    inf1 = text.replace(
        "- name: churn\n        instance_type: ml.g5.xlarge",
        "- name: churn\n        instance_type: ml.inf1.xlarge",
    )
    assert inf1 != text
    (tmp_path / "Pulumi.local.yaml").write_text(inf1)
    code = main(["plan", "--stack", "local", "--json", "--stacks-dir", str(tmp_path)])
    assert code == 0
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert len(warnings) == 1
    assert "falls back to all-at-once" in warnings[0]


def test_invalid_canary_exits_2_quoting_the_50_percent_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _stacks_copy(tmp_path)
    prod = tmp_path / "Pulumi.prod.yaml"
    text = prod.read_text()
    assert "size: {type: INSTANCE_COUNT, value: 1}" in text
    prod.write_text(
        text.replace(
            "size: {type: INSTANCE_COUNT, value: 1}", "size: {type: CAPACITY_PERCENT, value: 60}"
        )
    )
    code = main(["plan", "--stack", "prod", "--json", "--stacks-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2
    assert "mlops:platform.endpoints[0].deployment.canary.size" in captured.err
    assert "SageMaker allows a canary of at most 50%" in captured.err
