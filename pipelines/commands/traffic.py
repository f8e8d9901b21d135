"""`mlops traffic`: a bounded load of predictions, with a summary (errors, variants, latency)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.commands._common import add_json, positive, seconds
from pipelines.commands._serving import add_target, target
from pipelines.console import Console, Event

MAX_DURATION_SECONDS = 86400.0
MAX_RATE = 10000.0


def configure(parser: argparse.ArgumentParser) -> None:
    add_target(parser)
    parser.add_argument(
        "--payloads", required=True, metavar="FILE", help="one request body per line (cycled)"
    )
    parser.add_argument(
        "--rate",
        type=positive(maximum=MAX_RATE, unit="requests a second"),
        required=True,
        metavar="R",
        help=f"requests a second (above 0, at most {MAX_RATE:g})",
    )
    parser.add_argument(
        "--duration",
        type=seconds(maximum=MAX_DURATION_SECONDS, zero=False),
        required=True,
        metavar="SECONDS",
        help="how long to send (on the local cloud: simulated seconds; above 0, at most "
        f"{MAX_DURATION_SECONDS:g})",
    )
    add_json(parser)


def run(args: argparse.Namespace, console: Console) -> int:
    from pipelines.traffic import read_payloads, send_load

    payloads = read_payloads(Path(args.payloads), args.content_type)
    name, runtime, clock = target(args)
    total = max(1, round(args.rate * args.duration))
    shown = {"at": -1}

    def progress(summary: object, elapsed: float) -> None:
        sent = int(getattr(summary, "requests", 0))
        step = sent * 10 // total  # a line per tenth of the load
        if step != shown["at"]:
            shown["at"] = step
            console.progress(Event("traffic", f"{name}: {sent}/{total} requests"))

    summary = send_load(
        runtime,
        name,
        payloads,
        rate=args.rate,
        clock=clock,
        duration=args.duration,
        on_progress=progress,
    )
    payload = {"endpoint": name, **summary.to_json()}
    lat = summary.to_json()["latency_ms"]
    errors = ", ".join(f"{k} {v}" for k, v in summary.errors.items()) or "none"
    human = (
        f"{summary.requests} requests to {name}; errors: {errors}; variants: "
        + (", ".join(f"{k} {v}" for k, v in summary.variants.items()) or "none")
        + f"; latency p50/p90/p99 {lat['p50'] or 0:.1f}/{lat['p90'] or 0:.1f}/{lat['p99'] or 0:.1f} ms"
    )
    console.result(payload, human)
    return 0
