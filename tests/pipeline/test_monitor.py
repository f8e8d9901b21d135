"""`mlops monitor` on the local cloud: a served model's captured traffic, shifted on one
feature, is named by the drift run, lands in CloudWatch and puts the drift alarm in ALARM."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from components import naming
from tests.pipeline.conftest import ACCOUNT, REGION, endpoint_spec
from tests.pipeline.test_cli import mlops, write_outputs

pytestmark = pytest.mark.localcloud

STACK = "test"
ENDPOINT = f"mlops-stack-{STACK}-churn"
CAPTURE = f"s3://mlops-stack-{STACK}-capture/{ENDPOINT}/"
ROLE = f"{ENDPOINT}-monitor"


def monitored_spec(**monitoring: Any) -> dict[str, Any]:
    spec = endpoint_spec(STACK)
    spec["data_capture"] = {
        **spec["data_capture"],
        "sampling_percent": 100,
        "destination_s3_uri": CAPTURE,
    }
    spec["monitoring"] = {
        "window_seconds": 3600,
        "metric": "auto",
        "min_samples": 50,
        "alarm_windows": 1,
        "namespace": naming.DRIFT_NAMESPACE,
        "drift_alarm_name": naming.alarm_name(ENDPOINT, "drift"),
        "processing_role_arn": f"arn:aws:iam::{ACCOUNT}:role/{ROLE}",
        "capture_s3_uri": CAPTURE,
        "reports_s3_uri": f"s3://mlops-stack-{STACK}-capture/{naming.reports_prefix(ENDPOINT)}",
        "baselines_s3_uri": f"s3://mlops-stack-{STACK}-model/baselines/",
        "instance_type": "ml.m5.xlarge",
        "max_runtime_seconds": 3600,
        **monitoring,
    }
    spec["alarm_names"] = [*spec["rollback_alarm_names"], spec["monitoring"]["drift_alarm_name"]]
    return spec


def rows(n: int, shift: float, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.gauss(0, 1):.5f},{rng.gauss(shift, 1):.5f}" for _ in range(n)]


@pytest.fixture
def monitored(make_stack: Any) -> Any:
    stack = make_stack(STACK, endpoints=[monitored_spec()])
    s3 = stack.client("s3")
    # the train channel: label first, no header (SageMaker's convention) → features _c0, _c1
    train = "".join(f"{i % 2},{row}\n" for i, row in enumerate(rows(1500, 0.0, 1)))
    s3.put_object(
        Bucket=stack.outputs.buckets.data, Key="churn/train/data.csv", Body=train.encode()
    )
    iam = stack.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    spec = stack.outputs.endpoint("churn")
    stack.client("cloudwatch").put_metric_alarm(
        AlarmName=spec.monitoring.drift_alarm_name,
        Namespace=naming.DRIFT_NAMESPACE,
        MetricName=naming.DRIFT_METRIC,
        Dimensions=[
            {"Name": "EndpointName", "Value": ENDPOINT},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        Statistic="Maximum",
        Period=3600,
        EvaluationPeriods=1,
        DatapointsToAlarm=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    from pipelines.deploy import deploy

    deploy(stack.ctx, "churn", stack.approved_package(0.9))
    return stack


def send(stack: Any, lines: list[str], per_request: int = 20) -> None:
    runtime = stack.client("sagemaker-runtime")
    for i in range(0, len(lines), per_request):
        runtime.invoke_endpoint(
            EndpointName=ENDPOINT,
            Body="\n".join(lines[i : i + per_request]),
            ContentType="text/csv",
        )
    stack.cloud.clock.sleep(120)  # capture batches are written once a minute old


def monitor_run(
    capsys: pytest.CaptureFixture[str], stack: Any, tmp_path: Path, *flags: str
) -> tuple[int, Any]:
    """`mlops monitor run --endpoint churn` on the stack's outputs, with ``flags``."""
    target = ["--endpoint", "churn", "--stack", STACK, "--outputs", write_outputs(stack, tmp_path)]
    return mlops(capsys, "monitor", "run", *target, *flags)


