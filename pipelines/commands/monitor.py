"""`mlops monitor`: drift baselines and drift runs (files, S3 capture, or a Processing job).

``baseline`` summarises reference data into Model Monitor's statistics.json and
constraints.json; ``run`` compares a window of an endpoint's capture (or any data) with a
baseline. Drift is a finding, not a failure: ``run`` exits 0 either way, 2 for bad input.
"""

from __future__ import annotations

import argparse
import datetime as dt

from pipelines.commands._common import add_json, add_outputs_source, add_stack, aws_region
from pipelines.console import Console

HELP = "Drift monitoring: baselines, drift runs, a report."


def duration(text: str) -> int:
    """An argparse ``type``: ``15m``, ``1h``, ``2h30m``, ``1d`` or seconds (as the stack file's
    ``monitoring.window``, without its bounds)."""
    from components.config import duration_seconds

    try:
        value = duration_seconds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
    return value


def timestamp(text: str) -> float:
    """An argparse ``type``: an ISO 8601 time (UTC unless it says otherwise)."""
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time; expected ISO 8601 such as 2026-12-03T10:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def _add_cloud(parser: argparse.ArgumentParser) -> None:
    add_stack(parser, required=False)
    add_outputs_source(parser)
    parser.add_argument(
        "--region", type=aws_region, help="for S3 locations: default the stack's, else AWS_REGION"
    )


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="monitor_command", metavar="ACTION", required=True)
    b = sub.add_parser(
        "baseline",
        help="summarise reference data into statistics.json and constraints.json",
        description="One pass over reference data (CSV or capture JSON Lines; files, "
        "directories, S3 objects or prefixes) → Model Monitor's statistics.json and "
        "constraints.json.",
    )
    b.add_argument("--data", required=True, metavar="PATH|S3URI", help="the reference data")
    b.add_argument("--schema", metavar="FILE", help="header, label column, feature names and kinds")
    b.add_argument("--out", required=True, metavar="PATH|S3URI", help="directory or S3 prefix")
    _add_cloud(b)
    add_json(b)

    r = sub.add_parser(
        "run",
        help="compare a window of captured traffic (or any data) with a baseline",
        description="Drift per feature (Wasserstein/std, PSI or KS for numeric features; "
        "Jensen-Shannon or chi-square for categorical ones), data quality and prediction "
        "drift. Exit 0 whether or not there is drift; 2 for bad input.",
    )
    r.add_argument("--endpoint", metavar="NAME", help="a monitored endpoint (with --stack)")
    when = r.add_mutually_exclusive_group()
    when.add_argument(
        "--window",
        type=duration,
        metavar="DURATION",
        help="the last DURATION (default: the stack's)",
    )
    when.add_argument("--since", type=timestamp, metavar="TIME", help="from TIME until now")
    r.add_argument(
        "--baseline",
        metavar="PATH|S3URI",
        help="statistics.json (or its directory); with --endpoint default the live model "
        "package's DriftCheckBaselines",
    )
    r.add_argument("--data", metavar="PATH|S3URI", help="the data to check (with --baseline)")
    r.add_argument("--report", metavar="PATH", help="also write the HTML report here")
    r.add_argument(
        "--remote",
        action="store_true",
        help="run as a SageMaker Processing job with the stack's role, KMS key and network",
    )
    r.add_argument(
        "--image", metavar="URI", help="the job's image (default: the stack's monitor image)"
    )
    r.add_argument(
        "--wait",
        type=duration,
        metavar="DURATION",
        help="with --remote: how long to wait for the job (default: its MaxRuntimeInSeconds, "
        "the stack's monitoring.max_runtime_seconds, plus an hour for start-up and upload)",
    )
    _add_cloud(r)
    add_json(r)


def run(args: argparse.Namespace, console: Console) -> int:
    from pipelines.monitoring import cli

    if args.monitor_command == "baseline":
        return cli.baseline(args, console)
    return cli.drift(args, console)
