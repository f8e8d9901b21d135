"""The plan benchmark's flat programs (``benchmarks/flat_program.py``) are the baselines the
plan-overhead goal is measured against: they must register exactly what the platform does,
and the hand-written one must take every value it cannot know up front from an Output."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from benchmarks import flat_program
from benchmarks.flat_program import Computed, Ref, Template
from benchmarks.plan import Case, write_stacks
from components.contract import CONTRACT_VERSION


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    directory: Path = tmp_path_factory.mktemp("stacks")
    write_stacks(directory, (2,))
    case = Case(2, directory)
    case.run_ours()  # records the resources and the dependencies ours declared
    return case


def _index(case: Case, type_suffix: str, name_suffix: str) -> int:
    (found,) = [
        i
        for i, r in enumerate(case.custom)
        if r.type.endswith(type_suffix) and r.name.endswith(name_suffix)
    ]
    return found


@pytest.mark.parametrize("kind", ["hand", "tree"])
def test_flat_programs_register_exactly_what_the_platform_registers(case: Case, kind: str) -> None:
    case.run_flat(kind)
    assert case.same[kind] is True


def test_ours_timed_runs_register_what_mlops_plan_registers(case: Case) -> None:
    """The timed runs hand the program the stack's config as the engine does (no YAML read):
    they must register exactly what the warm-up run through ``run_offline`` registered."""
    assert case.program_config["mlops:platform"].startswith("{")
    case.run_ours()
    assert case.same["ours"] is True


def test_hand_written_takes_what_it_cannot_know_from_outputs(case: Case) -> None:
    recorded = copy.deepcopy(case.custom)
    program = flat_program.hand_written(recorded, case.declared, copy.deepcopy(case.outputs))
    assert program.unreferenced == 0  # every dependency ours declared is a real reference
    key = _index(case, ":Key", "-key")
    policy = _index(case, ":RolePolicy", "ep001-policy")
    alarms = {_index(case, ":MetricAlarm", f"ep001-{a}") for a in ("5xx", "latency", "errors")}
    log_group = _index(case, ":LogGroup", "ep001-logs")
    security_group = _index(case, ":SecurityGroup", "-sg")

    # The endpoint role's policy names the key, its rollback alarms, its log group and the
    # VPC security group: computed from their Outputs (the key's ARN only, not also the key
    # id inside it; never the account or region, which every program knows).
    steps = _steps(recorded, case)
    planned = steps[policy]["policy"]
    assert isinstance(planned, Computed)
    assert set(planned.embeds) == {
        Ref(key, "arn"),
        Ref(log_group, "arn"),
        Ref(security_group, "arn"),
    } | {Ref(a, "arn") for a in alarms}
    # A bucket's encryption names the key: the ARN Output inside the rules.
    encryption = _index(case, ":BucketServerSideEncryptionConfiguration", "-data-encryption")
    assert isinstance(steps[encryption]["rules"], Template)
    assert steps[encryption]["bucket"] == Ref(_index(case, ":Bucket", "-data"), "id")


def _steps(recorded: list[Any], case: Case) -> list[dict[str, Any]]:
    """The planned inputs of each resource (what ``hand_written`` builds from)."""
    index_of = {(r.type, r.name): i for i, r in enumerate(recorded)}
    out = []
    for i, r in enumerate(recorded):
        spec = case.declared.get((r.type, r.name), flat_program.Declared())
        planned = {}
        for key, value in r.inputs.items():
            sources = [index_of[k] for k in spec.inputs.get(key, []) if index_of.get(k, i) < i]
            known = flat_program.context(case.outputs)
            produced = [flat_program.produced(recorded[j], j, known=known) for j in sources]
            candidates = {t: ref for p in produced for t, ref in p.items()}
            planned[key] = flat_program.referencing(value, candidates)[0] if candidates else value
        out.append(planned)
    return out


def test_computed_values_are_exported_from_outputs(case: Case) -> None:
    computed: dict[str, Ref] = {}
    known = flat_program.context(case.outputs)
    for i, r in enumerate(case.custom):
        for text, ref in flat_program.produced(r, i, known=known, computed_only=True).items():
            computed.setdefault(text, ref)
    key = _index(case, ":Key", "-key")
    planned, used = flat_program.referencing(case.outputs["kms_key_arn"], computed)
    assert planned == Ref(key, "arn") and used == {key}
    # Bucket names are the program's own choice: exported as they are.
    assert flat_program.referencing(case.outputs["buckets"], computed) == (
        case.outputs["buckets"],
        set(),
    )
    # The serving specs hold the roles' ARNs and the key's: taken from those Outputs.
    endpoints, used = flat_program.referencing(case.outputs["endpoints"], computed)
    assert isinstance(endpoints, Template)
    roles = [_index(case, ":Role", f"{ep}-role") for ep in ("ep001", "ep002")]
    assert [spec["execution_role_arn"] for spec in endpoints.value] == [
        Ref(r, "arn") for r in roles
    ]
    assert [spec["kms_key_arn"] for spec in endpoints.value] == [Ref(key, "arn")] * 2
    assert used >= {key, *roles}


def test_component_tree_registers_ours_components_parents_dependencies_and_outputs(
    case: Case,
) -> None:
    """The component-tree baseline differs from ours only in the code inside the components."""
    program = case.program("tree")
    with flat_program.recording_dependencies() as declared:
        case.run_flat("tree", program)
    assert case.same["tree"] is True
    assert _as_sets(declared) == _as_sets(case.declared)
    platform = next(d for (typ, _), d in declared.items() if typ == "mlops:platform:MLOpsPlatform")
    assert platform.parent is None and platform.custom is False
    assert platform.outputs == {
        "contract_version": CONTRACT_VERSION,
        "environment": "prod",
        "stack": "prod",
    }
    endpoint = next(
        d for (typ, name), d in declared.items() if typ.endswith("/role:Role") and "ep001" in name
    )
    assert endpoint.parent is not None and endpoint.parent[0] == "mlops:serving:GpuEndpoint"
    # The hand-written program is the same program without the components.
    with flat_program.recording_dependencies() as flat:
        case.run_flat("hand")
    assert all(d.parent is None and d.custom for d in flat.values())
    assert {k for k, d in declared.items() if d.custom} == set(flat)


def test_component_tree_constructs_in_ours_order_from_no_deeper_a_stack(case: Case) -> None:
    """Each empty component's constructor creates its children in ours' order, so every
    registration comes from a call stack as deep as ours' less ours' helpers: Pulumi's
    per-registration stack walk is part of what the components cost, not of what ours adds."""
    program = case.program("tree")
    with flat_program.recording_dependencies() as tree:
        case.run_flat("tree", program)

    def order(declared: dict[Any, flat_program.Declared]) -> list[Any]:
        return sorted(declared, key=lambda key: declared[key].constructed)

    assert order(tree) == order(case.declared)
    platform = next(k for k in tree if k[0] == "mlops:platform:MLOpsPlatform")
    endpoint = next(k for k in tree if k[0] == "mlops:serving:GpuEndpoint" and "ep001" in k[1])
    role = next(k for k in tree if k[0].endswith("/role:Role") and "ep001" in k[1])

    def depth(declared: dict[Any, flat_program.Declared]) -> dict[Any, int]:
        """Frames below the platform's registration (the harnesses above it differ)."""
        return {k: d.frames - declared[platform].frames for k, d in declared.items()}

    baseline, ours = depth(tree), depth(case.declared)
    assert tree[platform].frames > 0  # components' registrations walk the stack too
    assert [baseline[k] for k in (platform, endpoint, role)] == [0, 1, 2]  # nested as ours
    assert [ours[k] for k in (platform, endpoint, role)] == [0, 1, 2]
    assert all(baseline[k] <= ours[k] for k in tree), {k: (baseline[k], ours[k]) for k in tree}


