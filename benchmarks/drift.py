"""Drift job: ours against Evidently's ``DataDriftPreset`` and a pandas + scipy script.

Two generated CSV files with a header, ``rows`` reference rows and ``rows`` current rows
(default 1,000,000 each) × 20 features: 15 numeric (normal, each its own mean and scale,
4 decimals) and 5 categorical (4-10 string categories, each its own shares). Three features
are shifted in the current file: two numeric by half a standard deviation of the mean, one
categorical by moving 30 % of the mass to its last category (Jensen-Shannon ≈ 0.23); every
other feature is drawn from the same distribution in both files (different samples).

Contenders, each in a fresh subprocess of the same interpreter (``repeat`` rounds of ours and
pandas + scipy, which goes first alternating; Evidently once: it takes over a minute and
1.6 GB at full size):

- **ours**: ``runner.compute_baseline(sources_at(reference))`` then
  ``runner.run_drift(baseline, sources_at(current), Settings())`` → ``result.drifted``
  (no schema: header and kinds are inferred, as ``mlops monitor`` does);
- **pandas + scipy**: ``pd.read_csv`` of both files, per numeric column
  ``scipy.stats.wasserstein_distance / np.std(reference)`` ≥ 0.1, per categorical column
  ``scipy.spatial.distance.jensenshannon`` of the shares over the union of categories ≥ 0.1;
- **Evidently 0.7.23**: ``pd.read_csv`` of both files, ``Report([DataDriftPreset()],
  include_tests=True).run(current, reference)`` with a ``DataDefinition`` naming the numeric
  and categorical columns (pandas' dtypes); the drifted columns are the failed "Value Drift"
  tests (Evidently's own per-column verdict; reading them out of the snapshot is not timed).
  Skipped when Evidently is not importable (it is in the ``bench`` dependency group; so is
  pandas, for both peers).

Each child times its work with ``perf_counter`` *after* its imports (imports are reported
apart, informational) and reports its peak resident set, imports included: ``VmHWM`` of
``/proc/self/status``, the high-water mark of its own address space. Not ``ru_maxrss`` of
``RUSAGE_SELF``: Linux carries the pre-exec address space's high-water mark into it, so a
child forked (or vforked) from this process starts at *this* process's peak (333 MiB here
after generating the files: every small contender would report that). ``ru_maxrss`` is kept
in the JSON (``maxrss_bytes``) and used only where ``/proc`` is absent. The files are read
from a warm page cache (all contenders alike). Times are medians of the rounds, peaks the
largest round.

**Capture parsing**: a SageMaker data-capture JSON Lines file (``rows // 2`` records,
500,000 at full size; a CSV input row of 4 numeric features and a JSON output
``{"probabilities": [p]}`` each): records a second of ours
(``tables.read(sources_at(path), profile.problems, names=…)`` consumed by
``Profile().add_all``:
parsing *and* the profile) against the standard library (``json.loads`` per line, the input's
CSV split into floats, the output's JSON parsed), each in a fresh subprocess.

Goals (issue 25): ours ≥ 10 × faster than Evidently (ratio ≤ 0.10) and faster than pandas +
scipy, peak memory ≤ 1/5 of Evidently's, the same drifted set as the known shifted one and as
both peers'. Only a drifted set of ours other than the shifted one fails the benchmark when
the peers are skipped.

``python -m benchmarks.drift --rows 50000 [--repeat N] [--profile]`` runs it alone
(``--profile``: a cProfile of ours, in this process, on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._report import Row, median, ratio_against, seconds, spread

ROWS = 1_000_000
NUMERIC = 15
CATEGORICAL = 5
CATEGORY_COUNTS = (4, 6, 8, 10, 5)
SHIFTED = ("cat_3", "num_04", "num_11")
MEAN_SHIFT = 0.5
"""Numeric shift, in standard deviations."""
CATEGORY_SHIFT = 0.3
"""Share of a categorical feature's mass moved to its last category."""
THRESHOLD = 0.1
"""Wasserstein/std and Jensen-Shannon thresholds of the pandas + scipy script (Evidently's)."""
CAPTURE_FEATURES = 4
CHUNK_ROWS = 100_000

