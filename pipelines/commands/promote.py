"""`mlops promote --from staging --to prod`: copy an Approved package into the next registry."""

from __future__ import annotations

import argparse

from pipelines.commands._common import add_json, add_package
from pipelines.console import Console


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="source", required=True, metavar="ENV", help="source stack")
    parser.add_argument("--to", dest="target", required=True, metavar="ENV", help="target stack")
    add_package(parser)
    parser.add_argument("--from-outputs", metavar="FILE", help="the source stack's outputs as JSON")
    parser.add_argument("--to-outputs", metavar="FILE", help="the target stack's outputs as JSON")
    add_json(parser)


def run(args: argparse.Namespace, console: Console) -> int:
    from pipelines.context import make_context
    from pipelines.errors import BadInput
    from pipelines.outputs import load_outputs
    from pipelines.registry import promote

    if args.source == args.target:
        raise BadInput(f"--from and --to are both {args.source!r}; promotion needs two stacks")
    src = make_context(load_outputs(args.source, args.from_outputs), console.progress)
    dst = make_context(load_outputs(args.target, args.to_outputs), console.progress)
    package = promote(src, dst, args.package)
    console.result(
        package.to_json(),
        f"promoted to {package.arn} ({package.status}); next: mlops approve --stack {args.target} "
        f"--package {package.arn}",
    )
    return 0
