"""Processing jobs that really run: CreateProcessingJob's container entry point, locally.

The local cloud cannot run images. The "image" is this project, installed (the shipped
Dockerfile installs it from the lock), so ``AppSpecification.ContainerEntrypoint`` +
``ContainerArguments`` run as a subprocess on this machine, a leading ``python`` /
``python3`` (any path) being ``sys.executable``. Any other entry point, or none (the
image's own ENTRYPOINT), is refused with a ValidationException: the one departure.

Paths. The container sees ``/opt/ml/processing/...`` and ``/opt/ml/output/...``. Each job
gets a temporary directory ``<job dir>``; ``/opt/ml/processing`` is ``<job dir>/processing``
and ``/opt/ml/output`` is ``<job dir>/output``. Every such path (a whole path component, at
the start of a string or after a non-path character such as ``=``, ``'`` or a space) is
rewritten in ``ProcessingInputs[].S3Input.LocalPath``, ``ProcessingOutputConfig.Outputs[].
S3Output.LocalPath``, ``ContainerEntrypoint``, ``ContainerArguments`` and the values of
``Environment``; ``MLOPS_PROCESSING_ROOT`` is ``<job dir>/processing`` so code can map paths
too (its parent plays ``/opt/ml``).

Environment: the machine's PATH/HOME/LANG/TMPDIR, then the job's ``Environment``, then the
local cloud's AWS variables (``AWS_ENDPOINT_URL``, credentials, region, no proxy for
loopback), which win so the job can never reach a real account; ``PYTHONPATH`` starts with
the project's root; ``PYTHONUNBUFFERED=1`` unless set. Under
``NetworkConfig.EnableNetworkIsolation`` the AWS endpoint and every HTTP(S) proxy are a
loopback port that refuses connections, so the job's own AWS calls fail as they would in an
isolated container (inputs and outputs still move: SageMaker moves them, not the job).

Inputs (``S3Input``, ``S3InputMode`` File) are downloaded before the entry point starts:
``S3Prefix`` = every object under the prefix (keys relative to the prefix, or to its
"directory" when the prefix ends inside a key name, as SageMaker names them); ``ManifestFile``
= the manifest's ``{"prefix": ...}`` plus its relative keys. No object → the job fails with
``ClientError: No S3 objects found under S3 URL ...``. Outputs: when the job completes,
every file (symlinks are not followed, as SageMaker documents) under each output's local
path is uploaded to ``<S3Uri>/<relative path>``, SSE-KMS under
``ProcessingOutputConfig.KmsKeyId`` when set; ``Continuous`` is uploaded at the end too.

Timing, as training jobs: the entry point's run time is real compute (one process second =
one simulated second) compared with ``MaxRuntimeInSeconds`` (default 86400), so outcomes
never depend on the clock's speed. The container starts ``STARTING_SECONDS`` after creation
(``ProcessingStartTime``); the job ends no earlier than ``MIN_JOB_SECONDS`` after creation.
Exit 0 → ``Completed``; non-zero → ``Failed``, ``FailureReason`` "AlgorithmError: See job
logs for more information" plus the exit code and the last lines of stderr; StopProcessingJob
or MaxRuntimeInSeconds → SIGTERM (SIGKILL after ``jobs.KILL_GRACE_SECONDS``), ``Stopping``
for ``STOP_SECONDS``, then ``Stopped``. ``ExitMessage`` is the first 1 KB of
``/opt/ml/output/message`` at any terminal status (not UTF-8 → ``Failed``, ClientError).
stdout and stderr go to CloudWatch Logs ``/aws/sagemaker/ProcessingJobs``, stream
``<job>/algo-1-<epoch>``, when that group exists.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import json
import os
import posixpath
import re
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from components import instance_types
from localcloud import jobs, s3io
from localcloud.clock import SimClock, to_datetime
from localcloud.context import Context, s3_backend, sagemaker_backend
from localcloud.jobs import JobProcess
from localcloud.wire import ApiError, not_implemented, validation

STARTING_SECONDS = 60.0
"""Simulated seconds from creation to the container's start (ProcessingStartTime)."""
MIN_JOB_SECONDS = 120.0
STOP_SECONDS = 30.0
DEFAULT_MAX_RUNTIME_SECONDS = 86400
"""SageMaker's default when StoppingCondition is absent (24 hours)."""
LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
CONTAINER_ROOT = "/opt/ml/processing"
ROOT_ENV = "MLOPS_PROCESSING_ROOT"
"""The job's stand-in for ``/opt/ml/processing`` (its parent stands for ``/opt/ml``)."""
EXIT_MESSAGE_CHARS = 1024
REASON_CHARS = 1024
DEFAULT_MAX_RESULTS = 10
PROJECT_ROOT = Path(__file__).resolve().parents[1]
"""What ``PYTHONPATH`` starts with: the project's modules import as in the image."""

