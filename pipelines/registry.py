"""Model packages: register (with the quality gate), approve / reject, promote.

A package carries everything needed to deploy and to trace it: the inference image
and model data, the metrics (a JSON in S3 referenced by ModelMetrics, and each
value in CustomerMetadataProperties) and the lineage (git commit, data versions,
image digest, training job).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from components.config import QualityGate
from components.naming import serving_artifact_key
from pipelines.audit import split_s3_uri
from pipelines.aws import aws_call, is_not_found, tag_list
from pipelines.context import Context
from pipelines.errors import (
    ArtifactMissing,
    AuditWriteFailed,
    BadInput,
    ContractError,
    NotApproved,
    QualityGateFailed,
)
from pipelines.serving_code import PACKED_DIRECTORY, Form, ServingCode, members, repack
from pipelines.training import load_job

APPROVAL_STATUSES = ("Approved", "Rejected", "PendingManualApproval")
_META_BAD = re.compile(r"[^\w\s.:/=+\-@]")


@dataclass(frozen=True)
class Package:
    arn: str
    group: str
    version: int
    status: str
    image: str
    model_data_url: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    metrics_uri: str | None = None
    content_types: list[str] = field(default_factory=lambda: ["text/csv"])
    """SupportedContentTypes of the inference specification."""
    environment: dict[str, str] = field(default_factory=dict)
    """The container's Environment: the serving contract (``pipelines.serving_code``)."""

    @property
    def serving_code(self) -> ServingCode | None:
        return ServingCode.from_environment(self.environment)

    @property
    def metrics(self) -> dict[str, float]:
        out = {}
        for k, v in self.metadata.items():
            if k.startswith("metric:"):
                try:
                    out[k.removeprefix("metric:")] = float(v)
                except ValueError:
                    continue
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "model_package_arn": self.arn,
            "group": self.group,
            "version": self.version,
            "approval_status": self.status,
            "image": self.image,
            "model_data_url": self.model_data_url,
            "environment": self.environment,
            "metrics": self.metrics,
            "metadata": self.metadata,
        }


def gate_failures(gate: QualityGate, metrics: dict[str, float]) -> list[str]:
    """One line per threshold that does not hold (a missing metric fails its threshold)."""
    failures = []
    for name, bound in sorted(gate.thresholds.items()):
        value = metrics.get(name)
        if value is None:
            failures.append(
                f"{name}: missing from the training job's metrics (needs {_bounds(bound.min, bound.max)})"
            )
        elif bound.min is not None and value < bound.min:
            failures.append(f"{name}={value:g} is below the minimum {bound.min:g}")
        elif bound.max is not None and value > bound.max:
            failures.append(f"{name}={value:g} is above the maximum {bound.max:g}")
    return failures


def quality_gate(ctx: Context) -> QualityGate:
    """``StackOutputs.quality_gate`` parsed; a malformed one is a contract error naming the field."""
    try:
        return QualityGate.model_validate(ctx.outputs.quality_gate or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"quality_gate.{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})"
            for e in exc.errors(include_url=False)
        )
        raise ContractError(f"stack {ctx.stack!r} outputs: {problems}") from None


def _bounds(lo: float | None, hi: float | None) -> str:
    parts = ([f">= {lo:g}"] if lo is not None else []) + ([f"<= {hi:g}"] if hi is not None else [])
    return " and ".join(parts)


def _meta(value: object) -> str:
    text = _META_BAD.sub("_", str(value))[:256]
    return text or "-"


def lineage_metadata(lineage: dict[str, Any], metrics: dict[str, float]) -> dict[str, str]:
    """CustomerMetadataProperties (flat, ≤ 50 entries, SageMaker's character set)."""
    meta: dict[str, str] = {}
    for key in ("git_commit", "image_digest", "training_job", "source_uri"):
        if lineage.get(key):
            meta[f"mlops:{key.replace('_', '-')}"] = _meta(lineage[key])
    for channel, version in sorted((lineage.get("data") or {}).items()):
        if isinstance(version, dict) and version.get("manifest_sha256"):
            meta[f"mlops:data:{channel}"] = _meta(f"sha256:{version['manifest_sha256']}")
    for name, value in sorted(metrics.items()):
        meta[f"metric:{_meta(name)[:120]}"] = _meta(repr(float(value)))
    return dict(list(meta.items())[:50])


