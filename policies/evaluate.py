"""Run the rules over a plan: ``evaluate(resources, environment) -> list[Violation]``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from policies.arns import own_account_of
from policies.catalog import RULES, STACK_RULES
from policies.model import Context, Resource, Rule, StackRule, Violation
from policies.values import CannotCheck, plain


class PlannedLike(Protocol):
    """What a plan record needs (``stacks.offline.PlannedResource`` fits; ``id``/``state``
    are read when present)."""

    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def inputs(self) -> Mapping[str, Any]: ...


def as_resource(planned: PlannedLike) -> Resource:
    state = getattr(planned, "state", None)
    planned_id = getattr(planned, "id", None)
    return Resource(
        type=planned.type,
        name=planned.name,
        props=plain(planned.inputs or {}),
        id=planned_id if isinstance(planned_id, str) else None,
        state=plain(state) if isinstance(state, Mapping) else {},
    )


def run_rule(rule: Rule, resource: Resource, ctx: Context) -> list[Violation]:
    """One resource rule on one resource (nothing when the rule does not apply)."""
    if not rule.applies_to(resource.type):
        return []
    ctx = dataclasses.replace(ctx, resource_type=resource.type)
    try:
        messages = rule.check(resource.props, ctx)
    except CannotCheck as exc:
        return [Violation(rule.id, resource.name, "unknown", str(exc), rule.checkov_id)]
    level = rule.level(ctx.environment)
    return [Violation(rule.id, resource.name, level, m, rule.checkov_id) for m in messages]


def run_stack_rule(rule: StackRule, resources: list[Resource], ctx: Context) -> list[Violation]:
    level = rule.level(ctx.environment)
    return [
        Violation(
            rule.id,
            f.resource.name,
            "unknown" if f.unknown else level,
            f.message,
            rule.checkov_id,
        )
        for f in rule.check(resources, ctx)
    ]


def evaluate(
    resources: Iterable[PlannedLike],
    environment: str,
    *,
    default_tags: Mapping[str, str] | None = None,
    missing_is_unknown: bool = True,
    account_id: str | None = None,
    trusted_accounts: Iterable[str] = (),
    name_prefix: str | None = None,
) -> list[Violation]:
    """Every violation of the baseline in a planned stack, resource rules first.

    ``level`` is ``mandatory`` or ``advisory`` per the rule and ``environment``, or
    ``unknown`` when a value the rule needs is only known after apply ("cannot check
    until apply" — never a pass). ``missing_is_unknown`` (default, right for pulumi-mock
    plans) reads an absent reference such as a KMS key ARN as unknown; pass False for
    inputs where absent means "not set".

    The facts the IAM and resource-policy rules need besides the environment:
    ``account_id`` is the stack's own account (``None``: the one account the
    provider-computed ARNs in the plan's state name, if there is exactly one; else
    unknown, and then every account a policy names counts as another account);
    ``trusted_accounts`` are the other accounts resource policies may open to
    (``registry.cross_account_ids``); ``name_prefix`` is ``<project>-<environment>``
    (``components.naming.prefix``), which iam:PassRole's role names must start with.
    """
    planned = [as_resource(r) for r in resources]
    ctx = Context(
        environment=environment,
        default_tags=dict(default_tags or {}),
        missing_is_unknown=missing_is_unknown,
        account_id=account_id if account_id is not None else own_account_of(planned),
        trusted_accounts=tuple(trusted_accounts),
        name_prefix=name_prefix,
    )
    violations: list[Violation] = []
    for resource in planned:
        for rule in RULES:
            violations += run_rule(rule, resource, ctx)
    for stack_rule in STACK_RULES:
        violations += run_stack_rule(stack_rule, planned, ctx)
    return violations


def has_mandatory(violations: Iterable[Violation]) -> bool:
    """True when ``mlops plan`` must exit 1."""
    return any(v.level == "mandatory" for v in violations)