_PYTHON = re.compile(r"python(3(\.\d+)?)?")
_CONTAINER_PATH = re.compile(r"(?<![\w./-])/opt/ml/(processing|output)(?=/|$|[^\w.-])")
_OPERATIONS = (
    "CreateProcessingJob",
    "DescribeProcessingJob",
    "StopProcessingJob",
    "ListProcessingJobs",
)


# ------------------------------------------------------------------ request validation
@functools.cache
def _service_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("sagemaker")


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    """A botocore (Java) pattern as a Python regex; ``\\p{L}`` / ``\\p{N}`` / ``\\p{Z}`` are
    approximated; ``None`` when Python cannot compile it (the check is then skipped)."""
    translated = (
        pattern.replace(r"\p{L}", r"\w")
        .replace(r"\p{N}", r"\w")
        .replace(r"\p{Z}", " \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000")
    )
    try:
        return re.compile(translated)
    except re.error:
        return None


def _constraint(value: Any, path: str, text: str) -> str:
    shown = value if isinstance(value, str | int | float) else "[...]"
    return f"Value '{shown}' at '{path}' failed to satisfy constraint: {text}"


def _check_value(shape: Any, value: Any, path: str, out: list[str]) -> None:
    meta, kind = shape.metadata, shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise ApiError("SerializationException", f"{path or 'the request'} must be an object")
        for member in shape.required_members:
            if value.get(member) is None:
                where = f"{path}.{_lower_first(member)}" if path else _lower_first(member)
                out.append(
                    f"Value null at '{where}' failed to satisfy constraint: Member must not be null"
                )
        for key, item in value.items():
            member_shape = shape.members.get(key)
            if member_shape is not None and item is not None:
                where = f"{path}.{_lower_first(key)}" if path else _lower_first(key)
                _check_value(member_shape, item, where, out)
        return
    if kind == "list":
        if not isinstance(value, list):
            raise ApiError("SerializationException", f"{path} must be a list")
        _check_length(value, len(value), meta, path, out)
        for index, item in enumerate(value):
            _check_value(shape.member, item, f"{path}.{index + 1}.member", out)
        return
    if kind == "map":
        if not isinstance(value, dict):
            raise ApiError("SerializationException", f"{path} must be an object")
        _check_length(value, len(value), meta, path, out)
        for key, item in value.items():
            for label, part_shape, part in (
                ("Map keys", shape.key, key),
                ("Map value", shape.value, item),
            ):
                found: list[str] = []
                _check_value(part_shape, part, path, found)
                for problem in found:
                    text = problem.split("failed to satisfy constraint: ", 1)[-1]
                    out.append(
                        _constraint(part, path, f"{label} must satisfy constraint: [{text}]")
                    )
        return
    if kind == "string":
        if not isinstance(value, str):
            raise ApiError("SerializationException", f"{path} must be a string")
        _check_length(value, len(value), meta, path, out)
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            out.append(
                _constraint(
                    value, path, f"Member must satisfy enum value set: [{', '.join(sorted(enum))}]"
                )
            )
        pattern = meta.get("pattern")
        compiled = _compiled(pattern) if pattern else None
        if compiled is not None and not compiled.fullmatch(value):
            out.append(
                _constraint(
                    value, path, f"Member must satisfy regular expression pattern: ^{pattern}"
                )
            )
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError("SerializationException", f"{path} must be an integer")
        if "min" in meta and value < meta["min"]:
            out.append(
                _constraint(
                    value, path, f"Member must have value greater than or equal to {meta['min']}"
                )
            )
        if "max" in meta and value > meta["max"]:
            out.append(
                _constraint(
                    value, path, f"Member must have value less than or equal to {meta['max']}"
                )
            )
        return
    if kind == "boolean" and not isinstance(value, bool):
        raise ApiError("SerializationException", f"{path} must be a boolean")


