"""The pure translations: alarm specs, serving spec, DeploymentConfig, execution-role policy.

The DeploymentConfig is checked against botocore's own SageMaker service model: every key
is a member of its shape, enums are valid, integer bounds hold, and the whole UpdateEndpoint
request passes botocore's client-side parameter validation.
"""

from __future__ import annotations

import fnmatch
from typing import Any

import botocore.session
import pytest
from botocore.model import Shape, StructureShape
from botocore.validate import validate_parameters

from components.config import EndpointConfig
from components.contract import ServingSpec
from components.deployment import (
    ALARM_KEYS,
    alarm_arn,
    alarm_specs,
    execution_role_name,
    execution_role_policy,
    gpu_count,
    rollback_alarm_names,
    serving_spec,
)

KEY = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-0000-1111-2222-333344445555"
ROLE = "arn:aws:iam::123456789012:role/mlops-stack-prod-churn-exec"
ENDPOINT = "mlops-stack-prod-churn"

CANARY = {
    "name": "churn",
    "instance_type": "ml.g5.2xlarge",
    "initial_instance_count": 4,
    "autoscaling": {"min_instances": 2, "max_instances": 8, "target_invocations_per_instance": 50},
    "data_capture": {"sampling_percent": 10},
    "deployment": {
        "strategy": "CANARY",
        "canary": {"size": {"type": "INSTANCE_COUNT", "value": 1}, "bake_seconds": 900},
        "termination_wait_seconds": 300,
        "max_execution_timeout_seconds": 3600,
        "rollback_alarms": ["5xx", "latency", "gpu_memory"],
        "extra_rollback_alarm_names": ["team-business-kpi"],
    },
}
LINEAR = {
    "name": "churn",
    "instance_type": "ml.g6.xlarge",
    "initial_instance_count": 5,
    "deployment": {
        "strategy": "LINEAR",
        "linear": {"step": {"type": "CAPACITY_PERCENT", "value": 20}, "interval_seconds": 120},
        "max_execution_timeout_seconds": 1800,
    },
}
ALL_AT_ONCE = {"name": "churn", "instance_type": "ml.g5.xlarge"}


def _spec(raw: dict[str, Any]) -> ServingSpec:
    ep = EndpointConfig.model_validate(raw)
    return serving_spec(
        "mlops-stack",
        "prod",
        ep,
        kms_key_arn=KEY,
        execution_role_arn=ROLE,
        capture_bucket_name="mlops-stack-prod-capture-123456789012-eu-west-1",
        alarm_names=[s.name for s in alarm_specs("mlops-stack", "prod", ep)],
        rollback_alarm_names=rollback_alarm_names("mlops-stack", "prod", ep),
    )


# ------------------------------------------------------------------ botocore's model


@pytest.fixture(scope="module")
def sagemaker_model() -> Any:
    return botocore.session.get_session().get_service_model("sagemaker")


def _walk(shape: Shape, value: Any, path: str) -> list[str]:
    """Problems with ``value`` against ``shape``: unknown keys, bad enums, out-of-range ints."""
    problems: list[str] = []
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not isinstance(value, dict):
            return [f"{path}: expected a structure, got {value!r}"]
        for key, item in value.items():
            if key not in shape.members:
                problems.append(f"{path}.{key}: not a member of {shape.name}")
                continue
            problems += _walk(shape.members[key], item, f"{path}.{key}")
        for required in shape.required_members:
            if required not in value:
                problems.append(f"{path}.{required}: required by {shape.name}")
    elif kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {value!r}"]
        meta = shape.metadata
        if not meta.get("min", 0) <= len(value) <= meta.get("max", len(value)):
            problems.append(f"{path}: {len(value)} items outside {meta}")
        for i, item in enumerate(value):
            problems += _walk(shape.member, item, f"{path}[{i}]")  # type: ignore[attr-defined]
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {value!r}"]
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            problems.append(f"{path}: {value!r} not in {enum}")
        meta = shape.metadata
        if not meta.get("min", 0) <= len(value) <= meta.get("max", len(value)):
            problems.append(f"{path}: length {len(value)} outside {meta}")
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{path}: expected an integer, got {value!r}"]
        meta = shape.metadata
        if "min" in meta and value < meta["min"]:
            problems.append(f"{path}: {value} < min {meta['min']}")
        if "max" in meta and value > meta["max"]:
            problems.append(f"{path}: {value} > max {meta['max']}")
    elif kind == "boolean" and not isinstance(value, bool):
        problems.append(f"{path}: expected a boolean, got {value!r}")
    return problems


