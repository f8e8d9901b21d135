"""What every pipeline operation works with: the contract, clients, clock, events, audit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from components.contract import StackOutputs
from components.tags import MANAGED_BY, STACK_TAG
from pipelines.audit import AuditLock, AuditTrail, caller_identity
from pipelines.aws import Aws, endpoint_url
from pipelines.clock import Clock, clock_for
from pipelines.console import Event

MANAGED_BY_VALUE = "mlops-pipeline"
PACKAGE_TAG = "mlops:model-package"
ENDPOINT_TAG = "mlops:endpoint"


def _ignore(_: Event) -> None:
    return None


@dataclass
class Context:
    outputs: StackOutputs
    aws: Aws
    clock: Clock
    audit: AuditTrail
    emit: Callable[[Event], None] = field(default=_ignore)

    @property
    def stack(self) -> str:
        return self.outputs.stack

    def tags(self, **extra: str) -> dict[str, str]:
        """Stack tags + ``mlops:stack`` + ``mlops:managed-by`` (+ ``extra``)."""
        return {
            **self.outputs.tags,
            STACK_TAG: self.outputs.stack,
            MANAGED_BY: MANAGED_BY_VALUE,
            **extra,
        }

    def event(self, kind: str, message: str, **fields: object) -> None:
        self.emit(Event(kind, message, dict(fields)))


def make_context(
    outputs: StackOutputs,
    emit: Callable[[Event], None] | None = None,
    *,
    clock: Clock | None = None,
    aws: Aws | None = None,
) -> Context:
    aws = aws or Aws(region=outputs.region, endpoint=endpoint_url())
    who = caller_identity(aws.sts)
    lock = outputs.audit_lock
    audit = AuditTrail(
        aws.s3,
        outputs.audit_s3_uri,
        outputs.stack,
        who,
        AuditLock(lock.mode, lock.retention_days) if lock is not None else None,
    )
    audit.check_lock()  # a trail promised Object Lock refuses to act without it
    return Context(
        outputs=outputs,
        aws=aws,
        clock=clock or clock_for(aws.endpoint),
        audit=audit,
        emit=emit or _ignore,
    )
