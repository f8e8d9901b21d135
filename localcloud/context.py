"""The request context handed to every extension handler: account, region, clock, state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from localcloud.clock import SimClock

if TYPE_CHECKING:
    from localcloud.state import CloudState


@dataclass
class Context:
    account_id: str
    region: str
    clock: SimClock
    state: CloudState

    def sagemaker(self) -> Any:
        return sagemaker_backend(self.account_id, self.region)

    def s3(self) -> Any:
        return s3_backend(self.account_id, self.region)

    def cloudwatch(self) -> Any:
        return cloudwatch_backend(self.account_id, self.region)

    def autoscaling(self) -> Any:
        from moto.applicationautoscaling.models import applicationautoscaling_backends

        return applicationautoscaling_backends[self.account_id][self.region]

    def arn(self, resource: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{resource}/{name}"


def sagemaker_backend(account_id: str, region: str) -> Any:
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[account_id][region]


def s3_backend(account_id: str, region: str) -> Any:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    return s3_backends[account_id][get_partition(region)]


def cloudwatch_backend(account_id: str, region: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account_id][region]


def account_for(access_key: str) -> str:
    """The account moto assigns to an access key (the default account for ``testing``)."""
    from moto.iam.models import get_account_id_from

    return str(get_account_id_from(access_key))