def _check_length(value: Any, length: int, meta: dict[str, Any], path: str, out: list[str]) -> None:
    if "min" in meta and length < meta["min"]:
        out.append(
            _constraint(
                value, path, f"Member must have length greater than or equal to {meta['min']}"
            )
        )
    if "max" in meta and length > meta["max"]:
        out.append(
            _constraint(value, path, f"Member must have length less than or equal to {meta['max']}")
        )


def check_request(operation: str, params: dict[str, Any]) -> None:
    """What AWS's front end checks against the API model before SageMaker sees a request:
    required members, lengths, ranges, enums and patterns (botocore checks only the first
    few client-side), worded as AWS words them."""
    shape = _service_model().operation_model(operation).input_shape
    problems: list[str] = []
    _check_value(shape, params, "", problems)
    if problems:
        count = len(problems)
        noun = "validation error" if count == 1 else "validation errors"
        raise validation(f"{count} {noun} detected: " + "; ".join(problems))


# ------------------------------------------------------------------ the job
@dataclass(kw_only=True)
class ProcessingRun(JobProcess):
    arn: str
    request: dict[str, Any]
    """The request as DescribeProcessingJob echoes it (Tags left out)."""
    role_arn: str
    outputs: list[tuple[str, Path, str]] = field(default_factory=list)
    """(OutputName, local directory, S3 URI) for every output SageMaker uploads."""
    kms_key_id: str | None = None
    status: str = "InProgress"
    failure_reason: str | None = None
    exit_message: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    last_modified: float = 0.0

    @property
    def root(self) -> Path:
        """The job's ``/opt/ml/processing``."""
        return self.workdir / "processing"

    @property
    def message_file(self) -> Path:
        """The job's ``/opt/ml/output/message``."""
        return self.workdir / "output" / "message"

    @property
    def started(self) -> float:
        return self.created + STARTING_SECONDS

    def runtime_exceeded_at(self, clock: SimClock) -> float:
        """MaxRuntimeInSeconds counts from the container's start (never later than now)."""
        assert self.max_runtime is not None
        return min(clock.now(), self.started + self.max_runtime)

    # -- state --------------------------------------------------------------------------
    def sync(self, clock: SimClock) -> None:
        if self.done:
            return
        self.poll(clock)
        now = clock.now()
        if self.stop_sim is not None:
            self._set("Stopping", self.stop_sim)
            end = self.stop_sim + STOP_SECONDS
            if (self.exit_code is not None or self.proc is None) and now >= end:
                reason = None
                if self.max_runtime_exceeded:
                    reason = (
                        "MaxRuntimeExceeded: the processing job ran longer than "
                        f"StoppingCondition.MaxRuntimeInSeconds ({self.max_runtime:g} s)"
                    )
                self._finish("Stopped", end, failure=reason)
            return
        if self.setup_failure is not None:
            if now >= self.started:
                self._finish("Failed", self.started, failure=self.setup_failure)
            return
        if now >= self.started and self.start_time is None:
            self.start_time = self.started
        if self.exit_code is None or self.exited_real is None:
            return
        end = max(clock.sim_at(self.exited_real), self.created + MIN_JOB_SECONDS)
        if now < end:
            return
        if self.exit_code != 0:
            code = self.exit_code if self.exit_code >= 0 else 128 - self.exit_code
            tail = self.stderr_tail() or "(no output on stderr)"
            reason = (
                f"AlgorithmError: See job logs for more information (exit code: {code}). "
                f"Last lines of stderr:\n{tail}"
            )
            self._finish("Failed", end, failure=reason)
            return
        try:
            self._upload_outputs()
        except (FileNotFoundError, ApiError) as exc:
            self._finish("Failed", end, failure=f"ClientError: {exc}")
            return
        self._finish("Completed", end)

    def _set(self, status: str, at: float) -> None:
        if self.status != status:
            self.status, self.last_modified = status, at

    def _finish(self, status: str, at: float, *, failure: str | None = None) -> None:
        message_problem = self._read_exit_message()
        if message_problem is not None and status == "Completed":
            status, failure = "Failed", message_problem
        if self.start_time is None and self.proc is not None and at >= self.started:
            self.start_time = self.started
        self.status, self.end_time, self.last_modified = status, at, at
        if failure is not None:
            self.failure_reason = _truncate_head(failure, REASON_CHARS)
        self.publish_logs(LOG_GROUP)
        job = sagemaker_backend(self.account_id, self.region).processing_jobs.get(self.name)
        if job is not None:
            job.processing_job_status = status
            job.processing_end_time = job.last_modified_time = to_datetime(at)
        self.done = True

    def _read_exit_message(self) -> str | None:
        """ExitMessage from ``/opt/ml/output/message``; a reason to fail when not UTF-8."""
        if not self.message_file.is_file():
            return None
        try:
            text = self.message_file.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            return "ClientError: /opt/ml/output/message is not UTF-8 encoded text"
        self.exit_message = text[:EXIT_MESSAGE_CHARS]
        return None

    def _upload_outputs(self) -> None:
        s3 = s3_backend(self.account_id, self.region)
        for name, directory, uri in self.outputs:
            if not directory.is_dir():
                continue
            base = uri.rstrip("/")
            for path in sorted(directory.rglob("*")):
                if path.is_symlink() or not path.is_file():
                    continue
                relative = path.relative_to(directory).as_posix()
                try:
                    s3io.write(
                        s3, f"{base}/{relative}", path.read_bytes(), kms_key_id=self.kms_key_id
                    )
                except FileNotFoundError as exc:
                    raise FileNotFoundError(f"could not upload output {name!r}: {exc}") from exc

    # -- answers ------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        out = copy.deepcopy(self.request)
        out.update(
            {
                "ProcessingJobArn": self.arn,
                "ProcessingJobStatus": self.status,
                "CreationTime": to_datetime(self.created),
                "LastModifiedTime": to_datetime(self.last_modified),
            }
        )
        if self.start_time is not None:
            out["ProcessingStartTime"] = to_datetime(self.start_time)
        if self.end_time is not None:
            out["ProcessingEndTime"] = to_datetime(self.end_time)
        if self.failure_reason is not None:
            out["FailureReason"] = self.failure_reason
        if self.exit_message is not None:
            out["ExitMessage"] = self.exit_message
        return out

    def summary(self) -> dict[str, Any]:
        described = self.describe()
        keys = (
            "ProcessingJobName",
            "ProcessingJobArn",
            "CreationTime",
            "ProcessingEndTime",
            "LastModifiedTime",
            "ProcessingJobStatus",
            "FailureReason",
            "ExitMessage",
        )
        return {k: described[k] for k in keys if k in described}


