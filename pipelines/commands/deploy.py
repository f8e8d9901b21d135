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


def run(args: argparse.Namespace, console: Console) -> int:
    from pipelines.deploy import deploy

    ctx = open_context(args, console)
    result = deploy(
        ctx,
        endpoint_arg(args, ctx),
        args.package,
        wait_if_busy_seconds=args.wait_if_busy,
        cleanup=not args.no_cleanup,
    )
    console.result(result.to_json(), f"{result.outcome}: {result.message}")
    return 0
