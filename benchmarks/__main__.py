"""``python -m benchmarks``: run every benchmark and print one table.

Options: ``--only NAME`` (repeatable: plan, plan-process, cli, rollout, serving, demo, drift),
``--repeat N`` (default 5), ``--drift-rows N`` (drift: rows per generated file, default 1,000,000),
``--json`` (rows as JSON), ``--write PATH`` (also write the table as markdown),
``--readme`` (also put the table into ``benchmarks/README.md`` between its result markers),
``--profile`` (with plan: a cProfile of the platform and the flat program at N=50).

Exit code 0 when every figure with a goal passes, 1 otherwise. Timings are medians of the
repeats, measured against a baseline in the same run; nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._report import Row, render

BENCHMARKS: dict[str, str] = {
    "plan": "benchmarks.plan",
    "plan-process": "benchmarks.plan_process",
    "cli": "benchmarks.cli_start",
    "rollout": "benchmarks.rollout",
    "serving": "benchmarks.serving",
    "demo": "benchmarks.demo",
    "drift": "benchmarks.drift",
}


def _runner(name: str, **options: Any) -> Callable[[int], list[Row]]:
    """The benchmark's ``run(repeat, **options)``; options left None are its defaults."""
    import functools
    import importlib

    module = importlib.import_module(BENCHMARKS[name])
    given = {k: v for k, v in options.items() if v is not None}
    runner: Callable[[int], list[Row]] = functools.partial(module.run, **given)
    return runner


def environment() -> str:
    cpus = os.cpu_count()
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return (
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {cpus} CPUs, load average {load}"
    )


START, END = "<!-- results -->", "<!-- /results -->"


def update_readme(path: Path, text: str) -> None:
    """Replace what is between the result markers (or the lone start marker) with ``text``."""
    readme = path.read_text()
    head, sep, rest = readme.partition(START)
    if not sep:
        raise SystemExit(f"{path}: no {START} marker")
    _, sep_end, tail = rest.partition(END)
    path.write_text(f"{head}{START}\n{text}\n{END}{tail if sep_end else rest}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--only",
        action="append",
        choices=list(BENCHMARKS),
        metavar="NAME",
        help="run only this benchmark (repeatable): " + ", ".join(BENCHMARKS),
    )
    parser.add_argument("--repeat", type=int, default=5, help="repeats per figure (default 5)")
    parser.add_argument(
        "--drift-rows",
        type=int,
        metavar="N",
        help="drift: rows per generated file (default 1000000; e.g. 50000 for a quick run)",
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--write", type=Path, metavar="PATH", help="also write the table here")
    parser.add_argument(
        "--readme", action="store_true", help="also put the table into benchmarks/README.md"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of the plan at N=50"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.drift_rows is not None and args.drift_rows < 1000:
        parser.error("--drift-rows must be at least 1000")
    # pulumi_aws warns about its own deprecated classes on import: not what we measure.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    names = args.only or list(BENCHMARKS)
    rows: list[Row] = []
    started = time.perf_counter()
    for name in names:
        print(f"running {name} (repeat {args.repeat}) ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            options = {"rows": args.drift_rows} if name == "drift" else {}
            rows.extend(_runner(name, **options)(args.repeat))
        except Exception as exc:  # one broken benchmark must not hide the others
            rows.append(
                Row(
                    benchmark=name,
                    figure=f"{name}: benchmark crashed",
                    ours=f"{type(exc).__name__}: {exc}"[:200],
                    passed=False,
                )
            )
        print(f"  {name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    if args.profile:
        from benchmarks import plan

        print(plan.profile(), file=sys.stderr)
    header = f"Measured {environment()}; --repeat {args.repeat}; took {time.perf_counter() - started:.0f} s."
    table = render(rows)
    if args.json:
        print(json.dumps({"environment": header, "rows": [r.to_json() for r in rows]}, indent=2))
    else:
        print(header)
        print(table)
    if args.write is not None:
        args.write.write_text(f"# Benchmark results\n\n{header}\n\n{table}\n")
    if args.readme:
        update_readme(Path(__file__).with_name("README.md"), f"{header}\n\n{table}")
    return 0 if all(r.passed is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