SPEED_GOAL = 0.10
MEMORY_GOAL = 0.20
REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 1800.0
SKIPPED = "skipped (install the bench group)"


def numeric_names() -> list[str]:
    return [f"num_{i:02d}" for i in range(1, NUMERIC + 1)]


def categorical_names() -> list[str]:
    return [f"cat_{i}" for i in range(1, CATEGORICAL + 1)]


# ------------------------------------------------------------------------------ data


def _spec() -> dict[str, Any]:
    """Each feature's distribution (fixed: the same for every run and both files)."""
    import numpy as np

    rng = np.random.default_rng(25)
    numeric = {
        name: (float(rng.uniform(-50, 50)), float(rng.uniform(0.5, 20))) for name in numeric_names()
    }
    categorical = {
        name: (
            [f"c{j}" for j in range(count)],
            rng.dirichlet(np.full(count, 4.0)),
        )
        for name, count in zip(categorical_names(), CATEGORY_COUNTS, strict=True)
    }
    return {"numeric": numeric, "categorical": categorical}


def write_csv(path: Path, rows: int, *, current: bool) -> None:
    """``rows`` rows of the 20 features with a header; ``current`` shifts ``SHIFTED``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    spec = _spec()
    rng = np.random.default_rng(2 if current else 1)
    names = numeric_names() + categorical_names()
    schema = pa.schema([(n, pa.string()) for n in names])
    options = pa_csv.WriteOptions(include_header=True, quoting_style="none")
    with pa_csv.CSVWriter(str(path), schema, write_options=options) as writer:
        for start in range(0, rows, CHUNK_ROWS):
            n = min(CHUNK_ROWS, rows - start)
            columns: list[pa.Array] = []
            for name, (mean, scale) in spec["numeric"].items():
                shift = MEAN_SHIFT * scale if current and name in SHIFTED else 0.0
                values = np.round(rng.normal(mean + shift, scale, n), 4)
                columns.append(pa.array(values).cast(pa.string()))
            for name, (categories, shares) in spec["categorical"].items():
                p = shares
                if current and name in SHIFTED:
                    p = shares * (1 - CATEGORY_SHIFT)
                    p[-1] += CATEGORY_SHIFT
                codes = rng.choice(len(categories), size=n, p=p).astype(np.int32)
                dictionary = pa.DictionaryArray.from_arrays(codes, pa.array(categories))
                columns.append(dictionary.cast(pa.string()))
            writer.write_batch(pa.record_batch(columns, schema=schema))


def write_capture(path: Path, records: int) -> None:
    """SageMaker data-capture JSON Lines: a CSV input row and a JSON output per record."""
    import numpy as np

    rng = np.random.default_rng(3)
    values = np.round(rng.normal(0, 1, (records, CAPTURE_FEATURES)), 4).tolist()
    probabilities = np.round(rng.uniform(0, 1, records), 4).tolist()
    head = '{"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "'
    middle = (
        '", "encoding": "CSV"}, "endpointOutput": {"observedContentType": "application/json", '
        '"mode": "OUTPUT", "data": "{\\"probabilities\\": ['
    )
    with open(path, "w") as f:
        for i in range(records):
            row = ",".join(map(repr, values[i]))
            ms = i * 7
            f.write(
                f'{head}{row}{middle}{probabilities[i]!r}]}}", '
                f'"encoding": "JSON"}}}}, "eventMetadata": {{"eventId": '
                f'"{i:08x}-0000-4000-8000-{i:012x}", "inferenceTime": '
                f'"2026-12-03T{ms // 3_600_000 % 24:02d}:{ms // 60_000 % 60:02d}:'
                f'{ms // 1000 % 60:02d}.{ms % 1000:03d}Z"}}, "eventVersion": "0"}}\n'
            )


# ---------------------------------------------------------------------- contenders


Work = Callable[[], dict[str, Any]]
"""A contender's timed part (its factory does the imports)."""


def ours(reference: str, current: str) -> Work:
    from pipelines.monitoring.drift import Settings
    from pipelines.monitoring.runner import compute_baseline, run_drift, sources_at

    def work() -> dict[str, Any]:
        baseline, _ = compute_baseline(sources_at(reference))
        result, _ = run_drift(baseline, sources_at(current), Settings())
        return {
            "drifted": sorted(result.drifted),
            "rows": [result.baseline_samples, result.samples],
            "problems": result.problems,
        }

    return work


