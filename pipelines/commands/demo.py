"""`mlops demo`: the whole model lifecycle on the local cloud (train, gate, deploy, canary,
rollback), with a short report of each step."""

from __future__ import annotations

import argparse

from pipelines.commands._common import MAX_SPEED, add_json, positive
from pipelines.console import Console


def configure(parser: argparse.ArgumentParser) -> None:
    add_json(parser)
    parser.add_argument(
        "--speed",
        type=positive(maximum=MAX_SPEED, unit="simulated seconds per second"),
        default=600.0,
        metavar="X",
        help="simulated seconds per real second on the local cloud's clock, above 0 and at "
        f"most {MAX_SPEED:g} (default 600: a 10-minute canary bake lasts one second); outcomes never "
        "depend on it",
    )


def run(args: argparse.Namespace, console: Console) -> int:
    from pipelines.demo import human_report, run_demo

    payload = run_demo(console, speed=args.speed)
    console.result(payload, human_report(payload))
    return 0 if payload["ok"] else 1
