"""The one place that makes AWS clients and turns their errors into ours.

Every client uses botocore's *standard* retry mode (throttling and transient 5xx are
retried with backoff within its budget, FAULTS 16), the stack's region, and
``AWS_ENDPOINT_URL`` when set (the local cloud). Past the budget a ``ClientError``
becomes an ``AwsCallFailed`` that names the call and the AWS reason.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from pipelines.errors import AwsCallFailed, MlopsError

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sts import STSClient

MAX_ATTEMPTS = 5
"""botocore standard mode: 1 call + 4 retries with exponential backoff and jitter."""

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ServiceUnavailable",
        "InternalFailure",
    }
)


def client_config(max_attempts: int = MAX_ATTEMPTS) -> Config:
    return Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=10,
        read_timeout=60,
        user_agent_extra="mlops-stack",
    )


def endpoint_url(env: dict[str, str] | None = None) -> str | None:
    """``AWS_ENDPOINT_URL`` (the local cloud) or None for real AWS."""
    value = (env if env is not None else os.environ).get("AWS_ENDPOINT_URL", "").strip()
    return value or None


def is_loopback(url: str | None) -> bool:
    if not url:
        return False
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Aws:
    """Cached clients for one region (and endpoint)."""

    region: str
    endpoint: str | None = None
    max_attempts: int = MAX_ATTEMPTS
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def for_region(cls, region: str) -> Aws:
        return cls(region=region, endpoint=endpoint_url())

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                # A session per client: boto3's default session is not thread-safe.
                session = boto3.session.Session()
                self._clients[service] = session.client(
                    service,  # type: ignore[call-overload]
                    region_name=self.region,
                    endpoint_url=self.endpoint,
                    config=client_config(self.max_attempts),
                )
            return self._clients[service]

    @property
    def sagemaker(self) -> SageMakerClient:
        return self.client("sagemaker")

    @property
    def s3(self) -> S3Client:
        return self.client("s3")

    @property
    def cloudwatch(self) -> CloudWatchClient:
        return self.client("cloudwatch")

    @property
    def autoscaling(self) -> ApplicationAutoScalingClient:
        return self.client("application-autoscaling")

    @property
    def sts(self) -> STSClient:
        return self.client("sts")

    @property
    def ecr(self) -> Any:
        return self.client("ecr")


# ------------------------------------------------------------------------ error helpers


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def error_message(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message", "")) or str(exc)
    return str(exc)


def is_not_found(exc: BaseException) -> bool:
    """SageMaker says 'not found' with a ValidationException ("Could not find …")."""
    code = error_code(exc)
    if code in {
        "ResourceNotFound",
        "ResourceNotFoundException",
        "NoSuchKey",
        "404",
        "NotFound",
        "NoSuchEntity",
        "ObjectNotFoundException",
    }:
        return True
    text = error_message(exc).lower()
    return code == "ValidationException" and ("could not find" in text or "not found" in text)


def is_update_conflict(exc: BaseException) -> bool:
    """UpdateEndpoint on an endpoint that is already updating (FAULTS 14)."""
    text = error_message(exc).lower()
    return error_code(exc) == "ValidationException" and (
        "in-progress" in text or "in progress" in text or "cannot update" in text
    )


def is_throttling(exc: BaseException) -> bool:
    if error_code(exc) in THROTTLING_CODES:
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return int(status or 0) >= 500
    return False


def describe_failure(action: str, exc: BaseException) -> str:
    """One sentence naming the call, the AWS code/message and, for throttling, the budget."""
    code = error_code(exc) or type(exc).__name__
    message = error_message(exc)
    if is_throttling(exc):
        return (
            f"{action}: AWS kept failing with {code} ({message}) after botocore's standard "
            f"retry budget ({MAX_ATTEMPTS} attempts); nothing further was changed - run it again"
        )
    return f"{action}: {code}: {message}"


@contextmanager
def aws_call(action: str) -> Iterator[None]:
    """Turn any ClientError/BotoCoreError not handled inside into ``AwsCallFailed``."""
    try:
        yield
    except MlopsError:
        raise
    except (ClientError, BotoCoreError) as exc:
        raise AwsCallFailed(describe_failure(action, exc)) from exc


def aws_lookup(action: str, call: Callable[..., Any], **params: Any) -> Any | None:
    """``call(**params)`` under ``aws_call``; None when AWS says the resource does not exist."""
    try:
        with aws_call(action):
            return call(**params)
    except AwsCallFailed as exc:
        if exc.__cause__ is not None and is_not_found(exc.__cause__):
            return None
        raise


def tag_list(tags: dict[str, str]) -> list[Any]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def tag_dict(tags: list[dict[str, str]] | list[Any]) -> dict[str, str]:
    return {str(t["Key"]): str(t["Value"]) for t in tags}
