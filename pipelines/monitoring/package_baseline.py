"""The drift baseline ``mlops register`` records on each model package version.

Computed in one pass from the training job's ``train`` channel (headerless CSV with the
label in the first column unless a header says otherwise: SageMaker's built-in convention)
and written next to the job's artifacts (``training/<job>/baseline/``), so the package's
``DriftCheckBaselines`` point at this version's own reference data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components import naming
from pipelines.audit import split_s3_uri
from pipelines.errors import ArtifactMissing, BadInput
from pipelines.monitoring.runner import Place, compute_baseline, sources_at, write_baseline
from pipelines.monitoring.schema import Schema
from pipelines.monitoring.tables import SourceError

CHANNEL = "train"


@dataclass(frozen=True)
class PackageBaseline:
    statistics: str
    constraints: str
    rows: int
    features: list[str]

    def drift_check_baselines(self) -> dict[str, Any]:
        """CreateModelPackage ``DriftCheckBaselines``."""
        return {
            "ModelDataQuality": {
                "Statistics": {"ContentType": "application/json", "S3Uri": self.statistics},
                "Constraints": {"ContentType": "application/json", "S3Uri": self.constraints},
            }
        }


def train_channel(job: dict[str, Any]) -> str:
    for channel in job.get("InputDataConfig") or []:
        if channel.get("ChannelName") == CHANNEL:
            uri = ((channel.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
            if uri:
                return str(uri)
    raise ArtifactMissing(
        f"training job {job.get('TrainingJobName')} has no S3 '{CHANNEL}' channel to compute a "
        "drift baseline from; pass --no-baseline"
    )


def record_baseline(
    s3: Any, job: dict[str, Any], model_data: str, label_column: int | None
) -> PackageBaseline:
    uri = train_channel(job)
    schema = Schema(label=label_column)
    try:
        baseline, _ = compute_baseline(sources_at(uri, s3), schema)
    except SourceError as exc:
        raise BadInput(f"drift baseline from the '{CHANNEL}' channel: {exc}") from None
    bucket, key = split_s3_uri(model_data)
    place = Place(f"s3://{bucket}/{naming.baseline_key(key)}", s3)
    written = write_baseline(baseline, place)
    return PackageBaseline(
        written["statistics"],
        written["constraints"],
        baseline.item_count,
        [f.name for f in baseline.features],
    )