def alarm_states(stack: Any) -> list[str]:
    """Every state the drift alarm went into, oldest first (DescribeAlarmHistory)."""
    history = stack.client("cloudwatch").describe_alarm_history(
        AlarmName=f"{ENDPOINT}-drift", HistoryItemType="StateUpdate"
    )
    items = reversed(history["AlarmHistoryItems"])
    return [json.loads(i["HistoryData"])["newState"]["stateValue"] for i in items]


def reason_to_alarm(stack: Any) -> str:
    history = stack.client("cloudwatch").describe_alarm_history(
        AlarmName=f"{ENDPOINT}-drift", HistoryItemType="StateUpdate"
    )
    data = [json.loads(i["HistoryData"]) for i in history["AlarmHistoryItems"]]
    return str(
        next(d["newState"]["stateReason"] for d in data if d["newState"]["stateValue"] == "ALARM")
    )


def test_shifted_traffic_is_named_published_and_alarms(
    monitored: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    send(monitored, rows(400, 1.0, 2))
    report = tmp_path / "report.html"
    code, out = monitor_run(
        capsys,
        monitored,
        tmp_path,
        "--window",
        "1h",
        "--report",
        str(report),
        "--json",
    )
    assert code == 0, out
    assert out["drifted"] == ["_c1"]
    assert out["samples"] == 400 and out["baseline_samples"] == 1500
    assert {f["name"]: f["method"] for f in out["features"]} == {
        "_c1": "wasserstein",
        "_c0": "wasserstein",
    }
    assert out["baseline"].endswith("/baseline/statistics.json")
    [variant] = out["variants"]
    assert variant["variant"] == "AllTraffic" and variant["files"] >= 1
    # results next to the capture: Model Monitor's violations file, the JSON, the report
    s3 = monitored.client("s3")
    bucket = f"mlops-stack-{STACK}-capture"
    keys = {
        o["Key"]
        for o in s3.list_objects_v2(Bucket=bucket, Prefix=naming.reports_prefix(ENDPOINT))[
            "Contents"
        ]
    }
    names = {k.rsplit("/", 1)[1] for k in keys}
    assert names == {"constraint_violations.json", "drift.json", "statistics.json", "report.html"}
    assert all(k.startswith(f"{ENDPOINT}/reports/AllTraffic/") for k in keys)
    assert report.read_text().startswith("<!DOCTYPE html>")
    # CloudWatch: one datum per feature and the count the alarm watches; the alarm fired
    cw = monitored.client("cloudwatch")
    metrics = cw.list_metrics(Namespace=naming.DRIFT_NAMESPACE)["Metrics"]
    by_name = {
        (m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])))
        for m in metrics
    }
    assert (
        naming.FEATURE_DRIFT_METRIC,
        (("EndpointName", ENDPOINT), ("Feature", "_c1"), ("VariantName", "AllTraffic")),
    ) in by_name
    assert {m[0] for m in by_name} == {
        naming.FEATURE_DRIFT_METRIC,
        naming.DRIFT_METRIC,
        naming.DATA_QUALITY_METRIC,
        naming.SAMPLES_METRIC,
    }
    # the datum is the window's (its last second); the hourly alarm slides by the minute
    monitored.cloud.clock.sleep(120)
    assert "ALARM" in alarm_states(monitored)
    assert reason_to_alarm(monitored).startswith("Threshold Crossed: 1 datapoint [1 (")
    records = [r for r in monitored.audit() if r.action == "monitor"]
    assert records and records[-1].outcome == "succeeded"


