"""Arguments several commands share."""

from __future__ import annotations

import argparse
from typing import Any


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


def add_pipeline_args(parser: argparse.ArgumentParser) -> None:
    """``--stack``, ``--outputs FILE`` and ``--json``: what every lifecycle command takes."""
    add_stack(parser, required=False)
    add_outputs_source(parser)
    add_json(parser)


def add_endpoint(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint",
        metavar="NAME",
        help="the endpoint's short name in the stack file (default: the stack's only endpoint)",
    )


def add_wait_if_busy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait-if-busy",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="when another update is in progress, wait up to SECONDS (backing off) instead of "
        "refusing at once with exit code 6 (default: 0, refuse)",
    )


def open_context(args: argparse.Namespace, console: Any) -> Any:
    """Load the stack outputs named by the arguments and build a ``pipelines.context.Context``."""
    from pipelines.context import make_context
    from pipelines.outputs import load_outputs

    outputs = load_outputs(getattr(args, "stack", None), getattr(args, "outputs", None))
    return make_context(outputs, console.progress)


def endpoint_arg(args: argparse.Namespace, ctx: Any) -> str:
    """``--endpoint`` or the stack's only endpoint (a clear error when there are several)."""
    from pipelines.errors import BadInput

    if getattr(args, "endpoint", None):
        return str(args.endpoint)
    names = [spec.name for spec in ctx.outputs.endpoints]
    if len(names) == 1:
        return names[0]
    raise BadInput(
        f"--endpoint is required: stack {ctx.stack!r} has "
        + (f"endpoints {', '.join(names)}" if names else "no endpoints")
    )


def key_values(items: list[str] | None, flag: str) -> dict[str, str]:
    """``["a=1", "b=2"]`` → ``{"a": "1", "b": "2"}``; a clear error naming ``flag`` otherwise."""
    from pipelines.errors import BadInput

    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BadInput(f"{flag} {item!r}: expected NAME=VALUE")
        out[key] = value
    return out


def add_package(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--package",
        required=True,
        metavar="REF",
        help="model package ARN, version number or 'latest'",
    )
