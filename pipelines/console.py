"""How the CLI talks: live progress on a terminal, plain lines in CI, JSON for machines.

Long operations report ``Event``s; the console renders them. ``--json`` prints
exactly one JSON object on stdout at the end (``result``); progress then goes to
stderr as plain lines so stdout stays machine-readable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass(frozen=True)
class Event:
    """One step of progress: ``kind`` (e.g. ``training.status``), a human message, fields."""

    kind: str
    message: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Console:
    json_mode: bool = False
    live: bool = False
    """Rewrite one status line in place (an interactive terminal, not CI)."""
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    quiet: bool = False
    _live_line: bool = False
    _started: float = field(default_factory=time.monotonic)

    @classmethod
    def for_args(cls, args: argparse.Namespace) -> Console:
        json_mode = bool(getattr(args, "json", False))
        live = (not json_mode) and sys.stderr.isatty() and not os.environ.get("CI")
        return cls(json_mode=json_mode, live=live, quiet=bool(getattr(args, "quiet", False)))

    # progress -----------------------------------------------------------------------
    def progress(self, event: Event) -> None:
        """A step of a long wait. Terminal: one live line; CI and --json: a line on stderr."""
        if self.quiet:
            return
        elapsed = time.monotonic() - self._started
        text = f"[{elapsed:6.1f}s] {event.message}"
        if self.live:
            self.err.write("\r\033[K" + text)
            self._live_line = True
        else:
            self.err.write(text + "\n")
        self.err.flush()

    def _end_live(self) -> None:
        if self._live_line:
            self.err.write("\n")
            self._live_line = False

    # results ------------------------------------------------------------------------
    def info(self, message: str) -> None:
        """A line for people (stdout; stderr in --json mode)."""
        self._end_live()
        print(message, file=self.err if self.json_mode else self.out)

    def warn(self, message: str) -> None:
        self._end_live()
        print(f"warning: {message}", file=self.err)

    def error(self, message: str, kind: str = "error") -> None:
        self._end_live()
        if self.json_mode:
            print(json.dumps({"error": kind, "message": message}), file=self.out)
        print(f"error: {message}", file=self.err)

    def result(self, payload: dict[str, Any], human: str | None = None) -> None:
        """The outcome: the JSON object with --json, else ``human`` (or a key: value dump)."""
        self._end_live()
        if self.json_mode:
            print(json.dumps(payload, indent=2, sort_keys=False, default=str), file=self.out)
            return
        if human is None:
            human = "\n".join(f"{k}: {v}" for k, v in payload.items())
        print(human, file=self.out)