def describe_package(ctx: Context, ref: str) -> Package:
    """A package by ARN, or by version number in this environment's group."""
    arn = resolve_package_arn(ctx, ref)
    try:
        raw: dict[str, Any] = dict(ctx.aws.sagemaker.describe_model_package(ModelPackageName=arn))
    except Exception as exc:
        if is_not_found(exc):
            raise ArtifactMissing(f"model package {ref!r} does not exist") from None
        raise
    containers = raw.get("InferenceSpecification", {}).get("Containers") or [{}]
    stats = raw.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {})
    return Package(
        arn=str(raw["ModelPackageArn"]),
        group=str(raw.get("ModelPackageGroupName", "")),
        version=int(raw.get("ModelPackageVersion", 0)),
        status=str(raw.get("ModelApprovalStatus", "")),
        image=str(containers[0].get("Image", "")),
        model_data_url=containers[0].get("ModelDataUrl"),
        metadata=dict(raw.get("CustomerMetadataProperties") or {}),
        metrics_uri=stats.get("S3Uri"),
        content_types=list(
            raw.get("InferenceSpecification", {}).get("SupportedContentTypes") or ["text/csv"]
        ),
        environment=dict(containers[0].get("Environment") or {}),
    )


def resolve_package_arn(ctx: Context, ref: str) -> str:
    if ref.startswith("arn:"):
        return ref
    if ref.isdigit() or ref == "latest":
        packages = list_packages(ctx)
        if not packages:
            raise ArtifactMissing(
                f"model package group {ctx.outputs.model_package_group_name!r} has no packages"
            )
        if ref == "latest":
            return packages[-1][1]
        for version, arn in packages:
            if version == int(ref):
                return arn
        raise ArtifactMissing(
            f"model package version {ref} not found in {ctx.outputs.model_package_group_name!r} "
            f"(versions: {', '.join(str(v) for v, _ in packages)})"
        )
    raise BadInput(f"--package {ref!r}: expected a model package ARN, a version number or 'latest'")


def list_packages(ctx: Context, group: str | None = None) -> list[tuple[int, str]]:
    """(version, arn) of every package in the group, oldest first."""
    group = group or ctx.outputs.model_package_group_name
    out: list[tuple[int, str]] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"ModelPackageGroupName": group, "MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        with aws_call(f"ListModelPackages {group}"):
            page = ctx.aws.sagemaker.list_model_packages(**kwargs)
        for p in page.get("ModelPackageSummaryList", []):
            out.append((int(p.get("ModelPackageVersion", 0)), str(p["ModelPackageArn"])))
        token = page.get("NextToken")
        if not token:
            return sorted(out)


