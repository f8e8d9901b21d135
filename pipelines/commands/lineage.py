"""`mlops lineage`: datasets → training job → model package → configs → endpoints, either way."""

from __future__ import annotations

import argparse

from pipelines.commands._common import add_pipeline_args, open_context
from pipelines.console import Console


def configure(parser: argparse.ArgumentParser) -> None:
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--endpoint", metavar="NAME", help="what this endpoint served, and when")
    what.add_argument("--package", metavar="REF", help="ARN, version number or 'latest'")
    what.add_argument(
        "--dataset",
        metavar="CHANNEL:VERSION",
        help="a training channel's data version (a prefix of its sha256): what was trained on "
        "it and which endpoints ever served that",
    )
    parser.add_argument(
        "--format", choices=("text", "mermaid", "dot"), default="text", help="default text"
    )
    add_pipeline_args(parser)


def run(args: argparse.Namespace, console: Console) -> int:
    from pipelines import provenance

    ctx = open_context(args, console)
    if args.endpoint:
        lineage = provenance.for_endpoint(ctx, args.endpoint)
    elif args.package:
        lineage = provenance.for_package(ctx, args.package)
    else:
        lineage = provenance.for_dataset(ctx, args.dataset)
    render = {"text": provenance.text, "mermaid": provenance.mermaid, "dot": provenance.dot}
    console.result(lineage.to_json(), render[args.format](lineage))
    return 0
