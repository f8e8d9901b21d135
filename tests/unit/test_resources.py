"""``components._resources.resolved`` / ``json_output``: documents holding Outputs, resolved
without ``Output.from_input``'s per-node Outputs but with its meaning (values, secrets, unknowns)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pulumi

from components._resources import derived, gathered, json_output, resolved
from components.contract import CapacitySpec
from tests.unit.mocking import resolve


async def _value(value: Any) -> Any:
    return value


def _output(
    value: Any, *, known: bool = True, secret: bool = False, depends: set[Any] | None = None
) -> pulumi.Output[Any]:
    return pulumi.Output(_value(depends or set()), _value(value), _value(known), _value(secret))


def _facts(out: pulumi.Output[Any]) -> pulumi.Output[dict[str, Any]]:
    """The Output's value (None when unknown), known and secret, as one plain Output."""

    async def gather() -> dict[str, Any]:
        known, secret = await out.is_known(), await out.is_secret()
        value = await out.future(with_unknowns=True)
        return {"value": value if known else None, "known": known, "secret": secret}

    return pulumi.Output.from_input(asyncio.ensure_future(gather()))


def test_outputs_anywhere_inside_are_replaced_by_their_values() -> None:
    model = CapacitySpec(type="INSTANCE_COUNT", value=1)
    document = {
        "a": _output("arn:aws:kms:eu-west-1:123456789012:key/k"),
        "nested": {"list": [1, _output("two"), {"deep": _output(3)}], "tuple": ("x", _output("y"))},
        "model": model,
        "plain": {"k": "v"},
    }
    facts = resolve(lambda: _facts(resolved(document)))
    assert facts == {
        "value": {
            "a": "arn:aws:kms:eu-west-1:123456789012:key/k",
            "nested": {"list": [1, "two", {"deep": 3}], "tuple": ("x", "y")},
            "model": model,
            "plain": {"k": "v"},
        },
        "known": True,
        "secret": False,
    }
    # Models are values, not unwrapped (the platform exports them via one dump per field).
    assert facts["value"]["model"] is model


def test_without_outputs_the_document_is_known_as_is() -> None:
    facts = resolve(lambda: _facts(resolved({"Version": "2012-10-17", "Statement": []})))
    assert facts == {
        "value": {"Version": "2012-10-17", "Statement": []},
        "known": True,
        "secret": False,
    }


def test_a_secret_inside_makes_the_whole_document_secret() -> None:
    facts = resolve(lambda: _facts(resolved({"a": "1", "b": [_output("s", secret=True)]})))
    assert facts == {"value": {"a": "1", "b": ["s"]}, "known": True, "secret": True}


def test_an_unknown_inside_makes_the_whole_document_unknown() -> None:
    facts = resolve(lambda: _facts(resolved({"a": "1", "b": _output(None, known=False)})))
    assert facts == {"value": None, "known": False, "secret": False}


def test_json_output_dumps_the_resolved_document_in_insertion_order() -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Resource": _output("arn:x"), "Sid": "A"}]}
    text = resolve(lambda: pulumi.Output.from_input(json_output(document)))
    assert text == '{"Version": "2012-10-17", "Statement": [{"Resource": "arn:x", "Sid": "A"}]}'
    assert json.loads(text)["Statement"][0]["Resource"] == "arn:x"


def test_derived_computes_right_away_when_nothing_inside_is_an_output() -> None:
    # No Output to resolve: the plain result (the engine has nothing to wait for).
    assert derived({"a": [1, ("x",)]}, json.dumps) == '{"a": [1, ["x"]]}'


def test_derived_waits_for_the_outputs_inside() -> None:
    def build() -> pulumi.Output[dict[str, Any]]:
        out = derived({"a": _output("arn:x", secret=True)}, lambda d: d["a"].upper())
        assert isinstance(out, pulumi.Output)
        return _facts(out)

    assert resolve(build) == {"value": "ARN:X", "known": True, "secret": True}


def _with_dependencies(out: pulumi.Output[Any]) -> pulumi.Output[tuple[dict[str, Any], list[str]]]:
    """``_facts`` and the names of the Output's dependencies (sorted)."""

    async def gather() -> tuple[dict[str, Any], list[str]]:
        facts = await _facts(out).future()
        assert facts is not None
        return facts, sorted(str(r) for r in await out.resources())

    return pulumi.Output.from_input(asyncio.ensure_future(gather()))


def test_gathered_gives_the_values_in_order() -> None:
    facts = resolve(
        lambda: _facts(gathered([_output("a"), _output(["b", "c"]), _output({"d": 1})]))
    )
    assert facts == {"value": ("a", ["b", "c"], {"d": 1}), "known": True, "secret": False}
    assert resolve(lambda: _facts(gathered([]))) == {"value": (), "known": True, "secret": False}


def test_gathered_is_secret_when_any_value_is() -> None:
    facts = resolve(lambda: _facts(gathered([_output("a"), _output("s", secret=True)])))
    assert facts == {"value": ("a", "s"), "known": True, "secret": True}


def test_gathered_unknown_value_makes_it_unknown_with_every_dependency() -> None:
    """As in a preview: the first value is unknown; the later Outputs still count as
    dependencies (the resource taking the Output waits for all of them)."""
    facts, depends = resolve(
        lambda: _with_dependencies(
            gathered(
                [
                    _output(None, known=False, depends={"first"}),
                    _output("b", depends={"second"}),
                    _output(["c"], depends={"third"}),
                ]
            )
        )
    )
    assert facts == {"value": None, "known": False, "secret": False}
    assert depends == ["first", "second", "third"]

    facts, depends = resolve(
        lambda: _with_dependencies(
            gathered([_output("a", depends={"first"}), _output(None, known=False)])
        )
    )
    assert (facts["known"], depends) == (False, ["first"])


def test_gathered_makes_one_output_per_value_where_output_all_makes_two() -> None:
    made: list[int] = []
    original = pulumi.Output._from_data

    def counting(data: Any) -> pulumi.Output[Any]:
        made.append(1)
        return original(data)

    def count(combine: Any) -> int:
        made.clear()
        pulumi.Output._from_data = counting  # type: ignore[method-assign]
        try:
            resolve(lambda: combine([_output(v) for v in ("a", "b", "c", "d")]))
        finally:
            pulumi.Output._from_data = original  # type: ignore[method-assign]
        return len(made)

    harness = count(lambda outs: outs[0])
    assert count(gathered) - harness == 4
    assert count(lambda outs: pulumi.Output.all(*outs)) - harness >= 2 * 4


def test_components_declare_their_attributes_for_type_checkers_only() -> None:
    """Pulumi reads a resource class's run-time annotations as its output property types and
    re-evaluates them (``typing.get_type_hints``) on every registration of the class."""
    import importlib
    import inspect
    import pkgutil

    from pulumi._types import resource_types

    import components

    classes = {
        cls
        for info in pkgutil.iter_modules(components.__path__, "components.")
        for _, cls in inspect.getmembers(importlib.import_module(info.name), inspect.isclass)
        if issubclass(cls, pulumi.ComponentResource) and cls.__module__.startswith("components.")
    }
    assert {c.__name__ for c in classes} == {
        "ArtifactStore",
        "GpuEndpoint",
        "MLOpsPlatform",
        "ModelRegistry",
        "Monitoring",
        "PlatformKey",
        "TrainingCompute",
    }
    assert {c.__name__: resource_types(c) for c in classes} == {c.__name__: {} for c in classes}
    assert {c.__name__: inspect.get_annotations(c) for c in classes} == {
        c.__name__: {} for c in classes
    }
