"""train and register against the local cloud (FAULTS 8, 9)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipelines.errors import QualityGateFailed, TrainingFailed
from tests.pipeline.conftest import IMAGE


def test_train_runs_the_entry_point_and_records_lineage(stack: Any) -> None:
    result = stack.train(accuracy=0.91)
    assert result.status == "Completed"
    assert result.metrics["validation:accuracy"] == pytest.approx(0.91)
    assert result.model_data_url.endswith(f"{result.job_name}/output/model.tar.gz")
    job = stack.sm().describe_training_job(TrainingJobName=result.job_name)
    assert job["EnableManagedSpotTraining"] is True
    assert job["CheckpointConfig"]["S3Uri"].startswith(stack.outputs.training.checkpoint_s3_uri)
    assert job["StoppingCondition"]["MaxWaitTimeInSeconds"] == 7200
    assert json.loads(job["HyperParameters"]["sagemaker_program"]) == "train.py"
    tags = {
        t["Key"]: t["Value"]
        for t in stack.sm().list_tags(ResourceArn=job["TrainingJobArn"])["Tags"]
    }
    assert tags["mlops:stack"] == "test" and tags["mlops:managed-by"] == "mlops-pipeline"
    assert tags["owner"] == "ml-platform"
    lineage = result.lineage
    assert lineage["git_commit"] and len(lineage["git_commit"].split("+")[0]) == 40
    assert (
        lineage["data"]["train"]["objects"] == 1
        and len(lineage["data"]["train"]["manifest_sha256"]) == 64
    )
    assert [r.action for r in stack.audit()] == ["train"] and stack.audit()[
        0
    ].outcome == "succeeded"


def test_training_sends_no_volume_key_for_local_nvme_instance_types(stack: Any) -> None:
    """ml.g5.* has hardware-encrypted local NVMe storage: AWS (and the local cloud) refuse a
    VolumeKmsKeyId for it; EBS-backed types still get the platform key."""
    from pipelines.training import TrainRequest, build_request

    job = stack.sm().describe_training_job(TrainingJobName=stack.train().job_name)
    assert job["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
    assert "VolumeKmsKeyId" not in job["ResourceConfig"]
    ebs = build_request(
        stack.ctx, TrainRequest(image=IMAGE, instance_type="ml.m5.xlarge"), "job-ebs", None
    )
    assert ebs["ResourceConfig"]["VolumeKmsKeyId"] == stack.outputs.kms_key_arn
    nvme = build_request(
        stack.ctx, TrainRequest(image=IMAGE, instance_type="ml.p4d.24xlarge"), "job-nvme", None
    )
    assert "VolumeKmsKeyId" not in nvme["ResourceConfig"]


def test_failed_training_exits_with_the_reason_and_registers_nothing(stack: Any) -> None:
    with pytest.raises(TrainingFailed) as err:
        stack.train(fail="nan loss")
    assert "Failed" in str(err.value) and "nan loss" in str(err.value)
    assert err.value.exit_code == 1
    packages = stack.sm().list_model_packages(
        ModelPackageGroupName=stack.outputs.model_package_group_name
    )
    assert packages["ModelPackageSummaryList"] == []
    assert stack.sm().list_endpoints()["Endpoints"] == []
    assert [(r.action, r.outcome) for r in stack.audit()] == [("train", "failed")]


def test_stopped_training_max_runtime_exceeded_is_a_failure(make_stack: Any) -> None:
    from tests.pipeline.conftest import outputs_dict

    training = outputs_dict()["training"] | {"max_runtime_seconds": 1, "max_wait_seconds": 2}
    stack = make_stack(training=training)
    with pytest.raises(TrainingFailed) as err:
        stack.train(sleep="4")
    assert "Stopped" in str(err.value) and "MaxRuntime" in str(err.value)


def test_register_attaches_metrics_and_lineage_and_auto_approves(stack: Any) -> None:
    from pipelines.registry import describe_package, register

    job = stack.train(accuracy=0.95)
    result = register(stack.ctx, job.job_name)
    assert result.package is not None
    package = describe_package(stack.ctx, result.package.arn)
    assert package.status == "Approved"
    assert package.metrics["validation:accuracy"] == pytest.approx(0.95)
    assert package.metadata["mlops:training-job"] == job.job_name
    assert package.metadata["mlops:git-commit"].startswith(job.lineage["git_commit"][:40])
    assert package.metadata["mlops:data:train"].startswith("sha256:")
    # the training artifact, repacked with its inference code (the default serving contract)
    assert package.model_data_url == job.model_data_url.replace("/output/", "/serving/")
    raw = stack.sm().describe_model_package(ModelPackageName=package.arn)
    metrics_uri = raw["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    bucket, key = metrics_uri[5:].split("/", 1)
    body = json.loads(stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    assert body["metrics"]["validation:accuracy"]["value"] == pytest.approx(0.95)


def test_quality_gate_rejects_with_the_failing_metric(stack: Any) -> None:
    from pipelines.registry import describe_package, register

    job = stack.train(accuracy=0.5)
    with pytest.raises(QualityGateFailed) as err:
        register(stack.ctx, job.job_name)
    assert "validation:accuracy=0.5 is below the minimum 0.8" in str(err.value)
    package = describe_package(stack.ctx, "latest")
    assert package.status == "Rejected"
    last = stack.audit()[-1]
    assert (last.action, last.outcome) == ("register", "rejected")
    assert last.details["gate_failures"] == ["validation:accuracy=0.5 is below the minimum 0.8"]


def test_quality_gate_skip_registers_nothing(make_stack: Any) -> None:
    from pipelines.registry import register

    stack = make_stack(
        quality_gate={"thresholds": {"validation:accuracy": {"min": 0.8}}, "on_fail": "skip"}
    )
    job = stack.train(accuracy=0.5)
    with pytest.raises(QualityGateFailed, match="not registered"):
        register(stack.ctx, job.job_name)
    listed = stack.sm().list_model_packages(
        ModelPackageGroupName=stack.outputs.model_package_group_name
    )
    assert listed["ModelPackageSummaryList"] == []


def test_without_auto_approve_the_package_waits_for_approval_then_approve_and_reject(
    make_stack: Any,
) -> None:
    from pipelines.registry import register, set_approval

    stack = make_stack(quality_gate={})
    job = stack.train()
    result = register(stack.ctx, job.job_name)
    assert result.approval_status == "PendingManualApproval"
    assert result.package is not None
    approved = set_approval(stack.ctx, str(result.package.version), "Approved", "looks good")
    assert approved.status == "Approved"
    rejected = set_approval(stack.ctx, approved.arn, "Rejected", "regression found")
    assert rejected.status == "Rejected"
    assert [(r.action, r.outcome) for r in stack.audit()][-2:] == [
        ("approve", "succeeded"),
        ("reject", "succeeded"),
    ]


def test_a_malformed_quality_gate_is_a_contract_error_naming_the_field(make_stack: Any) -> None:
    from pipelines.errors import ContractError
    from pipelines.registry import register

    stack = make_stack(
        quality_gate={"thresholds": {"validation:accuracy": {}}, "on_fail": "reject"}
    )
    job = stack.train()
    with pytest.raises(ContractError, match=r"quality_gate\.thresholds\.validation:accuracy"):
        register(stack.ctx, job.job_name)


def test_register_packs_the_inference_code_into_the_model(stack: Any) -> None:
    """The default serving contract works under network isolation: code/ inside model.tar.gz
    and SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code (what the SageMaker SDK repacks)."""
    from pipelines.registry import register
    from pipelines.serving_code import members

    job = stack.train()
    assert job.lineage["inference_entry_point"] == "inference.py"
    package = register(stack.ctx, job.job_name).package
    assert package is not None
    assert package.environment == {
        "SAGEMAKER_PROGRAM": "inference.py",
        "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
        "SAGEMAKER_REGION": stack.outputs.region,
    }
    assert package.model_data_url is not None
    assert package.model_data_url.endswith(f"{job.job_name}/serving/model.tar.gz")
    bucket, key = package.model_data_url[len("s3://") :].split("/", 1)
    packed = stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert {"model.json", "code/inference.py", "code/train.py"} <= set(members(packed))
    described = stack.sm().describe_model_package(ModelPackageName=package.arn)
    container = described["InferenceSpecification"]["Containers"][0]
    assert container["Environment"] == package.environment


def test_register_can_name_the_s3_source_instead(stack: Any) -> None:
    from pipelines.registry import register

    job = stack.train()
    package = register(stack.ctx, job.job_name, serving_form="s3").package
    assert package is not None
    assert package.model_data_url == job.model_data_url
    # a copy next to the model, not the training source (endpoint roles cannot read source/)
    submit = package.environment["SAGEMAKER_SUBMIT_DIRECTORY"]
    assert submit == job.model_data_url.replace("/output/model.tar.gz", "/serving/sourcedir.tar.gz")
    assert package.environment["SAGEMAKER_PROGRAM"] == "inference.py"
    s3 = stack.client("s3")
    bodies = [
        s3.get_object(Bucket=b, Key=k)["Body"].read()
        for b, k in (u[len("s3://") :].split("/", 1) for u in (submit, job.lineage["source_uri"]))
    ]
    assert bodies[0] == bodies[1]


@pytest.mark.parametrize(
    "entry_point", ["/etc/hostname", "../conftest.py", "sub/../../conftest.py"]
)
def test_an_entry_point_outside_the_source_dir_is_refused(tmp_path: Any, entry_point: str) -> None:
    """Issue 15 item 7: an absolute --entry-point elsewhere ran a host file on the local cloud."""
    from pipelines.errors import BadInput
    from pipelines.training import TrainRequest, validate_request
    from tests.pipeline.conftest import TRAINER

    request = TrainRequest(image=IMAGE, entry_point=entry_point, source_dir=TRAINER)
    with pytest.raises(BadInput, match="outside --source-dir") as refused:
        validate_request(request)
    assert entry_point in str(refused.value)
    validate_request(TrainRequest(image=IMAGE, entry_point="train.py", source_dir=TRAINER))
    with pytest.raises(BadInput, match="is not a file"):
        validate_request(TrainRequest(image=IMAGE, entry_point="nope.py", source_dir=TRAINER))


# ------------------------------------------------- what `mlops train` packs (issue 15 item 7)


def _source(tmp_path: Any, **extra: str) -> Any:
    """The test trainer plus ``extra`` files, with a cache and a .git the pack must leave out."""
    import shutil

    from tests.pipeline.conftest import TRAINER

    src = tmp_path / "src"
    shutil.copytree(TRAINER, src, ignore=shutil.ignore_patterns("__pycache__"))
    for rel, text in {
        "__pycache__/train.cpython-311.pyc": "bytecode",
        ".git/config": "[core]",
        **extra,
    }.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    return src


def _train_cli(
    stack: Any, tmp_path: Any, capsys: Any, src: Any, *extra: str, as_json: bool = True
) -> Any:
    """`mlops train [--json] ...`: (exit code, the JSON (or text) on stdout, stderr)."""
    from pipelines.cli import main
    from tests.pipeline.test_cli import write_outputs

    code = main(
        [
            "train",
            "--stack",
            "test",
            "--outputs",
            write_outputs(stack, tmp_path),
            *(["--json"] if as_json else []),
            "--image",
            IMAGE,
            "--source-dir",
            str(src),
            "--entry-point",
            "train.py",
            "--channel",
            f"train=s3://{stack.outputs.buckets.data}/churn/train/",
            *extra,
        ]
    )
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if as_json else captured.out, captured.err


def _uploaded_sources(stack: Any) -> list[str]:
    listed = stack.client("s3").list_objects_v2(
        Bucket=stack.outputs.buckets.model, Prefix="source/"
    )
    return [o["Key"] for o in listed.get("Contents", [])]


def test_train_refuses_a_secret_in_the_source_before_anything_is_uploaded(
    stack: Any, tmp_path: Any, capsys: Any
) -> None:
    src = _source(tmp_path, **{".env": "AWS_SECRET_ACCESS_KEY=abc", "keys/deploy.pem": "k"})
    code, out, err = _train_cli(stack, tmp_path, capsys, src)
    assert code == 2 and out["error"] == "BadInput"
    assert ".env" in out["message"] and "keys/deploy.pem" in out["message"]
    assert "--include PATH" in out["message"] and ".mlopsignore" in out["message"]
    assert f"error: {out['message']}" in err and "Traceback" not in err
    assert _uploaded_sources(stack) == []
    assert stack.sm().list_training_jobs()["TrainingJobSummaries"] == []


def test_train_packs_an_included_secret_and_reports_what_it_packed(
    stack: Any, tmp_path: Any, capsys: Any
) -> None:
    from pipelines.serving_code import members

    src = _source(tmp_path, **{".env": "MODEL_FLAVOUR=small", ".mlopsignore": "notes.txt\n"})
    (src / "notes.txt").write_text("left out by .mlopsignore")
    code, trained, err = _train_cli(stack, tmp_path, capsys, src, "--include", ".env")
    assert code == 0, trained
    packed = {".env", ".mlopsignore", "inference.py", "train.py"}
    source = trained["source"]
    assert source["files"] == len(packed) and source["included"] == [".env"]
    assert source["bytes"] == sum((src / f).stat().st_size for f in packed)
    assert source["excluded"] == 3
    assert sorted(p.split(" ")[0] for p in source["excluded_paths"]) == [
        ".git/",
        "__pycache__/",
        "notes.txt",
    ]
    assert trained["lineage"]["source_included"] == [".env"]
    assert trained["lineage"]["source_sha256"] == source["sha256"]
    (key,) = _uploaded_sources(stack)
    body = stack.client("s3").get_object(Bucket=stack.outputs.buckets.model, Key=key)["Body"]
    assert set(members(body.read())) == packed
    # the summary is also a progress line on stderr, before the job starts
    assert err.index("packed 4 files") < err.index("started")
    assert "packed 4 files (" in err and "left out 3: " in err and "(--include): .env" in err


def test_train_prints_what_it_packed_for_people(stack: Any, tmp_path: Any, capsys: Any) -> None:
    code, out, err = _train_cli(stack, tmp_path, capsys, _source(tmp_path), as_json=False)
    assert code == 0
    assert "  source: 2 files, " in out and ", 2 left out, sha256 " in out
    assert "packed 2 files (" in err and "left out 2: .git/ (default '.git/'), __pycache__/" in err


def test_train_refuses_an_entry_point_the_ignore_files_leave_out(
    stack: Any, tmp_path: Any, capsys: Any
) -> None:
    src = _source(tmp_path, **{".mlopsignore": "*.py\n"})
    code, out, _ = _train_cli(stack, tmp_path, capsys, src)
    assert code == 2
    assert "--entry-point 'train.py' is left out" in out["message"]
    assert ".mlopsignore:1 '*.py'" in out["message"] and "--include train.py" in out["message"]
    assert _uploaded_sources(stack) == []


def test_train_refuses_a_symlink_to_a_host_file(stack: Any, tmp_path: Any, capsys: Any) -> None:
    src = _source(tmp_path)
    (tmp_path / "host.txt").write_text("not for upload")
    (src / "data.txt").symlink_to(tmp_path / "host.txt")
    code, out, _ = _train_cli(stack, tmp_path, capsys, src)
    assert code == 2 and f"data.txt -> {tmp_path / 'host.txt'}" in out["message"]
    assert _uploaded_sources(stack) == []


def test_include_without_source_dir_is_refused() -> None:
    from pipelines.errors import BadInput
    from pipelines.training import TrainRequest, validate_request

    with pytest.raises(BadInput, match="--include needs --source-dir"):
        validate_request(TrainRequest(image=IMAGE, include=(".env",)))


def test_the_endpoint_role_reads_what_register_names_and_not_the_training_source(
    stack: Any,
) -> None:
    """The keys the pipeline really writes, evaluated against the endpoint role's policy by
    moto's IAM evaluator: the model (both serving forms) is readable; the training source, the
    lineage and the metrics are not (issue 15 item 7)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    from components.deployment import alarm_arn, execution_role_policy
    from pipelines.registry import register

    bucket = stack.outputs.buckets.model
    spec = stack.outputs.endpoints[0]
    policy = IAMPolicy(
        json.dumps(
            execution_role_policy(
                endpoint_name=spec.endpoint_name,
                kms_key_arn=stack.outputs.kms_key_arn,
                model_bucket_arn=f"arn:aws:s3:::{bucket}",
                capture_bucket_name=stack.outputs.buckets.capture,
                ecr_repository_arn=f"arn:aws:ecr:eu-west-1:123456789012:repository/{bucket}",
                rollback_alarm_arns=[alarm_arn(stack.outputs.kms_key_arn, "a-5xx")],
            )
        )
    )

    def readable(uri: str) -> bool:
        assert uri.startswith(f"s3://{bucket}/")
        arn = f"arn:aws:s3:::{uri[len('s3://') :]}"
        return policy.is_action_permitted("s3:GetObject", arn) == PermissionResult.PERMITTED

    job = stack.train()
    packed = register(stack.ctx, job.job_name).package
    s3_code = register(stack.ctx, job.job_name, serving_form="s3").package
    assert packed is not None and s3_code is not None
    assert packed.model_data_url and readable(packed.model_data_url)
    assert s3_code.model_data_url and readable(s3_code.model_data_url)
    assert readable(s3_code.environment["SAGEMAKER_SUBMIT_DIRECTORY"])
    assert not readable(job.lineage["source_uri"])
    assert not readable(job.lineage_uri)
    raw = stack.sm().describe_model_package(ModelPackageName=packed.arn)
    assert not readable(raw["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"])


