"""The same rules as CrossGuard policies, for ``pulumi preview --policy-pack policies/``.

Nothing here runs at import: :func:`build_policies` makes the policy objects (cheap, and
what the tests call); :func:`serve` constructs the ``PolicyPack``, which starts the
analyzer's gRPC server and never returns (``policies/__main__.py`` calls it).

The enforcement level of each policy follows the environment, read once at start from
the stack's name (``PULUMI_STACK``), the same place the stack program binds it; any other
name → ``prod`` (the strictest). ``--policy-pack-config`` may still override a policy's level.

The facts the IAM and resource-policy rules need (:class:`StackFacts`) come from what the
engine hands the pack: the stack's config (``PULUMI_CONFIG``, JSON) for the trusted
accounts (``mlops:platform`` → ``registry.cross_account_ids``) and the stack's own account
(``aws:allowedAccountIds``, when it lists exactly one), and ``PULUMI_PROJECT`` for the name
prefix. Whatever is absent or unreadable is unknown, and the rules are strict about it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class StackFacts:
    """What the rules may know about the analyzed stack besides its environment."""

    account_id: str | None = None
    trusted_accounts: tuple[str, ...] = ()
    name_prefix: str | None = None


_ACCOUNT = re.compile(r"^\d{12}$")


def _config_value(config: Mapping[str, Any], key: str) -> Any:
    """``ns:key`` (or the older ``ns:config:key``) from the engine's config, JSON decoded
    when it is a JSON text (structured values arrive as JSON strings)."""
    namespace, name = key.split(":", 1)
    value = config.get(key, config.get(f"{namespace}:config:{name}"))
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _accounts(value: Any) -> tuple[str, ...]:
    listed = value if isinstance(value, list) else []
    return tuple(str(a) for a in listed if _ACCOUNT.match(str(a)))


def detect_facts(environment: str, env: Mapping[str, str] | None = None) -> StackFacts:
    """:class:`StackFacts` from ``PULUMI_CONFIG`` and ``PULUMI_PROJECT``; absent → unknown."""
    from components.naming import prefix

    env = os.environ if env is None else env
    try:
        config = json.loads(env.get("PULUMI_CONFIG") or "{}")
    except json.JSONDecodeError:
        config = {}
    if not isinstance(config, Mapping):
        config = {}
    platform = _config_value(config, "mlops:platform")
    registry = platform.get("registry") if isinstance(platform, Mapping) else None
    trusted = _accounts(registry.get("cross_account_ids")) if isinstance(registry, Mapping) else ()
    allowed = _accounts(_config_value(config, "aws:allowedAccountIds"))
    project = env.get("PULUMI_PROJECT") or ""
    return StackFacts(
        account_id=allowed[0] if len(allowed) == 1 else None,
        trusted_accounts=trusted,
        name_prefix=prefix(project, environment) if project else None,
    )


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


def _context(environment: str, facts: StackFacts, resource_type: str = "") -> Context:
    # the engine sends unknowns explicitly, so an absent property really is unset
    return Context(
        environment,
        missing_is_unknown=False,
        resource_type=resource_type,
        account_id=facts.account_id,
        trusted_accounts=facts.trusted_accounts,
        name_prefix=facts.name_prefix,
    )


def resource_validator(rule: Rule, environment: str, facts: StackFacts | None = None) -> Any:
    """``validate(args, report_violation)`` for a ResourceValidationPolicy."""
    known = facts or StackFacts()

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not rule.applies_to(args.resource_type):
            return
        ctx = _context(environment, known, args.resource_type)
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


def stack_validator(rule: StackRule, environment: str, facts: StackFacts | None = None) -> Any:
    """``validate(args, report_violation)`` for a StackValidationPolicy."""
    known = facts or StackFacts()

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [_as_resource(r) for r in args.resources]
        unknown: list[str] = []
        for finding in rule.check(resources, _context(environment, known)):
            if finding.unknown:
                unknown.append(f"{finding.resource.name}: {finding.message}")
            else:
                report_violation(
                    f"{finding.resource.name}: {finding.message}", finding.resource.urn
                )
        if unknown:
            raise _unknown(CannotCheck("; ".join(unknown), "unknown until apply"))

    return validate


def build_policies(environment: str, facts: StackFacts | None = None) -> list[Policy]:
    """Every rule as a CrossGuard policy with the environment's enforcement level
    (``facts``: what is known about the stack; ``None`` → nothing, the strictest)."""
    from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

    policies: list[Policy] = [
        ResourceValidationPolicy(
            name=rule.id,
            description=_description(rule),
            validate=resource_validator(rule, environment, facts),
            enforcement_level=_enforcement(rule, environment),
        )
        for rule in RULES
    ]
    policies += [
        StackValidationPolicy(
            name=rule.id,
            description=_description(rule),
            validate=stack_validator(rule, environment, facts),
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
        policies=build_policies(env, detect_facts(env)),
        enforcement_level=EnforcementLevel.ADVISORY,
        description=f"mlops-stack security baseline ({env} enforcement)",
    )
