"""Processing jobs that really run their python entry point, through plain boto3."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError
from botocore.validate import ParamValidator

pytestmark = pytest.mark.localcloud

BUCKET = "processing-localcloud-test"
ROLE_NAME = "drift-monitor"
ROLE = f"arn:aws:iam::123456789012:role/{ROLE_NAME}"
KEY = "arn:aws:kms:us-east-1:123456789012:key/processing-test"
TERMINAL = ("Completed", "Failed", "Stopped")

SUMMARISE = """\
import argparse, json, os, pathlib, sys
parser = argparse.ArgumentParser()
parser.add_argument("--input")
parser.add_argument("--threshold", type=float)
args = parser.parse_args()
rows = []
for path in sorted(pathlib.Path(args.input).rglob("*.csv")):
    rows += [float(x) for x in path.read_text().split()]
out = pathlib.Path(os.environ["REPORT_DIR"])
(out / "nested").mkdir()
(out / "nested" / "summary.json").write_text(json.dumps({
    "rows": len(rows), "mean": sum(rows) / len(rows), "over": sum(r > args.threshold for r in rows),
    "files": sorted(str(p.relative_to(args.input)) for p in pathlib.Path(args.input).rglob("*")
                    if p.is_file()),
    "root": os.environ["MLOPS_PROCESSING_ROOT"], "input": args.input,
}))
pathlib.Path("/opt/ml/output/message".replace("/opt/ml", str(pathlib.Path(
    os.environ["MLOPS_PROCESSING_ROOT"]).parent))).write_text("summarised " + str(len(rows)))
print("summarised", len(rows), "rows")
"""


def assert_fits(client: Any, operation: str, response: dict[str, Any]) -> None:
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    shape = client.meta.service_model.operation_model(operation).output_shape
    report = ParamValidator().validate(body, shape)
    assert not report.has_errors(), report.generate_report()


def setup(cloud: Any) -> Any:
    """The bucket, a role SageMaker may assume, the SageMaker client."""
    cloud.client("s3").create_bucket(Bucket=BUCKET)
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
    cloud.client("iam").create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
    return cloud.client("sagemaker")


def put(cloud: Any, key: str, body: str | bytes) -> str:
    cloud.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
    return f"s3://{BUCKET}/{key}"


def request(
    name: str,
    entrypoint: list[str],
    *,
    arguments: list[str] | None = None,
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    max_runtime: int = 3600,
    **extra: Any,
) -> dict[str, Any]:
    app: dict[str, Any] = {
        "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-monitor:1",
        "ContainerEntrypoint": entrypoint,
    }
    if arguments:
        app["ContainerArguments"] = arguments
    body: dict[str, Any] = {
        "ProcessingJobName": name,
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "VolumeSizeInGB": 5,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime},
        "AppSpecification": app,
        "RoleArn": ROLE,
        "ProcessingInputs": inputs or [],
        **extra,
    }
    if outputs is not None:
        body["ProcessingOutputConfig"] = {"Outputs": outputs}
    return body


def s3_input(name: str, uri: str, local: str, **extra: Any) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            **extra,
        },
    }


def s3_output(name: str, uri: str, local: str) -> dict[str, Any]:
    return {
        "OutputName": name,
        "S3Output": {"S3Uri": uri, "LocalPath": local, "S3UploadMode": "EndOfJob"},
    }


def python(code: str) -> list[str]:
    return ["python3", "-c", code]


def wait_job(cloud: Any, name: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll DescribeProcessingJob until a terminal status (``timeout`` real seconds at most)."""
    sm = cloud.client("sagemaker")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = sm.describe_processing_job(ProcessingJobName=name)
        if job["ProcessingJobStatus"] in TERMINAL:
            return dict(job)
        cloud.clock.sleep(5)
    raise AssertionError(f"processing job {name} did not finish within {timeout} s")


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = raised.value.response["Error"]
    status = raised.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return error["Code"], error["Message"], status


