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


def test_unknown_key_inside_a_mapping_of_models_suggests_the_closest() -> None:
    message = refuse({**BASE, "quality_gate": {"thresholds": {"validation:auc": {"mn": 0.8}}}})
    assert (
        "mlops:platform.quality_gate.thresholds.validation:auc.mn: unknown key 'mn'; did you "
        "mean 'min'? (valid keys: max, min)"
    ) in message


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
            "environment": "staging",
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
            "environment": "staging",
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


# ------------------------------------- issue 15 item 3: prod refuses weak serving


PROD_VPC = {"vpc_id": "vpc-0a1b2c3d4e5f60718", "subnet_ids": ["subnet-0a1b2c3d4e5f60001"]}
STRONG_ENDPOINT = {"name": "churn", "initial_instance_count": 2}


def _prod(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        **BASE,
        "training": {"vpc": PROD_VPC},
        "endpoints": [dict(STRONG_ENDPOINT)],
    }
    for key, value in overrides.items():
        raw[key] = value
    return raw


def test_prod_accepts_a_strong_serving_setup_without_acknowledgements() -> None:
    config = parse_environment(_prod(), source=SOURCE)
    assert config.acknowledged() == []
    assert config.warnings() == []


@pytest.mark.parametrize(
    ("change", "path", "ack"),
    [
        (
            {"training": {"vpc": PROD_VPC, "network_isolation": False}},
            "training.network_isolation",
            "network_access",
        ),
        ({"training": {}}, "training.vpc", "no_vpc"),
        (
            {
                "endpoints": [
                    {"name": "churn", "network_isolation": False, "initial_instance_count": 2}
                ]
            },
            "endpoints[0].network_isolation",
            "network_access",
        ),
        (
            {"endpoints": [{"name": "churn"}]},
            "endpoints[0].initial_instance_count",
            "single_instance",
        ),
        (
            {
                "endpoints": [
                    {
                        "name": "churn",
                        "initial_instance_count": 2,
                        "autoscaling": {"min_instances": 1, "max_instances": 4},
                    }
                ]
            },
            "endpoints[0].autoscaling.min_instances",
            "single_instance",
        ),
        (
            {"endpoints": [{**STRONG_ENDPOINT, "data_capture": {"enabled": False}}]},
            "endpoints[0].data_capture.enabled",
            "no_data_capture",
        ),
        (
            {"endpoints": [{**STRONG_ENDPOINT, "data_capture": {"sampling_percent": 0}}]},
            "endpoints[0].data_capture.sampling_percent",
            "no_data_capture",
        ),
    ],
)
def test_prod_refuses_weak_serving_unless_acknowledged(
    change: dict[str, Any], path: str, ack: str
) -> None:
    message = refuse(_prod(**change))
    assert f"mlops:platform.{path}: " in message
    assert "is refused in prod; allowed: " in message
    assert f"or acknowledge it with unsafe.{ack}: true (the plan reports it)" in message
    # the same setup outside prod needs no acknowledgement
    assert parse_environment({**_prod(**change), "environment": "staging"}, source=SOURCE)
    # acknowledged: accepted, and reported
    acked = parse_environment({**_prod(**change), "unsafe": {ack: True}}, source=SOURCE)
    assert [
        line
        for line in acked.acknowledged()
        if line.startswith(f"unsafe.{ack} acknowledges {path}: ")
    ]
    assert any(
        w.startswith(f"acknowledged risk: unsafe.{ack} acknowledges {path}")
        for w in acked.warnings()
    )


def test_prod_still_refuses_the_throwaway_unsafe_options() -> None:
    message = refuse({**_prod(), "unsafe": {"force_destroy_buckets": True, "no_vpc": True}})
    assert "unsafe options are refused in prod: unsafe.force_destroy_buckets" in message
    assert "unsafe.no_vpc" not in message


def test_an_acknowledgement_nothing_needs_is_reported() -> None:
    config = parse_environment({**_prod(), "unsafe": {"single_instance": True}}, source=SOURCE)
    assert config.warnings() == ["unsafe.single_instance is set but nothing needs it: remove it"]


