"""Pipeline tests run against the local cloud (moto on 127.0.0.1 + SageMaker behaviour).

One cloud per test session (moto's backends are process-global), reset before each
test. ``Stack`` builds a ``StackOutputs`` like the stack program exports and creates
the resources the pipeline expects (buckets, model package group, rollback alarms).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from components.contract import CONTRACT_VERSION, StackOutputs
from pipelines.console import Event

TRAINER = Path(__file__).parent / "trainer"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlops-test:1.0"
REGION = "eu-west-1"
ACCOUNT = "123456789012"


@pytest.fixture
def env(local_cloud: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The shared local cloud (tests/conftest.py), reset, with local state under tmp_path."""
    monkeypatch.setenv("MLOPS_STATE_DIR", str(tmp_path / ".mlops"))
    monkeypatch.setenv("USER", "tester")
    return local_cloud


def client(cloud: Any, service: str, region: str = REGION) -> Any:
    import boto3

    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=cloud.endpoint_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def endpoint_spec(stack: str, name: str = "churn", **overrides: Any) -> dict[str, Any]:
    endpoint = f"mlops-stack-{stack}-{name}"
    deployment = overrides.pop("deployment", None) or {
        "strategy": "CANARY",
        "canary_size": {"type": "INSTANCE_COUNT", "value": 1},
        "wait_interval_seconds": 300,
        "termination_wait_seconds": 60,
        "max_execution_timeout_seconds": 1800,
    }
    spec = {
        "name": name,
        "endpoint_name": endpoint,
        "variant_name": "AllTraffic",
        "instance_type": "ml.g5.xlarge",
        "initial_instance_count": 2,
        "gpu": True,
        "network_isolation": True,
        "kms_key_arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/test",
        "execution_role_arn": f"arn:aws:iam::{ACCOUNT}:role/{endpoint}-endpoint",
        "data_capture": {
            "enabled": True,
            "sampling_percent": 20,
            "destination_s3_uri": f"s3://mlops-stack-{stack}-capture/{name}/",
            "kms_key_arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/test",
        },
        "deployment": deployment,
        "rollback_alarm_names": [f"{endpoint}-5xx", f"{endpoint}-latency"],
    }
    spec.update(overrides)
    return spec


def prod_overrides(stack: str = "prod") -> dict[str, Any]:
    """What a prod contract adds: the audit trail in its own bucket under Object Lock."""
    prefix = f"mlops-stack-{stack}"
    base = outputs_dict(stack)
    return {
        "environment": "prod",
        "buckets": {**base["buckets"], "audit": f"{prefix}-audit"},
        "audit_s3_uri": f"s3://{prefix}-audit/audit/",
        "audit_lock": {"mode": "COMPLIANCE", "retention_days": 30},
    }


def outputs_dict(stack: str = "test", **overrides: Any) -> dict[str, Any]:
    prefix = f"mlops-stack-{stack}"
    model = f"{prefix}-model"
    raw: dict[str, Any] = {
        "contract_version": CONTRACT_VERSION,
        "project": "mlops-stack",
        "stack": stack,
        "environment": "dev",
        "region": REGION,
        "account_id": ACCOUNT,
        "kms_key_arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/test",
        "buckets": {
            "data": f"{prefix}-data",
            "model": model,
            "capture": f"{prefix}-capture",
            "access_logs": f"{prefix}-logs",
        },
        "audit_s3_uri": f"s3://{model}/audit/",
        "ecr_repository_url": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{prefix}",
        "model_package_group_name": f"{prefix}-models",
        "sagemaker_execution_role_arn": f"arn:aws:iam::{ACCOUNT}:role/{prefix}-sagemaker",
        "training": {
            "instance_type": "ml.g5.xlarge",
            "instance_count": 1,
            "volume_size_gib": 50,
            "use_spot": True,
            "max_runtime_seconds": 3600,
            "max_wait_seconds": 7200,
            "output_s3_uri": f"s3://{model}/training/",
            "checkpoint_s3_uri": f"s3://{model}/checkpoints/",
        },
        "endpoints": [endpoint_spec(stack)],
        "quality_gate": {
            "thresholds": {"validation:accuracy": {"min": 0.8}},
            "on_fail": "reject",
            "auto_approve": True,
        },
        "keep_endpoint_configs": 2,
        "tags": {"environment": "dev", "owner": "ml-platform", "cost-centre": "cc-1"},
    }
    raw.update(overrides)
    return raw


