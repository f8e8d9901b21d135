"""``GpuEndpoint`` under Pulumi mocks: the role, its policy, the spec output and the warnings."""

from __future__ import annotations

import json
import logging
from typing import Any

import pulumi
import pytest

from components import iam
from components.config import EndpointConfig
from components.contract import ServingSpec
from components.deployment import alarm_specs, execution_role_policy, rollback_alarm_names
from components.serving import GpuEndpoint, GpuEndpointArgs, check_args
from tests.unit.mocking import ACCOUNT, REGION, Recorder, Warnings, resolve

KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-0000-1111-2222-333344445555"
MODEL_BUCKET = "arn:aws:s3:::mlops-stack-prod-model-123456789012-eu-west-1"
CAPTURE = "mlops-stack-prod-capture-123456789012-eu-west-1"
ECR = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/mlops-stack-prod"
ENDPOINT = "mlops-stack-prod-churn"
TAGS = {"environment": "prod", "owner": "ml-platform", "cost-centre": "cc-42"}


def _mocks(preview: bool = False) -> tuple[Recorder, Warnings]:
    mocks, warnings = Recorder(), Warnings()
    logger = logging.getLogger(f"test-serving-{id(mocks)}")
    logger.addHandler(warnings)
    logger.propagate = False
    pulumi.runtime.set_mocks(
        mocks, project="mlops-stack", stack="prod", preview=preview, logger=logger
    )
    return mocks, warnings


CANARY = EndpointConfig.model_validate(
    {
        "name": "churn",
        "instance_type": "ml.g5.2xlarge",
        "initial_instance_count": 4,
        "autoscaling": {"min_instances": 2, "max_instances": 8},
        "deployment": {
            "strategy": "CANARY",
            "canary": {"size": {"type": "CAPACITY_PERCENT", "value": 25}, "bake_seconds": 600},
            "termination_wait_seconds": 300,
            "rollback_alarms": ["5xx", "latency", "gpu_utilization"],
        },
    }
)


def _alarm_arn(name: str) -> str:
    return f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"


def _args(ep: EndpointConfig = CANARY, **overrides: Any) -> GpuEndpointArgs:
    rollback = rollback_alarm_names("mlops-stack", "prod", ep)
    values: dict[str, Any] = {
        "project": "mlops-stack",
        "environment": "prod",
        "endpoint": ep,
        "kms_key_arn": KEY,
        "model_bucket_arn": MODEL_BUCKET,
        "capture_bucket_name": pulumi.Output.from_input(CAPTURE),
        "ecr_repository_arn": ECR,
        "rollback_alarm_names": rollback,
        "rollback_alarm_arns": pulumi.Output.from_input([_alarm_arn(n) for n in rollback]),
        "alarm_names": [s.name for s in alarm_specs("mlops-stack", "prod", ep)],
        "subnet_ids": ["subnet-0123456789abcdef0"],
        "security_group_ids": pulumi.Output.from_input(["sg-0123456789abcdef0"]),
        "tags": TAGS,
        "account_id": ACCOUNT,
    }
    return GpuEndpointArgs(**{**values, **overrides})


