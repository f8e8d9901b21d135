"""`mlops monitor run --endpoint`: in this process, or as a SageMaker Processing job (--remote)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from pipelines.audit import split_s3_uri
from pipelines.console import Console, Event
from pipelines.errors import BadInput, MlopsError, WaitTimedOut
from pipelines.monitoring import endpoint as ep
from pipelines.monitoring.cli import emitter, human_lines
from pipelines.monitoring.drift import FeatureSetting, Settings
from pipelines.monitoring.runner import Place, dumps
from pipelines.monitoring.tables import SourceError, s3_sources

JOB_ENTRY_POINT = ["python3", "-m", "pipelines.monitoring.job"]
CONTAINER_ROOT = "/opt/ml/processing"
POLL_SECONDS = 30.0
START_UP_SECONDS = 3600.0
"""Waited beyond the job's MaxRuntimeInSeconds: provisioning, image pull, uploads."""
TERMINAL = ("Completed", "Failed", "Stopped")


class ProcessingJobFailed(MlopsError):
    """The drift job ended Failed or Stopped."""


def settings_json(settings: Settings) -> dict[str, Any]:
    return dataclasses.asdict(settings)


def settings_from_json(doc: dict[str, Any]) -> Settings:
    features = {k: FeatureSetting(**v) for k, v in (doc.get("features") or {}).items()}
    return Settings(**{**doc, "features": features})


def _spec(ctx: Any, name: str) -> Any:
    try:
        spec = ctx.outputs.endpoint(name)
    except KeyError as exc:
        raise BadInput(str(exc.args[0])) from None
    if spec.monitoring is None:
        raise BadInput(
            f"endpoint {spec.name!r} of stack {ctx.stack!r} is not monitored: set "
            f"endpoints[{spec.name}].monitoring.enabled: true in the stack file and run pulumi up"
        )
    return spec


def window_of(
    now: float, default_seconds: int, *, since: float | None, seconds: int | None
) -> ep.Window:
    """``[since, now)``, else the last ``seconds`` (default: the stack's window)."""
    if since is not None:
        if since >= now:
            raise BadInput(f"--since {ep._iso(since)} is not before now ({ep._iso(now)})")
        return ep.Window(since, now)
    return ep.Window(now - float(seconds or default_seconds), now)


@dataclass(frozen=True)
class RunOptions:
    since: float | None = None
    window_seconds: int | None = None
    baseline: str | None = None
    """Default: the live model package's DriftCheckBaselines."""
    remote: bool = False
    image: str | None = None
    wait_seconds: float | None = None


def monitor_endpoint(ctx: Any, name: str, options: RunOptions, console: Console) -> dict[str, Any]:
    """One drift run of a monitored endpoint (every live variant), audited; its JSON result."""
    from pipelines.deploy import read_endpoint

    spec = _spec(ctx, name)
    mon = spec.monitoring
    window = window_of(
        ctx.clock.now(), mon.window_seconds, since=options.since, seconds=options.window_seconds
    )
    state = read_endpoint(ctx, spec.endpoint_name)
    try:
        baseline, baseline_uri = ep.resolve_baseline(
            ctx.aws.sagemaker, ctx.aws.s3, state.package_arn if state else None, options.baseline
        )
    except SourceError as exc:
        raise BadInput(str(exc)) from None
    settings = Settings.from_spec(mon)
    variants = (state.variants if state else None) or [spec.variant_name]
    keys = {
        v: ep.capture_keys(ctx.aws.s3, mon.capture_s3_uri, spec.endpoint_name, v, window)
        for v in variants
    }
    if options.remote:
        runs = _remote(options, ctx, spec, window, baseline_uri, settings, keys, console)
    else:
        runs = _here(ctx, spec, window, baseline, baseline_uri, settings, keys, console)
    for run in runs:
        if not run["files"]:
            console.warn(f"{spec.endpoint_name}/{run['variant']}: no capture in {window.label()}")
    ctx.audit.record(
        "monitor",
        "succeeded",
        {"endpoint": spec.endpoint_name, "window": window.to_json(), "remote": options.remote},
        baseline=baseline_uri,
        drifted={r["variant"]: r["drifted"] for r in runs},
    )
    return {
        "endpoint": spec.endpoint_name,
        "window": window.to_json(),
        "window_label": window.label(),
        "baseline": baseline_uri,
        "variants": runs,
        **_first(runs),
    }


def endpoint_drift(args: argparse.Namespace, console: Console) -> int:
    from pipelines.commands._common import open_context

    ctx = open_context(args, console)
    options = RunOptions(
        since=args.since,
        window_seconds=args.window,
        baseline=args.baseline,
        remote=bool(args.remote),
        image=args.image,
        wait_seconds=args.wait,
    )
    payload = monitor_endpoint(ctx, args.endpoint, options, console)
    lines: list[str] = []
    for run in payload["variants"]:
        heading = f"{payload['endpoint']}/{run['variant']} ({payload['window_label']})"
        lines += human_lines(run, heading)
        lines.append(f"  report: {run['outputs'].get('report')}")
    runs = payload["variants"]
    if args.report and runs and runs[0]["outputs"].get("report"):
        _copy_report(ctx.aws.s3, runs[0]["outputs"]["report"], args.report)
        lines.append(f"report copied to {args.report}")
    console.result(payload, "\n".join(lines))
    return 0


