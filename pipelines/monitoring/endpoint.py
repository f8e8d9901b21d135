"""A drift run of a monitored endpoint: its capture files in a window, per variant, against the
live model package's baseline; results to S3 next to the capture, metrics to CloudWatch.

Capture files are chosen by the time in their key (SageMaker names each file by when its
batch began, under ``yyyy/mm/dd/hh/``), so a window is listed hour prefix by hour prefix,
never the whole bucket.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from components import naming
from pipelines.audit import split_s3_uri
from pipelines.aws import aws_call
from pipelines.monitoring.baseline import Baseline
from pipelines.monitoring.drift import DriftResult, Settings
from pipelines.monitoring.runner import Place, Progress, load_baseline, run_drift, write_results
from pipelines.monitoring.tables import Source

HOUR = 3600.0
METRIC_BATCH = 20
_KEY_TIME = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/(\d{2})/(\d{2})-(\d{2})-(\d{3})-[^/]*$")


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    """Epoch seconds; the window is [start, end)."""

    def label(self) -> str:
        return f"{_iso(self.start)} – {_iso(self.end)}"

    def to_json(self) -> dict[str, str]:
        return {"start": _iso(self.start), "end": _iso(self.end)}


def _iso(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_time(key: str) -> float | None:
    """When a capture file's batch began, from its key (None for other keys)."""
    m = _KEY_TIME.search(key)
    if not m:
        return None
    y, mo, d, h, mi, s, ms = (int(g) for g in m.groups())
    return dt.datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=dt.UTC).timestamp()


def capture_keys(
    s3: Any, capture_uri: str, endpoint: str, variant: str, window: Window
) -> list[str]:
    bucket, prefix = split_s3_uri(capture_uri)
    base = f"{prefix.rstrip('/')}/{endpoint}/{variant}/" if prefix else f"{endpoint}/{variant}/"
    keys: list[str] = []
    hour = (window.start // HOUR) * HOUR
    while hour < window.end:
        stamp = dt.datetime.fromtimestamp(hour, dt.UTC)
        hour_prefix = f"{base}{stamp:%Y/%m/%d/%H}/"
        with aws_call(f"list capture under s3://{bucket}/{hour_prefix}"):
            for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=hour_prefix
            ):
                for obj in page.get("Contents", []):
                    at = key_time(obj["Key"])
                    if at is not None and window.start <= at < window.end:
                        keys.append(obj["Key"])
        hour += HOUR
    return sorted(keys)


def package_baseline_uri(sagemaker: Any, package_arn: str) -> str | None:
    """The model package's ``DriftCheckBaselines.ModelDataQuality.Statistics`` S3 URI."""
    with aws_call(f"DescribeModelPackage {package_arn}"):
        package = sagemaker.describe_model_package(ModelPackageName=package_arn)
    quality = (package.get("DriftCheckBaselines") or {}).get("ModelDataQuality") or {}
    uri = (quality.get("Statistics") or {}).get("S3Uri")
    return str(uri) if uri else None


@dataclass
class VariantRun:
    variant: str
    files: int
    result: DriftResult
    written: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "files": self.files,
            **self.result.to_json(),
            "outputs": self.written,
        }


def metric_data(
    endpoint: str, variant: str, doc: dict[str, Any], at: dt.datetime
) -> list[dict[str, Any]]:
    """A run's CloudWatch data (naming.DRIFT_NAMESPACE) from its JSON (``DriftResult.to_json``).
    Too few samples: only the sample count, so the drift alarm sees no data (not breaching)
    rather than a verdict the data cannot support."""
    dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]

    def datum(name: str, value: float, extra: list[dict[str, str]] | None = None) -> dict[str, Any]:
        return {
            "MetricName": name,
            "Dimensions": dims + (extra or []),
            "Timestamp": at,
            "Value": float(value),
            "Unit": "None" if name == naming.FEATURE_DRIFT_METRIC else "Count",
        }

    data = [datum(naming.SAMPLES_METRIC, doc["samples"])]
    if doc["verdict"] in ("insufficient data", "schema mismatch"):
        if doc["verdict"] == "schema mismatch":
            data.append(datum(naming.DATA_QUALITY_METRIC, len(doc["data_quality"]["violations"])))
        return data
    data.append(datum(naming.DRIFT_METRIC, len(doc["drifted"])))
    data.append(datum(naming.DATA_QUALITY_METRIC, len(doc["data_quality"]["violations"])))
    for f in doc["features"]:
        if f["value"] is not None and f["status"] in ("ok", "drifted"):
            feature = [{"Name": "Feature", "Value": f["name"]}]
            data.append(datum(naming.FEATURE_DRIFT_METRIC, f["value"], feature))
    return data


def publish(cloudwatch: Any, namespace: str, data: list[dict[str, Any]]) -> None:
    for i in range(0, len(data), METRIC_BATCH):
        with aws_call(f"PutMetricData to {namespace}"):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[i : i + METRIC_BATCH])


def reports_uri_for(reports_uri: str, variant: str, window: Window) -> str:
    """Where one variant's results of one window go: ``<reports>/<variant>/yyyy/mm/dd/HH-MM``."""
    stamp = dt.datetime.fromtimestamp(window.end, dt.UTC)
    return f"{reports_uri.rstrip('/')}/{variant}/{stamp:%Y/%m/%d/%H-%M}"


def metric_time(window: Window) -> dt.datetime:
    """The window's last second: its datum falls in the alarm period the window covers."""
    return dt.datetime.fromtimestamp(window.end - 1.0, dt.UTC)


def run_variant(
    *,
    sources: list[Source],
    endpoint: str,
    variant: str,
    baseline: Baseline,
    baseline_uri: str,
    settings: Settings,
    window: Window,
    place: Place,
    progress: Progress,
) -> VariantRun:
    """One variant's window against ``baseline``, its results written to ``place``."""
    result, profile = run_drift(baseline, sources, settings, header=False, progress=progress)
    written = write_results(
        result,
        baseline,
        profile,
        place,
        title=f"{endpoint} / {variant}",
        window=window.label(),
        extra={
            "endpoint": endpoint,
            "variant": variant,
            "window": window.to_json(),
            "baseline": baseline_uri,
            "files": len(sources),
        },
    )
    return VariantRun(variant, len(sources), result, written)


def resolve_baseline(
    sagemaker: Any, s3: Any, package_arn: str | None, override: str | None
) -> tuple[Baseline, str]:
    from pipelines.errors import ArtifactMissing

    uri = override
    if uri is None:
        if package_arn is None:
            raise ArtifactMissing("the endpoint serves no model package of ours; pass --baseline")
        uri = package_baseline_uri(sagemaker, package_arn)
        if uri is None:
            raise ArtifactMissing(
                f"model package {package_arn} records no drift baseline (DriftCheckBaselines); "
                "register it with a baseline or pass --baseline PATH|S3URI"
            )
    return load_baseline(uri, s3), uri
