"""A canary rolled back because its own traffic made the 5XX alarm fire, with nothing but
boto3, in seconds.

Against a running local cloud (``mlops local serve`` in another terminal, then the
``export AWS_...`` lines it prints):

    python examples/canary_rollback.py

Without ``AWS_ENDPOINT_URL`` it starts a local cloud in-process. The script deploys two
model versions with real inference handlers, in the two serving contracts: v1 with
``code/inference.py`` inside ``model.tar.gz``, v2 with ``SAGEMAKER_PROGRAM`` +
``SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code``. v2 fails on every request. It starts a
canary UpdateEndpoint with a rollback alarm on ``Invocation5XXErrors`` and sends predictions
while it follows DescribeEndpoint: the canary answers ``ModelError``, the alarm goes into
ALARM from those metrics, and the endpoint ends InService on the old config with a
FailureReason. Nothing sets the alarm by hand. It refuses to run against anything but a
loopback endpoint.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tarfile
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


HANDLERS = b"""
import json, os

def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.json")) as fh:
        return json.load(fh)

def predict_fn(rows, model):
    if model["broken"]:
        raise RuntimeError("model v2 cannot score this row")
    return [model["score"] for _ in rows]
"""


def _model_tarball(version: str) -> bytes:
    files = {
        "model.json": json.dumps({"score": 0.5, "broken": version == "v2"}).encode(),
        "code/inference.py": HANDLERS,
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _clients(endpoint_url: str) -> tuple[Any, Any, Any, Any]:
    factory: Any = boto3.client
    kwargs = {
        "endpoint_url": endpoint_url,
        "region_name": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    return (
        factory("s3", **kwargs),
        factory("sagemaker", **kwargs),
        factory("cloudwatch", **kwargs),
        factory("sagemaker-runtime", **kwargs),
    )


def _speed(endpoint_url: str) -> float:
    with urllib.request.urlopen(f"{endpoint_url}/_localcloud/clock") as response:
        return float(json.load(response)["speed"])


def run(endpoint_url: str, say: Any = print) -> dict[str, Any]:
    """The scenario; the final DescribeEndpoint."""
    if urlparse(endpoint_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing to run against {endpoint_url}: the local cloud is on loopback")
    s3, sm, cw, runtime = _clients(endpoint_url)
    poll = 5.0 / _speed(endpoint_url)  # every 5 simulated seconds
    s3.create_bucket(Bucket=BUCKET)
    for version in ("v1", "v2"):
        s3.put_object(Bucket=BUCKET, Key=f"{version}/model.tar.gz", Body=_model_tarball(version))
        container: dict[str, Any] = {
            "Image": f"example:{version}",
            "ModelDataUrl": f"s3://{BUCKET}/{version}/model.tar.gz",
        }
        if version == "v2":  # the other contract: the handler script named in the environment
            container["Environment"] = {
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
            }
        sm.create_model(
            ModelName=f"{ENDPOINT}-{version}",
            ExecutionRoleArn=ROLE,
            PrimaryContainer=container,
            EnableNetworkIsolation=True,
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
        TreatMissingData="notBreaching",
    )
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=f"{ENDPOINT}-v1")
    while sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"] == "Creating":
        time.sleep(poll)
    answer = runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b"1,2", ContentType="text/csv")
    say(f"{ENDPOINT} InService on {ENDPOINT}-v1, answering {answer['Body'].read().decode()}")
    say(f"canary to {ENDPOINT}-v2, with traffic")
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
    started, last = time.monotonic(), ""
    answers: dict[str, int] = {}
    while True:
        try:
            runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b"1,2", ContentType="text/csv")
            answers["ok"] = answers.get("ok", 0) + 1
        except runtime.exceptions.ModelError:
            answers["ModelError"] = answers.get("ModelError", 0) + 1
        described = sm.describe_endpoint(EndpointName=ENDPOINT)
        pending = described.get("PendingDeploymentSummary")
        variant = pending["ProductionVariants"][0]["VariantStatus"][0]["Status"] if pending else "-"
        line = f"{described['EndpointStatus']:<12} {variant}"
        if line != last:
            say(f"[{time.monotonic() - started:5.2f}s] {line}")
            last = line
        if described["EndpointStatus"] not in ("Updating", "RollingBack"):
            break
        time.sleep(poll)
    say(f"answers during the rollout: {answers}")
    alarm = cw.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]
    history = cw.describe_alarm_history(AlarmName=ALARM)["AlarmHistoryItems"]
    fired = [h for h in history if h["HistorySummary"].endswith("to ALARM")]
    if fired:
        say(f"{ALARM}: {json.loads(fired[0]['HistoryData'])['newState']['stateReason']}")
    say(f"{ALARM} is now {alarm['StateValue']}")
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
