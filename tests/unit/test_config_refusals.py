"""FAULTS.md 1–4 and 6: a bad stack file is refused before any resource, naming the file,
the YAML path, the value received and what is allowed. No mocks needed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import (
    ConfigError,
    EnvironmentConfig,
    load_stack_config,
    parse_environment,
)

STACKS_DIR = Path(__file__).resolve().parents[2] / "stacks"
SOURCE = "stacks/Pulumi.prod.yaml"
BASE: dict[str, Any] = {"environment": "prod", "owner": "ml-platform", "cost_centre": "cc-1"}
GPU_ENDPOINT = {"name": "churn", "instance_type": "ml.g5.xlarge"}


def refuse(raw: Any) -> str:
    with pytest.raises(ConfigError) as err:
        parse_environment(raw, source=SOURCE)
    message = str(err.value)
    assert message.startswith(f"{SOURCE}: invalid configuration")
    return message


def stack_copy(tmp_path: Path, stack: str, edit: Any) -> Path:
    document = yaml.safe_load((STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())
    edit(document["config"])
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


# ------------------------------------------------------------- 1. missing required


def test_missing_owner_names_the_path() -> None:
    raw = {k: v for k, v in BASE.items() if k != "owner"}
    assert "mlops:platform.owner: required value is missing" in refuse(raw)


def test_missing_nested_required_value_names_the_path() -> None:
    raw = {**BASE, "training": {"vpc": {"vpc_id": "vpc-0a1b2c3d4e5f60718"}}}
    assert "mlops:platform.training.vpc.subnet_ids: required value is missing" in refuse(raw)


def test_missing_platform_object_in_the_stack_file(tmp_path: Path) -> None:
    path = stack_copy(tmp_path, "prod", lambda c: c.pop("mlops:platform"))
    with pytest.raises(ConfigError) as err:
        load_stack_config(path)
    assert str(path) in str(err.value)
    assert "config.mlops:platform: required value is missing" in str(err.value)


def test_missing_region_in_the_stack_file(tmp_path: Path) -> None:
    path = stack_copy(tmp_path, "dev", lambda c: c.pop("aws:region"))
    with pytest.raises(ConfigError, match=r"config.aws:region: expected an AWS region"):
        load_stack_config(path)


# ----------------------------------------------------------------- 2. wrong type


def test_wrong_type_names_path_value_and_expected_type(tmp_path: Path) -> None:
    def edit(config: dict[str, Any]) -> None:
        config["mlops:platform"]["endpoints"][0]["initial_instance_count"] = "two"

    path = stack_copy(tmp_path, "prod", edit)
    with pytest.raises(ConfigError) as err:
        load_stack_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}: invalid configuration")
    assert "mlops:platform.endpoints[0].initial_instance_count" in message
    assert "valid integer" in message
    assert "(got 'two')" in message


def test_wrong_enum_value_lists_the_allowed_ones() -> None:
    message = refuse({**BASE, "storage": {"retention": "KEEP"}})
    assert "mlops:platform.storage.retention: Input should be 'RETAIN' or 'DESTROY'" in message
    assert "(got 'KEEP')" in message


def test_not_a_mapping_is_refused() -> None:
    assert "mlops:platform: expected a mapping, got 'prod'" in refuse("prod")


# --------------------------------------------------------------- 3. unknown key


def test_unknown_top_level_key_suggests_the_closest() -> None:
    message = refuse({**BASE, "trainig": {}})
    assert "mlops:platform.trainig: unknown key 'trainig'; did you mean 'training'?" in message


def test_unknown_nested_key_suggests_the_closest(tmp_path: Path) -> None:
    def edit(config: dict[str, Any]) -> None:
        config["mlops:platform"]["storage"]["lifecycle"]["glacier_after_day"] = 90

    path = stack_copy(tmp_path, "staging", edit)
    with pytest.raises(ConfigError) as err:
        load_stack_config(path)
    assert (
        "mlops:platform.storage.lifecycle.glacier_after_day: unknown key 'glacier_after_day'; "
        "did you mean 'glacier_after_days'?"
    ) in str(err.value)


# -------------------------------------------------------------- 4. instance types


def test_not_an_ml_instance_lists_the_allowed_families() -> None:
    message = refuse({**BASE, "endpoints": [{"name": "churn", "instance_type": "g5.xlarge"}]})
    assert "mlops:platform.endpoints[0]" in message
    assert "'g5.xlarge' is not a SageMaker ML instance" in message
    for family in ("ml.g5.*", "ml.g6.*", "ml.p4d.*", "ml.p5.*"):
        assert family in message


def test_cpu_type_on_a_gpu_endpoint_is_refused_unless_allowed() -> None:
    message = refuse({**BASE, "endpoints": [{"name": "churn", "instance_type": "ml.m5.xlarge"}]})
    assert "'ml.m5.xlarge' is a CPU instance and this is a GPU endpoint" in message
    assert "CPU types need allow_cpu: true" in message
    ok = parse_environment(
        {
            **BASE,
            "endpoints": [{"name": "churn", "instance_type": "ml.m5.xlarge", "allow_cpu": True}],
        },
        source=SOURCE,
    )
    assert ok.endpoints[0].gpu is False


def test_unknown_training_instance_is_refused() -> None:
    message = refuse({**BASE, "training": {"instance_type": "ml.q9.large"}})
    assert "mlops:platform.training" in message
    assert "'ml.q9.large' is not a SageMaker ML instance" in message


@pytest.mark.parametrize(
    "instance_type", ["ml.g5.2xlarge", "ml.g6.xlarge", "ml.p4d.24xlarge", "ml.p5.48xlarge"]
)
def test_gpu_families_are_accepted(instance_type: str) -> None:
    config = parse_environment(
        {
            **BASE,
            "training": {"instance_type": instance_type},
            "endpoints": [{"name": "churn", "instance_type": instance_type}],
        },
        source=SOURCE,
    )
    assert config.endpoints[0].gpu is True


# ------------------------------------------------------------ 6. unsafe options


@pytest.mark.parametrize(
    "option",
    ["force_destroy_buckets", "public_buckets", "disable_encryption", "unprotected_stateful"],
)
def test_every_unsafe_option_is_refused_in_prod(option: str) -> None:
    message = refuse({**BASE, "unsafe": {option: True}})
    assert f"unsafe options are refused in prod: unsafe.{option}" in message


def test_unsafe_option_in_the_prod_stack_file_names_the_file(tmp_path: Path) -> None:
    path = stack_copy(
        tmp_path, "prod", lambda c: c["mlops:platform"].update(unsafe={"public_buckets": True})
    )
    with pytest.raises(ConfigError) as err:
        load_stack_config(path)
    assert str(path) in str(err.value)
    assert "unsafe.public_buckets" in str(err.value)


def test_destroy_retention_and_short_logs_are_refused_in_prod() -> None:
    assert "storage.retention DESTROY is refused in prod; allowed: RETAIN" in refuse(
        {**BASE, "storage": {"retention": "DESTROY"}}
    )
    assert "monitoring.log_retention_days 30 is below the prod minimum of 365" in refuse(
        {**BASE, "monitoring": {"log_retention_days": 30}}
    )


def test_dev_is_secure_by_default_and_unsafe_only_when_asked() -> None:
    dev = {**BASE, "environment": "dev"}
    default = parse_environment(dev, source="stacks/Pulumi.dev.yaml")
    assert not any(default.unsafe.model_dump().values())
    assert default.protect_stateful is True
    explicit = parse_environment(
        {**dev, "unsafe": {"force_destroy_buckets": True, "public_buckets": True}},
        source="stacks/Pulumi.dev.yaml",
    )
    assert explicit.unsafe.force_destroy_buckets and explicit.unsafe.public_buckets


def test_every_problem_is_reported_at_once() -> None:
    raw = copy.deepcopy(BASE)
    raw.pop("owner")
    raw["keep_endpoint_configs"] = "many"
    raw["trainig"] = {}
    message = refuse(raw)
    assert message.count("\n  - ") == 3


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "local"])
def test_the_shipped_stack_files_are_valid(stack: str) -> None:
    config, env = load_stack_config(STACKS_DIR / f"Pulumi.{stack}.yaml")
    assert isinstance(env, EnvironmentConfig)
    assert config["aws:region"]


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (
            {**BASE, "endpoints": [{"name": "churn", "instance_type": "ml.m5.large"}]},
            "mlops:platform.endpoints[0].instance_type: instance_type 'ml.m5.large'",
        ),
        (
            {**BASE, "training": {"instance_type": "ml.nope.large"}},
            "mlops:platform.training.instance_type: instance_type 'ml.nope.large'",
        ),
        (
            {
                **BASE,
                "endpoints": [
                    {
                        **GPU_ENDPOINT,
                        "initial_instance_count": 4,
                        "deployment": {"strategy": "CANARY", "canary": {"size": {"value": 60}}},
                    }
                ],
            },
            "mlops:platform.endpoints[0].deployment.canary.size: deployment.canary.size 60",
        ),
    ],
)
def test_model_level_checks_name_the_exact_field(raw: dict[str, Any], path: str) -> None:
    """Checks that need several fields still point at the field they are about."""
    assert path in refuse(raw)


@pytest.mark.parametrize("name", ["*", "ep-*", "alarm?", "bad\nname", "tab\there"])
def test_extra_rollback_alarm_names_are_names_not_patterns(name: str) -> None:
    """``["*"]`` became ``cloudwatch:DescribeAlarms`` on ``alarm:*`` (issue 15 item 5)."""
    endpoint = {**GPU_ENDPOINT, "deployment": {"extra_rollback_alarm_names": [name]}}
    message = refuse({**BASE, "environment": "dev", "endpoints": [endpoint]})
    assert "extra_rollback_alarm_names" in message
    assert repr(name)[1:-1] in message or name in message


def test_an_ordinary_extra_alarm_name_is_accepted() -> None:
    endpoint = {**GPU_ENDPOINT, "deployment": {"extra_rollback_alarm_names": ["team-x: p99 > 2s"]}}
    config = parse_environment(
        {**BASE, "environment": "dev", "endpoints": [endpoint]}, source=SOURCE
    )
    assert config.endpoints[0].deployment.extra_rollback_alarm_names == ["team-x: p99 > 2s"]


# ------------------------------------------------ issue 15 item 6: denial of service


def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    """Nine levels of nine aliases: 554 bytes that expand to 387 million strings."""
    lines = ["config:", "  aws:region: eu-west-1", "  mlops:platform:", '    a0: &a0 ["lol"]']
    for level in range(1, 10):
        lines.append(f"    a{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * 9) + "]")
    path = tmp_path / "Pulumi.bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as err:
        load_stack_config(path)
    assert "expands to more than 100000 values" in str(err.value)
    assert len(str(err.value)) < 500


def test_duplicate_keys_are_refused_naming_the_key_and_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.dup.yaml"
    path.write_text(
        "config:\n  aws:region: eu-west-1\n  mlops:platform:\n    environment: dev\n"
        "    owner: a\n    owner: b\n    cost_centre: c\n"
    )
    with pytest.raises(ConfigError) as err:
        load_stack_config(path)
    assert "duplicate key 'owner' (also at line 5)" in str(err.value)
    assert "line 6" in str(err.value)


def test_a_huge_value_is_cut_in_the_error() -> None:
    message = refuse({**BASE, "environment": "dev", "keep_endpoint_configs": "x" * 100_000})
    assert "keep_endpoint_configs" in message
    assert len(message) < 1000 and "(100002 chars)" in message