# ------------------------------------------------------------------ running
def test_processing_job_runs_its_entry_point_and_uploads_the_outputs(local_cloud: Any) -> None:
    sm = setup(local_cloud)
    code = put(local_cloud, "code/summarise.py", SUMMARISE)
    put(local_cloud, "data/day1/a.csv", "1 2 3")
    put(local_cloud, "data/day2/b.csv", "4 5")
    body = request(
        "drift-summary",
        ["python3", "/opt/ml/processing/input/code/summarise.py"],
        arguments=["--input", "/opt/ml/processing/input/data", "--threshold", "2.5"],
        inputs=[
            s3_input("code", code, "/opt/ml/processing/input/code"),
            s3_input("data", f"s3://{BUCKET}/data/", "/opt/ml/processing/input/data"),
        ],
        outputs=[s3_output("report", f"s3://{BUCKET}/reports/run-1/", "/opt/ml/processing/report")],
        Environment={"REPORT_DIR": "/opt/ml/processing/report"},
        NetworkConfig={"EnableNetworkIsolation": False},
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    body["ProcessingOutputConfig"]["KmsKeyId"] = KEY
    arn = sm.create_processing_job(**body)["ProcessingJobArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:processing-job/drift-summary"
    job = wait_job(local_cloud, "drift-summary")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert_fits(sm, "DescribeProcessingJob", job)
    assert job["ExitMessage"] == "summarised 5"
    assert "FailureReason" not in job
    assert job["CreationTime"] < job["ProcessingStartTime"] < job["ProcessingEndTime"]
    assert job["LastModifiedTime"] == job["ProcessingEndTime"]
    for key in (
        "ProcessingInputs",
        "ProcessingOutputConfig",
        "ProcessingResources",
        "StoppingCondition",
        "AppSpecification",
        "Environment",
        "NetworkConfig",
        "RoleArn",
    ):
        assert job[key] == body[key], key
    assert "Tags" not in job
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]

    s3 = local_cloud.client("s3")
    obj = s3.get_object(Bucket=BUCKET, Key="reports/run-1/nested/summary.json")
    summary = json.loads(obj["Body"].read())
    assert (obj["ServerSideEncryption"], obj["SSEKMSKeyId"]) == ("aws:kms", KEY)
    assert (summary["rows"], summary["mean"], summary["over"]) == (5, 3.0, 3)
    assert summary["files"] == ["day1/a.csv", "day2/b.csv"]  # keys relative to the prefix
    assert summary["input"] == summary["root"] + "/input/data"
    assert not summary["root"].startswith("/opt/ml")


def test_failing_entry_point_fails_the_job_with_its_stderr(local_cloud: Any) -> None:
    sm = setup(local_cloud)
    sm.create_processing_job(
        **request(
            "fails",
            python(
                "import sys; print('reading captures', file=sys.stderr); "
                "sys.exit('no capture files under the window')"
            ),
            outputs=[s3_output("report", f"s3://{BUCKET}/reports/", "/opt/ml/processing/report")],
        )
    )
    job = wait_job(local_cloud, "fails")
    assert job["ProcessingJobStatus"] == "Failed"
    reason = job["FailureReason"]
    assert reason.startswith("AlgorithmError: See job logs for more information")
    assert "exit code: 1" in reason
    assert "reading captures" in reason and "no capture files under the window" in reason
    assert "ProcessingEndTime" in job
    listed = local_cloud.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="reports/")
    assert listed["KeyCount"] == 0  # outputs are uploaded when the job completes


def test_an_output_that_cannot_be_uploaded_fails_the_job(local_cloud: Any) -> None:
    sm = setup(local_cloud)
    write = "import os; open(os.environ['MLOPS_PROCESSING_ROOT'] + '/out/x.txt', 'w').write('x')"
    sm.create_processing_job(
        **request(
            "no-bucket",
            python(write),
            outputs=[s3_output("out", "s3://no-such-bucket/out/", "/opt/ml/processing/out")],
        )
    )
    job = wait_job(local_cloud, "no-bucket")
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: could not upload output 'out'")
    assert "no-such-bucket" in job["FailureReason"]


