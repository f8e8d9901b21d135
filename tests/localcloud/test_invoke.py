"""InvokeEndpoint runs the deployed model's handlers; traffic drives metrics, alarms and
capture (plain boto3 against the local cloud)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from examples import tabular
from pipelines.serving_code import repack, tar_gz
from tests.localcloud.helpers import BUCKET, ROLE, canary, pending_status, wait_endpoint

pytestmark = pytest.mark.localcloud

WEIGHTS, BIAS = [0.5, -0.25, 1.0, 0.0], 0.1
MODEL: dict[str, Any] = {"weights": WEIGHTS, "bias": BIAS}
PACKED = {
    "SAGEMAKER_PROGRAM": "inference.py",
    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
    "SAGEMAKER_REGION": "us-east-1",
}
CAPTURE = "s3://" + BUCKET + "/capture"


def model_tarball(**extra: Any) -> bytes:
    return tar_gz({"model.json": json.dumps({**MODEL, **extra}).encode()})


def put_serving_model(
    cloud: Any,
    name: str,
    *,
    form: str = "packed",
    isolation: bool = True,
    **model: Any,
) -> None:
    s3, sm = cloud.client("s3"), cloud.client("sagemaker")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    env = dict(PACKED)
    if form == "packed":
        body = repack(model_tarball(**model), tabular.source_tarball())
    elif form == "pytorch":  # code/inference.py inside model.tar.gz, no Environment
        body = tar_gz(
            {
                "model.json": json.dumps({**MODEL, **model}).encode(),
                "code/inference.py": (tabular.SOURCE_DIR / "inference.py").read_bytes(),
            }
        )
        env = {}
    else:  # the S3 source tarball
        s3.put_object(Bucket=BUCKET, Key=f"{name}/sourcedir.tar.gz", Body=tabular.source_tarball())
        body = model_tarball(**model)
        env["SAGEMAKER_SUBMIT_DIRECTORY"] = f"s3://{BUCKET}/{name}/sourcedir.tar.gz"
    s3.put_object(Bucket=BUCKET, Key=f"{name}/model.tar.gz", Body=body)
    container: dict[str, Any] = {
        "Image": "img",
        "ModelDataUrl": f"s3://{BUCKET}/{name}/model.tar.gz",
    }
    if env:
        container["Environment"] = env
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer=container,
        EnableNetworkIsolation=isolation,
    )


def put_handler_model(cloud: Any, name: str, handlers: bytes) -> None:
    """A Model whose ``model.tar.gz`` holds only ``code/inference.py`` = ``handlers``."""
    s3 = cloud.client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    s3.put_object(
        Bucket=BUCKET, Key=f"{name}/model.tar.gz", Body=tar_gz({"code/inference.py": handlers})
    )
    cloud.client("sagemaker").create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "img", "ModelDataUrl": f"s3://{BUCKET}/{name}/model.tar.gz"},
    )


def put_config(
    cloud: Any, name: str, model: str, *, instances: int = 2, sampling: int = 100, **capture: Any
) -> None:
    cloud.client("sagemaker").create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InitialInstanceCount": instances,
                "InstanceType": "ml.g5.xlarge",
            }
        ],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": sampling,
            "DestinationS3Uri": CAPTURE,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
            **capture,
        },
    )


def serving_endpoint(cloud: Any, name: str = "ep", form: str = "packed", **model: Any) -> None:
    put_serving_model(cloud, f"{name}-m1", form=form, **model)
    put_config(cloud, f"{name}-c1", f"{name}-m1")
    cloud.client("sagemaker").create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-c1")
    assert wait_endpoint(cloud, name)["EndpointStatus"] == "InService"


_RUNTIMES: dict[int, Any] = {}


def invoke(cloud: Any, body: str, endpoint: str = "ep", **kwargs: Any) -> dict[str, Any]:
    # one client per cloud: making a boto3 client costs more than the call itself
    if id(cloud) not in _RUNTIMES:
        _RUNTIMES[id(cloud)] = cloud.client("sagemaker-runtime")
    runtime = _RUNTIMES[id(cloud)]
    response = runtime.invoke_endpoint(
        EndpointName=endpoint,
        Body=body.encode(),
        ContentType=kwargs.pop("ContentType", "text/csv"),
        **kwargs,
    )
    return {**response, "body": response["Body"].read().decode()}


def expected(row: list[float]) -> float:
    import math

    z = sum(w * v for w, v in zip(WEIGHTS, row, strict=True)) + BIAS
    return 1.0 / (1.0 + math.exp(-z))


@pytest.mark.parametrize("form", ["packed", "pytorch", "s3"])
def test_invoke_runs_the_handlers_in_either_contract(local_cloud: Any, form: str) -> None:
    put_serving_model(local_cloud, "m1", form=form, isolation=form != "s3")
    put_config(local_cloud, "c1", "m1")
    local_cloud.client("sagemaker").create_endpoint(EndpointName="ep", EndpointConfigName="c1")
    assert wait_endpoint(local_cloud, "ep")["EndpointStatus"] == "InService"
    answer = invoke(local_cloud, "1,2,3,4\n0,0,0,0", Accept="application/json")
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    assert answer["ContentType"] == "application/json"
    probabilities = json.loads(answer["body"])["probabilities"]
    assert probabilities == pytest.approx([expected([1, 2, 3, 4]), expected([0, 0, 0, 0])])
    csv = invoke(local_cloud, "[[1, 2, 3, 4]]", ContentType="application/json", Accept="text/csv")
    assert csv["ContentType"] == "text/csv"
    assert float(csv["body"]) == pytest.approx(expected([1, 2, 3, 4]), abs=1e-6)


def test_the_s3_form_under_network_isolation_fails_the_health_check(local_cloud: Any) -> None:
    put_serving_model(local_cloud, "m1", form="s3", isolation=True)
    put_config(local_cloud, "c1", "m1")
    local_cloud.client("sagemaker").create_endpoint(EndpointName="ep", EndpointConfigName="c1")
    final = wait_endpoint(local_cloud, "ep")
    assert final["EndpointStatus"] == "Failed"
    assert "did not pass the ping health check" in final["FailureReason"]
    assert "network isolation" in final["FailureReason"]


def test_errors_as_aws_gives_them(local_cloud: Any) -> None:
    runtime = local_cloud.client("sagemaker-runtime")
    with pytest.raises(ClientError) as unknown:
        runtime.invoke_endpoint(EndpointName="nope", Body=b"1", ContentType="text/csv")
    assert unknown.value.response["Error"]["Code"] == "ValidationException"
    assert (
        unknown.value.response["Error"]["Message"]
        == "Endpoint nope of account 123456789012 not found."
    )
    put_serving_model(local_cloud, "m1")
    put_config(local_cloud, "c1", "m1")
    local_cloud.client("sagemaker").create_endpoint(EndpointName="ep", EndpointConfigName="c1")
    with pytest.raises(ClientError) as creating:
        runtime.invoke_endpoint(EndpointName="ep", Body=b"1,2,3,4", ContentType="text/csv")
    assert creating.value.response["Error"]["Code"] == "ValidationException"
    assert "Creating" in creating.value.response["Error"]["Message"]
    wait_endpoint(local_cloud, "ep")
    with pytest.raises(ClientError) as big:
        runtime.invoke_endpoint(
            EndpointName="ep", Body=b"1" * (6 * 1024 * 1024 + 1), ContentType="text/csv"
        )
    assert big.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as model_error:
        runtime.invoke_endpoint(EndpointName="ep", Body=b"1,x,3,4", ContentType="text/csv")
    error: dict[str, Any] = dict(model_error.value.response)
    assert error["Error"]["Code"] == "ModelError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 500
    assert "could not convert string to float" in error["OriginalMessage"]
    assert error["LogStreamArn"].startswith(
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/ep"
    )
    # The worker survived: the next request is served.
    assert json.loads(invoke(local_cloud, "0,0,0,0")["body"])["probabilities"] == pytest.approx(
        [expected([0, 0, 0, 0])]
    )
    with pytest.raises(ClientError) as wrong_variant:
        runtime.invoke_endpoint(
            EndpointName="ep", Body=b"0,0,0,0", ContentType="text/csv", TargetVariant="Nope"
        )
    assert wrong_variant.value.response["Error"]["Code"] == "ValidationException"
    assert (
        invoke(local_cloud, "0,0,0,0", TargetVariant="AllTraffic")["InvokedProductionVariant"]
        == "AllTraffic"
    )


def _stats(cloud: Any, metric: str, statistic: str = "Sum", endpoint: str = "ep") -> float:
    now = json.loads(
        __import__("urllib.request")
        .request.urlopen(cloud.endpoint_url + "/_localcloud/clock")
        .read()
    )["now"]
    points = cloud.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName=metric,
        Dimensions=[
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        StartTime=dt.datetime.fromtimestamp(now - 86400, dt.UTC),
        EndTime=dt.datetime.fromtimestamp(now + 120, dt.UTC),
        Period=60,
        Statistics=[statistic],
    )["Datapoints"]
    return (
        float(sum(p[statistic] for p in points))
        if statistic == "Sum"
        else max(p[statistic] for p in points)
    )


def test_traffic_is_in_the_metrics_and_the_capture_files(local_cloud: Any) -> None:
    serving_endpoint(local_cloud)
    for row in ("1,2,3,4", "0,0,0,0", "1,x,3,4", "2,2,2,2"):
        with contextlib.suppress(ClientError):
            invoke(local_cloud, row)
    assert _stats(local_cloud, "Invocations") == 4
    assert _stats(local_cloud, "Invocation5XXErrors") == 1
    assert _stats(local_cloud, "Invocation4XXErrors") == 0
    assert _stats(local_cloud, "InvocationsPerInstance") == pytest.approx(2.0)  # 4 over 2 instances
    assert 0 < _stats(local_cloud, "ModelLatency", "Maximum") < 60e6  # microseconds
    assert _stats(local_cloud, "OverheadLatency", "Maximum") > 0
    local_cloud.clock.sleep(120)  # a batch is written once it is a minute old
    s3 = local_cloud.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="capture/")["Contents"]]
    assert keys and all(
        k.startswith("capture/ep/AllTraffic/") and k.endswith(".jsonl") for k in keys
    )
    parts = keys[0].split("/")
    assert [len(p) for p in parts[3:7]] == [4, 2, 2, 2]  # yyyy/mm/dd/hh
    records = [
        json.loads(line)
        for k in keys
        for line in s3.get_object(Bucket=BUCKET, Key=k)["Body"].read().splitlines()
    ]
    assert len(records) == 4
    first = records[0]
    assert first["eventVersion"] == "0"
    assert first["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": "1,2,3,4",
        "encoding": "CSV",
    }
    output = first["captureData"]["endpointOutput"]
    assert output["mode"] == "OUTPUT" and output["observedContentType"] == "application/json"
    assert output["encoding"] == "BASE64"  # JSON is not in CsvContentTypes and not configured
    assert json.loads(__import__("base64").b64decode(output["data"]))["probabilities"]
    assert (
        first["eventMetadata"]["inferenceTime"].endswith("Z") and first["eventMetadata"]["eventId"]
    )
    failed = [r for r in records if r["captureData"]["endpointInput"]["data"] == "1,x,3,4"]
    assert "endpointOutput" not in failed[0]["captureData"]


def test_sampling_percentage_is_an_exact_share(local_cloud: Any) -> None:
    put_serving_model(local_cloud, "m1")
    put_config(local_cloud, "c1", "m1", sampling=25)
    local_cloud.client("sagemaker").create_endpoint(EndpointName="ep", EndpointConfigName="c1")
    wait_endpoint(local_cloud, "ep")
    for _ in range(20):
        invoke(local_cloud, "0,0,0,0")
    local_cloud.clock.sleep(120)
    s3 = local_cloud.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="capture/")["Contents"]]
    lines = sum(len(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read().splitlines()) for k in keys)
    assert lines == 5


def test_a_canary_rolls_back_because_its_traffic_made_the_5xx_alarm_fire(local_cloud: Any) -> None:
    """Nothing sets the alarm: the faulty canary model answers 5XX to its share of the traffic, its
    per-minute Invocation5XXErrors cross the threshold, the alarm goes into ALARM, and the
    blue/green update rolls back to the old config."""
    put_serving_model(local_cloud, "good")
    put_serving_model(local_cloud, "faulty", input_limit=-10.0)  # fails every request
    put_config(local_cloud, "c-good", "good")
    put_config(local_cloud, "c-faulty", "faulty")
    cw, sm = local_cloud.client("cloudwatch"), local_cloud.client("sagemaker")
    cw.put_metric_alarm(
        AlarmName="ep-5xx",
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[
            {"Name": "EndpointName", "Value": "ep"},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    sm.create_endpoint(EndpointName="ep", EndpointConfigName="c-good")
    wait_endpoint(local_cloud, "ep")
    sm.update_endpoint(
        EndpointName="ep",
        EndpointConfigName="c-faulty",
        DeploymentConfig=canary(alarms=("ep-5xx",)),
    )
    stop = threading.Event()
    weights: list[float] = []

    def traffic() -> None:
        rows = tabular.payloads()
        i = 0
        while not stop.is_set():
            with contextlib.suppress(ClientError):
                invoke(local_cloud, rows[i % len(rows)])
            i += 1
            local_cloud.clock.sleep(2)

    def watch(description: dict[str, Any]) -> None:
        if pending_status(description)[1] == "Baking":
            weights.append(
                description["PendingDeploymentSummary"]["ProductionVariants"][0]["CurrentWeight"]
            )

    sender = threading.Thread(target=traffic, daemon=True)
    sender.start()
    try:
        final = wait_endpoint(local_cloud, "ep", on_poll=watch, timeout=30)
    finally:
        stop.set()
        sender.join()
    assert final["EndpointStatus"] == "InService"
    assert final["EndpointConfigName"] == "c-good"
    assert "ep-5xx" in final["FailureReason"]
    # the canary bake (1 of 2 instances: half the traffic) is where it rolled back: every poll
    # that saw it bake saw the canary's share, never the full fleet's
    assert set(weights) <= {0.5}
    history = cw.describe_alarm_history(AlarmName="ep-5xx", HistoryItemType="StateUpdate")
    summaries = [i["HistorySummary"] for i in reversed(history["AlarmHistoryItems"])]
    assert "Alarm updated from OK to ALARM" in summaries
    to_alarm = next(
        json.loads(i["HistoryData"])
        for i in history["AlarmHistoryItems"]
        if i["HistorySummary"].endswith("to ALARM")
    )
    assert to_alarm["newState"]["stateReason"].startswith("Threshold Crossed: 1 datapoint [")
    assert to_alarm["newState"]["stateReasonData"]["recentDatapoints"][0] >= 1.0


def test_custom_attributes_reach_a_handler_that_takes_a_context(local_cloud: Any) -> None:
    handlers = b"""
