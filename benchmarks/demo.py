"""Demo: wall time and peak memory of ``mlops demo`` as a subprocess (one run: it is long).

A small wrapper process runs ``mlops demo`` (from the repository root, as ``make demo``
does) and reports its wall time and ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``: the
peak resident set of the largest single process among the demo and every descendant it
waited for. Meanwhile this process samples ``/proc`` every 100 ms and records the peak
*sum* of the resident sets of the demo's whole process tree (training scripts included),
a sampled figure that can miss short peaks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from benchmarks._report import Row, seconds

WALL_GOAL = 60.0
MEMORY_GOAL = 1024**3
TIMEOUT = 600.0
REPO = Path(__file__).resolve().parents[1]

WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": done.returncode, "wall": wall, "maxrss_kib": usage.ru_maxrss,
                  "stdout": done.stdout[-4000:], "stderr": done.stderr[-4000:]}))
"""


def demo_command() -> list[str]:
    script = Path(sys.executable).parent / "mlops"
    if script.is_file():
        return [sys.executable, str(script), "demo"]
    return [sys.executable, "-m", "pipelines.cli", "demo"]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants, now."""
    tree = _children()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss_bytes(pid)
        stack.extend(tree.get(pid, []))
    return total


class Sampler(threading.Thread):
    def __init__(self, root: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.peak = max(self.peak, tree_rss(self.root))


def not_available(reason: str) -> list[Row]:
    return [
        Row(
            benchmark="demo",
            figure="`mlops demo` wall time / peak memory",
            ours=f"not available: {reason}",
            goal=f"≤ {WALL_GOAL:g} s, ≤ 1 GiB",
            passed=None,
        )
    ]


def _reason(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:160] if lines else "no output"


def run(repeat: int) -> list[Row]:
    del repeat  # one run: the demo is long (a whole lifecycle on the local cloud)
    process = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, *demo_command()],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = Sampler(process.pid)
    sampler.start()
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return not_available(f"did not finish within {TIMEOUT:g} s")
    finally:
        sampler.stop.set()
        sampler.join()
    try:
        report = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return not_available(f"the measuring wrapper failed: {_reason(err)}")
    if report["rc"] != 0:
        why = _reason(report["stderr"]) if report["stderr"].strip() else _reason(report["stdout"])
        return not_available(f"`mlops demo` exited {report['rc']}: {why}")
    wall = float(report["wall"])
    peak_single = int(report["maxrss_kib"]) * 1024
    peak_tree = sampler.peak
    gib = 1024**3
    return [
        Row(
            benchmark="demo",
            figure="`mlops demo` wall time (1 run)",
            ours=seconds(wall),
            goal=f"≤ {WALL_GOAL:g} s",
            passed=wall <= WALL_GOAL,
            noise="1 run",
            values={"wall_seconds": wall},
        ),
        Row(
            benchmark="demo",
            figure="`mlops demo` peak RSS, largest process (ru_maxrss)",
            ours=f"{peak_single / 2**20:.0f} MiB",
            goal="≤ 1 GiB",
            passed=peak_single <= MEMORY_GOAL,
            noise="1 run",
            values={"maxrss_bytes": peak_single},
        ),
        Row(
            benchmark="demo",
            figure="`mlops demo` peak RSS, whole process tree (sampled 10/s)",
            ours=f"{peak_tree / 2**20:.0f} MiB",
            goal="≤ 1 GiB",
            passed=peak_tree <= MEMORY_GOAL,
            noise=f"1 run; {peak_tree / gib:.2f} GiB",
            values={"tree_peak_bytes": peak_tree},
        ),
    ]