def pandas_scipy(reference: str, current: str) -> Work:
    import numpy as np
    import pandas as pd
    from scipy import stats
    from scipy.spatial import distance

    def work() -> dict[str, Any]:
        ref, cur = pd.read_csv(reference), pd.read_csv(current)
        drifted = []
        for name in ref.columns:
            if pd.api.types.is_numeric_dtype(ref[name]):
                a, b = ref[name].to_numpy(), cur[name].to_numpy()
                score = stats.wasserstein_distance(a, b) / np.std(a)
            else:
                p = ref[name].value_counts(normalize=True)
                q = cur[name].value_counts(normalize=True)
                union = p.index.union(q.index)
                score = distance.jensenshannon(
                    p.reindex(union, fill_value=0).to_numpy(),
                    q.reindex(union, fill_value=0).to_numpy(),
                )
            if score >= THRESHOLD:
                drifted.append(str(name))
        return {"drifted": sorted(drifted), "rows": [len(ref), len(cur)]}

    return work


def evidently(reference: str, current: str) -> Work:
    import evidently as ev
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    def work() -> dict[str, Any]:
        ref, cur = pd.read_csv(reference), pd.read_csv(current)
        numeric = [str(c) for c in ref.columns if pd.api.types.is_numeric_dtype(ref[c])]
        categorical = [str(c) for c in ref.columns if str(c) not in numeric]
        definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
        snapshot = Report([DataDriftPreset()], include_tests=True).run(
            Dataset.from_pandas(cur, data_definition=definition),
            Dataset.from_pandas(ref, data_definition=definition),
        )
        extracting = time.perf_counter()  # reading the verdicts out is not Evidently's run
        tests = snapshot.dict()["tests"]
        drifted = [
            t["metric_config"]["params"]["column"]
            for t in tests
            if t["metric_config"]["params"].get("type") == "evidently:metric_v2:ValueDrift"
            and t["status"] == "FAIL"
        ]
        checked = sum(
            t["metric_config"]["params"].get("type") == "evidently:metric_v2:ValueDrift"
            for t in tests
        )
        return {
            "drifted": sorted(drifted),
            "rows": [len(ref), len(cur)],
            "columns_checked": checked,
            "version": ev.__version__,
            "untimed_s": time.perf_counter() - extracting,
        }

    return work


def capture_ours(path: str) -> Work:
    from pipelines.monitoring.profile import Profile
    from pipelines.monitoring.runner import sources_at
    from pipelines.monitoring.tables import read

    names = [f"x{i}" for i in range(CAPTURE_FEATURES)]

    def work() -> dict[str, Any]:
        profile = Profile()
        profile.add_all(read(sources_at(path), profile.problems, names=names))
        return {
            "records": profile.rows["input"],
            "outputs": profile.rows["output"],
            "features": profile.order,
            "problems": profile.problems.counts,
        }

    return work


def capture_stdlib(path: str) -> Work:
    def work() -> dict[str, Any]:
        records = outputs = 0
        total = 0.0
        with open(path, "rb") as f:
            for line in f:
                rec = json.loads(line)
                capture = rec["captureData"]
                data = capture["endpointInput"]["data"]
                row = [float(v) for v in data.split(",")]
                prediction = json.loads(capture["endpointOutput"]["data"])["probabilities"]
                total += row[0] + prediction[0]
                records += 1
                outputs += len(prediction)
        return {"records": records, "outputs": outputs, "checksum": total}

    return work


CONTENDERS: dict[str, Callable[..., Work]] = {
    "ours": ours,
    "pandas-scipy": pandas_scipy,
    "evidently": evidently,
    "capture-ours": capture_ours,
    "capture-stdlib": capture_stdlib,
}


PEERS = ("pandas-scipy", "evidently")
"""Contenders from the bench dependency group: skipped when it is not installed."""