import json

def model_fn(model_dir):
    return {}

def predict_fn(data, model, context):
    context.response_custom_attributes = "seen=" + str(context.custom_attributes)
    return [len(row) for row in data]
"""
    put_handler_model(local_cloud, "m-ctx", handlers)
    put_config(local_cloud, "c-ctx", "m-ctx")
    local_cloud.client("sagemaker").create_endpoint(EndpointName="ep", EndpointConfigName="c-ctx")
    wait_endpoint(local_cloud, "ep")
    answer = invoke(local_cloud, "1,2,3", CustomAttributes="trace=abc")
    assert answer["body"] == "[3]"
    assert answer["CustomAttributes"] == "seen=trace=abc"


def test_a_fleet_stays_creating_until_its_model_has_loaded(local_cloud: Any) -> None:
    """Loading a model takes real time, which the compressed clock would turn into a long
    simulated stretch: the fleet is Creating until the model is loaded, so no speed can make
    traffic (or a bake) reach a fleet that cannot answer yet (FAULTS 22)."""
    handlers = b"""
import time

def model_fn(model_dir):
    time.sleep(0.3)  # a slow model load (real time, as loading is)
    return {}

def predict_fn(data, model):
    return [0 for _ in data]
"""
    put_handler_model(local_cloud, "m-slow", handlers)
    put_config(local_cloud, "c-slow", "m-slow")
    created = local_cloud.clock.now()
    local_cloud.client("sagemaker").create_endpoint(EndpointName="ep", EndpointConfigName="c-slow")
    final = wait_endpoint(local_cloud, "ep")
    in_service_after = final["LastModifiedTime"].timestamp() - created
    assert in_service_after >= 0.3 * local_cloud.clock.speed > 300  # not the usual 300 s
    assert invoke(local_cloud, "1,2")["body"] == "[0]"
