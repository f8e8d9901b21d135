"""Plan overhead: the platform for N endpoints under Pulumi's mock runtime, against a flat program.

*Ours* is the path ``mlops plan`` takes: a stack file (``stacks/Pulumi.prod.yaml`` with its
one endpoint copied N times under new names) read and validated into ``EnvironmentConfig``,
then ``stacks.program.main()`` (``MLOpsPlatform`` and its components) run by
``stacks.offline.run_offline`` under ``PlatformMocks``.

*Baseline* is a flat program generated from the resources that same run recorded: every
custom resource registered directly as ``pulumi.CustomResource(type, name, inputs)`` with
the recorded (resolved) inputs, no components, the same stack outputs exported as constants,
run by ``stacks.offline.run_program`` under a fresh ``PlatformMocks``. Both run in this
process, interleaved, median of the repeats. The benchmark checks that the flat program
registers exactly the same (type, name, inputs) as ours.
"""

from __future__ import annotations

import copy
import cProfile
import gc
import io
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._report import Row, median, seconds, spread

SIZES = (1, 10, 50)
RATIO_GOAL = 1.10
GROWTH_GOAL = 1.25
TEMPLATE_STACK = "prod"
REPO = Path(__file__).resolve().parents[1]


def stack_document(endpoints: int) -> dict[str, Any]:
    """``Pulumi.prod.yaml`` with its endpoint copied ``endpoints`` times (ep001, ep002, ...)."""
    import yaml

    document = yaml.safe_load((REPO / "stacks" / f"Pulumi.{TEMPLATE_STACK}.yaml").read_text())
    platform = document["config"]["mlops:platform"]
    template = platform["endpoints"][0]
    platform["endpoints"] = [
        {**copy.deepcopy(template), "name": f"ep{i:03d}"} for i in range(1, endpoints + 1)
    ]
    return dict(document)


def write_stacks(directory: Path, sizes: tuple[int, ...]) -> None:
    import yaml

    (directory / "Pulumi.yaml").write_text("name: mlops-stack\nruntime: python\n")
    for n in sizes:
        (directory / f"Pulumi.bench{n}.yaml").write_text(yaml.safe_dump(stack_document(n)))


def _key(resource: Any) -> tuple[str, str, str]:
    import json

    return resource.type, resource.name, json.dumps(resource.inputs, sort_keys=True)


class Case:
    """One N: ours (run_offline) and the flat program generated from ours' first run."""

    def __init__(self, n: int, stacks_dir: Path) -> None:
        self.n = n
        self.stack = f"bench{n}"
        self.stacks_dir = stacks_dir
        self.ours_times: list[float] = []
        self.flat_times: list[float] = []
        self.custom: list[Any] = []
        self.components = 0
        self.outputs: dict[str, Any] = {}
        self.region = ""
        self.project = ""
        self.same_resources: bool | None = None

    def run_ours(self) -> float:
        from stacks.offline import run_offline

        gc.collect()
        start = time.perf_counter()
        run = run_offline(self.stack, stacks_dir=self.stacks_dir)
        elapsed = time.perf_counter() - start
        if not self.custom:
            self.custom = [r for r in run.resources if r.custom]
            self.components = len(run.resources) - len(self.custom)
            self.outputs, self.region, self.project = run.outputs, run.region, run.project
        return elapsed

    def flat_program(self) -> Callable[[], None]:
        import pulumi

        resources = [(r.type, r.name, copy.deepcopy(r.inputs)) for r in self.custom]
        outputs = copy.deepcopy(self.outputs)

        def program() -> None:
            for type_, name, inputs in resources:
                pulumi.CustomResource(type_, name, dict(inputs))
            for key, value in outputs.items():
                pulumi.export(key, value)

        return program

    def run_flat(self) -> float:
        from stacks.offline import PlatformMocks, run_program

        program = self.flat_program()
        mocks = PlatformMocks()
        gc.collect()
        start = time.perf_counter()
        run_program(
            program,
            mocks=mocks,
            project=self.project,
            stack=self.stack,
            config={"aws:region": self.region},
        )
        elapsed = time.perf_counter() - start
        if self.same_resources is None:
            ours = sorted(_key(r) for r in self.custom)
            flat = sorted(_key(r) for r in mocks.resources)
            self.same_resources = ours == flat
        return elapsed

    def per_resource(self, times: list[float]) -> float:
        return median(times) / max(1, len(self.custom))