def test_unshifted_traffic_and_too_little_traffic_never_alarm(
    monitored: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    send(monitored, rows(20, 3.0, 3))
    code, out = monitor_run(capsys, monitored, tmp_path, "--json")
    assert code == 0
    assert out["verdict"] == "insufficient data" and out["drifted"] == []
    monitored.cloud.clock.sleep(3700)
    send(monitored, rows(300, 0.0, 4))
    code, out = monitor_run(capsys, monitored, tmp_path, "--json")
    assert code == 0 and out["verdict"] == "no drift", out
    monitored.cloud.clock.sleep(3600)
    assert "ALARM" not in alarm_states(monitored)


def test_no_capture_in_the_window_is_reported_not_failed(
    monitored: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = monitor_run(capsys, monitored, tmp_path, "--window", "15m", "--json")
    assert code == 0
    assert out["verdict"] == "insufficient data" and out["variants"][0]["files"] == 0
    assert out["samples"] == 0 and out["drifted"] == []


def test_an_endpoint_that_is_not_monitored_is_bad_input(
    stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = mlops(
        capsys,
        "monitor",
        "run",
        "--endpoint",
        "churn",
        "--stack",
        "test",
        "--outputs",
        write_outputs(stack, tmp_path),
        "--json",
    )
    assert code == 2
    assert "is not monitored" in out["message"] and "monitoring.enabled" in out["message"]


def test_baseline_and_run_on_s3_locations(
    monitored: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = monitored.client("s3")
    data = monitored.outputs.buckets.data
    s3.put_object(
        Bucket=data, Key="ref/a.csv", Body=("x,y\n" + "\n".join(rows(500, 0, 5))).encode()
    )
    s3.put_object(
        Bucket=data, Key="cur/b.csv", Body=("x,y\n" + "\n".join(rows(500, 2, 6))).encode()
    )
    region = ["--region", REGION]
    out_uri = f"s3://{monitored.outputs.buckets.model}/baselines/ref"
    code, made = mlops(
        capsys,
        "monitor",
        "baseline",
        "--data",
        f"s3://{data}/ref/",
        "--out",
        out_uri,
        *region,
        "--json",
    )
    assert code == 0, made
    assert made["statistics"] == f"{out_uri}/statistics.json" and made["rows"] == 500
    code, out = mlops(
        capsys,
        "monitor",
        "run",
        "--baseline",
        out_uri,
        "--data",
        f"s3://{data}/cur/b.csv",
        *region,
        "--json",
    )
    assert code == 0 and out["drifted"] == ["y"]


def test_remote_runs_the_job_as_a_processing_job(
    monitored: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    send(monitored, rows(300, 1.0, 7))
    code, out = monitor_run(
        capsys,
        monitored,
        tmp_path,
        "--remote",
        "--wait",
        "1d",  # the job's real seconds are many simulated ones at the tests' clock speed
        "--image",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlops:monitor",
        "--json",
    )
    assert code == 0, out
    assert out["drifted"] == ["_c1"] and out["samples"] == 300
    [variant] = out["variants"]
    job = monitored.sm().describe_processing_job(ProcessingJobName=variant["job"])
    assert job["ProcessingJobStatus"] == "Completed"
    spec = monitored.outputs.endpoint("churn")
    assert job["RoleArn"] == spec.monitoring.processing_role_arn
    assert job["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert job["ProcessingOutputConfig"]["KmsKeyId"] == spec.kms_key_arn
    assert job["AppSpecification"]["ContainerEntrypoint"] == [
        "python3",
        "-m",
        "pipelines.monitoring.job",
    ]
    inputs = {i["InputName"]: i["S3Input"] for i in job["ProcessingInputs"]}
    assert inputs["capture-0"]["S3DataType"] == "ManifestFile"
    # the job's outputs, uploaded next to the capture; an isolated job's metrics published here
    s3 = monitored.client("s3")
    bucket, key = variant["outputs"]["violations"].removeprefix("s3://").split("/", 1)
    assert "violations" in json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    metrics = monitored.client("cloudwatch").list_metrics(
        Namespace=naming.DRIFT_NAMESPACE, MetricName=naming.DRIFT_METRIC
    )["Metrics"]
    assert metrics


def test_remote_with_no_capture_starts_no_job_and_says_so(
    monitored: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipelines.cli import main

    outputs = write_outputs(monitored, tmp_path)
    target = ["--endpoint", "churn", "--stack", STACK, "--outputs", outputs]
    code = main(["monitor", "run", *target, "--window", "15m", "--remote"])
    captured = capsys.readouterr()
    assert code == 0
    assert "insufficient data (0 rows" in captured.out
    assert "no job started" in captured.err and "Traceback" not in captured.err
    assert monitored.sm().list_processing_jobs()["ProcessingJobSummaries"] == []