def test_exit_message_that_is_not_utf8_fails_the_job(local_cloud: Any) -> None:
    sm = setup(local_cloud)
    write = (
        "import os, pathlib; root = pathlib.Path(os.environ['MLOPS_PROCESSING_ROOT']).parent; "
        "(root / 'output' / 'message').write_bytes(bytes([0xff, 0xfe]))"
    )
    sm.create_processing_job(**request("bad-message", python(write)))
    job = wait_job(local_cloud, "bad-message")
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError:") and "UTF-8" in job["FailureReason"]


STUBBORN = (  # ignores SIGTERM (only SIGKILL ends it), says it is ready, sleeps
    "import signal, time, boto3; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    f"boto3.client('s3').put_object(Bucket='{BUCKET}', Key='ready', Body=b''); time.sleep(60)"
)


def wait_object(cloud: Any, key: str, timeout: float = 30.0) -> None:
    s3 = cloud.client("s3")
    deadline = time.monotonic() + timeout
    while s3.list_objects_v2(Bucket=BUCKET, Prefix=key)["KeyCount"] == 0:
        assert time.monotonic() < deadline, f"{key} never appeared"
        cloud.clock.sleep(5)


def test_stop_processing_job_stops_it_with_sigterm_then_sigkill(local_cloud: Any) -> None:
    sm = setup(local_cloud)
    sm.create_processing_job(**request("stubborn", python(STUBBORN)))
    wait_object(local_cloud, "ready")  # the job's own S3 call reached the local cloud
    running = sm.describe_processing_job(ProcessingJobName="stubborn")
    assert running["ProcessingJobStatus"] == "InProgress"
    assert "ProcessingEndTime" not in running and "FailureReason" not in running
    assert_fits(sm, "DescribeProcessingJob", running)

    sm.stop_processing_job(ProcessingJobName="stubborn")
    # SIGTERM is ignored: the job stays Stopping until SIGKILL (2 real seconds later)
    assert sm.describe_processing_job(ProcessingJobName="stubborn")["ProcessingJobStatus"] == (
        "Stopping"
    )
    with pytest.raises(ClientError) as again:
        sm.stop_processing_job(ProcessingJobName="stubborn")
    assert error_of(again)[:2] == (
        "ValidationException",
        "The request was rejected because the processing job is in status Stopping.",
    )
    job = wait_job(local_cloud, "stubborn")
    assert job["ProcessingJobStatus"] == "Stopped"
    assert "FailureReason" not in job
    assert job["LastModifiedTime"] == job["ProcessingEndTime"]
    with pytest.raises(ClientError, match="in status Stopped"):
        sm.stop_processing_job(ProcessingJobName="stubborn")


def test_max_runtime_exceeded_stops_the_job(local_cloud: Any) -> None:
    sm = setup(local_cloud)
    sm.create_processing_job(
        **request("too-slow", python("import time; time.sleep(60)"), max_runtime=1)
    )
    job = wait_job(local_cloud, "too-slow")
    assert job["ProcessingJobStatus"] == "Stopped"
    assert "MaxRuntimeInSeconds (1 s)" in job["FailureReason"]
    # the runtime limit counts from the container's start
    assert job["ProcessingEndTime"] >= job["ProcessingStartTime"]


def test_output_goes_to_cloudwatch_logs(local_cloud: Any) -> None:
    sm = setup(local_cloud)
    logs = local_cloud.client("logs")
    logs.create_log_group(logGroupName="/aws/sagemaker/ProcessingJobs")
    sm.create_processing_job(**request("logged", python("print('window 12:00 ok')")))
    assert wait_job(local_cloud, "logged")["ProcessingJobStatus"] == "Completed"
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/ProcessingJobs")["logStreams"]
    assert [s["logStreamName"].split("/algo-1-")[0] for s in streams] == ["logged"]
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/ProcessingJobs", logStreamName=streams[0]["logStreamName"]
    )["events"]
    assert [e["message"] for e in events] == ["window 12:00 ok"]


