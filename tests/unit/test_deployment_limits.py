"""Every SageMaker deployment limit (AWS_FACTS.md, FAULTS.md 5 and 7) has its own refusal.

Each test feeds one bad endpoint through ``parse_environment`` (what `mlops plan` and the
stack program do) and asserts that the error names the YAML path and quotes the limit.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.config import (
    ConfigError,
    EndpointConfig,
    fallback_warning,
    parse_environment,
    total_wait_seconds,
)

PATH = "mlops:platform.endpoints[0]"


def _env(endpoint: dict[str, Any], environment: str = "staging") -> dict[str, Any]:
    return {
        "environment": environment,
        "owner": "ml-platform",
        "cost_centre": "cc-42",
        "endpoints": [{"name": "churn", **endpoint}],
    }


def _refused(endpoint: dict[str, Any], environment: str = "staging") -> str:
    with pytest.raises(ConfigError) as info:
        parse_environment(_env(endpoint, environment), "Pulumi.test.yaml")
    problems = info.value.problems
    assert len(problems) == 1, problems
    return problems[0]


def _canary(size: int, kind: str = "CAPACITY_PERCENT", **extra: Any) -> dict[str, Any]:
    return {
        "strategy": "CANARY",
        "canary": {"size": {"type": kind, "value": size}, "bake_seconds": 600},
        **extra,
    }


def _linear(step: int, kind: str = "CAPACITY_PERCENT", **extra: Any) -> dict[str, Any]:
    return {
        "strategy": "LINEAR",
        "linear": {"step": {"type": kind, "value": step}, "interval_seconds": 300},
        **extra,
    }


def test_valid_canary_linear_all_at_once_are_accepted() -> None:
    for deployment, count in (
        (_canary(50), 4),
        (_canary(2, "INSTANCE_COUNT"), 4),
        (_linear(10, max_execution_timeout_seconds=4000), 2),
        (_linear(50), 2),
        ({"strategy": "ALL_AT_ONCE"}, 1),
    ):
        env = parse_environment(
            _env({"initial_instance_count": count, "deployment": deployment}), "x"
        )
        assert env.endpoints[0].deployment.strategy.value == deployment["strategy"]


def test_canary_over_50_percent_is_refused_quoting_50() -> None:
    msg = _refused({"initial_instance_count": 4, "deployment": _canary(60)})
    assert msg.startswith(PATH)
    assert "60% of the variant's 4 instances" in msg
    assert "at most 50%" in msg


def test_canary_instance_count_over_half_the_fleet_is_refused() -> None:
    msg = _refused({"initial_instance_count": 4, "deployment": _canary(3, "INSTANCE_COUNT")})
    assert "75%" in msg and "at most 50%" in msg


def test_canary_with_a_single_instance_is_refused() -> None:
    msg = _refused({"initial_instance_count": 1, "deployment": _canary(50)})
    assert msg.startswith(PATH)
    assert "at least 2 instances" in msg and "initial_instance_count is 1" in msg
    assert "50%" in msg


@pytest.mark.parametrize("step", [9, 51])
def test_linear_step_outside_10_to_50_percent_is_refused(step: int) -> None:
    msg = _refused({"initial_instance_count": 2, "deployment": _linear(step)})
    assert f"{step}%" in msg and "10–50%" in msg


def test_linear_instance_step_is_measured_against_the_fleet() -> None:
    msg = _refused({"initial_instance_count": 3, "deployment": _linear(2, "INSTANCE_COUNT")})
    assert "66.6667%" in msg and "10–50%" in msg


@pytest.mark.parametrize(
    ("field", "deployment"),
    [
        (
            "canary.bake_seconds",
            {**_canary(50), "canary": {"size": {"value": 50}, "bake_seconds": 3601}},
        ),
        (
            "linear.interval_seconds",
            {**_linear(20), "linear": {"step": {"value": 20}, "interval_seconds": 3601}},
        ),
        ("termination_wait_seconds", {"termination_wait_seconds": 3601}),
    ],
)
def test_waits_over_3600_seconds_are_refused(field: str, deployment: dict[str, Any]) -> None:
    msg = _refused({"initial_instance_count": 2, "deployment": deployment})
    assert msg.startswith(f"{PATH}.deployment.{field}")
    assert "3600" in msg and "3601" in msg


@pytest.mark.parametrize("timeout", [599, 28801])
def test_timeout_outside_600_to_28800_is_refused(timeout: int) -> None:
    msg = _refused({"deployment": {"max_execution_timeout_seconds": timeout}})
    assert msg.startswith(f"{PATH}.deployment.max_execution_timeout_seconds")
    assert ("600" if timeout < 600 else "28800") in msg and str(timeout) in msg


def test_timeout_not_above_the_total_waits_is_refused() -> None:
    # a canary bakes twice (after the canary, and the final baking period): 2 × 600 + 600
    deployment = _canary(50, termination_wait_seconds=600, max_execution_timeout_seconds=1200)
    msg = _refused({"initial_instance_count": 2, "deployment": deployment})
    assert "(1200)" in msg and "total of the waits (1800 s)" in msg and "600–28800" in msg
    ok = EndpointConfig.model_validate(
        {
            "name": "churn",
            "initial_instance_count": 2,
            "deployment": {**deployment, "max_execution_timeout_seconds": 1801},
        }
    )
    assert total_wait_seconds(ok.deployment, 2) == 1800


def test_linear_waits_count_every_step() -> None:
    # 4 instances, 1 instance a step → 4 steps × 300 s = 1200 s of bake.
    deployment = _linear(1, "INSTANCE_COUNT", max_execution_timeout_seconds=1200)
    msg = _refused({"initial_instance_count": 4, "deployment": deployment})
    assert "total of the waits (1200 s)" in msg
    ok = EndpointConfig.model_validate(
        {
            "name": "churn",
            "initial_instance_count": 4,
            "deployment": {**deployment, "max_execution_timeout_seconds": 1201},
        }
    )
    assert total_wait_seconds(ok.deployment, 4) == 1200


def test_zero_rollback_alarms_is_refused() -> None:
    msg = _refused({"deployment": {"rollback_alarms": []}})
    assert "0 rollback alarms" in msg and "1–10 alarms" in msg


def test_eleven_rollback_alarms_are_refused() -> None:
    extra = [f"team-alarm-{i}" for i in range(9)]
    msg = _refused({"deployment": {"extra_rollback_alarm_names": extra}})
    assert "11 rollback alarms" in msg and "1–10 alarms" in msg


def test_ten_rollback_alarms_are_accepted() -> None:
    extra = [f"team-alarm-{i}" for i in range(8)]
    ep = EndpointConfig.model_validate(
        {"name": "churn", "deployment": {"extra_rollback_alarm_names": extra}}
    )
    assert ep.rollback_alarm_count() == 10


def test_gpu_rollback_alarms_on_a_cpu_endpoint_are_refused() -> None:
    msg = _refused(
        {
            "instance_type": "ml.m5.xlarge",
            "allow_cpu": True,
            "deployment": {"rollback_alarms": ["5xx", "gpu_utilization"]},
        }
    )
    assert "['gpu_utilization']" in msg and "GPU instance type" in msg and "ml.m5.xlarge" in msg


@pytest.mark.parametrize("strategy", ["canary", "linear"])
def test_serverless_with_traffic_shifting_is_refused(strategy: str) -> None:
    deployment = _canary(50) if strategy == "canary" else _linear(20)
    msg = _refused(
        {
            "instance_type": "ml.m5.xlarge",
            "allow_cpu": True,
            "serverless": {},
            "deployment": deployment,
        },
        "dev",
    )
    assert f"{strategy.upper()} is not available for serverless" in msg
    assert "ALL_AT_ONCE" in msg


def test_scale_to_zero_with_canary_is_refused() -> None:
    msg = _refused(
        {"initial_instance_count": 2, "scale_to_zero": True, "deployment": _canary(50)}, "dev"
    )
    assert "not available with scale_to_zero" in msg and "rolling updates only" in msg


def test_serverless_is_refused_in_prod() -> None:
    msg = _refused({"instance_type": "ml.m5.xlarge", "allow_cpu": True, "serverless": {}}, "prod")
    assert "serverless / scale_to_zero are for non-prod" in msg


def test_cpu_instance_on_a_gpu_endpoint_is_refused_listing_gpu_families() -> None:
    msg = _refused({"instance_type": "ml.m5.xlarge"})
    assert "CPU instance" in msg and "ml.g5.*" in msg and "ml.p5.*" in msg and "allow_cpu" in msg


def test_not_a_sagemaker_instance_is_refused() -> None:
    msg = _refused({"instance_type": "g5.xlarge"})
    assert "'g5.xlarge' is not a SageMaker ML instance" in msg and "ml.g6.*" in msg


def test_training_only_family_is_refused_for_endpoints() -> None:
    msg = _refused({"instance_type": "ml.p3dn.24xlarge"})
    assert "training only" in msg and "ml.p3dn.*" in msg


@pytest.mark.parametrize(
    "instance_type", ["ml.g5.xlarge", "ml.g6.2xlarge", "ml.p4d.24xlarge", "ml.p5.48xlarge"]
)
def test_gpu_families_are_accepted(instance_type: str) -> None:
    assert EndpointConfig(name="churn", instance_type=instance_type).gpu


def test_inf1_with_canary_warns_of_the_all_at_once_fallback() -> None:
    ep = EndpointConfig.model_validate(
        {
            "name": "churn",
            "instance_type": "ml.inf1.xlarge",
            "initial_instance_count": 2,
            "deployment": _canary(50),
        }
    )
    warning = fallback_warning(ep)
    assert warning is not None
    assert "ml.inf1.xlarge (Inf1)" in warning and "falls back to all-at-once" in warning


def test_marketplace_with_linear_warns_and_all_at_once_does_not() -> None:
    ep = EndpointConfig.model_validate(
        {
            "name": "churn",
            "initial_instance_count": 2,
            "deployment": _linear(20, marketplace_container=True),
        }
    )
    assert "Marketplace container" in (fallback_warning(ep) or "")
    plain = EndpointConfig.model_validate(
        {"name": "churn", "deployment": {"marketplace_container": True}}
    )
    assert fallback_warning(plain) is None


def test_variant_name_outside_sagemakers_pattern_is_refused() -> None:
    msg = _refused({"variant_name": "all traffic"})
    assert msg.startswith(f"{PATH}.variant_name") and "'all traffic'" in msg


def test_extra_rollback_alarm_name_over_255_characters_is_refused() -> None:
    msg = _refused({"deployment": {"extra_rollback_alarm_names": ["x" * 256]}})
    assert msg.startswith(f"{PATH}.deployment.extra_rollback_alarm_names[0]") and "255" in msg