def _as_sets(declared: dict[Any, flat_program.Declared]) -> dict[Any, Any]:
    """Dependencies as the engine treats them: sets (the runtime collects them unordered)."""
    return {
        key: (
            {name: frozenset(deps) for name, deps in d.inputs.items()},
            frozenset(d.depends_on),
            d.parent,
            d.custom,
            d.outputs,
        )
        for key, d in declared.items()
    }


def _timed_case(n: int, resources: int, ours: float, tree: float, hand: float = 0.0) -> Case:
    """A case with made-up timings (seconds per run) and ``resources`` custom resources."""
    timed = Case(n, Path("."))
    timed.custom = [object()] * resources
    timed.same = {"hand": True, "tree": True, "ours": True}
    for kind, value in (("ours", ours), ("tree", tree), ("hand", hand or tree)):
        timed.times[kind].extend([value] * 3)
    return timed


def _rows(cases: list[Case]) -> dict[str, Any]:
    from benchmarks.plan import rows

    return {row.figure: row for row in rows(cases)}


def _gated(cases: list[Case], n: int) -> Any:
    (row,) = [r for f, r in _rows(cases).items() if f.startswith(f"plan N={n} (")]
    return row


def test_the_gate_is_ours_over_the_empty_component_hierarchy_not_the_flat_program() -> None:
    # Ours 1.20x the flat program, of which the components alone are 1.09x: our code adds
    # 1.10x -> passes. Against the flat program it is informational.
    case = _timed_case(1, 50, ours=0.0600, tree=0.05455, hand=0.0500)
    row = _gated([case], 1)
    assert "empty component hierarchy" in row.figure
    assert (row.passed, row.ratio) == (True, "1.0999")
    flat = [r for f, r in _rows([case]).items() if "hand-written flat program" in f and "N=1 " in f]
    assert [r.passed for r in flat] == [None]
    assert flat[0].ratio == "1.20"
    # Our code adding 1.15x fails, however cheap components are.
    assert _gated([_timed_case(1, 50, ours=0.0575, tree=0.0500, hand=0.0500)], 1).passed is False


