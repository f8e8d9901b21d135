"""The plan benchmark's baselines: flat pulumi_aws programs generated from what ours registered.

*Hand-written* is the program a person would write for the same
resources without any component: each resource created with its typed ``pulumi_aws`` class
and the recorded inputs, where a value only known once another resource exists is taken
from that resource's Output, as it must be in a real program:

- an input that *is* another resource's id or computed attribute is that Output
  (``bucket=data_bucket.id``, ``kms_key_id=key.arn``);
- an input that *embeds* one (a policy document naming a key ARN) is computed from those
  Outputs (``Output.all(key.arn, …).apply(…)``);
- which resources an input references is what ours' registration declared for that input
  (``propertyDependencies``), kept only where the reference is really there (the value
  contains that resource's id or computed attribute), and ours' explicit ``depends_on``
  orderings are kept too (a hand-written program needs them as much);
- stack outputs: a value the provider computes (an ARN, a key id, a repository URL) is
  exported from its Output, and a document embedding such values is computed from them.

*Component tree* is the hand-written program inside ours' component hierarchy: empty
``pulumi.ComponentResource`` subclasses with ours' types, names, parents and registered
outputs, each constructor creating its children (resources and components) in the order
ours constructed them and then registering its outputs, as ours' components do. A resource
is registered from as deep a call stack as in ours (program → platform → component →
resource), so Pulumi's per-registration stack walk sees the same depth. Against the
hand-written program it is what Pulumi itself charges for ours' component hierarchy;
against it (the gated baseline), ours is what our code inside the components adds.

The dependencies ours declared are captured by ``recording_dependencies()`` around one
untimed run of ours (the mock monitor sees the registration requests; Pulumi's ``Mocks``
interface does not).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, str]
"""(type token, resource name)."""

STACK_TYPE = "pulumi:pulumi:Stack"
MIN_EMBEDDED = 8
"""Shorter computed values are not looked for inside other values (no accidental matches)."""


def snake_case(key: str) -> str:
    """``modelPackageGroupName`` → ``model_package_group_name`` (pulumi_aws argument names)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def typed_class(token: str) -> Any:
    """``aws:cloudwatch/metricAlarm:MetricAlarm`` → ``pulumi_aws.cloudwatch.MetricAlarm``."""
    _, module, name = token.split(":")
    return getattr(importlib.import_module(f"pulumi_aws.{module.split('/')[0]}"), name)


# ------------------------------------------------------------------ ours' declared dependencies


@dataclass(frozen=True)
class Declared:
    """What ours' registration of one resource declared."""

    inputs: dict[str, list[Key]] = field(default_factory=dict)
    """Input (engine name) → the resources its value depends on."""
    depends_on: list[Key] = field(default_factory=list)
    """Explicit ``depends_on`` beyond the inputs' dependencies."""
    parent: Key | None = None
    """The component it was registered under (None: the stack)."""
    custom: bool = True
    """False for a component resource."""
    outputs: dict[str, Any] | None = None
    """A component's ``register_outputs`` values."""
    constructed: int = -1
    """Its place in the order ours' constructors ran (registrations reach the engine in
    another order: each waits for the Outputs it depends on)."""
    frames: int = 0
    """Frames in the registration's stack trace (Pulumi walks the stack at every one)."""


def _urn_key(urn: str) -> Key:
    """``urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>`` → (type, name)."""
    _, _, qualified_type, name = urn.split("::", 3)
    return qualified_type.rsplit("$", 1)[-1], name


@contextlib.contextmanager
def recording_dependencies() -> Iterator[dict[Key, Declared]]:
    """Within the block, every registration's declared dependencies, parent, constructor
    order and (components) registered outputs are recorded, in registration order."""
    import pulumi.resource as pulumi_resource
    from pulumi.runtime import mocks as pulumi_mocks
    from pulumi.runtime import rpc

    declared: dict[Key, Declared] = {}
    constructed: dict[Key, int] = {}
    monitor = pulumi_mocks.MockMonitor
    original_register, original_outputs = monitor.RegisterResource, monitor.RegisterResourceOutputs
    original_construct = pulumi_resource.register_resource

    def construct(res: Any, ty: str, name: str, *args: Any, **kwargs: Any) -> Any:
        constructed.setdefault((ty, name), len(constructed))
        return original_construct(res, ty, name, *args, **kwargs)

    def register(self: Any, request: Any) -> Any:
        if request.type == STACK_TYPE:  # the program's root, not one of its resources
            return original_register(self, request)
        inputs = {k: [_urn_key(u) for u in v.urns] for k, v in request.propertyDependencies.items()}
        in_inputs = {u for v in request.propertyDependencies.values() for u in v.urns}
        parent = _urn_key(request.parent) if request.parent else None
        declared[(request.type, request.name)] = Declared(
            inputs=inputs,
            depends_on=[_urn_key(u) for u in request.dependencies if u not in in_inputs],
            parent=None if parent is None or parent[0] == STACK_TYPE else parent,
            custom=bool(request.custom),
            constructed=constructed.get((request.type, request.name), -1),
            frames=len(request.stackTrace.frames),
        )
        return original_register(self, request)

    def register_outputs(self: Any, request: Any) -> Any:
        key = _urn_key(request.urn)
        if key in declared:
            outputs = dict(rpc.deserialize_properties(request.outputs))
            declared[key] = dataclasses.replace(declared[key], outputs=outputs)
        return original_outputs(self, request)

    monitor.RegisterResource = register  # type: ignore[method-assign]
    monitor.RegisterResourceOutputs = register_outputs  # type: ignore[method-assign]
    pulumi_resource.register_resource = construct
    try:
        yield declared
    finally:
        monitor.RegisterResource = original_register  # type: ignore[method-assign]
        monitor.RegisterResourceOutputs = original_outputs  # type: ignore[method-assign]
        pulumi_resource.register_resource = original_construct


