"""Pulumi mocks shared by the component tests: record every resource, answer with the ARNs
AWS would return, refuse every invoke, and resolve the Output a test returns."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import pulumi

ACCOUNT = "123456789012"
REGION = "eu-west-1"

_ARNS = {
    "aws:sns/topic:Topic": "arn:aws:sns:{r}:{a}:{n}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "arn:aws:cloudwatch:{r}:{a}:alarm:{n}",
    "aws:cloudwatch/logGroup:LogGroup": "arn:aws:logs:{r}:{a}:log-group:{n}",
    "aws:cloudwatch/dashboard:Dashboard": "arn:aws:cloudwatch::{a}:dashboard/{n}",
    "aws:iam/role:Role": "arn:aws:iam::{a}:role/{n}",
}
_ID_IS_NAME = {"aws:iam/role:Role"}


class Recorder(pulumi.runtime.Mocks):
    """Records every resource; ARNs like AWS would return them (unless ``return_arns`` is off,
    as in a preview); any invoke is an error."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []
        self.return_arns = True

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        state = dict(args.inputs)
        physical = args.inputs.get("name") or args.inputs.get("dashboardName") or args.name
        template = _ARNS.get(args.typ)
        if template and self.return_arns:
            state["arn"] = template.format(r=REGION, a=ACCOUNT, n=physical)
        return (physical if args.typ in _ID_IS_NAME else f"{args.name}-id"), state

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        raise AssertionError(f"unexpected invoke {args.token}")

    def of_type(self, typ: str) -> list[pulumi.runtime.MockResourceArgs]:
        return [r for r in self.resources if r.typ == typ]

    def named(self, name: str) -> pulumi.runtime.MockResourceArgs:
        (found,) = [r for r in self.resources if r.name == name]
        return found


class Warnings(logging.Handler):
    """Collects the warnings the program logs (``pulumi.log.warn``)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


T = TypeVar("T")


def resolve(build: Callable[[], pulumi.Output[T]]) -> T:
    """Run ``build`` under the mocks, return its Output's value once every resource is registered.

    The Output is what the ``@pulumi.runtime.test`` function returns, so its apply really runs;
    the recorder is complete when this returns (the runtime waits for every registration).
    """
    box: dict[str, T] = {}

    @pulumi.runtime.test
    def program() -> pulumi.Output[None]:
        return build().apply(lambda value: box.__setitem__("value", value))

    program()
    assert "value" in box, "the Output never resolved"
    return box["value"]
