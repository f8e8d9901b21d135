"""`mlops demo` (not built yet)."""

from __future__ import annotations

import argparse

from pipelines.commands._common import add_json, add_stack
from pipelines.console import Console


def configure(parser: argparse.ArgumentParser) -> None:
    add_stack(parser, required=False)
    add_json(parser)


def run(args: argparse.Namespace, console: Console) -> int:
    console.error("mlops demo is not implemented yet")
    return 1