def provision(cloud: Any, outputs: StackOutputs) -> None:
    """Create what the stack program would: buckets (versioned), the group, the alarms."""
    s3 = client(cloud, "s3")
    for bucket in {outputs.buckets.data, outputs.buckets.model, outputs.buckets.capture}:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if outputs.buckets.audit is not None and outputs.audit_lock is not None:
        s3.create_bucket(
            Bucket=outputs.buckets.audit,
            CreateBucketConfiguration={"LocationConstraint": REGION},
            ObjectLockEnabledForBucket=True,
        )
        retention = {"Mode": outputs.audit_lock.mode, "Days": outputs.audit_lock.retention_days}
        s3.put_object_lock_configuration(
            Bucket=outputs.buckets.audit,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": retention},
            },
        )
    client(cloud, "sagemaker").create_model_package_group(
        ModelPackageGroupName=outputs.model_package_group_name
    )
    cw = client(cloud, "cloudwatch")
    for spec in outputs.endpoints:
        for alarm in spec.rollback_alarm_names:
            cw.put_metric_alarm(
                AlarmName=alarm,
                Namespace="AWS/SageMaker",
                MetricName="Invocation5XXErrors",
                Dimensions=[
                    {"Name": "EndpointName", "Value": spec.endpoint_name},
                    {"Name": "VariantName", "Value": spec.variant_name},
                ],
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=1.0,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
            )
    s3.put_object(Bucket=outputs.buckets.data, Key="churn/train/data.csv", Body=b"a,b\n1,2\n")


@dataclass
class Stack:
    """A provisioned stack and a pipeline context on it."""

    cloud: Any
    outputs: StackOutputs
    ctx: Any
    events: list[Event] = field(default_factory=list)

    def context(self) -> Any:
        """A fresh context (own clients) - e.g. for another thread."""
        from pipelines.aws import Aws
        from pipelines.context import make_context

        events = self.events
        return make_context(
            self.outputs,
            events.append,
            aws=Aws(region=self.outputs.region, endpoint=self.cloud.endpoint_url),
        )

    def train(self, accuracy: float = 0.9, **hyper: str) -> Any:
        from pipelines.training import TrainRequest, train

        req = TrainRequest(
            image=IMAGE,
            entry_point="train.py",
            source_dir=TRAINER,
            hyperparameters={"accuracy": str(accuracy), **hyper},
            channels={"train": f"s3://{self.outputs.buckets.data}/churn/train/"},
            metric_definitions={
                "validation:accuracy": r"validation:accuracy=([0-9.]+)",
                "validation:loss": r"validation:loss=([0-9.]+)",
            },
        )
        return train(self.ctx, req)

    def approved_package(self, accuracy: float = 0.9, **hyper: str) -> str:
        from pipelines.registry import register

        job = self.train(accuracy, **hyper)
        result = register(self.ctx, job.job_name)
        assert result.approval_status == "Approved"
        assert result.package is not None
        return result.package.arn

    def client(self, service: str) -> Any:
        return client(self.cloud, service, self.outputs.region)

    def sm(self) -> Any:
        return self.client("sagemaker")

    def audit(self) -> list[Any]:
        return list(self.ctx.audit.records())


@pytest.fixture
def make_stack(env: Any) -> Any:
    def make(stack: str = "test", **overrides: Any) -> Stack:
        from pipelines.outputs import parse_outputs

        outputs = parse_outputs(outputs_dict(stack, **overrides), stack=stack, source="test")
        provision(env, outputs)
        s = Stack(env, outputs, None)
        s.ctx = s.context()
        return s

    return make


@pytest.fixture
def stack(make_stack: Any) -> Stack:
    return make_stack()
