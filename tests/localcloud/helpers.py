"""Plain-boto3 building blocks for the local cloud tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
BUCKET = "models-localcloud-test"
ALARM = "endpoint-5xx"
TERMINAL = ("InService", "Failed", "UpdateRollbackFailed", "OutOfService")


def put_model(cloud: Any, name: str, *, artifact: bool = True) -> None:
    """A SageMaker Model whose artifact is (or is not) in S3."""
    s3, sm = cloud.client("s3"), cloud.client("sagemaker")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    key = f"{name}/model.tar.gz"
    if artifact:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"model")
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": f"img:{name}", "ModelDataUrl": f"s3://{BUCKET}/{key}"},
    )


def put_config(
    cloud: Any,
    name: str,
    model: str,
    *,
    variant: str = "AllTraffic",
    instances: int = 4,
    instance_type: str = "ml.g5.xlarge",
) -> None:
    cloud.client("sagemaker").create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": variant,
                "ModelName": model,
                "InitialInstanceCount": instances,
                "InstanceType": instance_type,
            }
        ],
    )


def put_alarm(cloud: Any, name: str = ALARM) -> None:
    cloud.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )


def in_service_endpoint(cloud: Any, endpoint: str = "ep", *, instances: int = 4) -> None:
    """Endpoint ``endpoint`` InService on config ``cfg-v1`` (model ``m-v1``); ``cfg-v2`` ready."""
    for version in ("v1", "v2"):
        put_model(cloud, f"m-{version}")
        put_config(cloud, f"cfg-{version}", f"m-{version}", instances=instances)
    put_alarm(cloud)
    sm = cloud.client("sagemaker")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName="cfg-v1")
    final = wait_endpoint(cloud, endpoint)
    assert final["EndpointStatus"] == "InService", final


def canary(
    wait: int = 600, termination: int = 120, alarms: tuple[str, ...] = (ALARM,)
) -> dict[str, Any]:
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
                "WaitIntervalInSeconds": wait,
            },
            "TerminationWaitInSeconds": termination,
            "MaximumExecutionTimeoutInSeconds": 3600,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": a} for a in alarms]},
    }


def linear(step_percent: int = 25, wait: int = 300) -> dict[str, Any]:
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "LINEAR",
                "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": step_percent},
                "WaitIntervalInSeconds": wait,
            },
            "MaximumExecutionTimeoutInSeconds": 7200,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": ALARM}]},
    }


def pending_status(description: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(EndpointStatus, pending VariantStatus, its StatusMessage)."""
    pending = description.get("PendingDeploymentSummary")
    if not pending:
        return description["EndpointStatus"], None, None
    status = pending["ProductionVariants"][0]["VariantStatus"][0]
    return description["EndpointStatus"], status["Status"], status.get("StatusMessage")


def wait_endpoint(
    cloud: Any,
    endpoint: str = "ep",
    *,
    timeout: float = 20.0,
    on_poll: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Poll DescribeEndpoint until a terminal status (real ``timeout`` seconds at most)."""
    sm = cloud.client("sagemaker")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        description = sm.describe_endpoint(EndpointName=endpoint)
        if on_poll is not None:
            on_poll(description)
        if description["EndpointStatus"] in TERMINAL:
            return dict(description)
        cloud.clock.sleep(5)
    raise AssertionError(f"endpoint {endpoint} did not settle within {timeout} s")