def test_growth_is_informational() -> None:
    cases = [_timed_case(1, 50, 0.060, 0.050), _timed_case(50, 500, 0.80, 0.70)]
    (row,) = [r for f, r in _rows(cases).items() if f.startswith("per-resource growth")]
    assert row.passed is None
    assert row.ratio == f"{(0.80 / 500 / (0.060 / 50)) / (0.70 / 500 / (0.050 / 50)):.2f}"


def test_plan_ratio_fails_when_ours_timed_runs_differ() -> None:
    case = _timed_case(1, 50, 0.050, 0.050)
    case.same["ours"] = False
    row = _gated([case], 1)
    assert "DIFFER" in row.figure
    assert row.passed is False


def test_plan_ratio_fails_when_the_component_tree_differs() -> None:
    case = _timed_case(1, 50, 0.050, 0.050)
    case.same["tree"] = False
    row = _gated([case], 1)
    assert "component tree DIFFERS" in row.figure
    assert row.passed is False


def test_a_ratio_just_over_the_goal_does_not_print_as_the_goal() -> None:
    def ratio_row(ours: float) -> tuple[str, bool | None]:
        row = _gated([_timed_case(10, 125, ours, 0.200)], 10)
        return row.ratio, row.passed

    # 1.1015 rounds to the goal's "1.10" but fails it: more decimals say why.
    assert ratio_row(0.2203) == ("1.101", False)
    assert ratio_row(0.2198) == ("1.099", True)
    assert ratio_row(0.22008) == ("1.1004", False)
    assert ratio_row(0.2100) == ("1.05", True)


def test_small_plans_run_more_pairs_alternating_which_goes_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """N=1 and N=10 are cheap and the noisiest: more back-to-back rounds, in both orders."""
    from benchmarks import plan

    order: list[tuple[int, str]] = []

    def timed(kind: str) -> Any:
        def run(self: Case, *args: Any, **kwargs: Any) -> float:
            order.append((self.n, kind if kind != "flat" else args[0]))
            return 0.1

        return run

    for kind in ("ours", "flat"):
        monkeypatch.setattr(Case, f"run_{kind}", timed(kind))
    cases = plan.measure(3)
    assert {c.n: len(c.times["ours"]) for c in cases} == {1: 12, 10: 6, 50: 3}
    assert all(len(c.times["hand"]) == len(c.times["ours"]) == len(c.times["tree"]) for c in cases)
    rounds = [kind for n, kind in order if n == 1][3:]  # after the warm-up
    assert rounds[:6] == ["ours", "tree", "hand", "hand", "tree", "ours"]
