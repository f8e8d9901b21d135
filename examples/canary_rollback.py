"""A canary rolled back by an alarm, with nothing but boto3, in seconds.

Against a running local cloud (``mlops local serve`` in another terminal, then the
``export AWS_...`` lines it prints):

    python examples/canary_rollback.py

Without ``AWS_ENDPOINT_URL`` it starts a local cloud in-process. The script creates an
endpoint, starts a canary UpdateEndpoint with a rollback alarm, sets the alarm to ALARM
during the bake and follows DescribeEndpoint until it is InService on the old config
with a FailureReason. It refuses to run against anything but a loopback endpoint.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlparse

import boto3

BUCKET = "canary-rollback-example"
ALARM = "canary-rollback-example-5xx"
ENDPOINT = "canary-rollback-example"
ROLE = "arn:aws:iam::123456789012:role/canary-rollback-example"


def _clients(endpoint_url: str) -> tuple[Any, Any, Any]:
    factory: Any = boto3.client
    kwargs = {
        "endpoint_url": endpoint_url,
        "region_name": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    return factory("s3", **kwargs), factory("sagemaker", **kwargs), factory("cloudwatch", **kwargs)


def _speed(endpoint_url: str) -> float:
    with urllib.request.urlopen(f"{endpoint_url}/_localcloud/clock") as response:
        return float(json.load(response)["speed"])


def run(endpoint_url: str, say: Any = print) -> dict[str, Any]:
    """The scenario; the final DescribeEndpoint."""
    if urlparse(endpoint_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing to run against {endpoint_url}: the local cloud is on loopback")
    s3, sm, cw = _clients(endpoint_url)
    poll = 5.0 / _speed(endpoint_url)  # every 5 simulated seconds
    s3.create_bucket(Bucket=BUCKET)
    for version in ("v1", "v2"):
        s3.put_object(Bucket=BUCKET, Key=f"{version}/model.tar.gz", Body=b"model")
        sm.create_model(
            ModelName=f"{ENDPOINT}-{version}",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={
                "Image": f"example:{version}",
                "ModelDataUrl": f"s3://{BUCKET}/{version}/model.tar.gz",
            },
        )
        sm.create_endpoint_config(
            EndpointConfigName=f"{ENDPOINT}-{version}",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": f"{ENDPOINT}-{version}",
                    "InitialInstanceCount": 2,
                    "InstanceType": "ml.g5.xlarge",
                }
            ],
        )
    cw.put_metric_alarm(
        AlarmName=ALARM,
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[
            {"Name": "EndpointName", "Value": ENDPOINT},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=f"{ENDPOINT}-v1")
    while sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"] == "Creating":
        time.sleep(poll)
    say(f"{ENDPOINT} InService on {ENDPOINT}-v1; canary to {ENDPOINT}-v2")
    sm.update_endpoint(
        EndpointName=ENDPOINT,
        EndpointConfigName=f"{ENDPOINT}-v2",
        DeploymentConfig={
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": "CANARY",
                    "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
                    "WaitIntervalInSeconds": 600,
                },
                "TerminationWaitInSeconds": 0,
                "MaximumExecutionTimeoutInSeconds": 1800,
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": ALARM}]},
        },
    )
    started, last, fired = time.monotonic(), "", False
    while True:
        described = sm.describe_endpoint(EndpointName=ENDPOINT)
        pending = described.get("PendingDeploymentSummary")
        variant = pending["ProductionVariants"][0]["VariantStatus"][0]["Status"] if pending else "-"
        line = f"{described['EndpointStatus']:<12} {variant}"
        if line != last:
            say(f"[{time.monotonic() - started:5.2f}s] {line}")
            last = line
        if variant == "Baking" and not fired:
            cw.set_alarm_state(
                AlarmName=ALARM, StateValue="ALARM", StateReason="5xx during the canary"
            )
            say(f"[{time.monotonic() - started:5.2f}s] set {ALARM} to ALARM")
            fired = True
        if described["EndpointStatus"] not in ("Updating", "RollingBack"):
            break
        time.sleep(poll)
    say(f"final: {described['EndpointStatus']} on {described['EndpointConfigName']}")
    say(f"FailureReason: {described.get('FailureReason')}")
    return dict(described)


def main() -> int:
    with ExitStack() as stack:
        endpoint_url = os.environ.get("AWS_ENDPOINT_URL")
        if not endpoint_url:
            from localcloud import LocalCloud

            endpoint_url = stack.enter_context(LocalCloud(speed=600)).endpoint_url
        final = run(endpoint_url)
    rolled_back = (
        final["EndpointStatus"] == "InService" and final["EndpointConfigName"] == f"{ENDPOINT}-v1"
    )
    return 0 if rolled_back else 1


if __name__ == "__main__":
    sys.exit(main())
