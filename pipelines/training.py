"""`train`: CreateTrainingJob from the stack's training defaults, then wait for the verdict.

Script mode without the SageMaker SDK: the source directory is packed as a tar.gz
(``pipelines.source_pack``: ignore files and defaults honoured, secrets and escaping symlinks
refused), uploaded to the model bucket and passed as ``sagemaker_submit_directory`` with the
entry point as ``sagemaker_program`` (JSON-encoded, as the SDK does). Lineage (git
commit, data versions, image digest) is written next to the job's output so
``register`` can attach it. ``Failed`` and ``Stopped`` are failures (FAULTS 8) -
botocore's waiter counts Stopped as success; we do not.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components import instance_types
from pipelines.audit import split_s3_uri
from pipelines.aws import aws_call, is_not_found, tag_list
from pipelines.context import Context
from pipelines.errors import ArtifactMissing, BadInput, TrainingFailed, WaitTimedOut
from pipelines.lineage import data_version, git_commit, image_digest
from pipelines.prod_guards import check_network_isolation
from pipelines.source_pack import SourcePack, pack_source

_JOB_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
TERMINAL = {"Completed", "Failed", "Stopped"}


@dataclass(frozen=True)
class TrainRequest:
    image: str
    entry_point: str | None = None
    """File inside ``source_dir`` that the container runs (script mode)."""
    source_dir: Path | None = None
    hyperparameters: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)
    """Channel name → s3:// prefix."""
    metric_definitions: dict[str, str] = field(default_factory=dict)
    """Metric name → regex with one group, matched against the job's log."""
    job_name: str | None = None
    instance_type: str | None = None
    """Override of the stack's training instance type."""
    inference_entry_point: str | None = None
    """File inside ``source_dir`` holding the serving handlers (``model_fn``, ``input_fn``,
    ...); default ``inference.py`` when the source has one. Recorded in the lineage, and
    ``register`` makes it the model's serving contract."""
    include: tuple[str, ...] = ()
    """Paths in ``source_dir`` packed even if ignored or secret-looking (``--include``)."""

    def serving_entry_point(self) -> str | None:
        if self.inference_entry_point is not None or self.source_dir is None:
            return self.inference_entry_point
        return "inference.py" if (self.source_dir / "inference.py").is_file() else None


@dataclass(frozen=True)
class TrainResult:
    job_name: str
    status: str
    model_data_url: str | None
    metrics: dict[str, float]
    lineage: dict[str, Any]
    image: str
    lineage_uri: str
    source: dict[str, Any] | None = None
    """What was packed (``SourcePack.summary``); None without ``source_dir``."""

    def to_json(self) -> dict[str, Any]:
        return {
            "training_job": self.job_name,
            "status": self.status,
            "model_data_url": self.model_data_url,
            "metrics": self.metrics,
            "lineage": self.lineage,
            "image": self.image,
            "lineage_uri": self.lineage_uri,
            "source": self.source,
        }


def job_name_for(prefix: str, now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now if now is not None else time.time()))
    suffix = f"{int((now or time.time()) * 1000) % 1000:03d}"
    return f"{prefix[: 63 - len(stamp) - len(suffix) - 2]}-{stamp}-{suffix}"


def lineage_uri(output_s3_uri: str, job_name: str) -> str:
    return f"{output_s3_uri.rstrip('/')}/{job_name}/lineage.json"


def pack(ctx: Context, req: TrainRequest) -> SourcePack | None:
    """Pack ``req.source_dir`` (or refuse: ``pipelines.source_pack``), check the scripts were
    packed, and report what went in."""
    if req.source_dir is None:
        return None
    packed = pack_source(req.source_dir, req.include)
    for flag, script in (
        ("--entry-point", req.entry_point),
        ("--inference-entry-point", req.serving_entry_point()),
    ):
        rel = os.path.normpath(script or "").replace(os.sep, "/")
        why = packed.why_left_out(rel) if script is not None else None
        if why is not None:
            raise BadInput(
                f"{flag} {script!r} is left out of --source-dir {str(req.source_dir)!r} "
                f"({why}): re-include it with a '!{rel}' line in .mlopsignore, or pass "
                f"--include {rel}"
            )
    ctx.event("training.source", packed.describe(req.source_dir), **packed.summary())
    return packed


def check_inside(source_dir: Path, script: str, flag: str) -> None:
    """``script`` must be a file inside ``source_dir``: the job runs what was packed, and an
    absolute path or ``..`` elsewhere would name a host file (the local cloud ran one)."""
    root = source_dir.resolve()
    path = (source_dir / script).resolve()
    if Path(script).is_absolute() or not path.is_relative_to(root):
        raise BadInput(
            f"{flag} {script!r} is outside --source-dir {str(source_dir)!r}: name a file inside "
            "it, relative to it (e.g. train.py)"
        )
    if not path.is_file():
        raise BadInput(f"{flag} {script!r} is not a file in {str(source_dir)!r}")


