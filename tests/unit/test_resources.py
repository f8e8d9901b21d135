"""``components._resources.resolved`` / ``json_output``: documents holding Outputs, resolved
without ``Output.from_input``'s per-node Outputs but with its meaning (values, secrets, unknowns)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pulumi

from components._resources import derived, json_output, resolved
from components.contract import CapacitySpec
from tests.unit.mocking import resolve


async def _value(value: Any) -> Any:
    return value


def _output(value: Any, *, known: bool = True, secret: bool = False) -> pulumi.Output[Any]:
    return pulumi.Output(set(), _value(value), _value(known), _value(secret))


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
