"""What `mlops monitor baseline` and `mlops monitor run` do (argparse namespace in, exit code out)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from components.config import P_VALUE_METHODS
from pipelines.console import Console, Event
from pipelines.errors import BadInput
from pipelines.monitoring import runner
from pipelines.monitoring.drift import Settings
from pipelines.monitoring.schema import SchemaError, read_schema
from pipelines.monitoring.tables import Problems, SourceError


def emitter(console: Console) -> Any:
    """A ``Progress`` callback that shows each message as a monitor event."""

    def progress(message: str) -> None:
        console.progress(Event("monitor", message))

    return progress


def _s3(args: argparse.Namespace, *locations: str | None) -> Any:
    """An S3 client when a location is in S3 (region: --region, the stack's, AWS_REGION)."""
    if not any(loc and loc.startswith("s3://") for loc in locations):
        return None
    from pipelines.aws import Aws, endpoint_url
    from pipelines.commands._common import region_of

    outputs = None
    if args.region is None and (args.stack or args.outputs):
        from pipelines.outputs import load_outputs

        outputs = load_outputs(args.stack, args.outputs)
    region = region_of(args.region, outputs)
    return Aws(region=region, endpoint=endpoint_url()).s3


def _problem_lines(problems: Problems | dict[str, Any]) -> list[str]:
    if isinstance(problems, Problems):
        items = [(k, n, problems.messages.get(k, [])) for k, n in problems.counts.items()]
    else:
        items = [(k, v["count"], v["first"]) for k, v in problems.items()]
    return [
        f"  {kind}: {n} (first: {first[0]})" if first else f"  {kind}: {n}"
        for kind, n, first in items
    ]


def baseline(args: argparse.Namespace, console: Console) -> int:
    try:
        schema = read_schema(Path(args.schema)) if args.schema else None
    except SchemaError as exc:
        raise BadInput(str(exc)) from None
    s3 = _s3(args, args.data, args.out)
    try:
        sources = runner.sources_at(args.data, s3)
        base, problems = runner.compute_baseline(sources, schema, emitter(console))
    except SourceError as exc:
        raise BadInput(f"--data: {exc}") from None
    written = runner.write_baseline(base, runner.Place(args.out, s3))
    payload = {
        "statistics": written["statistics"],
        "constraints": written["constraints"],
        "rows": base.item_count,
        "features": [{"name": f.name, "kind": f.kind, "role": f.role} for f in base.features],
        "problems": {
            k: {"count": n, "first": problems.messages.get(k, [])[:5]}
            for k, n in problems.counts.items()
        },
    }
    lines = [
        f"baseline of {base.item_count} rows, {len(base.features)} features → {written['statistics']}",
        "  " + ", ".join(f"{f.name} ({f.kind})" for f in base.features),
    ]
    if problems.counts:
        lines += [
            "data problems (rows skipped or values counted as mismatches):",
            *_problem_lines(problems),
        ]
    console.result(payload, "\n".join(lines))
    return 0


def human_lines(doc: dict[str, Any], heading: str) -> list[str]:
    """A run's result (``DriftResult.to_json``) for people: drifted features first."""
    lines = [
        f"{heading}: {doc['verdict']} ({doc['samples']} rows vs {doc['baseline_samples']} "
        "in the baseline)"
    ]
    for f in doc["features"]:
        value = "-" if f["value"] is None else f"{f['value']:.4g}"
        mark = "DRIFT" if f["drifted"] else f["status"]
        sign = "<" if f["method"] in P_VALUE_METHODS else "≥"
        lines.append(
            f"  {mark:>17}  {f['name']} ({f['kind']}, {f['method']} {value}; "
            f"drift when {sign} {f['threshold']:g})"
        )
    for v in doc["data_quality"]["violations"]:
        lines.append(
            f"  violation {v['constraint_check_type']}: {v['feature_name'] or '(rows)'}: "
            f"{v['description']}"
        )
    if doc["data_quality"]["problems"]:
        lines += ["  data problems:", *_problem_lines(doc["data_quality"]["problems"])]
    return lines


def drift(args: argparse.Namespace, console: Console) -> int:
    if args.endpoint:
        if args.data:
            raise BadInput(
                "--data checks files against --baseline; with --endpoint the data is the capture"
            )
        from pipelines.monitoring.endpoint_cli import endpoint_drift

        return endpoint_drift(args, console)
    if not (args.baseline and args.data):
        raise BadInput("give --endpoint NAME (with --stack), or --baseline and --data")
    if args.remote or args.window or args.since:
        raise BadInput("--remote, --window and --since need --endpoint")
    s3 = _s3(args, args.baseline, args.data)
    try:
        base = runner.load_baseline(args.baseline, s3)
        sources = runner.sources_at(args.data, s3)
    except SourceError as exc:
        raise BadInput(str(exc)) from None
    result, profile = runner.run_drift(base, sources, Settings(), progress=emitter(console))
    if args.report:
        from pipelines.monitoring.report import write_report

        html = write_report(result, base, profile, title=f"{args.data} vs {args.baseline}")
        runner.Place(str(Path(args.report).parent)).write(
            Path(args.report).name, html.encode(), "text/html"
        )
    lines = human_lines(result.to_json(), f"{args.data}")
    if args.report:
        lines.append(f"report: {args.report}")
    console.result(result.to_json(), "\n".join(lines))
    return 0
