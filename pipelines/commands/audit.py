"""`mlops audit [verify]`: the environment's audit trail, oldest first, or a check of its chain."""

from __future__ import annotations

import argparse
from typing import Any

from pipelines.commands._common import add_pipeline_args, open_context
from pipelines.console import Console


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=("list", "verify"),
        default="list",
        help="list (default): every record, oldest first; verify: check the hash chain end to "
        "end (each record's digest and its link to the one before) and name the first break",
    )
    add_pipeline_args(parser)


def run(args: argparse.Namespace, console: Console) -> int:
    ctx = open_context(args, console)
    if args.action == "verify":
        return verify(ctx, console)
    records = [r.to_json() for r in ctx.audit.records()]
    lines = [f"{len(records)} audit record(s) for stack {ctx.stack}"]
    for r in records:
        lines.append(f"  {r['when']}  {r['action']:<9} {r['outcome']:<14} {r['who']}")
    console.result({"stack": ctx.stack, "records": records}, "\n".join(lines))
    return 0


def verify(ctx: Any, console: Console) -> int:
    from pipelines.errors import ExitCode

    check = ctx.audit.verify()
    stack = ctx.stack
    payload = {
        "stack": stack,
        "ok": check.ok,
        "records": check.records,
        "unchained": check.unchained,
        "problem": check.problem,
    }
    before = f"; {check.unchained} older record(s) before the chain" if check.unchained else ""
    if check.ok:
        console.result(
            payload, f"audit trail of {stack}: {check.records} record(s), chain intact{before}"
        )
        return 0
    console.result(
        payload,
        f"audit trail of {stack}: BROKEN after {check.records} good record(s): {check.problem}",
    )
    return int(ExitCode.FAILED)
