"""`mlops audit`: the environment's audit trail, oldest first."""

from __future__ import annotations

import argparse

from pipelines.commands._common import add_pipeline_args, open_context
from pipelines.console import Console


def configure(parser: argparse.ArgumentParser) -> None:
    add_pipeline_args(parser)


def run(args: argparse.Namespace, console: Console) -> int:
    ctx = open_context(args, console)
    records = [r.to_json() for r in ctx.audit.records()]
    lines = [f"{len(records)} audit record(s) for stack {ctx.stack}"]
    for r in records:
        lines.append(f"  {r['when']}  {r['action']:<9} {r['outcome']:<14} {r['who']}")
    console.result({"stack": ctx.stack, "records": records}, "\n".join(lines))
    return 0