def _truncate_head(text: str, limit: int) -> str:
    """At most ``limit`` characters, keeping the first line and the end (the stderr tail)."""
    if len(text) <= limit:
        return text
    head, _, rest = text.partition("\n")
    keep = limit - len(head) - 5
    return f"{head}\n...\n{rest[-keep:]}" if keep > 0 else text[:limit]


def to_local(text: str, workdir: Path) -> str:
    """Rewrite every ``/opt/ml/processing`` and ``/opt/ml/output`` path in ``text`` to the job's
    directories (``<workdir>/processing``, ``<workdir>/output``)."""
    return _CONTAINER_PATH.sub(lambda m: str(workdir / m.group(1)), text)


# ------------------------------------------------------------------ checks before a job exists
def _check_role(ctx: Context, role_arn: str) -> None:
    """The role must exist in the caller's account and trust sagemaker.amazonaws.com, or
    SageMaker cannot assume it (its policies are not evaluated by the local cloud)."""
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    refused = validation(
        f"Could not assume role {role_arn}. Please ensure that the role exists and allows "
        "principal 'sagemaker.amazonaws.com' to assume the role."
    )
    match = re.fullmatch(r"arn:[\w-]+:iam::(\d{12}):role/(?:.*/)?([^/]+)", role_arn)
    if match is None or match.group(1) != ctx.account_id:
        raise refused
    backend = iam_backends[ctx.account_id][get_partition(ctx.region)]
    role = next((r for r in backend.roles.values() if r.arn == role_arn), None)
    if role is None or not _trusts_sagemaker(role.assume_role_policy_document):
        raise refused


