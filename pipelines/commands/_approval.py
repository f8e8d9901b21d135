"""What `mlops approve` and `mlops reject` share: the arguments and the UpdateModelPackage."""

from __future__ import annotations

import argparse

from pipelines.commands._common import add_package, add_pipeline_args, open_context
from pipelines.console import Console


def configure(parser: argparse.ArgumentParser) -> None:
    add_pipeline_args(parser)
    add_package(parser)
    parser.add_argument("--reason", default="", help="ApprovalDescription")


def decide(args: argparse.Namespace, console: Console, status: str) -> int:
    from pipelines.registry import set_approval

    ctx = open_context(args, console)
    package = set_approval(ctx, args.package, status, args.reason)
    console.result(package.to_json(), f"{package.arn} is {package.status}")
    return 0