def test_walker_catches_what_it_should(sagemaker_model: Any) -> None:
    shape = sagemaker_model.shape_for("DeploymentConfig")
    bad = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "SOMETIMES", "WaitIntervalInSeconds": 3601},
            "MaximumExecutionTimeoutInSeconds": 300,
            "Bogus": 1,
        },
        "AutoRollbackConfiguration": {"Alarms": []},
    }
    problems = _walk(shape, bad, "DeploymentConfig")
    assert any("'SOMETIMES' not in" in p for p in problems)
    assert any("3601 > max 3600" in p for p in problems)
    assert any("300 < min 600" in p for p in problems)
    assert any("Bogus: not a member" in p for p in problems)
    assert any("Alarms: 0 items" in p for p in problems)


@pytest.mark.parametrize("raw", [ALL_AT_ONCE, CANARY, LINEAR], ids=["all", "canary", "linear"])
def test_deployment_config_matches_botocore_shape(
    sagemaker_model: Any, raw: dict[str, Any]
) -> None:
    config = _spec(raw).deployment_config()
    shape = sagemaker_model.shape_for("DeploymentConfig")
    assert _walk(shape, config, "DeploymentConfig") == []


@pytest.mark.parametrize("raw", [ALL_AT_ONCE, CANARY, LINEAR], ids=["all", "canary", "linear"])
def test_update_endpoint_request_passes_botocore_validation(
    sagemaker_model: Any, raw: dict[str, Any]
) -> None:
    spec = _spec(raw)
    request = {
        "EndpointName": spec.endpoint_name,
        "EndpointConfigName": f"{spec.endpoint_name}-20261127-0930",
        "RetainAllVariantProperties": True,
        "DeploymentConfig": spec.deployment_config(),
    }
    op = sagemaker_model.operation_model("UpdateEndpoint")
    validate_parameters(request, op.input_shape)  # raises ParamValidationError


def test_update_endpoint_validation_rejects_a_missing_wait_interval(sagemaker_model: Any) -> None:
    """The check above has teeth: botocore requires WaitIntervalInSeconds even for ALL_AT_ONCE."""
    from botocore.exceptions import ParamValidationError

    config = _spec(ALL_AT_ONCE).deployment_config()
    del config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["WaitIntervalInSeconds"]
    op = sagemaker_model.operation_model("UpdateEndpoint")
    with pytest.raises(ParamValidationError, match="WaitIntervalInSeconds"):
        validate_parameters(
            {"EndpointName": "e", "EndpointConfigName": "c", "DeploymentConfig": config},
            op.input_shape,
        )


def test_canary_deployment_config_exact() -> None:
    assert _spec(CANARY).deployment_config() == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "WaitIntervalInSeconds": 900,
                "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
            },
            "TerminationWaitInSeconds": 300,
            "MaximumExecutionTimeoutInSeconds": 3600,
        },
        "AutoRollbackConfiguration": {
            "Alarms": [
                {"AlarmName": f"{ENDPOINT}-5xx"},
                {"AlarmName": f"{ENDPOINT}-latency"},
                {"AlarmName": f"{ENDPOINT}-gpu_memory"},
                {"AlarmName": "team-business-kpi"},
            ]
        },
    }


def test_linear_deployment_config_exact() -> None:
    routing = _spec(LINEAR).deployment_config()["BlueGreenUpdatePolicy"]
    assert routing == {
        "TrafficRoutingConfiguration": {
            "Type": "LINEAR",
            "WaitIntervalInSeconds": 120,
            "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 20},
        },
        "TerminationWaitInSeconds": 0,
        "MaximumExecutionTimeoutInSeconds": 1800,
    }


# ------------------------------------------------------------------------ serving spec


