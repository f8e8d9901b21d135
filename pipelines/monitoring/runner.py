"""Baselines and drift runs over files or S3: where the data is, the pass over it, the outputs."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.audit import split_s3_uri
from pipelines.errors import BadInput
from pipelines.monitoring import baseline as baselines
from pipelines.monitoring.baseline import Baseline
from pipelines.monitoring.drift import DriftResult, Settings, compare
from pipelines.monitoring.profile import Profile
from pipelines.monitoring.schema import Schema
from pipelines.monitoring.tables import (
    Problems,
    Source,
    SourceError,
    local_sources,
    read,
    s3_sources,
)

STATISTICS = "statistics.json"
CONSTRAINTS = "constraints.json"
VIOLATIONS = "constraint_violations.json"
RESULT = "drift.json"
REPORT = "report.html"

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def sources_at(location: str, s3: Any = None) -> list[Source]:
    """The files at a local path (a file or a directory) or an S3 URI (an object or a prefix)."""
    if location.startswith("s3://"):
        if s3 is None:
            raise SourceError(f"{location!r}: S3 needs credentials and a region")
        return s3_sources(s3, location)
    return local_sources(Path(location))


def _progress_by_file(sources: list[Source], progress: Progress) -> Callable[[int, Source], None]:
    step = max(1, len(sources) // 10)

    def on_source(i: int, source: Source) -> None:
        if i % step == 0 or i == len(sources) - 1:
            progress(f"reading {i + 1}/{len(sources)}: {source.name}")

    return on_source


def compute_baseline(
    sources: list[Source], schema: Schema | None = None, progress: Progress = _quiet
) -> tuple[Baseline, Problems]:
    """One pass over the reference data."""
    schema = schema or Schema()
    profile = Profile(kinds=dict(schema.kinds), skip=schema.skipped())
    chunks = read(
        sources,
        profile.problems,
        header=schema.header,
        names=schema.names,
        label=schema.label_index,
        on_source=_progress_by_file(sources, progress),
    )
    profile.add_all(chunks)
    if not profile.order:
        first = next(iter(profile.problems.messages.values()), ["no rows"])[0]
        raise SourceError(f"no data to build a baseline from ({first})")
    names = ", ".join(s.name for s in sources[:3]) + (" …" if len(sources) > 3 else "")
    return baselines.from_profile(profile, source=names), profile.problems


def drift_profile(baseline: Baseline) -> Profile:
    """An empty profile that reads a window the way the baseline was read."""
    return Profile(
        kinds=baseline.kinds(),
        expected=[f.name for f in baseline.features],
        bin_edges={name: b.edges for name, b in baseline.numeric.items()},
    )


def run_drift(
    baseline: Baseline,
    sources: list[Source],
    settings: Settings,
    *,
    header: bool | None = None,
    progress: Progress = _quiet,
) -> tuple[DriftResult, Profile]:
    profile = drift_profile(baseline)
    chunks = read(
        sources,
        profile.problems,
        header=header,
        names=baseline.inputs(),
        on_source=_progress_by_file(sources, progress),
    )
    profile.add_all(chunks)
    return compare(baseline, profile, settings), profile


# ------------------------------------------------------------------ baseline files


@dataclass(frozen=True)
class Place:
    """A local directory or an S3 prefix that outputs are written under."""

    location: str
    s3: Any = None

    def uri(self, name: str) -> str:
        return f"{self.location.rstrip('/')}/{name}"

    def write(self, name: str, body: bytes, content_type: str = "application/json") -> str:
        """Write one file; a failure names the place (AwsCallFailed, or BadInput locally)."""
        uri = self.uri(name)
        if uri.startswith("s3://"):
            from pipelines.aws import aws_call

            bucket, key = split_s3_uri(uri)
            with aws_call(f"write {uri}"):
                self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
            return uri
        path = Path(uri)
        tmp = path.with_name(f".{path.name}.partial")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(body)
            tmp.replace(path)  # readers never see half a file
        except OSError as exc:
            raise BadInput(f"cannot write {uri!r}: {exc.strerror or exc}") from None
        return uri


def dumps(doc: Any) -> bytes:
    return (json.dumps(doc, indent=2, allow_nan=False) + "\n").encode()


def write_baseline(baseline: Baseline, place: Place) -> dict[str, str]:
    return {
        "statistics": place.write(STATISTICS, dumps(baselines.statistics_json(baseline))),
        "constraints": place.write(CONSTRAINTS, dumps(baselines.constraints_json(baseline))),
    }


def load_baseline(location: str, s3: Any = None) -> Baseline:
    """statistics.json at a path or URI, or in the directory / prefix named."""
    candidates = (
        [location] if location.endswith(".json") else [f"{location.rstrip('/')}/{STATISTICS}"]
    )
    uri = candidates[0]
    try:
        if uri.startswith("s3://"):
            if s3 is None:
                raise SourceError(f"{uri!r}: S3 needs credentials and a region")
            bucket, key = split_s3_uri(uri)
            raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        else:
            raw = Path(uri).read_bytes()
    except OSError as exc:
        raise SourceError(f"baseline {uri!r}: cannot read it ({exc.strerror or exc})") from None
    except Exception as exc:
        if type(exc).__name__ in ("NoSuchKey", "ClientError"):
            raise SourceError(f"baseline {uri!r}: no such object") from None
        raise
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise SourceError(f"baseline {uri!r}: not JSON ({exc})") from None
    try:
        return baselines.read_statistics(doc)
    except baselines.BaselineError as exc:
        raise SourceError(f"baseline {uri!r}: {exc}") from None


def write_results(
    result: DriftResult,
    baseline: Baseline,
    profile: Profile,
    place: Place,
    *,
    title: str,
    window: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, str]:
    """constraint_violations.json (Model Monitor's format), drift.json, the window's
    statistics.json and report.html."""
    from pipelines.monitoring.report import write_report

    violations = {"violations": [v.to_json() for v in result.violations]}
    written = {
        "violations": place.write(VIOLATIONS, dumps(violations)),
        "result": place.write(RESULT, dumps({**result.to_json(), **(extra or {})})),
        "statistics": place.write(
            STATISTICS, dumps(baselines.statistics_json(baselines.from_profile(profile)))
        ),
    }
    html = write_report(result, baseline, profile, title=title, window=window)
    written["report"] = place.write(REPORT, html.encode(), "text/html")
    return written