def test_register_records_a_drift_baseline_of_the_train_channel(stack: Any) -> None:
    from pipelines.registry import register

    job = stack.train(accuracy=0.95)
    result = register(stack.ctx, job.job_name)
    assert result.package is not None
    raw = stack.sm().describe_model_package(ModelPackageName=result.package.arn)
    quality = raw["DriftCheckBaselines"]["ModelDataQuality"]
    prefix = job.model_data_url.replace("/output/model.tar.gz", "/baseline/")
    assert quality["Statistics"] == {
        "ContentType": "application/json",
        "S3Uri": f"{prefix}statistics.json",
    }
    assert quality["Constraints"]["S3Uri"] == f"{prefix}constraints.json"
    assert result.baseline == f"{prefix}statistics.json"
    bucket, key = quality["Statistics"]["S3Uri"][5:].split("/", 1)
    doc = json.loads(stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    # the train channel is "a,b / 1,2": a header, the label (column 0) left out
    assert [f["name"] for f in doc["features"]] == ["b"]
    assert doc["features"][0]["numerical_statistics"]["mean"] == 2.0
    assert [r.outcome for r in stack.audit() if r.action == "register"] == ["succeeded"]


def test_register_without_a_baseline(stack: Any) -> None:
    from pipelines.registry import register

    job = stack.train(accuracy=0.95)
    result = register(stack.ctx, job.job_name, baseline=False)
    assert result.package is not None
    raw = stack.sm().describe_model_package(ModelPackageName=result.package.arn)
    assert "DriftCheckBaselines" not in raw
    assert result.baseline is None