def _trusts_sagemaker(document: Any) -> bool:
    try:
        policy = json.loads(document) if isinstance(document, str) else dict(document)
    except (TypeError, ValueError):
        return False
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        services = (statement.get("Principal") or {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        if "sagemaker.amazonaws.com" in services and (
            "sts:AssumeRole" in actions or "sts:*" in actions or "*" in actions
        ):
            return True
    return False


def _check_cluster(cluster: dict[str, Any]) -> dict[str, Any]:
    """The instance type and count the job runs on (InstancePreferences: the first)."""
    if "SelectedInstanceType" in cluster or "SelectedInstanceCount" in cluster:
        raise validation(
            "ProcessingResources.ClusterConfig.SelectedInstanceType and SelectedInstanceCount "
            "are read-only: SageMaker sets them from InstancePreferences. Remove them."
        )
    preferences = cluster.get("InstancePreferences")
    if preferences and cluster.get("InstanceType"):
        raise validation(
            "ProcessingResources.ClusterConfig: InstancePreferences is mutually exclusive with "
            "InstanceType. Specify one of them."
        )
    if preferences:
        instance_type = preferences[0]["InstanceType"]
        count = preferences[0].get("InstanceCount", cluster.get("InstanceCount", 1))
        selected = {"SelectedInstanceType": instance_type, "SelectedInstanceCount": count}
    elif cluster.get("InstanceType"):
        instance_type, count, selected = (
            cluster["InstanceType"],
            cluster.get("InstanceCount", 1),
            {},
        )
    else:
        raise validation(
            "ProcessingResources.ClusterConfig must specify InstanceType or InstancePreferences."
        )
    if cluster.get("VolumeKmsKeyId") and instance_types.has_local_nvme(instance_type):
        raise validation(
            f"Instance type {instance_type} has local NVMe instance storage, which is encrypted "
            "by the hardware; VolumeKmsKeyId is not supported for it. Remove "
            "ProcessingResources.ClusterConfig.VolumeKmsKeyId from the request."
        )
    if count != 1:
        raise not_implemented(
            "sagemaker",
            "CreateProcessingJob",
            f"InstanceCount {count}: the local cloud runs a processing job on one instance",
        )
    return selected


def _local_path(path: str, where: str) -> str:
    normalised = posixpath.normpath(path) if path else ""
    if not path.startswith(CONTAINER_ROOT + "/") or not normalised.startswith(CONTAINER_ROOT + "/"):
        raise validation(
            f"{where}.LocalPath {path!r} is not valid: it must be an absolute path under "
            f"{CONTAINER_ROOT}/ (for example {CONTAINER_ROOT}/input)."
        )
    return normalised


def _s3_only(uri: str, where: str) -> None:
    if not uri.startswith("s3://"):
        raise not_implemented(
            "sagemaker", "CreateProcessingJob", f"{where}.S3Uri {uri!r}: only s3:// URIs"
        )


def _check_inputs(inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The S3 inputs SageMaker downloads, each with its normalised container path."""
    planned: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for index, spec in enumerate(inputs):
        where = f"ProcessingInputs[{index}] ({spec.get('InputName')})"
        s3_input, dataset = spec.get("S3Input"), spec.get("DatasetDefinition")
        if (s3_input is None) == (dataset is None):
            raise validation(f"{where}: specify exactly one of S3Input and DatasetDefinition.")
        if dataset is not None:
            raise not_implemented(
                "sagemaker", "CreateProcessingJob", f"{where}: DatasetDefinition (Athena, Redshift)"
            )
        assert s3_input is not None
        if spec.get("AppManaged"):
            continue
        if not s3_input.get("LocalPath"):
            raise validation(f"{where}.S3Input.LocalPath is required when AppManaged is False.")
        local = _local_path(s3_input["LocalPath"], f"{where}.S3Input")
        if s3_input.get("S3InputMode", "File") == "Pipe":
            raise not_implemented(
                "sagemaker", "CreateProcessingJob", f"{where}: S3InputMode Pipe (File only)"
            )
        if s3_input.get("S3CompressionType") == "Gzip":
            raise validation(
                f"{where}: S3CompressionType Gzip can only be used when S3InputMode is Pipe."
            )
        _s3_only(s3_input["S3Uri"], f"{where}.S3Input")
        if local in seen:
            raise validation(
                f"{where}.S3Input.LocalPath {local} is also the LocalPath of {seen[local]}: "
                "every input and output needs its own LocalPath."
            )
        seen[local] = where
        planned.append({**s3_input, "LocalPath": local, "InputName": spec["InputName"]})
    return planned


def _check_outputs(
    config: dict[str, Any] | None, inputs: list[dict[str, Any]]
) -> list[tuple[str, str, str]]:
    """(OutputName, normalised container path, S3 URI) of every output SageMaker uploads."""
    taken = {i["LocalPath"]: f"input {i['InputName']}" for i in inputs}
    planned = []
    for index, spec in enumerate((config or {}).get("Outputs") or []):
        where = f"ProcessingOutputConfig.Outputs[{index}] ({spec.get('OutputName')})"
        s3_output, feature_store = spec.get("S3Output"), spec.get("FeatureStoreOutput")
        if (s3_output is None) == (feature_store is None):
            raise validation(f"{where}: specify exactly one of S3Output and FeatureStoreOutput.")
        if feature_store is not None:
            raise not_implemented(
                "sagemaker", "CreateProcessingJob", f"{where}: FeatureStoreOutput"
            )
        assert s3_output is not None
        if spec.get("AppManaged"):
            continue
        if not s3_output.get("LocalPath"):
            raise validation(f"{where}.S3Output.LocalPath is required when AppManaged is False.")
        local = _local_path(s3_output["LocalPath"], f"{where}.S3Output")
        _s3_only(s3_output["S3Uri"], f"{where}.S3Output")
        if local in taken:
            raise validation(
                f"{where}.S3Output.LocalPath {local} is also the LocalPath of {taken[local]}: "
                "every input and output needs its own LocalPath."
            )
        taken[local] = f"output {spec['OutputName']}"
        planned.append((spec["OutputName"], local, s3_output["S3Uri"]))
    return planned


def _check_entrypoint(app: dict[str, Any]) -> list[str]:
    entrypoint = list(app.get("ContainerEntrypoint") or [])
    image = app.get("ImageUri", "")
    if not entrypoint or not _PYTHON.fullmatch(PurePosixPath(entrypoint[0]).name):
        given = (
            f"ContainerEntrypoint starts with {entrypoint[0]!r}"
            if entrypoint
            else ("no ContainerEntrypoint (the image's own ENTRYPOINT)")
        )
        raise validation(
            "the local cloud runs only python entry points: it cannot run the image "
            f"{image!r}, it runs AppSpecification.ContainerEntrypoint with this project's "
            f"Python, and the request has {given}. Use ContainerEntrypoint "
            '["python3", "/opt/ml/processing/input/code/<script>.py"] (or "python3", "-m", '
            '"<module>").'
        )
    return entrypoint


# ------------------------------------------------------------------ inputs
def _objects_under(s3: Any, uri: str) -> list[tuple[str, bytes]]:
    """Every object under an S3Prefix, named as SageMaker names the files it downloads."""
    from moto.s3.models import FakeKey

    bucket_name, prefix = s3io.split_uri(uri)
    if bucket_name not in s3.buckets:
        return []
    parent = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
    found = []
    for key, obj in s3.buckets[bucket_name].keys.items():
        if not key.startswith(prefix) or key.endswith("/") or not isinstance(obj, FakeKey):
            continue
        rest = key[len(prefix) :]
        if not prefix or prefix.endswith("/"):
            relative = rest
        elif rest.startswith("/"):
            relative = rest[1:]
        else:  # the prefix ends inside a name (or is the whole key): relative to its directory
            relative = key[len(parent) :]
        found.append((relative, bytes(obj.value)))
    return found


def _manifest_objects(s3: Any, uri: str) -> list[tuple[str, bytes]]:
    try:
        manifest = json.loads(s3io.read(s3, uri))
        prefix = manifest[0]["prefix"]
        keys = [k for k in manifest[1:] if isinstance(k, str)]
    except FileNotFoundError:
        return []
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ValueError(
            f"ClientError: the manifest file {uri} is not a JSON list starting with "
            f'{{"prefix": "s3://..."}} ({type(exc).__name__})'
        ) from exc
    found = []
    for key in keys:
        try:
            found.append((key, s3io.read(s3, prefix.rstrip("/") + "/" + key.lstrip("/"))))
        except FileNotFoundError as exc:
            raise ValueError(
                f"ClientError: Failed to download data: {exc} (manifest {uri})"
            ) from exc
    return found


def _download(ctx: Context, run: ProcessingRun, inputs: list[dict[str, Any]]) -> None:
    s3 = ctx.s3()
    for spec in inputs:
        uri = spec["S3Uri"]
        if spec["S3DataType"] == "ManifestFile":
            objects = _manifest_objects(s3, uri)
        else:
            objects = _objects_under(s3, uri)
        if not objects:
            bucket = s3io.split_uri(uri)[0]
            raise ValueError(
                f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data '
                f"source. Please ensure that the bucket exists in the selected region "
                f"({ctx.region}), that objects exist under that S3 prefix, and that the role "
                f'"{run.role_arn}" has "s3:ListBucket" permissions on bucket "{bucket}".'
            )
        target = Path(to_local(spec["LocalPath"], run.workdir))
        target.mkdir(parents=True, exist_ok=True)
        for relative, data in objects:
            path = (target / relative).resolve()
            if not path.is_relative_to(target.resolve()):
                raise ValueError(
                    f"ClientError: object key {relative!r} escapes {spec['LocalPath']}"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


# ------------------------------------------------------------------ the registry
def _parse_time(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    import datetime as dt

    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


class ProcessingJobs:
    """Every processing job of the local cloud, answering the four operations (the caller
    holds the cloud's lock)."""

    def __init__(self) -> None:
        self.runs: dict[tuple[str, str, str], ProcessingRun] = {}
        self._refusing: socket.socket | None = None

    @property
    def active(self) -> bool:
        return any(not run.done for run in self.runs.values())

    def handles(self, operation: str | None) -> bool:
        return operation in _OPERATIONS

    def handle(self, operation: str, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        check_request(operation, params)
        handler: Callable[[Context, dict[str, Any]], dict[str, Any]] = {
            "CreateProcessingJob": self.create,
            "DescribeProcessingJob": self.describe,
            "StopProcessingJob": self.stop,
            "ListProcessingJobs": self.list,
        }[operation]
        return handler(ctx, params)

    def tick(self, clock: SimClock) -> None:
        for run in list(self.runs.values()):
            run.sync(clock)

    def reset(self) -> None:
        for run in self.runs.values():
            run.cleanup()
        self.runs.clear()
        if self._refusing is not None:
            self._refusing.close()
            self._refusing = None

    def _refusing_endpoint(self) -> str:
        """A loopback port that is bound but never listens: every connection is refused."""
        if self._refusing is None:
            self._refusing = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._refusing.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{self._refusing.getsockname()[1]}"

    def _run(self, ctx: Context, name: str) -> ProcessingRun:
        run = self.runs.get((ctx.account_id, ctx.region, name))
        if run is None:
            raise validation(f"Could not find processing job '{ctx.arn('processing-job', name)}'.")
        run.sync(ctx.clock)
        return run

    # -- operations ---------------------------------------------------------------------
    def create(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        name = params["ProcessingJobName"]
        arn = ctx.arn("processing-job", name)
        backend = ctx.sagemaker()
        if name in backend.processing_jobs:
            raise ApiError(
                "ResourceInUse",
                "Processing job names must be unique within an AWS account and region, and a "
                f"processing job with this name already exists ({arn})",
            )
        _check_role(ctx, params["RoleArn"])
        selected = _check_cluster(params["ProcessingResources"]["ClusterConfig"])
        inputs = _check_inputs(params.get("ProcessingInputs") or [])
        outputs = _check_outputs(params.get("ProcessingOutputConfig"), inputs)
        entrypoint = _check_entrypoint(params["AppSpecification"])
        job = backend.create_processing_job(
            app_specification=params["AppSpecification"],
            experiment_config=params.get("ExperimentConfig"),
            network_config=params.get("NetworkConfig"),
            processing_inputs=params.get("ProcessingInputs") or [],
            processing_job_name=name,
            processing_output_config=params.get("ProcessingOutputConfig"),
            role_arn=params["RoleArn"],
            tags=params.get("Tags") or [],
            stopping_condition=params.get("StoppingCondition"),
        )
        now = ctx.clock.now()
        job.processing_job_status = "InProgress"
        job.creation_time = job.last_modified_time = to_datetime(now)
        job.processing_end_time = None
        request = {k: copy.deepcopy(v) for k, v in params.items() if k != "Tags"}
        if selected:
            request["ProcessingResources"]["ClusterConfig"].update(selected)
        runtime = (params.get("StoppingCondition") or {}).get(
            "MaxRuntimeInSeconds", DEFAULT_MAX_RUNTIME_SECONDS
        )
        workdir = Path(tempfile.mkdtemp(prefix=f"processing-{name[:40]}-", dir=ctx.state.workdir))
        run = ProcessingRun(
            account_id=ctx.account_id,
            region=ctx.region,
            name=name,
            workdir=workdir,
            created=now,
            started_real=time.time(),
            max_runtime=float(runtime),
            env={},
            arn=arn,
            request=request,
            role_arn=params["RoleArn"],
            outputs=[(n, Path(to_local(p, workdir)), uri) for n, p, uri in outputs],
            kms_key_id=(params.get("ProcessingOutputConfig") or {}).get("KmsKeyId"),
            last_modified=now,
        )
        run.env = self._environment(ctx, run, params)
        self.runs[(ctx.account_id, ctx.region, name)] = run
        run.root.mkdir()
        (workdir / "output").mkdir()
        for _, directory, _ in run.outputs:
            directory.mkdir(parents=True, exist_ok=True)
        try:
            _download(ctx, run, inputs)
        except (ValueError, FileNotFoundError, ApiError) as exc:
            run.setup_failure = (
                str(exc) if str(exc).startswith("ClientError") else f"ClientError: {exc}"
            )
        else:
            arguments = list(params["AppSpecification"].get("ContainerArguments") or [])
            argv = [sys.executable, *(to_local(a, workdir) for a in [*entrypoint[1:], *arguments])]
            run.started_real = time.time()
            run.launch(argv, workdir)
        run.sync(ctx.clock)
        return {"ProcessingJobArn": arn}

    def _environment(
        self, ctx: Context, run: ProcessingRun, params: dict[str, Any]
    ) -> dict[str, str]:
        env = jobs.base_env({})
        user = {
            k: to_local(str(v), run.workdir) for k, v in (params.get("Environment") or {}).items()
        }
        env.update(user)
        cloud = dict(ctx.state.cloud_env)
        if (params.get("NetworkConfig") or {}).get("EnableNetworkIsolation"):
            refusing = self._refusing_endpoint()
            cloud["AWS_ENDPOINT_URL"] = refusing
            for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
                cloud[key] = refusing
            for key in ("NO_PROXY", "no_proxy"):
                cloud.pop(key, None)
                env.pop(key, None)
        env.update(cloud)
        env[ROOT_ENV] = str(run.root)
        extra = user.get("PYTHONPATH")
        env["PYTHONPATH"] = str(PROJECT_ROOT) + (os.pathsep + extra if extra else "")
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def describe(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        return self._run(ctx, params["ProcessingJobName"]).describe()

    def stop(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        run = self._run(ctx, params["ProcessingJobName"])
        if run.status != "InProgress":
            raise validation(
                f"The request was rejected because the processing job is in status {run.status}."
            )
        run.request_stop(ctx.clock.now())
        run.sync(ctx.clock)
        return {}

    def list(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        runs = [r for (a, g, _), r in self.runs.items() if (a, g) == (ctx.account_id, ctx.region)]
        for run in runs:
            run.sync(ctx.clock)
        contains, status = params.get("NameContains"), params.get("StatusEquals")
        bounds: list[
            tuple[str, Callable[[ProcessingRun], float], Callable[[float, float], bool]]
        ] = [
            ("CreationTimeAfter", lambda r: r.created, lambda v, t: v > t),
            ("CreationTimeBefore", lambda r: r.created, lambda v, t: v < t),
            ("LastModifiedTimeAfter", lambda r: r.last_modified, lambda v, t: v > t),
            ("LastModifiedTimeBefore", lambda r: r.last_modified, lambda v, t: v < t),
        ]
        selected = []
        for run in runs:
            if contains is not None and contains not in run.name:
                continue
            if status is not None and run.status != status:
                continue
            if all(
                param not in params or compare(value(run), _parse_time(params[param]))
                for param, value, compare in bounds
            ):
                selected.append(run)
        sort_by = params.get("SortBy", "CreationTime")
        keys: dict[str, Callable[[ProcessingRun], Any]] = {
            "Name": lambda r: r.name,
            "CreationTime": lambda r: r.created,
            "Status": lambda r: r.status,
        }
        selected.sort(
            key=keys[sort_by], reverse=params.get("SortOrder", "Ascending") == "Descending"
        )
        start = _token_offset(params.get("NextToken"))
        size = int(params.get("MaxResults", DEFAULT_MAX_RESULTS))
        page = selected[start : start + size]
        out: dict[str, Any] = {"ProcessingJobSummaries": [r.summary() for r in page]}
        if start + size < len(selected):
            out["NextToken"] = base64.urlsafe_b64encode(
                json.dumps({"offset": start + size}).encode()
            ).decode()
        return out


def _token_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise validation(f"Invalid pagination token: {token!r}") from exc
    if not isinstance(offset, int) or offset < 0:
        raise validation(f"Invalid pagination token: {token!r}")
    return offset