@pytest.mark.parametrize(("isolated", "expected"), [(False, "reached"), (True, "refused")])
def test_network_isolation_cuts_the_jobs_own_aws_calls(
    local_cloud: Any, isolated: bool, expected: str
) -> None:
    sm = setup(local_cloud)
    put(local_cloud, "data/x.csv", "1")
    script = (
        "import boto3, os, pathlib\n"
        "try:\n"
        "    boto3.client('s3').list_buckets(); result = 'reached'\n"
        "except Exception as exc:\n"
        "    result = 'refused'\n"
        "pathlib.Path(os.environ['OUT'], 'result.txt').write_text(result)\n"
    )
    sm.create_processing_job(
        **request(
            f"isolated-{isolated}".lower(),
            ["python3", "/opt/ml/processing/code/probe.py"],
            inputs=[
                s3_input(
                    "code", put(local_cloud, "code/probe.py", script), "/opt/ml/processing/code"
                )
            ],
            outputs=[s3_output("out", f"s3://{BUCKET}/probe/{isolated}", "/opt/ml/processing/out")],
            # the local cloud's AWS variables win over the job's (it never reaches elsewhere)
            Environment={
                "OUT": "/opt/ml/processing/out",
                "AWS_MAX_ATTEMPTS": "1",
                "AWS_ENDPOINT_URL": "http://127.0.0.2:1",
            },
            NetworkConfig={"EnableNetworkIsolation": isolated},
        )
    )
    job = wait_job(local_cloud, f"isolated-{isolated}".lower())
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    body = local_cloud.client("s3").get_object(Bucket=BUCKET, Key=f"probe/{isolated}/result.txt")
    assert body["Body"].read().decode() == expected


# ------------------------------------------------------------------ inputs
def test_missing_input_prefix_fails_the_job_as_sagemaker_does(local_cloud: Any) -> None:
    sm = setup(local_cloud)
    sm.create_processing_job(
        **request(
            "no-data",
            python("print('never runs')"),
            inputs=[s3_input("data", f"s3://{BUCKET}/nothing/here/", "/opt/ml/processing/input")],
        )
    )
    job = wait_job(local_cloud, "no-data")
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith(
        f'ClientError: No S3 objects found under S3 URL "s3://{BUCKET}/nothing/here/"'
    )
    assert ROLE in job["FailureReason"]


def test_manifest_and_partial_prefix_inputs_are_named_as_sagemaker_names_them(
    local_cloud: Any,
) -> None:
    sm = setup(local_cloud)
    for key in ("raw/train-a.csv", "raw/train-b.csv", "raw/test.csv", "raw/sub/c.csv"):
        put(local_cloud, key, key)
    manifest = put(
        local_cloud,
        "manifests/m.json",
        json.dumps([{"prefix": f"s3://{BUCKET}/raw/"}, "test.csv", "sub/c.csv"]),
    )
    listing = (
        "import json, os, pathlib; r = pathlib.Path(os.environ['MLOPS_PROCESSING_ROOT']); "
        "print(json.dumps({d: sorted(str(p.relative_to(r / d)) for p in (r / d).rglob('*') "
        "if p.is_file()) for d in ('partial', 'manifest')}))"
    )
    logs = local_cloud.client("logs")
    logs.create_log_group(logGroupName="/aws/sagemaker/ProcessingJobs")
    manifest_input = s3_input("manifest", manifest, "/opt/ml/processing/manifest")
    manifest_input["S3Input"]["S3DataType"] = "ManifestFile"
    sm.create_processing_job(
        **request(
            "inputs",
            python(listing),
            inputs=[
                s3_input("partial", f"s3://{BUCKET}/raw/train", "/opt/ml/processing/partial"),
                manifest_input,
            ],
        )
    )
    assert wait_job(local_cloud, "inputs")["ProcessingJobStatus"] == "Completed"
    stream = logs.describe_log_streams(logGroupName="/aws/sagemaker/ProcessingJobs")["logStreams"][
        0
    ]
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/ProcessingJobs", logStreamName=stream["logStreamName"]
    )["events"]
    assert json.loads(events[0]["message"]) == {
        "partial": ["train-a.csv", "train-b.csv"],
        "manifest": ["sub/c.csv", "test.csv"],
    }