# ------------------------------------------------------------------ references to other resources


@dataclass(frozen=True)
class Ref:
    """The Output ``attribute`` of the ``index``-th resource."""

    index: int
    attribute: str


@dataclass(frozen=True)
class Computed:
    """A value computed from the Outputs it embeds (``Output.all(*embeds).apply(…)``)."""

    value: Any
    embeds: tuple[Ref, ...]


@dataclass(frozen=True)
class Template:
    """A list or dict holding ``Ref``s somewhere inside."""

    value: Any


def produced(
    resource: Any, index: int, *, known: frozenset[str] = frozenset(), computed_only: bool = False
) -> dict[str, Ref]:
    """A resource's id and computed attributes (state the inputs did not set) → their Refs.

    ``known``: values the program knows up front and never takes from a resource (the
    account id, the region). ``computed_only`` also leaves out values the program chose
    itself (an id that is one of the resource's own inputs, like a bucket's name)."""
    own = {v for v in resource.inputs.values() if isinstance(v, str)} if computed_only else set()
    own |= known
    values: dict[str, Ref] = {}
    if isinstance(resource.id, str) and resource.id and resource.id not in own:
        values[resource.id] = Ref(index, "id")
    for key, value in resource.state.items():
        if key not in resource.inputs and isinstance(value, str) and value and value not in own:
            values.setdefault(value, Ref(index, snake_case(key)))
    return values


def referencing(value: Any, candidates: dict[str, Ref]) -> tuple[Any, set[int]]:
    """``value`` with references to ``candidates`` (their values → Refs, embedding → Computed),
    and the indices of the resources it references."""
    embeds: dict[Ref, None] = {}
    exact: list[Ref] = []

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            if v in candidates:
                exact.append(candidates[v])
                return candidates[v]
            found = [t for t in candidates if len(t) >= MIN_EMBEDDED and t in v]
            for text in found:
                # A key id inside the key's ARN: the program uses the ARN alone.
                if not any(text != other and text in other for other in found):
                    embeds[candidates[text]] = None
            return v
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        return v

    wired = walk(value)
    if exact and not isinstance(wired, Ref):
        wired = Template(wired)
    used = {r.index for r in exact} | {r.index for r in embeds}
    if embeds:
        return Computed(wired, tuple(embeds)), used
    return (wired if exact else value), used


Created = list[Any] | dict[int, Any]
"""The resources created so far, by their index in the recorded list."""


def build(value: Any, created: Created) -> Any:
    """Run time: a planned value with its references turned into the created resources' Outputs."""
    import pulumi

    if isinstance(value, Ref):
        return getattr(created[value.index], value.attribute)
    if isinstance(value, Template):
        return _fill(value.value, created)
    if isinstance(value, Computed):
        inner = value.value
        return pulumi.Output.all(*[build(r, created) for r in value.embeds]).apply(
            lambda _: build(inner, created)
        )
    return value


def _fill(value: Any, created: Created) -> Any:
    if isinstance(value, Ref):
        return getattr(created[value.index], value.attribute)
    if isinstance(value, list):
        return [_fill(x, created) for x in value]
    if isinstance(value, dict):
        return {k: _fill(x, created) for k, x in value.items()}
    return value


# ------------------------------------------------------------------ the programs


@dataclass
class FlatProgram:
    """A generated program and what its generation found."""

    run: Callable[[], None]
    references: int = 0
    """Inputs taken from (or computed from) another resource's Outputs."""
    unreferenced: int = 0
    """Dependencies ours declared whose value is not in the input (not copied)."""


