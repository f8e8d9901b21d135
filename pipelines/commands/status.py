"""`mlops status`: every endpoint with its live config, model package and last rollout."""

from __future__ import annotations

import argparse

from pipelines.commands._common import add_pipeline_args, open_context
from pipelines.console import Console


def configure(parser: argparse.ArgumentParser) -> None:
    add_pipeline_args(parser)


def run(args: argparse.Namespace, console: Console) -> int:
    from pipelines.inventory import endpoint_status

    ctx = open_context(args, console)
    rows = endpoint_status(ctx)
    lines = [f"stack {ctx.stack}: {len(rows)} endpoint(s)"]
    for r in rows:
        lines.append(
            f"  {r['endpoint']}: {r['status']}, config {r['live_config']}, package "
            f"{r['model_package_arn']}, last rollout {r['last_rollout']}"
        )
    console.result({"stack": ctx.stack, "endpoints": rows}, "\n".join(lines))
    return 0
