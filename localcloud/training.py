"""Training jobs that really run: the SageMaker script-mode contract, locally.

CreateTrainingJob downloads the source (``sagemaker_submit_directory``, an ``s3://``
tar.gz as the SageMaker SDK uploads it) and every channel's S3 prefix, then starts
``sagemaker_program`` with ``sys.executable`` in a subprocess:

- hyperparameters (minus the ``sagemaker_*`` ones) as ``--key value`` arguments and as
  JSON in ``SM_HPS``; values the SDK JSON-encoded are decoded first;
- ``SM_MODEL_DIR``, ``SM_OUTPUT_DATA_DIR``, ``SM_CHANNELS``, ``SM_CHANNEL_<NAME>``,
  ``SM_INPUT_DIR``, ``SM_OUTPUT_DIR``, ``SM_CURRENT_HOST``, ``SM_HOSTS``, ``SM_NUM_GPUS``;
- the AWS variables point at the local cloud, so the script cannot reach a real account.

Timing: the script's run time is real (1 process second = 1 simulated second: it is
compute, not waiting), and ``MaxRuntimeInSeconds`` is compared against it, so the
outcome never depends on the clock's speed. Around it the simulated phases are
compressed: the job is ``Starting`` for ``STARTING_SECONDS`` and ends no earlier than
``MIN_JOB_SECONDS`` after creation (``Uploading`` in between). Exit code 0 → the
model directory is uploaded as ``<S3OutputPath>/<job>/output/model.tar.gz`` and the job
is ``Completed`` with ``FinalMetricDataList`` (the last match of each
``MetricDefinitions`` regex in stdout); otherwise ``Failed`` with the last lines of
stderr as ``FailureReason``. StopTrainingJob or MaxRuntimeInSeconds → SIGTERM (SIGKILL
after ``jobs.KILL_GRACE_SECONDS`` real seconds), ``Stopping`` for ``STOP_SECONDS``, then
``Stopped`` (SecondaryStatus ``Stopped`` or ``MaxRuntimeExceeded``); whatever the
script saved in the model directory is uploaded, as SageMaker does. When the job ends,
its stdout and stderr go to CloudWatch Logs (``/aws/sagemaker/TrainingJobs``, stream
``<job>/algo-1-<epoch>``) if that log group exists.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components import instance_types
from localcloud import jobs, s3io
from localcloud.clock import SimClock, from_datetime, to_datetime
from localcloud.context import Context, s3_backend, sagemaker_backend
from localcloud.jobs import JobProcess
from localcloud.wire import ApiError, validation

STARTING_SECONDS = 60.0
MIN_JOB_SECONDS = 120.0
STOP_SECONDS = 30.0
LOG_GROUP = "/aws/sagemaker/TrainingJobs"


@dataclass(kw_only=True)
class TrainingRun(JobProcess):
    metric_definitions: list[dict[str, str]]
    output_uri: str
    transitions: list[dict[str, Any]] = field(default_factory=list)

    # -- state --------------------------------------------------------------------------
    def _phase(self, status: str, start: float, message: str) -> None:
        """Enter ``status`` at ``start``: once, in order, never before the last phase began."""
        if any(t["Status"] == status for t in self.transitions):
            return
        if self.transitions:
            start = max(start, from_datetime(self.transitions[-1]["StartTime"]))
            self.transitions[-1]["EndTime"] = to_datetime(start)
        self.transitions.append(
            {"Status": status, "StartTime": to_datetime(start), "StatusMessage": message}
        )

    def sync(self, clock: SimClock) -> None:
        if self.done:
            return
        self.poll(clock)
        job = sagemaker_backend(self.account_id, self.region).training_jobs.get(self.name)
        if job is None:
            return
        now = clock.now()
        self._phase("Starting", self.created, "Preparing the instances for training")
        if self.setup_failure is not None and self.stop_sim is None:
            end = self.created + STARTING_SECONDS
            if now >= end:
                self._finish(job, "Failed", "Failed", end, failure=self.setup_failure)
            return
        if self.stop_sim is not None:
            self._phase("Stopping", self.stop_sim, "Stopping the training job")
            end = self.stop_sim + STOP_SECONDS
            if (self.exit_code is not None or self.proc is None) and now >= end:
                secondary = "MaxRuntimeExceeded" if self.max_runtime_exceeded else "Stopped"
                message = (
                    f"Training job runtime exceeded MaxRuntimeInSeconds ({self.max_runtime:g} s)"
                    if self.max_runtime_exceeded
                    else "Training job stopped by StopTrainingJob"
                )
                self._upload_model(quiet=True)
                self._finish(job, "Stopped", secondary, end, message=message)
            else:
                job.training_job_status, job.secondary_status = "Stopping", "Stopping"
                self._touch(job, self.stop_sim)
            return
        if now >= self.created + STARTING_SECONDS:
            self._phase(
                "Training",
                self.created + STARTING_SECONDS,
                "Training image download completed. Training in progress.",
            )
        if self.exit_code is None:
            job.training_job_status = "InProgress"
            job.secondary_status = self.transitions[-1]["Status"]
            self._touch(job, from_datetime(self.transitions[-1]["StartTime"]))
            return
        assert self.exited_real is not None
        exited = clock.sim_at(self.exited_real)
        end = max(exited, self.created + MIN_JOB_SECONDS)
        self._phase(
            "Uploading",
            max(exited, self.created + STARTING_SECONDS),
            "Uploading generated training model",
        )
        if now < end:
            job.training_job_status, job.secondary_status = "InProgress", "Uploading"
            return
        if self.exit_code != 0:
            self._finish(job, "Failed", "Failed", end, failure=self._algorithm_error())
            return
        try:
            self._upload_model(quiet=False)
        except FileNotFoundError as exc:
            self._finish(job, "Failed", "Failed", end, failure=f"ClientError: {exc}")
            return
        job.final_metric_data_list = self._metrics(end)
        self._finish(job, "Completed", "Completed", end, message="Training job completed")

    def _touch(self, job: Any, at: float) -> None:
        job.last_modified_time = to_datetime(at)
        job.secondary_status_transitions = list(self.transitions)

    def _finish(
        self,
        job: Any,
        status: str,
        secondary: str,
        at: float,
        *,
        failure: str | None = None,
        message: str = "",
    ) -> None:
        self._phase(secondary, at, failure or message)
        last = self.transitions[-1]
        last["EndTime"] = max(last["StartTime"], to_datetime(at))
        job.training_job_status, job.secondary_status = status, secondary
        if failure is not None:
            job.failure_reason = failure
        job.training_end_time = to_datetime(at)
        job.training_time_in_seconds = max(1, round(self.compute_seconds))
        job.billable_time_in_seconds = job.training_time_in_seconds
        self._touch(job, at)
        self.publish_logs(LOG_GROUP)
        self.done = True

    def _algorithm_error(self) -> str:
        tail = self.stderr_tail() or "(no output on stderr)"
        return f"AlgorithmError: ExecuteUserScriptError: exit code {self.exit_code}\n{tail}"

    def _metrics(self, at: float) -> list[dict[str, Any]]:
        text = self.stdout.read_text(errors="replace")
        metrics = []
        for definition in self.metric_definitions:
            try:
                matches = re.findall(definition["Regex"], text)
            except re.error:
                continue
            if not matches:
                continue
            last = matches[-1]
            value = last[0] if isinstance(last, tuple) else last
            try:
                number = float(value)
            except ValueError:
                continue
            metrics.append(
                {"MetricName": definition["Name"], "Value": number, "Timestamp": to_datetime(at)}
            )
        return metrics

    def _upload_model(self, *, quiet: bool) -> None:
        s3 = s3_backend(self.account_id, self.region)
        model_dir, output_dir = self.workdir / "model", self.workdir / "output" / "data"
        if quiet and not any(model_dir.iterdir()):
            return
        try:
            s3io.write(s3, f"{self.output_uri}/model.tar.gz", _targz(model_dir))
            if any(output_dir.iterdir()):
                s3io.write(s3, f"{self.output_uri}/output.tar.gz", _targz(output_dir))
        except FileNotFoundError:
            if not quiet:
                raise


def _targz(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(directory.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(directory)), recursive=False)
    return buffer.getvalue()


def decode_hyperparameter(value: str) -> Any:
    """The SageMaker SDK JSON-encodes every value (``'"train.py"'``); plain strings stay."""
    try:
        decoded = json.loads(value)
    except (TypeError, ValueError):
        return value
    return decoded if isinstance(decoded, str | int | float | bool) else value


def cli_args(hyperparameters: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for key, value in hyperparameters.items():
        args += [f"--{key}", value if isinstance(value, str) else json.dumps(value)]
    return args


def _extract(data: bytes, target: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        tar.extractall(target, filter="data")


def _prepare(ctx: Context, run: TrainingRun, params: dict[str, Any]) -> list[str]:
    """Download source and channels, build the environment; the argv to run."""
    s3 = ctx.s3()
    hps = {k: decode_hyperparameter(v) for k, v in (params.get("HyperParameters") or {}).items()}
    program, submit = hps.get("sagemaker_program"), hps.get("sagemaker_submit_directory")
    if not program or not submit:
        raise ValueError(
            "the local cloud runs script-mode jobs only: HyperParameters must set "
            "sagemaker_program and sagemaker_submit_directory (an s3:// tar.gz)"
        )
    code = run.workdir / "code"
    code.mkdir()
    _extract(s3io.read(s3, str(submit)), code)
    if not (code / str(program)).is_file():
        raise ValueError(f"entry point {program!r} is not in {submit}")
    channels = []
    for channel in params.get("InputDataConfig") or []:
        name = channel["ChannelName"]
        source = channel.get("DataSource", {}).get("S3DataSource", {})
        if source.get("S3DataType", "S3Prefix") != "S3Prefix":
            raise ValueError(f"channel {name}: only S3DataType S3Prefix is supported locally")
        uri = source.get("S3Uri", "")
        objects = s3io.list_prefix(s3, uri)
        if not objects:
            raise ValueError(f"Data download failed: no objects under {uri} (channel {name})")
        target = run.workdir / "input" / "data" / name
        for relative, data in objects:
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        channels.append(name)
        run.env[f"SM_CHANNEL_{name.upper()}"] = str(target)
    user_hps = {k: v for k, v in hps.items() if not k.startswith("sagemaker_")}
    (run.workdir / "model").mkdir()
    (run.workdir / "output" / "data").mkdir(parents=True)
    run.env.update(
        {
            "SM_MODEL_DIR": str(run.workdir / "model"),
            "SM_OUTPUT_DATA_DIR": str(run.workdir / "output" / "data"),
            "SM_OUTPUT_DIR": str(run.workdir / "output"),
            "SM_INPUT_DIR": str(run.workdir / "input"),
            "SM_CHANNELS": json.dumps(channels),
            "SM_HPS": json.dumps(user_hps),
            "SM_USER_ENTRY_POINT": str(program),
            "SM_MODULE_DIR": str(submit),
            "SM_CURRENT_HOST": "algo-1",
            "SM_HOSTS": json.dumps(["algo-1"]),
            "SM_NUM_GPUS": "0",
            "SM_NUM_CPUS": str(os.cpu_count() or 1),
            "SM_TRAINING_JOB_NAME": run.name,
            "PYTHONPATH": str(code),
            "PYTHONUNBUFFERED": "1",
        }
    )
    for key, value in user_hps.items():
        run.env[f"SM_HP_{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return [sys.executable, str(code / str(program)), *cli_args(user_hps)]


def create_training_job(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["TrainingJobName"]
    backend = ctx.sagemaker()
    arn = ctx.arn("training-job", name)
    if name in backend.training_jobs:
        raise ApiError(
            "ResourceInUse",
            f"Training job names must be unique within an AWS account and region, and a "
            f"training job with this name already exists ({arn})",
        )
    stopping = params.get("StoppingCondition") or {}
    if params.get("EnableManagedSpotTraining"):
        wait, runtime = (
            stopping.get("MaxWaitTimeInSeconds"),
            stopping.get("MaxRuntimeInSeconds", 86400),
        )
        if wait is None or wait < runtime:
            raise validation(
                "Invalid MaxWaitTimeInSeconds. It must be present and be greater than or equal to "
                f"MaxRuntimeInSeconds ({runtime}) for managed spot training, got {wait}."
            )
    resources = params.get("ResourceConfig") or {}
    instance_type = str(resources.get("InstanceType", ""))
    if resources.get("VolumeKmsKeyId") and instance_types.has_local_nvme(instance_type):
        raise validation(
            f"Instance type {instance_type} has local NVMe instance storage, which is encrypted "
            "by the hardware; VolumeKmsKeyId is not supported for it. Remove "
            "ResourceConfig.VolumeKmsKeyId from the request."
        )
    algorithm = dict(params.get("AlgorithmSpecification") or {})
    metric_definitions = list(algorithm.get("MetricDefinitions") or [])
    output_path = (params.get("OutputDataConfig") or {}).get("S3OutputPath", "").rstrip("/")
    if not output_path.startswith("s3://"):
        raise validation(f"OutputDataConfig.S3OutputPath must be an s3:// URI, got {output_path!r}")
    job = backend.create_training_job(
        training_job_name=name,
        hyper_parameters=params.get("HyperParameters") or {},
        algorithm_specification=dict(algorithm),
        role_arn=params.get("RoleArn"),
        input_data_config=params.get("InputDataConfig") or [],
        output_data_config=params.get("OutputDataConfig") or {},
        resource_config=params.get("ResourceConfig") or {},
        vpc_config=params.get("VpcConfig"),
        stopping_condition=params.get("StoppingCondition") or {},
        tags=params.get("Tags") or [],
        enable_network_isolation=params.get("EnableNetworkIsolation", False),
        enable_inter_container_traffic_encryption=params.get(
            "EnableInterContainerTrafficEncryption", False
        ),
        enable_managed_spot_training=params.get("EnableManagedSpotTraining", False),
        checkpoint_config=params.get("CheckpointConfig"),
        debug_hook_config=params.get("DebugHookConfig"),
        debug_rule_configurations=params.get("DebugRuleConfigurations"),
        tensor_board_output_config=params.get("TensorBoardOutputConfig"),
        experiment_config=params.get("ExperimentConfig"),
    )
    now = ctx.clock.now()
    job.algorithm_specification = algorithm  # moto replaces MetricDefinitions with its own
    job.training_job_status, job.secondary_status = "InProgress", "Starting"
    job.creation_time = job.last_modified_time = job.training_start_time = to_datetime(now)
    job.training_end_time, job.final_metric_data_list = None, []
    job.environment = params.get("Environment")
    runtime = (params.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
    run = TrainingRun(
        account_id=ctx.account_id,
        region=ctx.region,
        name=name,
        workdir=Path(tempfile.mkdtemp(prefix=f"{name[:40]}-", dir=ctx.state.workdir)),
        created=now,
        started_real=time.time(),
        max_runtime=float(runtime) if runtime else None,
        metric_definitions=metric_definitions,
        output_uri=f"{output_path}/{name}/output",
        env=jobs.base_env(ctx.state.cloud_env),
    )
    run.env.update({k: str(v) for k, v in (params.get("Environment") or {}).items()})
    ctx.state.training[(ctx.account_id, ctx.region, name)] = run
    try:
        argv = _prepare(ctx, run, params)
    except (ValueError, FileNotFoundError, tarfile.TarError, ApiError) as exc:
        run.setup_failure = f"ClientError: {exc}"
    else:
        run.started_real = time.time()
        run.launch(argv, run.workdir / "code")
    run.sync(ctx.clock)
    return {"TrainingJobArn": job.arn}


def stop_training_job(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params["TrainingJobName"]
    job = ctx.sagemaker().training_jobs.get(name)
    run = ctx.state.training.get((ctx.account_id, ctx.region, name))
    if job is None or run is None:
        raise validation(f"Could not find training job '{ctx.arn('training-job', name)}'.")
    run.sync(ctx.clock)
    if job.training_job_status != "InProgress":
        raise validation(
            f"The request was rejected because the training job is in status "
            f"{job.training_job_status}."
        )
    run.request_stop(ctx.clock.now())
    run.sync(ctx.clock)
    return {}