def context(outputs: dict[str, Any]) -> frozenset[str]:
    """What any program for this stack knows before a resource exists: account and region."""
    return frozenset(str(outputs[k]) for k in ("account_id", "region") if outputs.get(k))


Step = tuple[Any, str, dict[str, Any], list[int], Key | None]
"""A resource to create: class, name, planned inputs, explicit dependencies, ours' parent."""


def hand_written(
    recorded: list[Any],
    declared: dict[Key, Declared],
    outputs: dict[str, Any],
    *,
    component_tree: bool = False,
) -> FlatProgram:
    """The hand-written flat program, or with ``component_tree`` the same program under ours'
    component resources (see the module docstring)."""
    import pulumi

    index_of = {(r.type, r.name): i for i, r in enumerate(recorded)}
    known = context(outputs)
    produced_by = [produced(r, i, known=known) for i, r in enumerate(recorded)]
    steps: list[Step] = []
    program = FlatProgram(run=lambda: None)
    for i, resource in enumerate(recorded):
        spec = declared.get((resource.type, resource.name), Declared())
        kwargs: dict[str, Any] = {}
        for key, value in resource.inputs.items():
            sources = [index_of[k] for k in spec.inputs.get(key, []) if index_of.get(k, i) < i]
            candidates = {t: r for j in sources for t, r in produced_by[j].items()}
            planned, used = referencing(value, candidates) if candidates else (value, set())
            program.references += bool(used)
            program.unreferenced += len(set(sources) - used)
            kwargs[snake_case(key)] = planned
        depends = [index_of[k] for k in spec.depends_on if index_of.get(k, i) < i]
        steps.append((typed_class(resource.type), resource.name, kwargs, depends, spec.parent))

    computed: dict[str, Ref] = {}
    for i, resource in enumerate(recorded):
        for text, ref in produced(resource, i, known=known, computed_only=True).items():
            computed.setdefault(text, ref)
    exports = {name: referencing(value, computed)[0] for name, value in outputs.items()}
    if component_tree:
        program.run = _in_component_tree(steps, recorded, declared, exports)
        return program

    def run() -> None:
        created: list[Any] = []
        for cls, name, kwargs, depends, _ in steps:
            opts = (
                pulumi.ResourceOptions(depends_on=[created[j] for j in depends])
                if depends
                else None
            )
            args = {k: build(v, created) for k, v in kwargs.items()}
            created.append(cls(name, **args, opts=opts))
        for name, value in exports.items():
            pulumi.export(name, build(value, created))

    program.run = run
    return program


def _in_component_tree(
    steps: list[Step], recorded: list[Any], declared: dict[Key, Declared], exports: dict[str, Any]
) -> Callable[[], None]:
    """The hand-written program's steps run inside ours' component hierarchy (see the module
    docstring): each component's constructor creates its children in ours' order."""
    import pulumi

    order: list[tuple[int, Key | int]] = [
        (d.constructed, key) for key, d in declared.items() if not d.custom
    ]
    order += [(declared[(r.type, r.name)].constructed, i) for i, r in enumerate(recorded)]
    children: dict[Key | None, list[Key | int]] = {}
    for position, item in sorted(order, key=lambda entry: entry[0]):
        parent = declared[item].parent if isinstance(item, tuple) else steps[item][4]
        if position < 0:
            raise ValueError(f"{item}: constructor order not recorded (recording_dependencies)")
        if parent is None and not isinstance(item, tuple):
            raise ValueError(f"{recorded[item].name}: a resource outside every component")
        children.setdefault(parent, []).append(item)
    registered = {key: d.outputs or {} for key, d in declared.items() if not d.custom}

    class Component(pulumi.ComponentResource):
        """One of ours' components with no code inside but creating its children."""

        def __init__(
            self, key: Key, opts: pulumi.ResourceOptions | None, created: dict[int, Any]
        ) -> None:
            super().__init__(key[0], key[1], None, opts)
            for child in children.get(key, []):
                if isinstance(child, tuple):
                    Component(child, pulumi.ResourceOptions(parent=self), created)
                    continue
                cls, name, kwargs, depends, _ = steps[child]
                options = pulumi.ResourceOptions(
                    parent=self, depends_on=[created[j] for j in depends] if depends else None
                )
                args = {k: build(v, created) for k, v in kwargs.items()}
                created[child] = cls(name, **args, opts=options)
            self.register_outputs(registered[key])

    def run() -> None:
        created: dict[int, Any] = {}
        for root in children.get(None, []):
            assert isinstance(root, tuple)
            Component(root, None, created)
        for name, value in exports.items():
            pulumi.export(name, build(value, created))

    return run
