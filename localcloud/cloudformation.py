"""CloudFormation ``AWS::SageMaker::Endpoint`` through the local cloud's own CreateEndpoint.

moto's CloudFormation creates endpoints straight in its SageMaker backend, which reads a
``DataCaptureConfig`` key the local cloud's endpoint configs need not have (KeyError → 500,
then the client's retry hides it behind AlreadyExistsException), and would skip the
endpoint's lifecycle (Creating, failures, serving). Installed per started cloud: moto's
backends are process-global, so is this.
"""

from __future__ import annotations

from typing import Any

from localcloud.clock import SimClock
from localcloud.context import Context
from localcloud.state import CloudState


def install(clock: SimClock, state: CloudState) -> None:
    from moto.sagemaker.models import FakeEndpoint, sagemaker_backends

    from localcloud import endpoints

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json["Properties"]
        params = {
            "EndpointName": properties.get("EndpointName") or resource_name,
            "EndpointConfigName": properties["EndpointConfigName"],
            "Tags": properties.get("Tags", []),
        }
        endpoints.create_endpoint(Context(account_id, region_name, clock, state), params)
        return sagemaker_backends[account_id][region_name].endpoints[params["EndpointName"]]

    FakeEndpoint.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign,assignment]
