"""Training jobs that really run the example's entry point (script mode), via plain boto3."""

from __future__ import annotations

import io
import json
import tarfile
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from examples import tabular

pytestmark = pytest.mark.localcloud

DATA_BUCKET = "data-localcloud-test"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"


def start_job(
    cloud: Any,
    name: str,
    *,
    max_runtime: Any = 3600,
    resources: Any = None,
    **hyper: Any,
) -> Any:
    s3, sm = cloud.client("s3"), cloud.client("sagemaker")
    s3.create_bucket(Bucket=DATA_BUCKET)
    uploads = tabular.upload(s3, DATA_BUCKET)
    sm.create_training_job(
        TrainingJobName=name,
        HyperParameters=tabular.hyperparameters(uploads.source_uri, **hyper),
        AlgorithmSpecification={
            "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/sklearn:1.2",
            "TrainingInputMode": "File",
            "MetricDefinitions": tabular.METRIC_DEFINITIONS,
        },
        RoleArn=ROLE,
        InputDataConfig=tabular.input_data_config(uploads),
        OutputDataConfig={"S3OutputPath": f"s3://{DATA_BUCKET}/training/"},
        ResourceConfig=resources
        or {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": max_runtime},
    )
    return sm


def wait_job(sm: Any, name: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = sm.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return dict(job)
        time.sleep(0.02)
    raise AssertionError(f"training job {name} did not finish within {timeout} s")


def test_training_job_runs_the_entry_point_and_uploads_the_model(local_cloud: Any) -> None:
    sm = start_job(local_cloud, "tabular-ok", epochs=20)
    assert (
        sm.describe_training_job(TrainingJobName="tabular-ok")["TrainingJobStatus"] == "InProgress"
    )
    job = wait_job(sm, "tabular-ok")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["SecondaryStatus"] == "Completed"
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert metrics["validation:accuracy"] > 0.85
    assert set(metrics) == {
        "validation:accuracy",
        "validation:auc",
        "validation:loss",
        "train:loss",
    }
    assert metrics["validation:auc"] > 0.9
    assert job["AlgorithmSpecification"]["MetricDefinitions"] == tabular.METRIC_DEFINITIONS
    artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifact == f"s3://{DATA_BUCKET}/training/tabular-ok/output/model.tar.gz"
    body = local_cloud.client("s3").get_object(
        Bucket=DATA_BUCKET, Key="training/tabular-ok/output/model.tar.gz"
    )
    with tarfile.open(fileobj=io.BytesIO(body["Body"].read())) as tar:
        member = tar.extractfile("model.json")
        assert member is not None
        model = json.load(member)
    assert len(model["weights"]) == 4
    statuses = [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert statuses[0] == "Starting" and statuses[-1] == "Completed" and "Training" in statuses


def test_training_output_goes_to_cloudwatch_logs(local_cloud: Any) -> None:
    logs = local_cloud.client("logs")
    logs.create_log_group(logGroupName="/aws/sagemaker/TrainingJobs")
    sm = start_job(local_cloud, "tabular-logs", epochs=3)
    assert wait_job(sm, "tabular-logs")["TrainingJobStatus"] == "Completed"
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs")["logStreams"]
    assert [s["logStreamName"].split("/")[0] for s in streams] == ["tabular-logs"]
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=streams[0]["logStreamName"]
    )
    assert any("validation:accuracy=" in e["message"] for e in events["events"]), events["events"][
        :5
    ]


def test_degraded_training_reports_worse_metrics(local_cloud: Any) -> None:
    sm = start_job(local_cloud, "tabular-degraded", **tabular.DEGRADE)
    job = wait_job(sm, "tabular-degraded")
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert job["TrainingJobStatus"] == "Completed"
    assert metrics["validation:accuracy"] < 0.8


def test_failing_entry_point_fails_the_job_with_stderr(local_cloud: Any) -> None:
    sm = start_job(local_cloud, "tabular-fail", **tabular.FAIL)
    job = wait_job(sm, "tabular-fail")
    assert job["TrainingJobStatus"] == "Failed"
    assert job["SecondaryStatus"] == "Failed"
    assert "exit code 3" in job["FailureReason"]
    assert "training failed on purpose" in job["FailureReason"]
    assert not job.get("FinalMetricDataList")


def test_stop_training_job_stops_it(local_cloud: Any) -> None:
    sm = start_job(local_cloud, "tabular-stop", sleep_seconds=60)
    sm.stop_training_job(TrainingJobName="tabular-stop")
    assert (
        sm.describe_training_job(TrainingJobName="tabular-stop")["TrainingJobStatus"] == "Stopping"
    )
    job = wait_job(sm, "tabular-stop")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "Stopped")
    with pytest.raises(ClientError, match="in status Stopped"):
        sm.stop_training_job(TrainingJobName="tabular-stop")


def test_max_runtime_exceeded_stops_the_job(local_cloud: Any) -> None:
    sm = start_job(local_cloud, "tabular-slow", max_runtime=1, sleep_seconds=60)
    job = wait_job(sm, "tabular-slow")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")


def test_job_without_script_mode_hyperparameters_fails_loudly(local_cloud: Any) -> None:
    sm = local_cloud.client("sagemaker")
    local_cloud.client("s3").create_bucket(Bucket=DATA_BUCKET)
    sm.create_training_job(
        TrainingJobName="no-script",
        AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
        RoleArn=ROLE,
        OutputDataConfig={"S3OutputPath": f"s3://{DATA_BUCKET}/training/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )
    job = wait_job(sm, "no-script")
    assert job["TrainingJobStatus"] == "Failed"
    assert "sagemaker_program" in job["FailureReason"]


def test_duplicate_training_job_name_is_refused(local_cloud: Any) -> None:
    sm = start_job(local_cloud, "tabular-dup")
    with pytest.raises(ClientError) as err:
        start_job(local_cloud, "tabular-dup")
    assert err.value.response["Error"]["Code"] == "ResourceInUse"
    wait_job(sm, "tabular-dup")


def test_spot_training_needs_a_max_wait_at_least_the_max_runtime(local_cloud: Any) -> None:
    sm = local_cloud.client("sagemaker")
    with pytest.raises(ClientError, match="MaxWaitTimeInSeconds"):
        sm.create_training_job(
            TrainingJobName="spot",
            AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
            RoleArn=ROLE,
            OutputDataConfig={"S3OutputPath": f"s3://{DATA_BUCKET}/training/"},
            ResourceConfig={
                "InstanceType": "ml.g5.xlarge",
                "InstanceCount": 1,
                "VolumeSizeInGB": 10,
            },
            StoppingCondition={"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 600},
            EnableManagedSpotTraining=True,
        )


@pytest.mark.parametrize("instance_type", ["ml.g5.xlarge", "ml.p4d.24xlarge", "ml.m5d.large"])
def test_a_volume_key_is_refused_for_local_nvme_instance_types(
    local_cloud: Any, instance_type: str
) -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/test"
    resources = {"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": 10}
    with pytest.raises(ClientError) as refused:
        start_job(local_cloud, "nvme-key", resources={**resources, "VolumeKmsKeyId": key})
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "VolumeKmsKeyId" in refused.value.response["Error"]["Message"]
    assert instance_type in refused.value.response["Error"]["Message"]
    sm = local_cloud.client("sagemaker")
    assert sm.list_training_jobs()["TrainingJobSummaries"] == []
    # EBS-backed types take the key.
    start_job(
        local_cloud,
        "ebs-key",
        resources={
            "InstanceType": "ml.m5.large",
            "InstanceCount": 1,
            "VolumeSizeInGB": 10,
            "VolumeKmsKeyId": key,
        },
    )
    assert wait_job(sm, "ebs-key")["ResourceConfig"]["VolumeKmsKeyId"] == key


@pytest.mark.parametrize(
    ("hyper", "final"), [({}, "Completed"), ({"sleep_seconds": "30"}, "Stopped")]
)
def test_secondary_status_transitions_are_ordered_once_each_and_only_grow(
    local_cloud: Any, hyper: dict[str, str], final: str
) -> None:
    """Every poll's SecondaryStatusTransitions is a prefix-compatible, ordered list of distinct
    statuses whose EndTime is never before its StartTime (a stopped job included)."""
    sm = start_job(local_cloud, "transitions", max_runtime=1 if hyper else 3600, **hyper)
    seen: list[list[tuple[str, Any]]] = []
    while True:
        job = sm.describe_training_job(TrainingJobName="transitions")
        transitions = job["SecondaryStatusTransitions"]
        statuses = [t["Status"] for t in transitions]
        assert len(statuses) == len(set(statuses)), statuses
        starts = [t["StartTime"] for t in transitions]
        assert starts == sorted(starts)
        for t in transitions:
            assert "EndTime" not in t or t["EndTime"] >= t["StartTime"], t
        now = [(t["Status"], t["StartTime"]) for t in transitions]
        if seen:
            assert now[: len(seen[-1])] == seen[-1]  # earlier entries never change or vanish
        seen.append(now)
        if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(0.02)
    assert job["TrainingJobStatus"] == final
    assert seen[-1][-1][0] == ("Completed" if final == "Completed" else "MaxRuntimeExceeded")
