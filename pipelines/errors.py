"""The errors the pipeline and the CLI raise, each with the exit code a CI stage acts on."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    """The operation ran and failed (training failed, gate not met, mandatory policy violated)."""
    BAD_INPUT = 2
    """Configuration, arguments or the outputs contract are wrong; nothing was changed."""
    ROLLED_BACK = 3
    """SageMaker rolled the update back; the endpoint serves the previous config."""
    NEEDS_OPERATOR = 4
    """Failed or UpdateRollbackFailed: a person must look; nothing was deleted."""
    TIMED_OUT = 5
    """Stopped waiting; the operation may still be running (the message says how to continue)."""
    CONFLICT = 6
    """Another update is in progress on the endpoint."""


class MlopsError(Exception):
    """Base class: ``exit_code`` is what `mlops` exits with."""

    exit_code: ExitCode = ExitCode.FAILED


class BadInput(MlopsError):
    exit_code = ExitCode.BAD_INPUT


class ContractError(BadInput):
    """The stack outputs are missing, from another stack, or of another contract version."""


class NotApproved(BadInput):
    """A deploy of a model package that is not Approved."""


class TrainingFailed(MlopsError):
    """The training job ended Failed or Stopped."""


class QualityGateFailed(MlopsError):
    """Metrics did not meet the environment's thresholds."""


class RolledBack(MlopsError):
    exit_code = ExitCode.ROLLED_BACK


class RolloutNeedsOperator(MlopsError):
    exit_code = ExitCode.NEEDS_OPERATOR


class WaitTimedOut(MlopsError):
    exit_code = ExitCode.TIMED_OUT


class UpdateInProgress(MlopsError):
    exit_code = ExitCode.CONFLICT


class LocalCloudUnavailable(MlopsError):
    """The local cloud is not installed or not running."""


class ArtifactMissing(BadInput):
    """A model package, training job or model artifact the command needs does not exist."""


class AwsCallFailed(MlopsError):
    """An AWS call failed after botocore's retry budget (throttling, 5xx) or was refused."""


class AuditWriteFailed(MlopsError):
    """The audit record could not be written; the action's outcome is in the message."""