def test_role_and_policy_exact() -> None:
    mocks, warnings = _mocks()
    role_arn = resolve(lambda: GpuEndpoint("churn", _args()).execution_role_arn)
    assert role_arn == f"arn:aws:iam::{ACCOUNT}:role/{ENDPOINT}-exec"
    assert [(r.typ, r.name) for r in mocks.resources] == [
        ("mlops:serving:GpuEndpoint", "churn"),
        ("aws:iam/role:Role", "churn-role"),
        ("aws:iam/rolePolicy:RolePolicy", "churn-policy"),
    ]
    (role,) = mocks.of_type("aws:iam/role:Role")
    assert role.inputs["name"] == f"{ENDPOINT}-exec"
    assert role.inputs["tags"] == {**TAGS, "mlops:endpoint": "churn"}
    trust = json.loads(role.inputs["assumeRolePolicy"])
    # only SageMaker, and only acting for this account (issue 15 item 4: it lacked SourceAccount)
    assert trust["Statement"] == [
        {
            "Sid": "TrustOnlyTheService",
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ]
    (policy,) = mocks.of_type("aws:iam/rolePolicy:RolePolicy")
    assert policy.inputs["role"] == f"{ENDPOINT}-exec"
    assert policy.inputs["name"] == "serving"
    rollback = [_alarm_arn(n) for n in rollback_alarm_names("mlops-stack", "prod", CANARY)]
    assert json.loads(policy.inputs["policy"]) == execution_role_policy(
        endpoint_name=ENDPOINT,
        kms_key_arn=KEY,
        model_bucket_arn=MODEL_BUCKET,
        capture_bucket_name=CAPTURE,
        ecr_repository_arn=ECR,
        rollback_alarm_arns=rollback,
        subnet_ids=["subnet-0123456789abcdef0"],
        security_group_ids=["sg-0123456789abcdef0"],
    )
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["ReadRollbackAlarms"]["Action"] == "cloudwatch:DescribeAlarms"
    assert statements["ReadRollbackAlarms"]["Resource"] == sorted(rollback)
    assert statements["WriteCapturedData"]["Resource"] == f"arn:aws:s3:::{CAPTURE}/{ENDPOINT}/*"
    # model artifacts only: never the training source, checkpoints, lineage or the audit trail
    assert statements["ReadModelArtifacts"]["Resource"] == [
        f"{MODEL_BUCKET}/training/*/output/model.tar.gz",
        f"{MODEL_BUCKET}/training/*/serving/model.tar.gz",
        f"{MODEL_BUCKET}/training/*/serving/sourcedir.tar.gz",
        f"{MODEL_BUCKET}/promoted/*/model.tar.gz",
    ]
    assert warnings.messages == []


def test_spec_output_is_the_contract() -> None:
    _mocks()
    spec = resolve(lambda: GpuEndpoint("churn", _args()).spec)
    parsed = ServingSpec.model_validate(spec)
    assert spec == parsed.model_dump(mode="json")
    assert spec["endpoint_name"] == ENDPOINT
    assert spec["execution_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/{ENDPOINT}-exec"
    assert spec["kms_key_arn"] == KEY
    assert spec["instance_type"] == "ml.g5.2xlarge" and spec["gpu"] is True
    assert spec["initial_instance_count"] == 4
    assert spec["autoscaling"]["min_instances"] == 2 and spec["autoscaling"]["max_instances"] == 8
    assert spec["data_capture"] == {
        "enabled": True,
        "sampling_percent": 20,
        "destination_s3_uri": f"s3://{CAPTURE}/{ENDPOINT}/",
        "kms_key_arn": KEY,
    }
    assert spec["subnet_ids"] == ["subnet-0123456789abcdef0"]
    assert spec["security_group_ids"] == ["sg-0123456789abcdef0"]
    assert spec["rollback_alarm_names"] == [
        f"{ENDPOINT}-5xx",
        f"{ENDPOINT}-latency",
        f"{ENDPOINT}-gpu_utilization",
    ]
    assert spec["alarm_names"][-1] == f"{ENDPOINT}-gpu_memory"
    assert spec["deployment"] == {
        "strategy": "CANARY",
        "canary_size": {"type": "CAPACITY_PERCENT", "value": 25},
        "linear_step": None,
        "wait_interval_seconds": 600,
        "termination_wait_seconds": 300,
        "max_execution_timeout_seconds": 3600,
    }
    routing = parsed.deployment_config()["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing == {
        "Type": "CANARY",
        "WaitIntervalInSeconds": 600,
        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25},
    }


def test_non_prod_serverless_spec() -> None:
    _mocks()
    ep = EndpointConfig.model_validate(
        {
            "name": "churn",
            "instance_type": "ml.m5.large",
            "allow_cpu": True,
            "serverless": {"memory_size_mib": 4096, "max_concurrency": 20},
        }
    )
    spec = resolve(
        lambda: (
            GpuEndpoint(
                "churn", _args(ep, environment="dev", subnet_ids=[], security_group_ids=[])
            ).spec
        )
    )
    assert spec["endpoint_name"] == "mlops-stack-dev-churn"
    assert spec["serverless"] == {"memory_size_mib": 4096, "max_concurrency": 20}
    assert spec["data_capture"] is None
    assert spec["gpu"] is False
    assert spec["subnet_ids"] == [] and spec["security_group_ids"] == []
    assert spec["deployment"]["strategy"] == "ALL_AT_ONCE"


def test_inf1_canary_warns_of_the_fallback() -> None:
    _, warnings = _mocks()
    ep = EndpointConfig.model_validate(
        {
            "name": "churn",
            "instance_type": "ml.inf1.xlarge",
            "initial_instance_count": 2,
            "deployment": {
                "strategy": "CANARY",
                "canary": {"size": {"value": 50}, "bake_seconds": 300},
            },
        }
    )
    resolve(lambda: GpuEndpoint("churn", _args(ep)).execution_role_arn)
    assert len(warnings.messages) == 1
    assert "ml.inf1.xlarge (Inf1)" in warnings.messages[0]
    assert "falls back to all-at-once with no baking" in warnings.messages[0]


def test_marketplace_linear_warns_of_the_fallback() -> None:
    _, warnings = _mocks()
    ep = EndpointConfig.model_validate(
        {
            "name": "churn",
            "initial_instance_count": 2,
            "deployment": {
                "strategy": "LINEAR",
                "linear": {"step": {"value": 50}, "interval_seconds": 60},
                "marketplace_container": True,
            },
        }
    )
    resolve(lambda: GpuEndpoint("churn", _args(ep)).execution_role_arn)
    assert ["Marketplace container" in m for m in warnings.messages] == [True]


def test_serverless_with_explicit_data_capture_warns() -> None:
    _, warnings = _mocks()
    ep = EndpointConfig.model_validate(
        {
            "name": "churn",
            "instance_type": "ml.m5.large",
            "allow_cpu": True,
            "serverless": {},
            "data_capture": {"sampling_percent": 50},
        }
    )
    resolve(lambda: GpuEndpoint("churn", _args(ep, environment="dev")).spec)
    assert ["data capture is not available on serverless" in m for m in warnings.messages] == [True]


def test_preview_registers_role_and_leaves_spec_unknown() -> None:
    mocks, _ = _mocks(preview=True)
    mocks.return_arns = False  # a new role has no ARN in a real preview
    seen: list[Any] = []
    holder: list[GpuEndpoint] = []

    def build() -> pulumi.Output[str]:
        holder.append(GpuEndpoint("churn", _args()))
        return pulumi.Output.from_input(holder[0].endpoint_name)

    assert resolve(build) == ENDPOINT
    (role,) = mocks.of_type("aws:iam/role:Role")
    assert role.inputs["name"] == f"{ENDPOINT}-exec"
    (policy,) = mocks.of_type("aws:iam/rolePolicy:RolePolicy")
    # Every input of the policy is known in preview, so the policy document is too.
    assert json.loads(policy.inputs["policy"])["Statement"][0]["Sid"] == "PullModelImage"

    _mocks(preview=True)[0].return_arns = False

    @pulumi.runtime.test
    def spec_unknown() -> pulumi.Output[None]:
        return GpuEndpoint("churn2", _args()).spec.apply(seen.append)

    spec_unknown()
    assert seen == []


MONITORED = EndpointConfig.model_validate(
    {
        **CANARY.model_dump(mode="json", exclude={"monitoring"}),
        "monitoring": {"enabled": True, "window": "1h", "min_samples": 50},
    }
)


def test_a_monitored_endpoint_gets_its_drift_jobs_processing_role() -> None:
    mocks, warnings = _mocks()
    spec = resolve(lambda: GpuEndpoint("churn", _args(MONITORED)).spec)
    assert sorted((r.typ, r.name) for r in mocks.resources) == [
        ("aws:iam/role:Role", "churn-monitor-role"),
        ("aws:iam/role:Role", "churn-role"),
        ("aws:iam/rolePolicy:RolePolicy", "churn-monitor-policy"),
        ("aws:iam/rolePolicy:RolePolicy", "churn-policy"),
        ("mlops:serving:GpuEndpoint", "churn"),
    ]
    role = mocks.named("churn-monitor-role").inputs
    assert role == {
        "name": f"{ENDPOINT}-monitor",
        "description": f"Drift monitoring (processing jobs) of SageMaker endpoint {ENDPOINT}",
        "assumeRolePolicy": role["assumeRolePolicy"],
        "tags": {**TAGS, "mlops:endpoint": "churn", "mlops:role": "monitor"},
    }
    # the same trust as every SageMaker role: the service, acting for this account only
    assert json.loads(role["assumeRolePolicy"])["Statement"] == [
        {
            "Sid": "TrustOnlyTheService",
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ]
    policy = mocks.named("churn-monitor-policy").inputs
    assert (policy["role"], policy["name"]) == (f"{ENDPOINT}-monitor", "monitoring")
    assert json.loads(policy["policy"]) == iam.processing_role_policy(
        partition="aws",
        region=REGION,
        account_id=ACCOUNT,
        endpoint_name=ENDPOINT,
        kms_key_arn=KEY,
        capture_bucket=CAPTURE,
        model_bucket="mlops-stack-prod-model-123456789012-eu-west-1",
        repository_arn=ECR,
        subnet_ids=["subnet-0123456789abcdef0"],
        security_group_ids=["sg-0123456789abcdef0"],
    )
    processing = f"arn:aws:iam::{ACCOUNT}:role/{ENDPOINT}-monitor"
    assert spec["monitoring"] == {
        "window_seconds": 3600,
        "metric": "auto",
        "threshold": None,
        "min_samples": 50,
        "alarm_windows": 1,
        "features": {},
        "namespace": "MLOps/ModelMonitoring",
        "drift_alarm_name": f"{ENDPOINT}-drift",
        "processing_role_arn": processing,
        "capture_s3_uri": f"s3://{CAPTURE}/{ENDPOINT}/",
        "reports_s3_uri": f"s3://{CAPTURE}/{ENDPOINT}/reports/",
        "baselines_s3_uri": "s3://mlops-stack-prod-model-123456789012-eu-west-1/baselines/",
        "instance_type": "ml.m5.xlarge",
        "max_runtime_seconds": 3600,
    }
    assert f"{ENDPOINT}-drift" in spec["alarm_names"]
    assert f"{ENDPOINT}-drift" not in spec["rollback_alarm_names"]
    # the endpoint's own role is unchanged: it neither reads reports nor baselines
    serving = json.loads(mocks.named("churn-policy").inputs["policy"])
    assert "reports" not in json.dumps(serving) and "baseline" not in json.dumps(serving)
    assert warnings.messages == []


def test_the_processing_role_arn_output_is_none_unless_monitored() -> None:
    _mocks()
    holder: list[GpuEndpoint] = []

    def build() -> pulumi.Output[str]:
        holder.append(GpuEndpoint("churn", _args(MONITORED)))
        holder.append(GpuEndpoint("plain", _args()))
        arn = holder[0].processing_role_arn
        assert arn is not None
        return arn

    assert resolve(build) == f"arn:aws:iam::{ACCOUNT}:role/{ENDPOINT}-monitor"
    assert holder[1].processing_role_arn is None


def test_preview_knows_the_processing_policy() -> None:
    mocks, _ = _mocks(preview=True)
    mocks.return_arns = False
    assert (
        resolve(
            lambda: pulumi.Output.from_input(GpuEndpoint("churn", _args(MONITORED)).endpoint_name)
        )
        == ENDPOINT
    )
    policy = json.loads(mocks.named("churn-monitor-policy").inputs["policy"])
    assert policy["Statement"][0]["Sid"] == "ListCapturedData"


@pytest.mark.parametrize("count", [0, 11])
def test_rollback_alarm_count_outside_1_to_10_is_refused(count: int) -> None:
    names = [f"alarm-{i}" for i in range(count)]
    with pytest.raises(ValueError) as info:
        check_args(_args(rollback_alarm_names=names))
    assert f"has {count} alarms" in str(info.value) and "1–10 alarms" in str(info.value)


def test_duplicate_rollback_alarms_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicates"):
        check_args(_args(rollback_alarm_names=["a", "a"]))
