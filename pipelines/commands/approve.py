"""`mlops approve`: set a model package Approved (UpdateModelPackage), with an audit record."""

from __future__ import annotations

import argparse

from pipelines.commands._approval import configure, decide
from pipelines.console import Console

__all__ = ["configure", "run"]


def run(args: argparse.Namespace, console: Console) -> int:
    return decide(args, console, "Approved")