# ------------------------------------------------------------------ refusals
def test_duplicate_processing_job_name_is_refused(local_cloud: Any) -> None:
    sm = setup(local_cloud)
    sm.create_processing_job(**request("twice", python("pass")))
    with pytest.raises(ClientError) as refused:
        sm.create_processing_job(**request("twice", python("pass")))
    code, message, _ = error_of(refused)
    assert code == "ResourceInUse"
    assert message == (
        "Processing job names must be unique within an AWS account and region, and a processing "
        "job with this name already exists "
        "(arn:aws:sagemaker:us-east-1:123456789012:processing-job/twice)"
    )
    wait_job(local_cloud, "twice")


@pytest.mark.parametrize(
    "entrypoint", [["/bin/sh", "-c", "echo hi"], ["java", "-jar", "/opt/app.jar"], None]
)
def test_an_entry_point_other_than_python_is_refused(
    local_cloud: Any, entrypoint: list[str] | None
) -> None:
    sm = setup(local_cloud)
    body = request("not-python", entrypoint or ["python3"])
    if entrypoint is None:
        del body["AppSpecification"]["ContainerEntrypoint"]
    with pytest.raises(ClientError) as refused:
        sm.create_processing_job(**body)
    code, message, _ = error_of(refused)
    assert code == "ValidationException"
    assert message.startswith("the local cloud runs only python entry points")
    assert "mlops-monitor:1" in message
    assert sm.list_processing_jobs()["ProcessingJobSummaries"] == []


def test_python_by_any_path_is_the_projects_python(local_cloud: Any) -> None:
    sm = setup(local_cloud)
    sm.create_processing_job(
        **request("abs-python", ["/usr/local/bin/python3.11", "-c", "import localcloud"])
    )
    assert wait_job(local_cloud, "abs-python")["ProcessingJobStatus"] == "Completed"


def _refusal(local_cloud: Any, body: dict[str, Any]) -> tuple[str, str, int]:
    sm = local_cloud.client("sagemaker")
    with pytest.raises(ClientError) as refused:
        sm.create_processing_job(**body)
    assert sm.list_processing_jobs()["ProcessingJobSummaries"] == []
    return error_of(refused)


def test_request_values_are_validated_as_aws_does(local_cloud: Any) -> None:
    setup(local_cloud)
    code, message, _ = _refusal(
        local_cloud, request("bad_name", python("pass"), max_runtime=777601)
    )
    assert code == "ValidationException"
    assert message.startswith("2 validation errors detected: ")
    assert (
        "Value 'bad_name' at 'processingJobName' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
    ) in message
    assert (
        "Value '777601' at 'stoppingCondition.maxRuntimeInSeconds' failed to satisfy "
        "constraint: Member must have value less than or equal to 777600"
    ) in message

    body = request("x" * 64, python("pass"))
    body["ProcessingResources"]["ClusterConfig"]["InstanceType"] = "ml.m5.gigantic"
    _, message, _ = _refusal(local_cloud, body)
    assert (
        "at 'processingJobName' failed to satisfy constraint: Member must have length less than or equal to 63"
        in message
    )
    assert (
        "Value 'ml.m5.gigantic' at 'processingResources.clusterConfig.instanceType' failed to "
        "satisfy constraint: Member must satisfy enum value set: ["
    ) in message and "ml.g5.xlarge" in message

    body = request(
        "bad-input",
        python("pass"),
        inputs=[
            s3_input("data", f"s3://{BUCKET}/d/", "/opt/ml/processing/in", S3DataType="Folder")
        ],
    )
    _, message, _ = _refusal(local_cloud, body)
    assert "'processingInputs.1.member.s3Input.s3DataType'" in message