def child(mode: str, paths: list[str]) -> dict[str, Any]:
    """In the fresh subprocess: imports (timed apart), the work (timed), the peak RSS."""
    start = time.perf_counter()
    try:
        work = CONTENDERS[mode](*paths)
    except ImportError as exc:
        if mode not in PEERS:
            raise
        return {"skipped": f"{SKIPPED}: {exc}"}
    imported = time.perf_counter()
    import_rss = own_status("VmRSS")
    result = work()
    done = time.perf_counter() - float(result.pop("untimed_s", 0.0))
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "import_s": imported - start,
        "work_s": done - imported,
        "peak_bytes": own_status("VmHWM") or maxrss,
        "maxrss_bytes": maxrss,
        "import_rss_bytes": import_rss,
        "result": result,
    }


def own_status(key: str) -> int | None:
    """Bytes of a ``/proc/self/status`` figure (Linux): ``VmHWM`` is this process's peak
    resident set since its exec, ``VmRSS`` its resident set now; None elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(f"{key}:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def spawn(mode: str, *paths: Path) -> dict[str, Any]:
    """One contender in a fresh process of this interpreter; its JSON report."""
    command = [sys.executable, "-m", "benchmarks.drift", "--child", mode, *map(str, paths)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT, env=env
    )
    process_s = time.perf_counter() - started
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{mode} exited {done.returncode}: {tail[0][:200]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["process_s"] = process_s
    return report


# ---------------------------------------------------------------------------- report


def _mib(value: float) -> str:
    return f"{value / 2**20:.0f} MiB"


def _runs(n: int) -> str:
    return f"{n} run" if n == 1 else f"{n} runs"


def _names(drifted: list[str]) -> str:
    return ", ".join(drifted) if drifted else "none"


class Runs:
    """A contender's reports over the rounds (or why it was skipped)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.reports: list[dict[str, Any]] = []
        self.skipped: str | None = None

    def add(self, report: dict[str, Any]) -> None:
        if "skipped" in report:
            self.skipped = str(report["skipped"])
        else:
            self.reports.append(report)

    @property
    def ran(self) -> bool:
        return bool(self.reports)

    def times(self) -> list[float]:
        return [float(r["work_s"]) for r in self.reports]

    def wall(self) -> float:
        return median(self.times())

    def peaks(self) -> list[float]:
        return [float(r["peak_bytes"]) for r in self.reports]

    def peak(self) -> float:
        return max(self.peaks())

    def peak_range(self) -> str:
        low, high = min(self.peaks()) / 2**20, self.peak() / 2**20
        return f"{high:.0f} MiB" if len(self.reports) == 1 else f"{low:.0f}-{high:.0f} MiB"

    def imports(self) -> float:
        return median([float(r["import_s"]) for r in self.reports])

    def import_rss(self) -> str:
        """Resident set right after the imports (median), or "" where unknown."""
        sizes = [r.get("import_rss_bytes") for r in self.reports]
        known = [float(v) for v in sizes if v]
        return f", {median(known) / 2**20:.0f} MiB" if known else ""

    def drifted(self) -> list[str]:
        """The first round's set; ``consistent`` says whether every round agreed."""
        return list(self.reports[0]["result"]["drifted"])

    def consistent(self) -> bool:
        return all(
            r["result"]["drifted"] == self.reports[0]["result"]["drifted"] for r in self.reports
        )

    def skip_text(self) -> str:
        return SKIPPED if self.skipped else "-"


def _speed_row(size: str, mine: Runs, peer: Runs, goal: float, goal_text: str) -> Row:
    """Wall time, ours over ``peer``; ``goal`` 1.0 means strictly faster."""
    figure = f"drift job wall time, {size}: ours vs {peer.label} (imports excluded)"
    if not peer.ran:
        return Row("drift", figure, seconds(mine.wall()), peer.skip_text(), goal=goal_text)
    ratio = mine.wall() / peer.wall()
    return Row(
        "drift",
        figure,
        seconds(mine.wall()),
        seconds(peer.wall()),
        ratio=f"{ratio:.2f}" if goal == 1.0 else ratio_against(ratio, goal),
        goal=goal_text,
        passed=ratio < goal if goal == 1.0 else ratio <= goal,
        noise=f"ours {spread(mine.times())}; {peer.label} {spread(peer.times())}",
        values={"ours_s": mine.times(), "peer_s": peer.times()},
    )


