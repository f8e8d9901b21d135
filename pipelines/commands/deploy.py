"""`mlops deploy`: an Approved package onto an endpoint with its blue/green strategy, verified."""

from __future__ import annotations

import argparse

from pipelines.commands._common import (
    add_endpoint,
    add_package,
    add_pipeline_args,
    add_wait_if_busy,
    endpoint_arg,
    open_context,
)
from pipelines.console import Console


def configure(parser: argparse.ArgumentParser) -> None:
    add_pipeline_args(parser)
    add_endpoint(parser)
    add_package(parser)
    add_wait_if_busy(parser)
    parser.add_argument(
        "--no-cleanup", action="store_true", help="keep every old endpoint config and model"
    )
    parser.add_argument(
        "--smoke",
        metavar="FILE",
        help="sample payloads (one per line) invoked after a successful rollout; a failure "
        "rolls the endpoint back to its previous config (exit 3)",
    )
    parser.add_argument(
        "--content-type", default="text/csv", metavar="MIME", help="of the --smoke payloads"
    )


def run(args: argparse.Namespace, console: Console) -> int:
    from pathlib import Path

    from pipelines.smoke import deploy_checked
    from pipelines.traffic import read_payloads

    payloads = read_payloads(Path(args.smoke), args.content_type, "--smoke") if args.smoke else []
    ctx = open_context(args, console)
    result = deploy_checked(
        ctx,
        endpoint_arg(args, ctx),
        args.package,
        payloads,
        wait_if_busy_seconds=args.wait_if_busy,
        cleanup=not args.no_cleanup,
    )
    console.result(result.to_json(), f"{result.outcome}: {result.message}")
    return 0