def test_the_real_client_checks_required_members_before_sending(local_cloud: Any) -> None:
    sm = setup(local_cloud)
    body = request("no-role", python("pass"))
    del body["RoleArn"]
    with pytest.raises(ParamValidationError, match="RoleArn"):
        sm.create_processing_job(**body)


@pytest.mark.parametrize(
    ("change", "code", "fragment"),
    [
        (
            {"RoleArn": "arn:aws:iam::123456789012:role/nobody"},
            "ValidationException",
            "Could not assume role arn:aws:iam::123456789012:role/nobody. Please ensure that "
            "the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role.",
        ),
        (
            {"inputs": [s3_input("d", f"s3://{BUCKET}/d/", "/tmp/data")]},
            "ValidationException",
            "must be an absolute path under /opt/ml/processing/",
        ),
        (
            {"inputs": [s3_input("d", f"s3://{BUCKET}/d/", "/opt/ml/processing/../../etc")]},
            "ValidationException",
            "must be an absolute path under /opt/ml/processing/",
        ),
        (
            {
                "inputs": [
                    s3_input("a", f"s3://{BUCKET}/a/", "/opt/ml/processing/in"),
                    s3_input("b", f"s3://{BUCKET}/b/", "/opt/ml/processing/in/"),
                ]
            },
            "ValidationException",
            "every input and output needs its own LocalPath",
        ),
        (
            {
                "inputs": [
                    s3_input("d", f"s3://{BUCKET}/d/", "/opt/ml/processing/in", S3InputMode="Pipe")
                ]
            },
            "NotImplemented",
            "S3InputMode Pipe",
        ),
        (
            {
                "inputs": [
                    s3_input(
                        "d", f"s3://{BUCKET}/d/", "/opt/ml/processing/in", S3CompressionType="Gzip"
                    )
                ]
            },
            "ValidationException",
            "Gzip can only be used when S3InputMode is Pipe",
        ),
        (
            {
                "ProcessingResources": {
                    "ClusterConfig": {
                        "InstanceCount": 1,
                        "InstanceType": "ml.g5.xlarge",
                        "VolumeSizeInGB": 5,
                        "VolumeKmsKeyId": KEY,
                    }
                }
            },
            "ValidationException",
            "Instance type ml.g5.xlarge has local NVMe instance storage",
        ),
        (
            {
                "ProcessingResources": {
                    "ClusterConfig": {
                        "InstanceCount": 2,
                        "InstanceType": "ml.m5.large",
                        "VolumeSizeInGB": 5,
                    }
                }
            },
            "NotImplemented",
            "InstanceCount 2",
        ),
    ],
)
def test_requests_sagemaker_or_the_local_cloud_refuses(
    local_cloud: Any, change: dict[str, Any], code: str, fragment: str
) -> None:
    setup(local_cloud)
    change = dict(change)
    inputs = change.pop("inputs", None)
    body = {**request("refused", python("pass"), inputs=inputs), **change}
    got_code, message, status = _refusal(local_cloud, body)
    assert (got_code, status) == (code, 501 if code == "NotImplemented" else 400)
    assert fragment in message


def test_a_role_that_does_not_trust_sagemaker_cannot_be_assumed(local_cloud: Any) -> None:
    setup(local_cloud)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    local_cloud.client("iam").create_role(
        RoleName="lambda-only", AssumeRolePolicyDocument=json.dumps(trust)
    )
    body = request(
        "wrong-role", python("pass"), RoleArn="arn:aws:iam::123456789012:role/lambda-only"
    )
    code, message, _ = _refusal(local_cloud, body)
    assert code == "ValidationException" and message.startswith("Could not assume role")


