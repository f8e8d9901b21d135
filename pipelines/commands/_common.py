"""Arguments several commands share, and the argparse types that bound every numeric flag.

A bad value is argparse's usage error (exit 2) naming the flag, the value and what is
allowed, before anything else runs: ``seconds``, ``positive``, ``port``,
``training_instance_type``, ``aws_region``.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from typing import Any

from components.quoting import shown

MAX_WAIT_SECONDS = 86400.0
"""The longest any flag waits (a day: past a blue/green update's 8 h timeout + 1 h termination)."""
MAX_SPEED = 100000.0
"""The local cloud's fastest clock (simulated seconds per real second): a day in under a second."""


def _number(text: str, allowed: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a number; {allowed}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{shown(text)} is not finite; {allowed}")
    return value


def seconds(*, maximum: float = MAX_WAIT_SECONDS, zero: bool = True) -> Callable[[str], float]:
    """An argparse ``type``: a finite number of seconds from 0 (or above 0 when ``zero`` is
    False) to ``maximum``."""
    span = f"from 0 to {maximum:g}" if zero else f"above 0 and at most {maximum:g}"
    allowed = f"must be a number of seconds {span}"

    def parse(text: str) -> float:
        value = _number(text, allowed)
        if value < 0 or (value == 0 and not zero) or value > maximum:
            raise argparse.ArgumentTypeError(f"{shown(text)} is out of range; {allowed}")
        return value

    return parse


def positive(*, maximum: float, unit: str) -> Callable[[str], float]:
    """An argparse ``type``: a finite number above 0 and at most ``maximum`` (of ``unit``)."""
    allowed = f"must be a number of {unit} above 0 and at most {maximum:g}"

    def parse(text: str) -> float:
        value = _number(text, allowed)
        if not 0 < value <= maximum:
            raise argparse.ArgumentTypeError(f"{shown(text)} is out of range; {allowed}")
        return value

    return parse


def port(text: str) -> int:
    """An argparse ``type``: a TCP port, 0 (pick a free one) to 65535."""
    allowed = "must be a TCP port from 0 (pick a free one) to 65535"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{shown(text)} is not a whole number; {allowed}"
        ) from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{shown(text)} is out of range; {allowed}")
    return value


def training_instance_type(text: str) -> str:
    """An argparse ``type``: a SageMaker ML instance type, as the stack file's training one."""
    from components import instance_types

    if not instance_types.is_known(text):
        raise argparse.ArgumentTypeError(
            f"{shown(text)} is not a SageMaker ML instance type; allowed: "
            f"{instance_types.describe_allowed(allow_cpu=True)}"
        )
    return text


def aws_region(text: str) -> str:
    """An argparse ``type``: a region of an AWS partition (botocore's list, read on use)."""
    from components.regions import region_problem

    problem = region_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def region_of(flag: str | None, outputs: Any = None) -> str:
    """``--region``, else the stack's (``outputs``), else ``AWS_REGION`` / ``AWS_DEFAULT_REGION``
    (checked like the flag); a clear error when none is given."""
    from pipelines.errors import BadInput

    if flag:
        return flag
    if outputs is not None:
        return str(outputs.region)
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        region = os.environ.get(variable)
        if region:
            from components.regions import region_problem

            problem = region_problem(region)
            if problem is not None:
                raise BadInput(f"{variable}: {problem}")
            return region
    raise BadInput("--region is required (or --stack, or AWS_REGION in the environment)")


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
        type=seconds(maximum=MAX_WAIT_SECONDS),
        default=0.0,
        metavar="SECONDS",
        help="when another update is in progress, wait up to SECONDS (0 to "
        f"{MAX_WAIT_SECONDS:g}, backing off) instead of refusing at once with exit code 6 "
        "(default: 0, refuse)",
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
