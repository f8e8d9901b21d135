"""`mlops plan --stack prod --json` as a fresh process, against its floor.

*Floor*: a fresh process of the same interpreter that does nothing but load the pulumi_aws
resource classes the plan registers. pulumi_aws builds its typed input classes when a
submodule is first touched, so this is what any Pulumi program registering those resources
pays before its first line runs. The list is derived from the plan's own output (every
``aws:<module>/<name>:<Class>`` type it registered), so it follows the stack as it grows.

*Ours*: the installed ``mlops`` console script, ``plan --stack prod --json``, stdout discarded.

Both run with ``PYTHONDONTWRITEBYTECODE=1`` (as in many CI images): only bytecode written at
install time counts. A second gated row checks exactly that: every module the floor imports
from site-packages has its ``.pyc`` next to it, fresh (none is compiled at run time).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from benchmarks._report import Row, median, ratio_against, seconds, spread
from benchmarks.cli_start import _env, mlops_command

RATIO_GOAL = 1.2
STACK = "prod"
WARM_UP = 1


def resource_classes(plan: dict[str, object]) -> list[tuple[str, str]]:
    """``(module, class)`` of every pulumi_aws resource type in a ``mlops plan --json`` payload:
    ``aws:s3/bucketPolicy:BucketPolicy`` → ``("pulumi_aws.s3", "BucketPolicy")``."""
    found: set[tuple[str, str]] = set()
    resources = plan.get("resources")
    for resource in resources if isinstance(resources, list) else []:
        token = str(resource.get("type", ""))
        provider, _, rest = token.partition(":")
        module, _, cls = rest.partition(":")
        if provider == "aws" and cls:
            found.add((f"pulumi_aws.{module.split('/')[0]}", cls))
    return sorted(found)


def floor_code(classes: list[tuple[str, str]]) -> str:
    """Python source that loads exactly ``classes`` and nothing else."""
    pairs = json.dumps(classes)
    return (
        "import importlib\n"
        f"for module, cls in {pairs}:\n"
        "    getattr(importlib.import_module(module), cls)\n"
    )


STALE_CHECK = """
import importlib.util, os, sys
missing = []
for name, module in list(sys.modules.items()):
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None) or ""
    if "site-packages" not in origin or not origin.endswith(".py"):
        continue
    cached = importlib.util.cache_from_source(origin)
    if not os.path.exists(cached) or os.path.getmtime(cached) < os.path.getmtime(origin):
        missing.append(name)
print(len([m for m in sys.modules]), *sorted(missing))
"""


def without_bytecode(classes: list[tuple[str, str]]) -> tuple[int, list[str]]:
    """(modules imported, site-packages modules among them without a fresh ``.pyc``)."""
    done = subprocess.run(
        [sys.executable, "-c", floor_code(classes) + STALE_CHECK],
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
    )
    count, *missing = done.stdout.split()
    return int(count), missing


def _time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True, env=_env()
    )
    return time.perf_counter() - start


def run(repeat: int) -> list[Row]:
    ours_cmd = [*mlops_command(), "plan", "--stack", STACK, "--json"]
    done = subprocess.run(ours_cmd, capture_output=True, text=True, env=_env())
    if done.returncode not in (0, 1):  # 1: a mandatory policy violation, still a plan
        raise RuntimeError(f"{' '.join(ours_cmd)} exited {done.returncode}: {done.stderr[-500:]}")
    classes = resource_classes(json.loads(done.stdout))
    floor_cmd = [sys.executable, "-c", floor_code(classes)]
    for _ in range(WARM_UP):
        _time(floor_cmd)
        _time(ours_cmd)
    ours_times: list[float] = []
    floor_times: list[float] = []
    for i in range(max(repeat, 1) * 2):
        pair = [(ours_times, ours_cmd), (floor_times, floor_cmd)]
        for times, command in pair if i % 2 == 0 else reversed(pair):
            times.append(_time(command))
    ratios = [o / f for o, f in zip(ours_times, floor_times, strict=True)]
    ratio = median(ratios)
    imported, missing = without_bytecode(classes)
    return [
        Row(
            benchmark="plan-process",
            figure=f"`mlops plan --stack {STACK} --json`, fresh process, vs one that only "
            f"loads the {len(classes)} pulumi_aws resource classes the plan registers",
            ours=seconds(median(ours_times)),
            baseline=seconds(median(floor_times)),
            ratio=ratio_against(ratio, RATIO_GOAL),
            goal=f"≤ {RATIO_GOAL:.1f}",
            passed=ratio <= RATIO_GOAL,
            noise=f"ours {spread(ours_times)}; floor {spread(floor_times)}; ratio "
            f"{min(ratios):.2f}-{max(ratios):.2f} over {len(ratios)} pairs",
            values={
                "ours_seconds": ours_times,
                "floor_seconds": floor_times,
                "resource_classes": [f"{m}.{c}" for m, c in classes],
            },
        ),
        Row(
            benchmark="plan-process",
            figure="site-packages modules the floor imports without a fresh .pyc "
            "(compiled at every run under PYTHONDONTWRITEBYTECODE=1)",
            ours=f"{len(missing)} of {imported}"
            + (f": {', '.join(missing[:4])}" if missing else ""),
            goal="0",
            passed=not missing,
            values={"imported": imported, "without_bytecode": missing},
        ),
    ]
