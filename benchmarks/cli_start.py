"""CLI start: ``mlops --help`` as a whole process against ``python -c "import argparse"``.

The CLI is stdlib argparse, so the baseline is the interpreter starting and importing
argparse. Both run as fresh processes of the same interpreter, interleaved, median of
the repeats. A separate ``-X importtime`` run of ``mlops --help`` lists every module it
imports: none may be pulumi, boto3, botocore or moto.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._report import Row, median, ratio_against, seconds, spread

RATIO_GOAL = 2.0
FORBIDDEN = ("pulumi", "pulumi_aws", "pulumi_policy", "boto3", "botocore", "moto", "s3transfer")
"""Top-level packages ``mlops --help`` must not import (the SDKs and what they pull in)."""
WARM_UP = 2


def mlops_command() -> list[str]:
    """The installed ``mlops`` console script, run by this interpreter."""
    script = Path(sys.executable).parent / "mlops"
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "pipelines.cli"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        env=_env(),
    )
    return time.perf_counter() - start


def imported_modules(command: list[str]) -> list[tuple[str, int]]:
    """(module, cumulative import µs) for every module ``command`` imports (``-X importtime``)."""
    interpreter, *rest = command
    done = subprocess.run(
        [interpreter, "-X", "importtime", *rest],
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
    )
    modules = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _own, cumulative, name = line[len("import time:") :].split("|", 2)
        modules.append((name.strip(), int(cumulative.strip())))
    return modules


def forbidden(modules: list[str]) -> list[str]:
    return sorted({m for m in modules if m.split(".")[0] in FORBIDDEN})


def run(repeat: int) -> list[Row]:
    ours_cmd = [*mlops_command(), "--help"]
    base_cmd = [sys.executable, "-c", "import argparse"]
    for _ in range(WARM_UP):  # page cache, .pyc files
        _time(ours_cmd)
        _time(base_cmd)
    import_cmd = [sys.executable, "-c", "import pipelines.cli"]
    ours_times: list[float] = []
    base_times: list[float] = []
    import_times: list[float] = []
    # More repeats than asked: a start is short and the machine is shared.
    for i in range(max(repeat, 1) * 4):
        if i % 2 == 0:
            ours_times.append(_time(ours_cmd))
            base_times.append(_time(base_cmd))
        else:
            base_times.append(_time(base_cmd))
            ours_times.append(_time(ours_cmd))
        import_times.append(_time(import_cmd))
    ours, base = median(ours_times), median(base_times)
    imports = median(import_times)
    modules = imported_modules(ours_cmd)
    names = [m for m, _ in modules]
    bad = forbidden(names)
    own = sorted(
        ((m, us) for m, us in modules if m.split(".")[0] in ("pipelines", "components")),
        key=lambda item: -item[1],
    )
    heaviest = sorted(modules, key=lambda item: -item[1])[:5]
    return [
        Row(
            benchmark="cli",
            figure="CLI start: `mlops --help` vs `python -c 'import argparse'`",
            ours=seconds(ours),
            baseline=seconds(base),
            ratio=ratio_against(ours / base, RATIO_GOAL),
            goal=f"≤ {RATIO_GOAL:g}",
            passed=ours / base <= RATIO_GOAL,
            noise=f"ours {spread(ours_times)}; base {spread(base_times)} ({len(ours_times)} runs)",
            values={
                "command": ours_cmd,
                "ours_seconds": ours_times,
                "baseline_seconds": base_times,
                "heaviest_imports_us": heaviest,
                "own_modules_us": own[:10],
            },
        ),
        Row(
            benchmark="cli",
            figure="of which: `python -c 'import pipelines.cli'` (imports, no parser)",
            ours=seconds(imports),
            baseline=seconds(base),
            ratio=f"{imports / base:.2f}",
            noise=spread(import_times),
            values={"seconds": import_times},
        ),
        Row(
            benchmark="cli",
            figure="`mlops --help` imports no pulumi/boto3/botocore/moto",
            ours=f"{len(names)} modules, forbidden: " + (", ".join(bad[:5]) or "none"),
            goal="none of " + "/".join(("pulumi", "boto3", "botocore", "moto")),
            passed=not bad,
            noise="-",
            values={"modules": len(names), "forbidden": bad},
        ),
    ]