# ------------------------------------------ issue 15 item 12: refused, not accepted


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"aws:owner": "x"}, "tags 'aws:owner': the aws: prefix is reserved for AWS"),
        ({"AWS:cost": "x"}, "tags 'AWS:cost': the aws: prefix is reserved for AWS"),
        ({"k" * 129: "x"}, "the key is not a tag key; allowed: 1-128 letters"),
        ({"team": "v" * 257}, "tags 'team': value 'vvvv"),
        ({"team": "a;b"}, "tags 'team': value 'a;b': allowed: up to 256 letters"),
        ({"environment": "dev"}, "tags 'environment': set by the platform itself"),
        ({"mlops:stack": "x"}, "tags 'mlops:stack': set by the platform itself"),
        ({f"t{i}": "x" for i in range(41)}, "tags has 41 entries; allowed: at most 40"),
    ],
)
def test_bad_tags_are_refused(tags: dict[str, str], expected: str) -> None:
    message = refuse({**BASE, "environment": "staging", "tags": tags})
    assert "mlops:platform.tags: " in message
    assert expected in message


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        ({"min": float("nan")}, "Input should be a finite number (got nan)"),
        ({"max": float("inf")}, "Input should be a finite number (got inf)"),
        ({"min": 0.9, "max": 0.1}, "min (0.9) is greater than max (0.1): no value could pass"),
    ],
)
def test_quality_gate_thresholds_must_be_finite_and_ordered(
    threshold: dict[str, float], expected: str
) -> None:
    raw = {**BASE, "environment": "staging", "quality_gate": {"thresholds": {"auc": threshold}}}
    message = refuse(raw)
    assert "mlops:platform.quality_gate.thresholds.auc" in message
    assert expected in message


@pytest.mark.parametrize(
    ("endpoint", "path", "expected"),
    [
        (
            {"autoscaling": {"max_instances": 10**9}},
            "endpoints[0].autoscaling.max_instances",
            "Input should be less than or equal to 100 (got 1000000000)",
        ),
        (
            {"autoscaling": {"max_instances": 1e9}},
            "endpoints[0].autoscaling.max_instances",
            "Input should be a valid integer (got 1000000000.0)",
        ),
        (
            {"initial_instance_count": "4"},
            "endpoints[0].initial_instance_count",
            "Input should be a valid integer (got '4')",
        ),
        (
            {"initial_instance_count": True},
            "endpoints[0].initial_instance_count",
            "Input should be a valid integer (got True)",
        ),
        (
            {"network_isolation": "yes"},
            "endpoints[0].network_isolation",
            "Input should be a valid boolean (got 'yes')",
        ),
    ],
)
def test_counts_and_flags_must_have_their_type(
    endpoint: dict[str, Any], path: str, expected: str
) -> None:
    raw = {**BASE, "environment": "staging", "endpoints": [{"name": "churn", **endpoint}]}
    message = refuse(raw)
    assert f"mlops:platform.{path}: {expected}" in message


def test_enum_values_are_still_read_from_yaml_strings() -> None:
    config = parse_environment({**_prod(), "storage": {"retention": "RETAIN"}}, source=SOURCE)
    assert config.storage.retention.value == "RETAIN"
    assert "Input should be 'RETAIN' or 'DESTROY' (got 'KEEP')" in refuse(
        {**_prod(), "storage": {"retention": "KEEP"}}
    )


# ------------------------------------------ issue 15 item 11: binary stack files


def _load_refused(path: Path) -> str:
    with pytest.raises(ConfigError) as err:
        load_stack_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}: invalid configuration")
    return message


def test_a_binary_stack_file_is_refused_naming_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_bytes(b"config:\n  aws:region: eu-west-1\n\xff\xfe\x00binary")
    assert "is not UTF-8 text (byte 0xff at offset 32); a stack file is YAML text" in (
        _load_refused(path)
    )


def test_a_directory_or_a_huge_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.prod.yaml").mkdir()
    assert "is a directory; expected a Pulumi.<stack>.yaml file" in _load_refused(
        tmp_path / "Pulumi.prod.yaml"
    )
    huge = tmp_path / "Pulumi.dev.yaml"
    huge.write_text("# " + "x" * 1_000_001)
    assert "is 1000003 bytes; a stack file is at most 1000000 bytes" in _load_refused(huge)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("!!binary aGVsbG8=", "config.mlops:platform.owner: binary data (!!binary) b'hello'"),
        ("2024-01-01", "config.mlops:platform.owner: date datetime.date(2024, 1, 1)"),
        ("!!set {a}", "config.mlops:platform.owner: set {'a'}"),
    ],
)
def test_values_json_cannot_hold_are_refused_naming_the_path(
    tmp_path: Path, value: str, expected: str
) -> None:
    def edit(config: dict[str, Any]) -> None:
        config["mlops:platform"]["owner"] = "@OWNER@"

    path = stack_copy(tmp_path, "dev", edit)
    path.write_text(path.read_text().replace("'@OWNER@'", value).replace('"@OWNER@"', value))
    message = _load_refused(path)
    assert expected in message
    assert "allowed: a string, number, boolean, list or mapping" in message


def test_the_unsafe_options_are_the_refused_ones_and_the_acknowledgements() -> None:
    """One list each; the contract carries exactly the acknowledgements."""
    from typing import get_args

    from components.config import PROD_ACKNOWLEDGEMENTS, PROD_REFUSED_UNSAFE, UnsafeConfig
    from components.contract import Acknowledgement

    assert list(UnsafeConfig.model_fields) == [*PROD_REFUSED_UNSAFE, *PROD_ACKNOWLEDGEMENTS]
    assert get_args(Acknowledgement) == PROD_ACKNOWLEDGEMENTS