def _first(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's top-level shape (features, drifted, samples, baseline_samples): the first
    variant's (``variants`` has them all)."""
    if not runs:
        return {"features": [], "drifted": [], "samples": 0, "baseline_samples": 0}
    keys = ("features", "drifted", "samples", "baseline_samples", "verdict")
    return {k: runs[0][k] for k in keys}


def _copy_report(s3: Any, uri: str, path: str) -> None:
    from pathlib import Path

    bucket, key = split_s3_uri(uri)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    target = Path(path)
    Place(str(target.parent)).write(target.name, body, "text/html")


def _here(
    ctx: Any,
    spec: Any,
    window: ep.Window,
    baseline: Any,
    baseline_uri: str,
    settings: Settings,
    keys: dict[str, list[str]],
    console: Console,
) -> list[dict[str, Any]]:
    mon = spec.monitoring
    bucket, _ = split_s3_uri(mon.capture_s3_uri)
    runs = []
    for variant, variant_keys in keys.items():
        console.progress(
            Event("monitor", f"{spec.endpoint_name}/{variant}: {len(variant_keys)} capture file(s)")
        )
        sources = s3_sources(ctx.aws.s3, f"s3://{bucket}/", variant_keys) if variant_keys else []
        place = Place(ep.reports_uri_for(mon.reports_s3_uri, variant, window), ctx.aws.s3)
        run = ep.run_variant(
            sources=sources,
            endpoint=spec.endpoint_name,
            variant=variant,
            baseline=baseline,
            baseline_uri=baseline_uri,
            settings=settings,
            window=window,
            place=place,
            progress=emitter(console),
        )
        data = ep.metric_data(
            spec.endpoint_name, variant, run.result.to_json(), ep.metric_time(window)
        )
        ep.publish(ctx.aws.cloudwatch, mon.namespace, data)
        runs.append(run.to_json())
    return runs


# ------------------------------------------------------------------------- remote


def job_name(endpoint: str, at: float) -> str:
    stamp = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y%m%d%H%M%S")
    return f"{endpoint[: 63 - len(stamp) - 7]}-drift-{stamp}"


def monitor_image(ctx: Any, override: str | None) -> str:
    if override:
        return override
    from importlib.metadata import version

    return f"{ctx.outputs.ecr_repository_url}:monitor-{version('mlops-stack')}"


def processing_request(
    ctx: Any,
    spec: Any,
    name: str,
    image: str,
    job_uri: str,
    baseline_uri: str,
    manifests: dict[str, str],
    window: ep.Window,
) -> dict[str, Any]:
    """CreateProcessingJob: the window's capture as manifest inputs, one output per variant,
    the stack's KMS key, VPC and network isolation."""
    mon = spec.monitoring
    statistics = (
        baseline_uri
        if baseline_uri.endswith(".json")
        else f"{baseline_uri.rstrip('/')}/statistics.json"
    )

    def s3_input(input_name: str, uri: str, local: str, kind: str = "S3Prefix") -> dict[str, Any]:
        return {
            "InputName": input_name,
            "S3Input": {
                "S3Uri": uri,
                "LocalPath": f"{CONTAINER_ROOT}/input/{local}",
                "S3DataType": kind,
                "S3InputMode": "File",
            },
        }

    inputs = [s3_input("job", job_uri, "job"), s3_input("baseline", statistics, "baseline")]
    inputs += [
        s3_input(f"capture-{i}", uri, f"capture/{v}", "ManifestFile")
        for i, (v, uri) in enumerate(manifests.items())
    ]
    outputs = [
        {
            "OutputName": f"report-{i}",
            "S3Output": {
                "S3Uri": ep.reports_uri_for(mon.reports_s3_uri, variant, window),
                "LocalPath": f"{CONTAINER_ROOT}/output/{variant}",
                "S3UploadMode": "EndOfJob",
            },
        }
        for i, variant in enumerate(manifests)
    ]
    cluster: dict[str, Any] = {
        "InstanceCount": 1,
        "InstanceType": mon.instance_type,
        "VolumeSizeInGB": 30,
    }
    from components import instance_types

    if not instance_types.has_local_nvme(mon.instance_type):
        cluster["VolumeKmsKeyId"] = spec.kms_key_arn
    network: dict[str, Any] = {"EnableNetworkIsolation": spec.network_isolation}
    if spec.subnet_ids:
        network["VpcConfig"] = {
            "Subnets": spec.subnet_ids,
            "SecurityGroupIds": spec.security_group_ids,
        }
    from pipelines.aws import tag_list

    return {
        "ProcessingJobName": name,
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {"Outputs": outputs, "KmsKeyId": spec.kms_key_arn},
        "ProcessingResources": {"ClusterConfig": cluster},
        "StoppingCondition": {"MaxRuntimeInSeconds": mon.max_runtime_seconds},
        "AppSpecification": {
            "ImageUri": image,
            "ContainerEntrypoint": JOB_ENTRY_POINT,
            "ContainerArguments": ["--job", f"{CONTAINER_ROOT}/input/job/job.json"],
        },
        "Environment": {"AWS_REGION": ctx.outputs.region, "PYTHONUNBUFFERED": "1"},
        "NetworkConfig": network,
        "RoleArn": mon.processing_role_arn,
        "Tags": tag_list(ctx.tags(**{"mlops:endpoint": spec.endpoint_name})),
    }


def _remote(
    options: RunOptions,
    ctx: Any,
    spec: Any,
    window: ep.Window,
    baseline_uri: str,
    settings: Settings,
    keys: dict[str, list[str]],
    console: Console,
) -> list[dict[str, Any]]:
    from pipelines.aws import aws_call

    mon = spec.monitoring
    name = job_name(spec.endpoint_name, ctx.clock.now())
    bucket, _ = split_s3_uri(mon.capture_s3_uri)
    jobs = Place(f"{mon.reports_s3_uri.rstrip('/')}/jobs/{name}", ctx.aws.s3)
    with_data = {v: k for v, k in keys.items() if k}
    if not with_data:
        console.warn(f"{spec.endpoint_name}: no capture in {window.label()}; no job started")
        return [_without_data(v) for v in keys]
    publish = not spec.network_isolation
    with aws_call(f"write the job's inputs under {jobs.location}"):
        manifests = {
            v: jobs.write(f"capture-{v}.manifest", dumps([{"prefix": f"s3://{bucket}/"}, *k]))
            for v, k in with_data.items()
        }
        job_uri = jobs.write(
            "job.json",
            dumps(
                {
                    "endpoint": spec.endpoint_name,
                    "region": ctx.outputs.region,
                    "namespace": mon.namespace,
                    "publish": publish,
                    "window": {"start": window.start, "end": window.end},
                    "baseline": baseline_uri,
                    "settings": settings_json(settings),
                    "variants": list(with_data),
                }
            ),
        )
    request = processing_request(
        ctx,
        spec,
        name,
        monitor_image(ctx, options.image),
        job_uri,
        baseline_uri,
        manifests,
        window,
    )
    with aws_call(f"CreateProcessingJob {name}"):
        ctx.aws.sagemaker.create_processing_job(**request)
    console.progress(Event("monitor.job", f"processing job {name} started"))
    budget = float(options.wait_seconds or mon.max_runtime_seconds + START_UP_SECONDS)
    described = wait_for_job(ctx, name, budget, console)
    if described["ProcessingJobStatus"] != "Completed":
        raise ProcessingJobFailed(
            f"processing job {name} ended {described['ProcessingJobStatus']}: "
            f"{described.get('FailureReason') or described.get('ExitMessage') or 'no reason given'}"
        )
    runs = []
    for variant in with_data:
        place = Place(ep.reports_uri_for(mon.reports_s3_uri, variant, window), ctx.aws.s3)
        bucket_name, key = split_s3_uri(place.uri("drift.json"))
        with aws_call(f"read the job's results {place.uri('drift.json')}"):
            doc = json.loads(ctx.aws.s3.get_object(Bucket=bucket_name, Key=key)["Body"].read())
        if not publish:  # an isolated container reaches no API: the metrics are published here
            ep.publish(
                ctx.aws.cloudwatch,
                mon.namespace,
                ep.metric_data(spec.endpoint_name, variant, doc, ep.metric_time(window)),
            )
        doc["outputs"] = {
            n: place.uri(f)
            for n, f in (
                ("result", "drift.json"),
                ("violations", "constraint_violations.json"),
                ("report", "report.html"),
                ("statistics", "statistics.json"),
            )
        }
        doc["job"] = name
        runs.append(doc)
    return [r for v in keys for r in runs if r["variant"] == v] + [
        _without_data(v) for v in keys if v not in with_data
    ]


def _without_data(variant: str) -> dict[str, Any]:
    """A variant without capture in the window: no job ran for it, nothing was published."""
    return {
        "variant": variant,
        "files": 0,
        "features": [],
        "drifted": [],
        "samples": 0,
        "baseline_samples": 0,
        "verdict": "insufficient data",
        "data_quality": {"violations": [], "problems": {}},
        "outputs": {},
    }


def wait_for_job(ctx: Any, name: str, timeout: float, console: Console) -> dict[str, Any]:
    from pipelines.aws import aws_call

    started = ctx.clock.now()
    last = None
    while True:
        with aws_call(f"DescribeProcessingJob {name}"):
            described: dict[str, Any] = ctx.aws.sagemaker.describe_processing_job(
                ProcessingJobName=name
            )
        status = described["ProcessingJobStatus"]
        if status != last:
            console.progress(Event("monitor.job", f"processing job {name}: {status}"))
            last = status
        if status in TERMINAL:
            return described
        if ctx.clock.now() - started >= timeout:
            raise WaitTimedOut(
                f"processing job {name} is still {status} after {timeout:g} s; it goes on: "
                f"aws sagemaker describe-processing-job --processing-job-name {name}"
            )
        ctx.clock.sleep(POLL_SECONDS)