def test_unknown_processing_job(local_cloud: Any) -> None:
    sm = local_cloud.client("sagemaker")
    for call in (sm.describe_processing_job, sm.stop_processing_job):
        with pytest.raises(ClientError) as missing:
            call(ProcessingJobName="ghost")
        assert error_of(missing)[:2] == (
            "ValidationException",
            "Could not find processing job "
            "'arn:aws:sagemaker:us-east-1:123456789012:processing-job/ghost'.",
        )


# ------------------------------------------------------------------ listing
def test_list_processing_jobs_filters_sorts_and_pages(local_cloud: Any) -> None:
    sm = setup(local_cloud)
    for name in ("drift-b", "drift-a", "other-c"):
        sm.create_processing_job(**request(name, python("pass")))
    sm.create_processing_job(**request("drift-sleeps", python("import time; time.sleep(60)")))
    for name in ("drift-b", "drift-a", "other-c"):
        assert wait_job(local_cloud, name)["ProcessingJobStatus"] == "Completed"

    everything = sm.list_processing_jobs()
    assert_fits(sm, "ListProcessingJobs", everything)
    summaries = everything["ProcessingJobSummaries"]
    assert [s["ProcessingJobName"] for s in summaries] == [
        "drift-b",
        "drift-a",
        "other-c",
        "drift-sleeps",
    ]  # CreationTime, Ascending by default
    assert {s["ProcessingJobStatus"] for s in summaries} == {"Completed", "InProgress"}
    assert set(summaries[0]) == {
        "ProcessingJobName",
        "ProcessingJobArn",
        "CreationTime",
        "ProcessingEndTime",
        "LastModifiedTime",
        "ProcessingJobStatus",
    }

    drift = sm.list_processing_jobs(
        NameContains="drift", StatusEquals="Completed", SortBy="Name", SortOrder="Descending"
    )
    assert [s["ProcessingJobName"] for s in drift["ProcessingJobSummaries"]] == [
        "drift-b",
        "drift-a",
    ]
    running = sm.list_processing_jobs(StatusEquals="InProgress")["ProcessingJobSummaries"]
    assert [s["ProcessingJobName"] for s in running] == ["drift-sleeps"]

    # botocore sends timestamps in whole seconds: one second after drift-a's creation
    after = summaries[1]["CreationTime"] + dt.timedelta(seconds=1)
    later = sm.list_processing_jobs(CreationTimeAfter=after)["ProcessingJobSummaries"]
    assert [s["ProcessingJobName"] for s in later] == ["other-c", "drift-sleeps"]
    modified = sm.list_processing_jobs(LastModifiedTimeBefore=summaries[0]["CreationTime"])
    assert modified["ProcessingJobSummaries"] == []

    pages, token = [], None
    while True:
        page = sm.list_processing_jobs(
            MaxResults=3, SortBy="Name", **({"NextToken": token} if token else {})
        )
        pages.append([s["ProcessingJobName"] for s in page["ProcessingJobSummaries"]])
        token = page.get("NextToken")
        if not token:
            break
    assert pages == [["drift-a", "drift-b", "drift-sleeps"], ["other-c"]]
    paginator = sm.get_paginator("list_processing_jobs")
    names = [
        s["ProcessingJobName"]
        for p in paginator.paginate(PaginationConfig={"PageSize": 1})
        for s in p["ProcessingJobSummaries"]
    ]
    assert sorted(names) == ["drift-a", "drift-b", "drift-sleeps", "other-c"]

    with pytest.raises(ClientError, match="Invalid pagination token"):
        sm.list_processing_jobs(NextToken="not-a-token")
    with pytest.raises(ClientError) as too_many:
        sm.list_processing_jobs(MaxResults=101)
    assert "Member must have value less than or equal to 100" in error_of(too_many)[1]
    sm.stop_processing_job(ProcessingJobName="drift-sleeps")
    wait_job(local_cloud, "drift-sleeps")