def _memory_row(mine: Runs, peer: Runs, goal: float | None) -> Row:
    """Peak memory, ours over ``peer``; informational when ``goal`` is None."""
    figure = f"drift job peak memory (the process's VmHWM, imports included): ours vs {peer.label}"
    goal_text = "-" if goal is None else f"≤ {goal:.2f} (1/5)"
    if not peer.ran:
        return Row("drift", figure, _mib(mine.peak()), peer.skip_text(), goal=goal_text)
    ratio = mine.peak() / peer.peak()
    return Row(
        "drift",
        figure,
        _mib(mine.peak()),
        _mib(peer.peak()),
        ratio=f"{ratio:.2f}" if goal is None else ratio_against(ratio, goal),
        goal=goal_text,
        passed=None if goal is None else ratio <= goal,
        noise=f"largest run; ours {mine.peak_range()}, {peer.label} {peer.peak_range()}",
        values={"ours_bytes": mine.peaks(), "peer_bytes": peer.peaks()},
    )


def _agreement_row(mine: Runs, peer: Runs) -> Row:
    """A peer's drifted set against ours (and whether it is the shifted set)."""
    figure = f"drifted features: {peer.label} vs ours"
    if not peer.ran:
        return Row("drift", figure, _names(mine.drifted()), peer.skip_text(), goal="equal")
    correct = peer.drifted() == sorted(SHIFTED)
    return Row(
        "drift",
        figure,
        _names(mine.drifted()),
        _names(peer.drifted()) + (" ✓" if correct else " ✗ (not the shifted set)"),
        goal="equal",
        passed=peer.drifted() == mine.drifted() and peer.consistent(),
        noise=_runs(len(peer.reports)) + ("" if peer.consistent() else ", rounds differ"),
        values={"peer": peer.drifted()},
    )


def drift_rows(rows: int, mine: Runs, evidently_runs: Runs, pandas_runs: Runs) -> list[Row]:
    size = f"{rows:,} + {rows:,} rows × {NUMERIC + CATEGORICAL} features"
    known = sorted(SHIFTED)
    correct = mine.drifted() == known and mine.consistent()
    peers = [r for r in (evidently_runs, pandas_runs) if r.ran]
    return [
        _speed_row(size, mine, evidently_runs, SPEED_GOAL, f"≤ {SPEED_GOAL:.2f} (≥ 10× faster)"),
        _speed_row(size, mine, pandas_runs, 1.0, "< 1 (faster)"),
        _memory_row(mine, evidently_runs, MEMORY_GOAL),
        _memory_row(mine, pandas_runs, None),
        Row(
            "drift",
            f"drifted features: ours vs the {len(known)} shifted ones",
            _names(mine.drifted()) + (" ✓" if correct else " ✗"),
            _names(known),
            goal="equal",
            passed=correct,
            noise=_runs(len(mine.reports)) + ("" if mine.consistent() else ", rounds differ"),
            values={"ours": mine.drifted(), "shifted": known},
        ),
        _agreement_row(mine, evidently_runs),
        _agreement_row(mine, pandas_runs),
        Row(
            "drift",
            "imports, not in the times above: ours vs "
            + (" / ".join(r.label for r in peers) or "the peers"),
            seconds(mine.imports()) + mine.import_rss(),
            " / ".join(seconds(r.imports()) + r.import_rss() for r in peers) or SKIPPED,
            noise="medians; MiB: resident set after the imports",
            values={r.label: r.imports() for r in (mine, *peers)},
        ),
    ]


def capture_row(records: int, mine: Runs, stdlib: Runs) -> Row:
    rate = [records / t for t in mine.times()]
    base = [records / t for t in stdlib.times()]
    counted = {r["result"]["records"] for r in mine.reports + stdlib.reports}
    ok = counted == {records}
    return Row(
        "drift",
        f"capture JSON Lines parsing, {records:,} records × {CAPTURE_FEATURES} features + "
        "output: ours (tables.read + Profile) vs stdlib json.loads loop",
        f"{median(rate):,.0f} rec/s",
        f"{median(base):,.0f} rec/s",
        ratio=f"{median(rate) / median(base):.2f}",
        passed=None if ok else False,
        goal="-" if ok else f"all {records} records read",
        noise=f"ours {spread(rate)}; stdlib {spread(base)}"
        + ("" if ok else f"; records read {sorted(counted)}"),
        values={"ours_per_s": rate, "stdlib_per_s": base},
    )


