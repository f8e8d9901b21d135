"""`mlops teardown`: delete what the pipeline created in an environment (tagged resources)."""

from __future__ import annotations

import argparse

from pipelines.commands._common import add_pipeline_args, open_context
from pipelines.console import Console


def configure(parser: argparse.ArgumentParser) -> None:
    add_pipeline_args(parser)
    parser.add_argument("--yes", action="store_true", help="required: confirm the deletion")
    parser.add_argument(
        "--include-packages",
        action="store_true",
        help="also delete the model packages in the group",
    )


def run(args: argparse.Namespace, console: Console) -> int:
    from pipelines.errors import BadInput
    from pipelines.inventory import teardown

    if not args.yes:
        raise BadInput(
            "teardown deletes every endpoint, endpoint config, model and scaling registration the "
            "pipeline created in this stack; pass --yes to confirm"
        )
    ctx = open_context(args, console)
    deleted = teardown(ctx, include_packages=args.include_packages)
    human = "\n".join(
        [f"deleted {len(deleted)} resource(s) of stack {ctx.stack}", *(f"  {d}" for d in deleted)]
    )
    console.result({"stack": ctx.stack, "deleted": deleted}, human)
    return 0
