"""The same rules as CrossGuard policies, for ``pulumi preview --policy-pack policies/``.

Nothing here runs at import: :func:`build_policies` makes the policy objects (cheap, and
what the tests call); :func:`serve` constructs the ``PolicyPack``, which starts the
analyzer's gRPC server and never returns (``policies/__main__.py`` calls it).

The enforcement level of each policy follows the environment, read once at start from
the stack's name (``PULUMI_STACK``), the same place the stack program binds it; any other
name → ``prod`` (the strictest). ``--policy-pack-config`` may still override a policy's level.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from policies.catalog import RULES, STACK_RULES
from policies.model import PROD, Context, Resource, Rule, StackRule
from policies.values import CannotCheck, plain

if TYPE_CHECKING:
    from pulumi_policy import (
        EnforcementLevel,
        Policy,
        PolicyResource,
        ReportViolation,
        ResourceValidationArgs,
        StackValidationArgs,
    )

PACK_NAME = "mlops-security-baseline"
KNOWN_ENVIRONMENTS = ("dev", "staging", "prod", "local")


def detect_environment(env: Mapping[str, str] | None = None) -> str:
    """The environment the analyzed stack belongs to: its stack's name (``PULUMI_STACK``),
    read exactly as the stack program reads it (``components.config.environment_of_stack``);
    any other name, or none, → ``prod`` (the strictest). The stack file's own
    ``environment:`` is never consulted: the program refuses a file that disagrees with its
    stack, and a pack that believed the file could be talked out of prod's rules."""
    from components.config import environment_of_stack

    env = os.environ if env is None else env
    bound = environment_of_stack(env.get("PULUMI_STACK") or "")
    return bound.value if bound is not None else PROD


def _description(rule: Rule | StackRule) -> str:
    return f"{rule.description} ({rule.checkov_id})" if rule.checkov_id else rule.description


def _enforcement(rule: Rule | StackRule, environment: str) -> EnforcementLevel:
    from pulumi_policy import EnforcementLevel

    if rule.level(environment) == "mandatory":
        return EnforcementLevel.MANDATORY
    return EnforcementLevel.ADVISORY


def _unknown(exc: CannotCheck) -> Exception:
    """Re-raise as pulumi_policy's UnknownValueError: the engine reports "can't run policy
    during preview" as an advisory diagnostic instead of a pass."""
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

    err = UnknownValueError(UNKNOWN_STRING_VALUE, exc.path.split("."))
    err.message = str(exc)
    return err


def _context(environment: str, resource_type: str = "") -> Context:
    # the engine sends unknowns explicitly, so an absent property really is unset
    return Context(environment, missing_is_unknown=False, resource_type=resource_type)


def resource_validator(rule: Rule, environment: str) -> Any:
    """``validate(args, report_violation)`` for a ResourceValidationPolicy."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not rule.applies_to(args.resource_type):
            return
        ctx = _context(environment, args.resource_type)
        try:
            messages = rule.check(plain(args.props), ctx)
        except CannotCheck as exc:
            raise _unknown(exc) from None
        for message in messages:
            report_violation(f"{args.name}: {message}", args.urn or None)

    return validate


def _as_resource(r: PolicyResource) -> Resource:
    dependencies = {
        prop: tuple(d.urn for d in deps) for prop, deps in (r.property_dependencies or {}).items()
    }
    return Resource(
        type=r.resource_type,
        name=r.name,
        props=plain(r.props),
        urn=r.urn,
        dependencies=dependencies,
    )


def stack_validator(rule: StackRule, environment: str) -> Any:
    """``validate(args, report_violation)`` for a StackValidationPolicy."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [_as_resource(r) for r in args.resources]
        unknown: list[str] = []
        for finding in rule.check(resources, _context(environment)):
            if finding.unknown:
                unknown.append(f"{finding.resource.name}: {finding.message}")
            else:
                report_violation(
                    f"{finding.resource.name}: {finding.message}", finding.resource.urn
                )
        if unknown:
            raise _unknown(CannotCheck("; ".join(unknown), "unknown until apply"))

    return validate


def build_policies(environment: str) -> list[Policy]:
    """Every rule as a CrossGuard policy with the environment's enforcement level."""
    from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

    policies: list[Policy] = [
        ResourceValidationPolicy(
            name=rule.id,
            description=_description(rule),
            validate=resource_validator(rule, environment),
            enforcement_level=_enforcement(rule, environment),
        )
        for rule in RULES
    ]
    policies += [
        StackValidationPolicy(
            name=rule.id,
            description=_description(rule),
            validate=stack_validator(rule, environment),
            enforcement_level=_enforcement(rule, environment),
        )
        for rule in STACK_RULES
    ]
    return policies


def serve(environment: str | None = None) -> None:  # pragma: no cover - starts a server
    """Construct the PolicyPack: starts the analyzer server and blocks forever."""
    from pulumi_policy import EnforcementLevel, PolicyPack

    env = environment or detect_environment()
    PolicyPack(
        name=PACK_NAME,
        policies=build_policies(env),
        enforcement_level=EnforcementLevel.ADVISORY,
        description=f"mlops-stack security baseline ({env} enforcement)",
    )
