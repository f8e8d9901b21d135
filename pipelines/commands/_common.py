"""Arguments several commands share."""

from __future__ import annotations

import argparse


def add_stack(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--stack",
        required=required,
        metavar="ENV",
        help="the environment's stack (dev, staging, prod, local): stacks/Pulumi.<ENV>.yaml",
    )


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def add_outputs_source(parser: argparse.ArgumentParser) -> None:
    """Where the stack outputs (the StackOutputs contract) come from."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--outputs",
        metavar="FILE",
        help="stack outputs as JSON (e.g. `pulumi stack output --json > outputs.json` in CI); "
        "default: run `pulumi stack output --json --stack ENV`, or the local cloud when "
        "AWS_ENDPOINT_URL points at it",
    )