def validate_request(req: TrainRequest) -> None:
    if not req.image:
        raise BadInput("--image is required: the training container image URI")
    if req.job_name is not None and not _JOB_NAME_RE.match(req.job_name):
        raise BadInput(
            f"--job-name {req.job_name!r} is not a valid training job name "
            "(1-63 letters, digits and hyphens, starting with a letter or digit)"
        )
    if (req.entry_point is None) != (req.source_dir is None):
        raise BadInput("--entry-point and --source-dir go together (script mode needs both)")
    if req.source_dir is not None:
        if not req.source_dir.is_dir():
            raise BadInput(f"--source-dir {str(req.source_dir)!r} is not a directory")
        for flag, script in (
            ("--entry-point", req.entry_point),
            ("--inference-entry-point", req.inference_entry_point),
        ):
            if script is not None:
                check_inside(req.source_dir, script, flag)
    elif req.inference_entry_point is not None:
        raise BadInput("--inference-entry-point needs --source-dir (the code it is part of)")
    elif req.include:
        raise BadInput("--include needs --source-dir (its paths are relative to it)")
    for name, uri in req.channels.items():
        if not uri.startswith("s3://"):
            raise BadInput(f"--channel {name}={uri!r}: expected an s3:// URI")
    for name, regex in req.metric_definitions.items():
        try:
            if re.compile(regex).groups < 1:
                raise BadInput(f"--metric {name}={regex!r}: the regex needs one capture group")
        except re.error as exc:
            raise BadInput(f"--metric {name}={regex!r}: not a valid regex ({exc})") from None