def measure(repeat: int) -> list[Case]:
    with tempfile.TemporaryDirectory(prefix="mlops-bench-") as tmp:
        directory = Path(tmp)
        write_stacks(directory, SIZES)
        cases = [Case(n, directory) for n in SIZES]
        for case in cases:  # warm-up: imports, pydantic schemas, the recorded resources
            case.run_ours()
            case.run_flat()
        for i in range(repeat):
            for case in cases:
                pair = (case.run_ours, case.run_flat)
                first, second = pair if i % 2 == 0 else pair[::-1]
                a, b = first(), second()
                ours, flat = (a, b) if i % 2 == 0 else (b, a)
                case.ours_times.append(ours)
                case.flat_times.append(flat)
        return cases


def rows(cases: list[Case]) -> list[Row]:
    out: list[Row] = []
    for case in cases:
        ours, flat = median(case.ours_times), median(case.flat_times)
        ratios = [o / f for o, f in zip(case.ours_times, case.flat_times, strict=True)]
        ratio = ours / flat
        same = "" if case.same_resources else " [flat program DIFFERS]"
        out.append(
            Row(
                benchmark="plan",
                figure=f"plan N={case.n} ({len(case.custom)} resources, "
                f"{case.components} components){same}",
                ours=seconds(ours),
                baseline=seconds(flat),
                ratio=f"{ratio:.2f}",
                goal=f"≤ {RATIO_GOAL:.2f}",
                passed=ratio <= RATIO_GOAL and bool(case.same_resources),
                noise=f"ours {spread(case.ours_times)}; flat {spread(case.flat_times)}; "
                f"ratio {min(ratios):.2f}-{max(ratios):.2f}",
                values={
                    "endpoints": case.n,
                    "resources": len(case.custom),
                    "components": case.components,
                    "ours_seconds": case.ours_times,
                    "flat_seconds": case.flat_times,
                    "same_resources": case.same_resources,
                },
            )
        )
    for case in cases:
        out.append(
            Row(
                benchmark="plan",
                figure=f"plan time per resource, N={case.n}",
                ours=f"{case.per_resource(case.ours_times) * 1000:.2f} ms",
                baseline=f"{case.per_resource(case.flat_times) * 1000:.2f} ms",
                ratio=f"{case.per_resource(case.ours_times) / case.per_resource(case.flat_times):.2f}",
                noise="see plan N=" + str(case.n),
                values={
                    "ours_ms": case.per_resource(case.ours_times) * 1000,
                    "flat_ms": case.per_resource(case.flat_times) * 1000,
                },
            )
        )
    small, large = cases[0], cases[-1]
    for label, times in (("ours", "ours_times"), ("flat", "flat_times")):
        at_small = small.per_resource(getattr(small, times))
        at_large = large.per_resource(getattr(large, times))
        growth = at_large / at_small
        out.append(
            Row(
                benchmark="plan",
                figure=f"per-resource growth N={large.n} vs N={small.n} ({label})",
                ours=f"{at_large * 1000:.2f} ms",
                baseline=f"{at_small * 1000:.2f} ms",
                ratio=f"{growth:.2f}",
                goal=f"≤ {GROWTH_GOAL:.2f}" if label == "ours" else "- (Pulumi's own)",
                passed=growth <= GROWTH_GOAL if label == "ours" else None,
                noise=f"N={large.n} {spread(getattr(large, times))}; "
                f"N={small.n} {spread(getattr(small, times))}",
                values={"growth": growth},
            )
        )
    return out


def run(repeat: int) -> list[Row]:
    return rows(measure(repeat))


def profile(n: int = 50, top: int = 30) -> str:
    """cProfile of one ``run_offline`` for ``n`` endpoints (after a warm-up run)."""
    with tempfile.TemporaryDirectory(prefix="mlops-bench-") as tmp:
        directory = Path(tmp)
        write_stacks(directory, (n,))
        case = Case(n, directory)
        case.run_ours()
        profiler = cProfile.Profile()
        profiler.enable()
        case.run_ours()
        profiler.disable()
        case.run_flat()
        flat = cProfile.Profile()
        flat.enable()
        case.run_flat()
        flat.disable()
    text = io.StringIO()
    for title, prof in (("ours", profiler), ("flat", flat)):
        text.write(f"==== {title}: N={n}, by cumulative time ====\n")
        pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(top)
        text.write(f"==== {title}: N={n}, by own time ====\n")
        pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(top)
    return text.getvalue()
