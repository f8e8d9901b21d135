"""Small helpers the components share: the account/region context, resource options for
stateful resources, and values (JSON documents, specs) that may contain Outputs, combined
with one ``apply`` per Output inside."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi
import pulumi_aws as aws
from pulumi.output import contains_unknowns

from components.config import Retention, UnsafeConfig
from components.iam import partition_of

T = TypeVar("T")


@dataclass(frozen=True)
class AwsContext:
    """Where the stack deploys: plain strings, known at plan time (invokes run in preview)."""

    account_id: str
    region: str
    partition: str


def aws_context(
    account_id: str | None = None, region: str | None = None, partition: str | None = None
) -> AwsContext:
    """The given values, else ``aws.get_caller_identity()`` for the account and the stack's
    ``aws:region`` for the region (``aws.get_region()`` when that is not set, e.g. a region
    from the environment)."""
    if account_id is None:
        account_id = aws.get_caller_identity().account_id
    if region is None:
        region = pulumi.Config("aws").get("region") or aws.get_region().region
    return AwsContext(
        account_id=account_id, region=region, partition=partition or partition_of(region)
    )


@dataclass(frozen=True)
class Protection:
    """How stateful resources (key, buckets, repository, model package group) are kept."""

    protect: bool
    """`pulumi destroy` refuses to delete them until unprotected."""
    retain_on_delete: bool
    """Deleting them from the stack leaves the cloud resource in place."""

    @classmethod
    def of(cls, retention: Retention, unsafe: UnsafeConfig | None = None) -> Protection:
        """RETAIN → protect + retain_on_delete (``unsafe.unprotected_stateful`` drops protect);
        DESTROY → neither."""
        retain = retention is Retention.RETAIN
        unprotected = unsafe is not None and unsafe.unprotected_stateful
        return cls(protect=retain and not unprotected, retain_on_delete=retain)


def stateful_options(
    parent: pulumi.Resource | None, protection: Protection, **extra: Any
) -> pulumi.ResourceOptions:
    """Resource options for a stateful child (pure: tests check it, mocks cannot see options)."""
    return pulumi.ResourceOptions(
        parent=parent,
        protect=protection.protect,
        retain_on_delete=protection.retain_on_delete,
        **extra,
    )


def child_options(parent: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, **extra)


def resolved(value: Any) -> pulumi.Output[Any]:
    """``value`` (dicts, lists and tuples that may hold Outputs anywhere inside) as one Output
    of the same shape with every Output replaced by its value.

    Same result as ``Output.from_input(value)``, without its cost: that wraps every dict
    entry and list item in Outputs of its own (and re-checks each subtree for unknowns),
    where this awaits only the Outputs actually inside. Known, secret and dependencies
    follow the inner Outputs as with ``Output.all``.
    """
    inner: list[pulumi.Output[Any]] = []
    template = _holes(value, inner)
    return gathered(inner).apply(lambda values: _fill(template, values))


def derived(value: Any, func: Callable[[Any], T]) -> pulumi.Input[T]:
    """``func`` of ``value`` resolved (see ``resolved``): an Output when ``value`` holds
    Outputs, else ``func(value)`` computed right away (no Output to resolve)."""
    inner: list[pulumi.Output[Any]] = []
    template = _holes(value, inner)
    if not inner:
        return func(template)
    return gathered(inner).apply(lambda values: func(_fill(template, values)))


def gathered(outputs: Sequence[pulumi.Output[Any]]) -> pulumi.Output[Sequence[Any]]:
    """The values of ``outputs`` as one Output (known, secret and dependencies as with
    ``Output.all``), made of one ``apply`` per Output (``Output.all`` makes two per Output,
    and one more).

    Each ``apply`` runs with unknowns, so the dependencies of every Output are collected in a
    preview too; the values travel as a tuple, which the runtime does not search for unknowns
    at every step (a list would be searched once per Output). Unknown when any value is.
    """
    if not outputs:
        return pulumi.Output.from_input(())
    last = len(outputs) - 1

    def after(index: int, values: tuple[Any, ...]) -> pulumi.Output[Sequence[Any]]:
        def take(value: Any) -> Any:
            got = (*values, value)
            if index < last:
                return after(index + 1, got)
            # A list is searched for unknowns (once): an unknown value makes the Output unknown.
            return list(got) if any(contains_unknowns(v) for v in got) else got

        return outputs[index].apply(take, True)

    return after(0, ())


def json_output(value: Any) -> pulumi.Input[str]:
    """``json.dumps`` of a document that may hold Outputs anywhere inside (insertion order)."""
    return derived(value, json.dumps)


class _Hole:
    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def _holes(value: Any, inner: list[pulumi.Output[Any]]) -> Any:
    """``value`` with each Output replaced by a ``_Hole`` numbering it in ``inner``."""
    if isinstance(value, pulumi.Output):
        inner.append(value)
        return _Hole(len(inner) - 1)
    if isinstance(value, dict):
        return {k: _holes(v, inner) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_holes(v, inner) for v in value)
    return value


def _fill(template: Any, values: Sequence[Any]) -> Any:
    if isinstance(template, _Hole):
        return values[template.index]
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list | tuple):
        return type(template)(_fill(v, values) for v in template)
    return template


def tags_for(base: dict[str, str], **extra: str) -> dict[str, str]:
    return {**base, **extra}