def build_request(
    ctx: Context, req: TrainRequest, job_name: str, submit_uri: str | None
) -> dict[str, Any]:
    """The CreateTrainingJob request (pure apart from the context's outputs)."""
    t = ctx.outputs.training
    hyper = {
        k: json.dumps(v) if not isinstance(v, str) else v for k, v in req.hyperparameters.items()
    }
    if req.entry_point is not None and submit_uri is not None:
        hyper["sagemaker_program"] = json.dumps(req.entry_point)
        hyper["sagemaker_submit_directory"] = json.dumps(submit_uri)
        hyper["sagemaker_region"] = json.dumps(ctx.outputs.region)
    algorithm: dict[str, Any] = {"TrainingImage": req.image, "TrainingInputMode": "File"}
    if req.metric_definitions:
        algorithm["MetricDefinitions"] = [
            {"Name": n, "Regex": r} for n, r in sorted(req.metric_definitions.items())
        ]
    stopping: dict[str, Any] = {"MaxRuntimeInSeconds": t.max_runtime_seconds}
    instance_type = req.instance_type or t.instance_type
    resources: dict[str, Any] = {
        "InstanceType": instance_type,
        "InstanceCount": t.instance_count,
        "VolumeSizeInGB": t.volume_size_gib,
    }
    if not instance_types.has_local_nvme(instance_type):
        # Local NVMe instance storage is encrypted by the hardware, and CreateTrainingJob
        # refuses a VolumeKmsKeyId for those types (every ml.g5.* included).
        resources["VolumeKmsKeyId"] = ctx.outputs.kms_key_arn
    request: dict[str, Any] = {
        "TrainingJobName": job_name,
        "AlgorithmSpecification": algorithm,
        "RoleArn": ctx.outputs.sagemaker_execution_role_arn,
        "OutputDataConfig": {"S3OutputPath": t.output_s3_uri, "KmsKeyId": ctx.outputs.kms_key_arn},
        "ResourceConfig": resources,
        "StoppingCondition": stopping,
        "HyperParameters": hyper,
        "EnableNetworkIsolation": t.network_isolation,
        "EnableInterContainerTrafficEncryption": True,
        "Tags": [
            *tag_list(ctx.tags()),
        ],
    }
    if req.channels:
        request["InputDataConfig"] = [
            {
                "ChannelName": name,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": uri,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
            for name, uri in sorted(req.channels.items())
        ]
    if t.use_spot:
        request["EnableManagedSpotTraining"] = True
        stopping["MaxWaitTimeInSeconds"] = t.max_wait_seconds or 2 * t.max_runtime_seconds
        if t.checkpoint_s3_uri:
            request["CheckpointConfig"] = {
                "S3Uri": f"{t.checkpoint_s3_uri.rstrip('/')}/{job_name}/"
            }
    if t.subnet_ids and t.security_group_ids:
        request["VpcConfig"] = {"Subnets": t.subnet_ids, "SecurityGroupIds": t.security_group_ids}
    return request


def _wait_budget(request: dict[str, Any]) -> float:
    stop = request["StoppingCondition"]
    return float(stop.get("MaxWaitTimeInSeconds") or stop["MaxRuntimeInSeconds"]) + 3600.0


def wait_for_job(ctx: Context, job_name: str, budget_seconds: float) -> dict[str, Any]:
    """Poll DescribeTrainingJob until Completed/Failed/Stopped (backoff 5 s → 60 s)."""
    sm = ctx.aws.sagemaker
    start = ctx.clock.now()
    interval = 5.0
    last = ""
    while True:
        with aws_call(f"DescribeTrainingJob {job_name}"):
            job: dict[str, Any] = dict(sm.describe_training_job(TrainingJobName=job_name))
        status = str(job["TrainingJobStatus"])
        secondary = str(job.get("SecondaryStatus", ""))
        if f"{status}/{secondary}" != last:
            last = f"{status}/{secondary}"
            ctx.event(
                "training.status",
                f"training job {job_name}: {status} ({secondary})",
                status=status,
                secondary=secondary,
            )
        if status in TERMINAL:
            return job
        if ctx.clock.now() - start > budget_seconds:
            raise WaitTimedOut(
                f"training job {job_name} is still {status} ({secondary}) after {budget_seconds:.0f} s; "
                f"it keeps running - check it with `aws sagemaker describe-training-job "
                f"--training-job-name {job_name}` and register it when it completes"
            )
        ctx.clock.sleep(interval)
        interval = min(interval * 1.5, 60.0)


def _stage(
    ctx: Context, req: TrainRequest, job_name: str, packed: SourcePack | None
) -> tuple[dict[str, Any], str | None, str]:
    """Upload the source and the lineage record: (lineage, submit directory URI, lineage URI)."""
    s3 = ctx.aws.s3
    bucket, _ = split_s3_uri(ctx.outputs.training.output_s3_uri)
    submit_uri = None
    with aws_call("upload training source"):
        if packed is not None:
            key = f"source/{job_name}/sourcedir.tar.gz"
            s3.put_object(Bucket=bucket, Key=key, Body=packed.data)
            submit_uri = f"s3://{bucket}/{key}"
        lineage: dict[str, Any] = {
            "git_commit": git_commit(),
            "data": {name: data_version(s3, uri) for name, uri in sorted(req.channels.items())},
            "image": req.image,
            "image_digest": image_digest(ctx.aws.ecr, req.image),
            "source_uri": submit_uri,
            "source_sha256": packed.sha256 if packed is not None else None,
            "source_included": list(packed.included) if packed is not None else [],
            "inference_entry_point": req.serving_entry_point(),
            "training_job": job_name,
        }
        lin_uri = lineage_uri(ctx.outputs.training.output_s3_uri, job_name)
        lin_bucket, lin_key = split_s3_uri(lin_uri)
        body = json.dumps(lineage, sort_keys=True).encode()
        s3.put_object(Bucket=lin_bucket, Key=lin_key, Body=body)
    return lineage, submit_uri, lin_uri


def train(ctx: Context, req: TrainRequest) -> TrainResult:
    """Start the job, wait, and return its artifacts, metrics and lineage (or raise)."""
    validate_request(req)
    training = ctx.outputs.training
    check_network_isolation(ctx.outputs, "training", training.network_isolation)
    packed = pack(ctx, req)  # bad input (exit 2) before anything is uploaded or audited
    job_name = req.job_name or job_name_for(f"{ctx.outputs.project}-{ctx.outputs.environment}")
    inputs = {
        "image": req.image,
        "entry_point": req.entry_point,
        "hyperparameters": req.hyperparameters,
        "channels": req.channels,
        "job_name": job_name,
        "include": list(req.include),
    }
    try:
        lineage, submit_uri, lin_uri = _stage(ctx, req, job_name, packed)
        request = build_request(ctx, req, job_name, submit_uri)
        with aws_call(f"CreateTrainingJob {job_name}"):
            ctx.aws.sagemaker.create_training_job(**request)
        ctx.event("training.started", f"training job {job_name} started", job=job_name)
        job = wait_for_job(ctx, job_name, _wait_budget(request))
    except Exception as exc:
        ctx.audit.record("train", "failed", inputs, error=str(exc))
        raise
    status = str(job["TrainingJobStatus"])
    metrics = {str(m["MetricName"]): float(m["Value"]) for m in job.get("FinalMetricDataList", [])}
    if status != "Completed":
        reason = job.get("FailureReason") or job.get("SecondaryStatus") or "no reason given"
        ctx.audit.record("train", "failed", inputs, status=status, reason=reason)
        raise TrainingFailed(
            f"training job {job_name} ended {status}: {reason}; nothing was registered"
        )
    model_data = job.get("ModelArtifacts", {}).get("S3ModelArtifacts")
    result = TrainResult(
        job_name=job_name,
        status=status,
        model_data_url=model_data,
        metrics=metrics,
        lineage=lineage,
        image=req.image,
        lineage_uri=lin_uri,
        source=packed.summary() if packed is not None else None,
    )
    ctx.audit.record("train", "succeeded", inputs, model_data_url=model_data, metrics=metrics)
    return result


def load_job(ctx: Context, job_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A completed job's description and its lineage (empty when none was recorded)."""
    try:
        job: dict[str, Any] = dict(
            ctx.aws.sagemaker.describe_training_job(TrainingJobName=job_name)
        )
    except Exception as exc:
        if is_not_found(exc):
            raise ArtifactMissing(f"training job {job_name!r} does not exist") from None
        raise
    lineage: dict[str, Any] = {}
    bucket, key = split_s3_uri(lineage_uri(ctx.outputs.training.output_s3_uri, job_name))
    try:
        lineage = json.loads(ctx.aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except Exception as exc:
        if not is_not_found(exc):
            raise
    return job, lineage
