"""`mlops rollback`: back to the previous live config through the same guarded update."""

from __future__ import annotations

import argparse

from pipelines.commands._common import (
    add_endpoint,
    add_pipeline_args,
    add_wait_if_busy,
    endpoint_arg,
    open_context,
)
from pipelines.console import Console


def configure(parser: argparse.ArgumentParser) -> None:
    add_pipeline_args(parser)
    add_endpoint(parser)
    parser.add_argument("--to-config", metavar="NAME", help="default: the previous live config")
    add_wait_if_busy(parser)


def run(args: argparse.Namespace, console: Console) -> int:
    from pipelines.deploy import rollback

    ctx = open_context(args, console)
    result = rollback(
        ctx,
        endpoint_arg(args, ctx),
        to_config=args.to_config,
        wait_if_busy_seconds=args.wait_if_busy,
    )
    console.result(result.to_json(), f"rolled back: {result.message}")
    return 0
