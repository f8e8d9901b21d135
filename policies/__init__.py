"""The security baseline as code: rules shared by ``mlops plan`` and a CrossGuard policy pack.

Importing this package builds no ``PolicyPack`` (that starts a gRPC server): the rules
are plain data and pure functions. ``policies/__main__.py`` serves them to
``pulumi preview --policy-pack policies/``; ``mlops plan`` calls :func:`evaluate`.
"""

from __future__ import annotations

from policies import report
from policies.catalog import RULES, STACK_RULES, rule_ids
from policies.evaluate import PlannedLike, evaluate, has_mandatory
from policies.model import Context, Level, Resource, Rule, StackRule, Violation
from policies.values import UNKNOWN, CannotCheck, is_unknown

__all__ = [
    "RULES",
    "STACK_RULES",
    "UNKNOWN",
    "CannotCheck",
    "Context",
    "Level",
    "PlannedLike",
    "Resource",
    "Rule",
    "StackRule",
    "Violation",
    "evaluate",
    "has_mandatory",
    "is_unknown",
    "report",
    "rule_ids",
]