@dataclass(frozen=True)
class RegisterResult:
    package: Package | None
    approval_status: str | None
    gate_failures: list[str]
    metrics: dict[str, float]
    baseline: str | None = None
    """The drift baseline's statistics.json recorded on the package (DriftCheckBaselines)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "model_package_arn": self.package.arn if self.package else None,
            "drift_baseline": self.baseline,
            "approval_status": self.approval_status,
            "registered": self.package is not None,
            "gate_failures": self.gate_failures,
            "metrics": self.metrics,
        }


def _upload_metrics(
    ctx: Context, job_name: str, metrics: dict[str, float], lineage: dict[str, Any]
) -> str:
    bucket = ctx.outputs.buckets.model
    key = f"model-metrics/{job_name}.json"
    body = {
        "training_job": job_name,
        "metrics": {k: {"value": v} for k, v in metrics.items()},
        "lineage": lineage,
    }
    with aws_call("upload model metrics"):
        ctx.aws.s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=json.dumps(body, sort_keys=True).encode(),
            ContentType="application/json",
        )
    return f"s3://{bucket}/{key}"


def _create_package(
    ctx: Context,
    *,
    group: str,
    image: str,
    model_data_url: str,
    status: str,
    metrics_uri: str,
    metadata: dict[str, str],
    description: str,
    commit: str | None,
    content_types: list[str],
    environment: dict[str, str],
    drift_check_baselines: dict[str, Any] | None = None,
) -> str:
    container: dict[str, Any] = {"Image": image, "ModelDataUrl": model_data_url}
    if environment:
        container["Environment"] = environment
    request: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "ModelPackageDescription": description[:1024],
        "InferenceSpecification": {
            "Containers": [container],
            "SupportedContentTypes": content_types,
            "SupportedResponseMIMETypes": content_types,
        },
        "ModelApprovalStatus": status,
        "ModelMetrics": {
            "ModelQuality": {
                "Statistics": {"ContentType": "application/json", "S3Uri": metrics_uri}
            }
        },
        "CustomerMetadataProperties": metadata,
        "Tags": tag_list(ctx.tags()),
    }
    if commit:
        request["MetadataProperties"] = {"CommitId": commit[:1024]}
    if drift_check_baselines:
        request["DriftCheckBaselines"] = drift_check_baselines
    with aws_call(f"CreateModelPackage in {group}"):
        return str(ctx.aws.sagemaker.create_model_package(**request)["ModelPackageArn"])


def serving_contract(
    ctx: Context, job_name: str, model_data: str, lineage: dict[str, Any], form: Form
) -> tuple[str, dict[str, str]]:
    """(ModelDataUrl, Environment) for the package: the inference code recorded at training,
    packed into the model (``code/``) or named as an S3 source tarball.

    Both forms put what the endpoint reads next to the model, under ``<job>/serving/``
    (``naming.MODEL_ARTIFACT_KEYS``): endpoint roles cannot read the training source."""
    program, source = lineage.get("inference_entry_point"), lineage.get("source_uri")
    if program and source:
        bucket, key = split_s3_uri(model_data)
        if form == "s3":
            with aws_call("copy the inference code next to the model"):
                src_bucket, src_key = split_s3_uri(source)
                code_key = serving_artifact_key(key, "sourcedir.tar.gz")
                ctx.aws.s3.copy_object(
                    Bucket=bucket, Key=code_key, CopySource={"Bucket": src_bucket, "Key": src_key}
                )
            submit = f"s3://{bucket}/{code_key}"
            return model_data, ServingCode(program, submit, ctx.outputs.region).environment()
        with aws_call("repack the model with its inference code"):
            model, code = _read(ctx, model_data), _read(ctx, source)
            packed_key = serving_artifact_key(key, "model.tar.gz")
            ctx.aws.s3.put_object(Bucket=bucket, Key=packed_key, Body=repack(model, code))
        env = ServingCode(program, PACKED_DIRECTORY, ctx.outputs.region).environment()
        return f"s3://{bucket}/{packed_key}", env
    with aws_call("read the model artifact"):
        model = _read(ctx, model_data)
    if "code/inference.py" not in members(model):
        ctx.event(
            "register.warning",
            f"training job {job_name} recorded no inference entry point and its model.tar.gz "
            "has no code/inference.py: only an image that serves on its own can run it",
        )
    return model_data, {}


def _read(ctx: Context, uri: str) -> bytes:
    bucket, key = split_s3_uri(uri)
    return bytes(ctx.aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def register(
    ctx: Context,
    job_name: str,
    *,
    image: str | None = None,
    content_types: list[str] | None = None,
    serving_form: Form = "packed",
    baseline: bool = True,
    label_column: int | None = 0,
) -> RegisterResult:
    """Register a completed training job's model, applying the stack's quality gate (FAULTS 9)."""
    inputs = {"training_job": job_name, "image": image}
    job, lineage = load_job(ctx, job_name)
    status = str(job["TrainingJobStatus"])
    if status != "Completed":
        raise ArtifactMissing(
            f"training job {job_name} is {status}, not Completed; only completed jobs are registered"
        )
    model_data = job.get("ModelArtifacts", {}).get("S3ModelArtifacts")
    if not model_data:
        raise ArtifactMissing(f"training job {job_name} has no model artifact")
    metrics = {str(m["MetricName"]): float(m["Value"]) for m in job.get("FinalMetricDataList", [])}
    gate = quality_gate(ctx)
    failures = gate_failures(gate, metrics)
    if failures and gate.on_fail == "skip":
        ctx.audit.record(
            "register",
            "gate_failed",
            inputs,
            registered=False,
            gate_failures=failures,
            metrics=metrics,
        )
        raise QualityGateFailed(
            f"training job {job_name} did not pass the quality gate; not registered (on_fail: skip): "
            + "; ".join(failures)
        )
    approval = (
        "Rejected" if failures else ("Approved" if gate.auto_approve else "PendingManualApproval")
    )
    metrics_uri = _upload_metrics(ctx, job_name, metrics, lineage)
    drift_baseline = _drift_baseline(ctx, job, str(model_data), label_column) if baseline else None
    model_data, environment = serving_contract(
        ctx, job_name, str(model_data), lineage, serving_form
    )
    image = image or str(job["AlgorithmSpecification"]["TrainingImage"])
    lineage = {**lineage, "training_job": job_name, "image": image}
    arn = _create_package(
        ctx,
        group=ctx.outputs.model_package_group_name,
        image=image,
        model_data_url=str(model_data),
        status=approval,
        metrics_uri=metrics_uri,
        metadata=lineage_metadata(lineage, metrics),
        description=f"training job {job_name}"
        + (f"; gate: {'; '.join(failures)}" if failures else ""),
        commit=lineage.get("git_commit"),
        content_types=content_types or ["text/csv"],
        environment=environment,
        drift_check_baselines=drift_baseline.drift_check_baselines() if drift_baseline else None,
    )
    package = describe_package(ctx, arn)
    ctx.event("register.done", f"registered {arn} as {approval}", arn=arn, status=approval)
    outcome = "rejected" if failures else "succeeded"
    ctx.audit.record(
        "register",
        outcome,
        inputs,
        model_package_arn=arn,
        approval_status=approval,
        gate_failures=failures,
        metrics=metrics,
        drift_baseline=drift_baseline.statistics if drift_baseline else None,
    )
    result = RegisterResult(
        package, approval, failures, metrics, drift_baseline.statistics if drift_baseline else None
    )
    if failures:
        raise QualityGateFailed(
            f"model package {arn} registered as Rejected; quality gate failed: "
            + "; ".join(failures)
        )
    return result


def _drift_baseline(
    ctx: Context, job: dict[str, Any], model_data: str, label_column: int | None
) -> Any:
    """The package's drift baseline from the job's train channel (the ``monitor`` extra)."""
    try:
        from pipelines.monitoring.package_baseline import record_baseline
    except ImportError as exc:
        raise BadInput(
            f"a drift baseline needs the 'monitor' extra ({exc.name} is not installed): "
            "pip install 'mlops-stack[monitor]', or register with --no-baseline"
        ) from None
    with aws_call("compute the drift baseline from the train channel"):
        recorded = record_baseline(ctx.aws.s3, job, model_data, label_column)
    ctx.event(
        "register.baseline",
        f"drift baseline of {recorded.rows} rows, {len(recorded.features)} features: "
        f"{recorded.statistics}",
        statistics=recorded.statistics,
    )
    return recorded


def set_approval(ctx: Context, ref: str, status: str, description: str = "") -> Package:
    """approve / reject: UpdateModelPackage with an audit record."""
    if status not in APPROVAL_STATUSES:
        raise BadInput(f"approval status {status!r} is not one of {', '.join(APPROVAL_STATUSES)}")
    package = describe_package(ctx, ref)
    action = "approve" if status == "Approved" else "reject"
    inputs = {
        "model_package_arn": package.arn,
        "description": description,
        "previous": package.status,
    }
    try:
        with aws_call(f"UpdateModelPackage {package.arn}"):
            ctx.aws.sagemaker.update_model_package(
                ModelPackageArn=package.arn,
                ModelApprovalStatus=status,  # type: ignore[arg-type]
                ApprovalDescription=(description or f"{action}d with mlops")[:1024],
            )
    except Exception as exc:
        ctx.audit.record(action, "failed", inputs, error=str(exc))
        raise
    ctx.audit.record(action, "succeeded", inputs, approval_status=status)
    return describe_package(ctx, package.arn)


def require_approved(package: Package) -> None:
    if package.status != "Approved":
        raise NotApproved(
            f"model package {package.arn} is {package.status}; only Approved packages are deployed "
            f"(run `mlops approve --package {package.arn}` first)"
        )


def promote(src: Context, dst: Context, ref: str) -> Package:
    """Copy an Approved package (artifact, metrics, lineage) into ``dst``'s group as PendingManualApproval."""
    package = describe_package(src, ref)
    require_approved(package)
    if not package.model_data_url:
        raise ArtifactMissing(f"model package {package.arn} has no model data")
    inputs = {"model_package_arn": package.arn, "from": src.stack, "to": dst.stack}
    dst_bucket = dst.outputs.buckets.model
    prefix = f"promoted/{src.stack}/{package.group}/{package.version}"
    try:
        with aws_call("copy model artifact"):
            s_bucket, s_key = split_s3_uri(package.model_data_url)
            model_key = f"{prefix}/{s_key.rsplit('/', 1)[-1]}"
            dst.aws.s3.copy_object(
                Bucket=dst_bucket, Key=model_key, CopySource={"Bucket": s_bucket, "Key": s_key}
            )
            metrics_uri = f"s3://{dst_bucket}/{prefix}/metrics.json"
            if package.metrics_uri:
                m_bucket, m_key = split_s3_uri(package.metrics_uri)
                dst.aws.s3.copy_object(
                    Bucket=dst_bucket,
                    Key=f"{prefix}/metrics.json",
                    CopySource={"Bucket": m_bucket, "Key": m_key},
                )
            else:
                dst.aws.s3.put_object(
                    Bucket=dst_bucket,
                    Key=f"{prefix}/metrics.json",
                    Body=json.dumps({"metrics": package.metrics}).encode(),
                )
        metadata = {**package.metadata, "mlops:promoted-from": _meta(package.arn)}
        arn = _create_package(
            dst,
            group=dst.outputs.model_package_group_name,
            image=package.image,
            model_data_url=f"s3://{dst_bucket}/{model_key}",
            status="PendingManualApproval",
            metrics_uri=metrics_uri,
            metadata=dict(list(metadata.items())[:50]),
            description=f"promoted from {src.stack}: {package.arn}",
            commit=package.metadata.get("mlops:git-commit"),
            content_types=package.content_types,
            environment=package.environment,
        )
    except Exception as exc:
        dst.audit.record("promote", "failed", inputs, error=str(exc))
        _record_in_source(src, dst, "failed", inputs, error=str(exc))
        raise
    dst.audit.record(
        "promote",
        "succeeded",
        inputs,
        model_package_arn=arn,
        approval_status="PendingManualApproval",
    )
    _record_in_source(src, dst, "succeeded", inputs, promoted_to=arn)
    return describe_package(dst, arn)


def _record_in_source(
    src: Context, dst: Context, outcome: str, inputs: dict[str, Any], **details: Any
) -> None:
    """The target's record is the authoritative one (written first); the source's is a
    courtesy that cross-account credentials may not be allowed to write."""
    try:
        src.audit.record("promote", outcome, inputs, **details)
    except AuditWriteFailed as exc:
        dst.event(
            "audit.warning",
            f"recorded in {dst.stack}'s audit trail only; {src.stack}'s refused it: {exc}",
        )