def test_serving_spec_carries_everything_the_pipeline_needs() -> None:
    spec = _spec(CANARY)
    dumped = spec.model_dump(mode="json")
    assert dumped["endpoint_name"] == ENDPOINT
    assert dumped["variant_name"] == "AllTraffic"
    assert dumped["instance_type"] == "ml.g5.2xlarge"
    assert dumped["initial_instance_count"] == 4
    assert dumped["gpu"] is True
    assert dumped["network_isolation"] is True
    assert dumped["kms_key_arn"] == KEY
    assert dumped["execution_role_arn"] == ROLE
    assert dumped["autoscaling"] == {
        "min_instances": 2,
        "max_instances": 8,
        "target_invocations_per_instance": 50,
        "scale_in_cooldown_seconds": 300,
        "scale_out_cooldown_seconds": 60,
    }
    assert dumped["data_capture"] == {
        "enabled": True,
        "sampling_percent": 10,
        "destination_s3_uri": f"s3://mlops-stack-prod-capture-123456789012-eu-west-1/{ENDPOINT}/",
        "kms_key_arn": KEY,
    }
    assert dumped["serverless"] is None and dumped["scale_to_zero"] is False
    assert dumped["rollback_alarm_names"] == [
        f"{ENDPOINT}-5xx",
        f"{ENDPOINT}-latency",
        f"{ENDPOINT}-gpu_memory",
        "team-business-kpi",
    ]
    # not monitored: every alarm but the drift one
    assert dumped["alarm_names"] == [f"{ENDPOINT}-{k}" for k in ALARM_KEYS if k != "drift"]
    assert dumped["log_group_name"] == f"/aws/sagemaker/Endpoints/{ENDPOINT}"
    assert dumped["monitoring"] is None
    assert ServingSpec.model_validate(dumped) == spec


def test_serverless_spec_has_no_capture_and_no_instances_metrics() -> None:
    raw = {
        "name": "churn",
        "instance_type": "ml.m5.large",
        "allow_cpu": True,
        "serverless": {"memory_size_mib": 3072, "max_concurrency": 10},
    }
    spec = _spec(raw)
    assert spec.serverless is not None and spec.serverless.memory_size_mib == 3072
    assert spec.data_capture is None
    assert spec.gpu is False
    assert spec.alarm_names == [f"{ENDPOINT}-5xx", f"{ENDPOINT}-latency", f"{ENDPOINT}-errors"]


def test_scale_to_zero_is_reflected_in_the_spec() -> None:
    spec = _spec({**ALL_AT_ONCE, "scale_to_zero": True})
    assert spec.scale_to_zero is True and spec.serverless is None


# ----------------------------------------------------------------------------- alarms


def test_alarm_specs_for_a_multi_gpu_endpoint() -> None:
    ep = EndpointConfig.model_validate(
        {
            "name": "churn",
            "instance_type": "ml.g5.12xlarge",
            "alarms": {"latency_p99_ms": 250, "evaluation_minutes": 2, "gpu_memory_percent": 80},
        }
    )
    specs = {s.key: s for s in alarm_specs("mlops-stack", "prod", ep)}
    assert list(specs) == [k for k in ALARM_KEYS if k != "drift"]  # not monitored
    dims = {"EndpointName": ENDPOINT, "VariantName": "AllTraffic"}
    assert all(s.dimensions == dims for s in specs.values())
    assert all(s.treat_missing_data == "notBreaching" for s in specs.values())
    assert all(s.period == 60 and s.evaluation_periods == 2 for s in specs.values())
    latency = specs["latency"]
    assert (latency.namespace, latency.metric_name) == ("AWS/SageMaker", "ModelLatency")
    assert latency.extended_statistic == "p99" and latency.statistic is None
    assert latency.threshold == 250_000.0  # microseconds
    five = specs["5xx"]
    assert (five.metric_name, five.statistic, five.threshold) == ("Invocation5XXErrors", "Sum", 1.0)
    assert five.comparison_operator == "GreaterThanOrEqualToThreshold"
    four = specs["errors"]
    assert (four.metric_name, four.statistic, four.threshold) == (
        "Invocation4XXErrors",
        "Sum",
        20.0,
    )
    gpu = specs["gpu_utilization"]
    assert (gpu.namespace, gpu.metric_name) == ("/aws/sagemaker/Endpoints", "GPUUtilization")
    assert gpu.threshold == 360.0  # 90% of each of 4 GPUs
    mem = specs["gpu_memory"]
    assert (mem.metric_name, mem.threshold) == ("GPUMemoryUtilization", 320.0)
    assert mem.name == f"{ENDPOINT}-gpu_memory"


def test_cpu_endpoint_has_no_gpu_alarms() -> None:
    ep = EndpointConfig(name="churn", instance_type="ml.c5.xlarge", allow_cpu=True)
    assert [s.key for s in alarm_specs("mlops-stack", "prod", ep)] == ["5xx", "latency", "errors"]


@pytest.mark.parametrize(
    ("instance_type", "gpus"),
    [("ml.g5.xlarge", 1), ("ml.g5.48xlarge", 8), ("ml.p4d.24xlarge", 8), ("ml.m5.large", 0)],
)
def test_gpu_count(instance_type: str, gpus: int) -> None:
    assert gpu_count(instance_type) == gpus