MAX_CAPTURE_GROWTH = 1.10
"""Peak memory reading ten times the capture records: at most this much more (O(1) in rows)."""


def capture_memory_row(records: int, small: Runs, large: Runs) -> Row:
    ratio = large.peak() / small.peak()
    mib_large, mib_small = large.peak() / 2**20, small.peak() / 2**20
    passed = ratio <= MAX_CAPTURE_GROWTH and mib_large <= 1024
    return Row(
        "drift",
        f"peak memory reading {records:,} capture records vs {records // 10:,} (memory is "
        "O(features × sketch), not O(records): 10M records fit in 1 GiB)",
        f"{mib_large:.0f} MiB",
        f"{mib_small:.0f} MiB",
        ratio=f"{ratio:.2f}",
        passed=passed,
        goal=f"≤ {MAX_CAPTURE_GROWTH:.2f} and ≤ 1024 MiB",
        noise=f"{records:,}: {large.peak_range()}; {records // 10:,}: {small.peak_range()}",
        values={"large_mib": large.peaks(), "small_mib": small.peaks()},
    )


def run(repeat: int, rows: int = ROWS) -> list[Row]:
    """``repeat`` rounds of ours and pandas + scipy (alternating which goes first), one
    Evidently run; then ``repeat`` rounds of the capture pair."""
    mine, pandas_runs = Runs("ours"), Runs("pandas + scipy")
    evidently_runs = Runs("Evidently DataDriftPreset")
    capture_mine, capture_base = Runs("ours"), Runs("stdlib")
    capture_small = Runs("ours, a tenth")
    records = max(1000, rows // 2)
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        reference, current = Path(tmp, "reference.csv"), Path(tmp, "current.csv")
        capture = Path(tmp, "capture.jsonl")
        capture_tenth = Path(tmp, "capture-tenth.jsonl")
        write_csv(reference, rows, current=False)
        write_csv(current, rows, current=True)
        write_capture(capture, records)
        write_capture(capture_tenth, records // 10)
        evidently_runs.add(spawn("evidently", reference, current))
        for i in range(repeat):
            pair = [(mine, "ours"), (pandas_runs, "pandas-scipy")]
            for runs, mode in pair if i % 2 == 0 else pair[::-1]:
                runs.add(spawn(mode, reference, current))
        for i in range(repeat):
            pair = [(capture_mine, "capture-ours"), (capture_base, "capture-stdlib")]
            for runs, mode in pair if i % 2 == 0 else pair[::-1]:
                runs.add(spawn(mode, capture))
            capture_small.add(spawn("capture-ours", capture_tenth))
    rows_out = drift_rows(rows, mine, evidently_runs, pandas_runs)
    rows_out.append(capture_row(records, capture_mine, capture_base))
    rows_out.append(capture_memory_row(records, capture_small, capture_mine))
    return rows_out


def profile(rows: int) -> str:
    """cProfile of ours (baseline and drift run) in this process on generated files."""
    import cProfile
    import io
    import pstats

    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        reference, current = Path(tmp, "reference.csv"), Path(tmp, "current.csv")
        write_csv(reference, rows, current=False)
        write_csv(current, rows, current=True)
        work = ours(str(reference), str(current))
        profiler = cProfile.Profile()
        profiler.enable()
        work()
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(30)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.drift", description=__doc__)
    parser.add_argument("--rows", type=int, default=ROWS, help=f"rows per file (default {ROWS})")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--profile", action="store_true", help="cProfile ours instead")
    parser.add_argument("--child", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows < 1000 or args.repeat < 1:
        parser.error("--rows must be at least 1000 and --repeat at least 1")
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1:])))
        return 0
    if args.profile:
        print(profile(args.rows), file=sys.stderr)
        return 0
    from benchmarks._report import render

    table = run(args.repeat, rows=args.rows)
    print(render(table))
    return 0 if all(r.passed is not False for r in table) else 1


if __name__ == "__main__":
    sys.exit(main())
