"""The `mlops` command line.

Start-up stays light: ``mlops --help`` needs only the ``COMMANDS`` table; the module of
the one command given is imported and configured (``pipelines.commands.<name>``, stdlib
only at top level), and pulumi, boto3 and moto are imported inside its ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name → module in pipelines.commands; each module has HELP, configure(parser), run(args, console).
COMMANDS: dict[str, str] = {
    "plan": "Evaluate a stack offline under Pulumi's mock runtime and list its resources.",
    "local": "Run the local cloud (moto on loopback, extended with SageMaker rollouts).",
    "demo": "Run the whole model lifecycle on the local cloud.",
    "train": "Start a SageMaker training job from the stack's defaults and wait for it.",
    "register": "Register a trained model as a model package (with an optional quality gate).",
    "approve": "Approve a model package.",
    "reject": "Reject a model package.",
    "deploy": "Deploy an approved model package with the endpoint's blue/green strategy.",
    "invoke": "Send one prediction request to an endpoint and print the answer.",
    "traffic": "Send a bounded load of predictions to an endpoint and summarise it.",
    "rollback": "Return an endpoint to its previous config through the same guarded update.",
    "promote": "Copy an approved model package into the next environment's registry.",
    "status": "Show every endpoint: live config, model package, last rollout outcome.",
    "teardown": "Delete what the pipeline created in an environment (tagged resources).",
    "audit": "List the environment's audit trail, or verify its hash chain.",
    "lineage": "Datasets → training job → model package → endpoints, in either direction.",
    "monitor": "Drift monitoring: baselines, drift runs of captured traffic, a report.",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command`` (all of them when None) gets its full arguments."""
    parser = argparse.ArgumentParser(
        prog="mlops",
        description="Provision and operate a secure SageMaker MLOps platform with Pulumi.",
        epilog="Exit codes: 0 ok, 1 failed, 2 bad input, 3 rolled back, 4 needs an operator, "
        "5 timed out, 6 another update in progress.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if command in (None, name):
            module = importlib.import_module(f"pipelines.commands.{name}")
            module.configure(sub_parser)
            sub_parser.set_defaults(_module=module)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (its first non-option word), if it is one of ours."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_in(argv) or "")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2  # ExitCode.BAD_INPUT

    from pipelines.console import Console
    from pipelines.errors import MlopsError

    console = Console.for_args(args)
    try:
        return int(args._module.run(args, console))
    except MlopsError as exc:
        console.error(str(exc), kind=type(exc).__name__)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        console.error("interrupted; nothing was cleaned up behind the running operation")
        return 130


if __name__ == "__main__":
    sys.exit(main())