def test_gpu_count_table_only_names_real_hosting_types(sagemaker_model: Any) -> None:
    from components import deployment

    hosting = set(sagemaker_model.shape_for("ProductionVariantInstanceType").metadata["enum"])
    training = set(sagemaker_model.shape_for("TrainingInstanceType").metadata["enum"])
    assert set(deployment._MULTI_GPU) <= hosting | training


# -------------------------------------------------------------------------------- IAM


def _policy(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "endpoint_name": ENDPOINT,
        "kms_key_arn": KEY,
        "model_bucket_arn": "arn:aws:s3:::mlops-stack-prod-model",
        "capture_bucket_name": "mlops-stack-prod-capture",
        "ecr_repository_arn": "arn:aws:ecr:eu-west-1:123456789012:repository/mlops-stack-prod",
        "rollback_alarm_arns": [
            alarm_arn(KEY, f"{ENDPOINT}-5xx"),
            alarm_arn(KEY, f"{ENDPOINT}-latency"),
        ],
    }
    return execution_role_policy(**{**args, **overrides})


def _by_sid(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in policy["Statement"]}


def test_execution_role_policy_is_scoped() -> None:
    s = _by_sid(_policy())
    assert s["PullModelImage"]["Resource"] == (
        "arn:aws:ecr:eu-west-1:123456789012:repository/mlops-stack-prod"
    )
    assert s["PullModelImage"]["Action"] == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ]
    assert s["RegistryLogin"] == {
        "Sid": "RegistryLogin",
        "Effect": "Allow",
        "Action": "ecr:GetAuthorizationToken",
        "Resource": "*",
    }
    assert s["ReadModelArtifacts"]["Action"] == "s3:GetObject"
    assert s["ReadModelArtifacts"]["Resource"] == [
        "arn:aws:s3:::mlops-stack-prod-model/training/*/output/model.tar.gz",
        "arn:aws:s3:::mlops-stack-prod-model/training/*/serving/model.tar.gz",
        "arn:aws:s3:::mlops-stack-prod-model/training/*/serving/sourcedir.tar.gz",
        "arn:aws:s3:::mlops-stack-prod-model/promoted/*/model.tar.gz",
    ]
    assert s["ListModelArtifacts"] == {
        "Sid": "ListModelArtifacts",
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::mlops-stack-prod-model",
        "Condition": {"StringLike": {"s3:prefix": ["training/*", "promoted/*"]}},
    }
    assert s["WriteCapturedData"]["Action"] == "s3:PutObject"
    assert (
        s["WriteCapturedData"]["Resource"] == f"arn:aws:s3:::mlops-stack-prod-capture/{ENDPOINT}/*"
    )
    assert s["UsePlatformKey"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert s["UsePlatformKey"]["Resource"] == KEY
    group = f"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/sagemaker/Endpoints/{ENDPOINT}"
    assert s["WriteEndpointLogs"]["Resource"] == [group, f"{group}:log-stream:*"]
    assert s["ReadRollbackAlarms"] == {
        "Sid": "ReadRollbackAlarms",
        "Effect": "Allow",
        "Action": "cloudwatch:DescribeAlarms",
        "Resource": [
            f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{ENDPOINT}-5xx",
            f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{ENDPOINT}-latency",
        ],
    }
    assert "DescribeNetwork" not in s and "CreateNetworkInterfacesInOurSubnets" not in s


def _reads(policy: dict[str, Any], bucket: str, key: str) -> bool:
    """Whether an Allow statement grants s3:GetObject on the object (IAM's ``*``/``?`` wildcards
    match across ``/``, as ``fnmatchcase`` does)."""
    arn = f"arn:aws:s3:::{bucket}/{key}"
    for st in policy["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        allows = st["Effect"] == "Allow" and "s3:GetObject" in actions
        if allows and any(fnmatch.fnmatchcase(arn, r) for r in resources):
            return True
    return False


JOB = "mlops-stack-prod-20250101-120000-123"


@pytest.mark.parametrize(
    "key",
    [
        f"training/{JOB}/output/model.tar.gz",  # what the training job wrote
        f"training/{JOB}/serving/model.tar.gz",  # register's repack with code/
        f"training/{JOB}/serving/sourcedir.tar.gz",  # register --serving-code s3
        "promoted/staging/mlops-stack-staging-models/4/model.tar.gz",  # promote's copy
    ],
)
def test_the_endpoint_role_reads_model_artifacts(key: str) -> None:
    assert _reads(_policy(), "mlops-stack-prod-model", key)
    assert not _reads(_policy(), "mlops-stack-prod-data", key)  # in the model bucket only


@pytest.mark.parametrize(
    "key",
    [
        f"source/{JOB}/sourcedir.tar.gz",  # the whole training source (issue 15 item 7)
        f"checkpoints/{JOB}/checkpoint.pt",
        f"training/{JOB}/lineage.json",
        f"training/{JOB}/output/output.tar.gz",  # the job's other outputs
        f"model-metrics/{JOB}.json",
        "audit/prod/2025/01/01/record.json",
        "promoted/staging/mlops-stack-staging-models/4/metrics.json",
        "models/anything",
    ],
)
def test_the_endpoint_role_reads_nothing_else_in_the_model_bucket(key: str) -> None:
    assert not _reads(_policy(), "mlops-stack-prod-model", key)


def test_the_artifact_keys_live_under_the_prefixes_promotion_shares() -> None:
    """The endpoint's read and a promotion target's read cover the same artifacts."""
    from components.naming import MODEL_ARTIFACT_KEYS
    from components.storage import SHARED_MODEL_PREFIXES, TRAINING_PREFIX

    assert all(key.startswith(SHARED_MODEL_PREFIXES) for key in MODEL_ARTIFACT_KEYS)
    assert MODEL_ARTIFACT_KEYS[0].startswith(TRAINING_PREFIX)


def test_serving_artifact_key() -> None:
    from components.naming import serving_artifact_key

    key = f"training/{JOB}/output/model.tar.gz"
    assert serving_artifact_key(key, "model.tar.gz") == f"training/{JOB}/serving/model.tar.gz"
    with pytest.raises(ValueError, match=r"not a training job's output"):
        serving_artifact_key("promoted/x/model.tar.gz", "model.tar.gz")


def test_execution_role_policy_has_no_wildcard_action_and_star_only_where_unscopable() -> None:
    policy = _policy(
        subnet_ids=["subnet-0123456789abcdef0"], security_group_ids=["sg-0123456789abcdef0"]
    )
    for statement in policy["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all("*" not in a for a in actions), statement
        if statement["Resource"] == "*":
            assert statement["Sid"] in {"RegistryLogin", "DescribeNetwork"}, statement
            assert all(
                a == "ecr:GetAuthorizationToken" or a.startswith("ec2:Describe") for a in actions
            )
    attach = _by_sid(policy)["CreateNetworkInterfacesInOurSubnets"]["Resource"]
    assert "arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-0123456789abcdef0" in attach
    assert "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0123456789abcdef0" in attach


def test_execution_role_policy_refuses_bad_inputs() -> None:
    with pytest.raises(ValueError, match="1–10 alarms"):
        _policy(rollback_alarm_arns=[])
    with pytest.raises(ValueError, match=r"expected a regional ARN.*'not-an-arn'"):
        _policy(kms_key_arn="not-an-arn")
    with pytest.raises(ValueError, match=r"S3 bucket ARN.*'mlops-stack-prod-model'"):
        _policy(model_bucket_arn="mlops-stack-prod-model")


def test_execution_role_name_fits_iam() -> None:
    assert execution_role_name(ENDPOINT) == f"{ENDPOINT}-exec"
    long = "x" * 63
    name = execution_role_name(long)
    assert len(name) <= 64 and name.endswith("-exec")
    assert name == execution_role_name(long) != execution_role_name("y" * 63)


@pytest.mark.parametrize(
    ("instance_type", "expected"),
    [("ml.g5.xlarge", None), ("ml.p4d.24xlarge", None), ("ml.inf2.xlarge", KEY)],
)
def test_volume_key_is_left_out_where_sagemaker_refuses_it(
    instance_type: str, expected: str | None
) -> None:
    """Local-NVMe types (g5, p4d, …) are hardware-encrypted and CreateEndpointConfig fails
    with a KmsKeyId; other types get the platform key."""
    spec = _spec({"name": "churn", "instance_type": instance_type})
    assert spec.kms_key_arn == KEY
    assert spec.volume_kms_key_arn == expected


def test_volume_key_is_left_out_for_serverless() -> None:
    spec = _spec(
        {
            "name": "churn",
            "instance_type": "ml.m5.large",
            "allow_cpu": True,
            "serverless": {"memory_size_mib": 2048, "max_concurrency": 5},
        }
    )
    assert spec.volume_kms_key_arn is None
