"""What a rule is, what it sees and what it reports.

A :class:`Rule` judges one resource's properties; a :class:`StackRule` judges the
whole plan (S3 in pulumi-aws v7 spreads one bucket over several resources joined by
their ``bucket`` input). Both carry the checkov id they correspond to and decide
their enforcement level per environment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from components.tags import REQUIRED_TAGS

Level = Literal["mandatory", "advisory", "unknown"]
"""``unknown``: the rule needs a value that only apply will know ("cannot check until apply")."""

PROD = "prod"


@dataclass(frozen=True)
class Violation:
    """One failed (or not yet checkable) rule on one resource."""

    policy: str
    resource: str
    level: Level
    message: str
    checkov_id: str | None


@dataclass(frozen=True)
class Context:
    """What a rule may know besides the resource: the environment and how to read the plan."""

    environment: str
    required_tags: tuple[str, ...] = REQUIRED_TAGS
    default_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags the provider adds to every resource (``defaultTags``), merged before the tag check."""
    missing_is_unknown: bool = True
    """Treat an absent reference (key ARN, bucket id) as unknown: true for mock plans, which
    drop unresolved outputs; false under the Pulumi engine, which sends unknowns explicitly."""
    resource_type: str = ""
    """The type of the resource being checked (set per resource by the runners)."""
    account_id: str | None = None
    """The stack's own AWS account. ``None``: unknown, and every account a policy names
    counts as another one (strict; see ``policies/README.md``, "Facts")."""
    trusted_accounts: tuple[str, ...] = ()
    """Other accounts resource policies may open to (``registry.cross_account_ids``, the
    promotion targets). Never a reason to trust a role to them."""
    name_prefix: str | None = None
    """``<project>-<environment>`` (``components.naming.prefix``): this environment's
    roles are named ``<name_prefix>-...``. ``None``: unknown (iam:PassRole must still name
    role ARNs without wildcards)."""

    @property
    def is_prod(self) -> bool:
        return self.environment == PROD

    def is_own_account(self, account: str) -> bool:
        return self.account_id is not None and account == self.account_id

    def may_be_granted(self, account: str) -> bool:
        """A resource policy may name ``account``: the stack's own, or a trusted one."""
        return self.is_own_account(account) or account in self.trusted_accounts


@dataclass(frozen=True)
class Resource:
    """A planned resource as the rules see it (plain data; ``key`` is unique in the plan)."""

    type: str
    name: str
    props: Mapping[str, Any]
    id: str | None = None
    state: Mapping[str, Any] = field(default_factory=dict)
    urn: str | None = None
    dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Property name → keys of the resources it was computed from (CrossGuard only)."""

    @property
    def key(self) -> str:
        return self.urn or f"{self.type}::{self.name}"


@dataclass(frozen=True)
class Finding:
    """A stack rule's verdict on one resource; ``unknown`` = cannot check until apply."""

    resource: Resource
    message: str
    unknown: bool = False


ResourceCheck = Callable[[Mapping[str, Any], Context], list[str]]
StackCheck = Callable[[Sequence[Resource], Context], list[Finding]]


def level_for(data_protection: bool, environment: str) -> Literal["mandatory", "advisory"]:
    """Mandatory in prod; data-protection rules are mandatory everywhere; the rest advise."""
    return "mandatory" if data_protection or environment == PROD else "advisory"


@dataclass(frozen=True)
class Rule:
    """A rule over one resource's inputs. ``check`` returns violation messages (empty = pass)
    and raises :class:`policies.values.CannotCheck` on a value unknown until apply."""

    id: str
    description: str
    checkov_id: str | None
    resource_types: frozenset[str]
    check: ResourceCheck
    data_protection: bool = False

    def applies_to(self, resource_type: str) -> bool:
        return resource_type in self.resource_types

    def level(self, environment: str) -> Literal["mandatory", "advisory"]:
        return level_for(self.data_protection, environment)


@dataclass(frozen=True)
class StackRule:
    """A rule over the whole plan, for properties spread over several resources."""

    id: str
    description: str
    checkov_id: str | None
    resource_types: frozenset[str]
    check: StackCheck
    data_protection: bool = False

    def level(self, environment: str) -> Literal["mandatory", "advisory"]:
        return level_for(self.data_protection, environment)
