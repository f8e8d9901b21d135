"""Prod's refusals, checked again where the pipeline builds what the stack cannot see.

The stack file refuses a weak serving setup in prod unless acknowledged
(``components.config.EnvironmentConfig.prod_refusals``), but Models and training jobs are
created by the pipeline, from a contract that may come from a hand-edited JSON file: the
policy pack's ``sagemaker-model-network-isolation`` rule never sees them. So the pipeline
refuses them itself, before any call.
"""

from __future__ import annotations

from components.contract import StackOutputs
from pipelines.errors import BadInput


def check_network_isolation(outputs: StackOutputs, what: str, isolated: bool) -> None:
    """Refuse ``what`` (a Model, a training job) without network isolation in prod, unless the
    stack file acknowledges it (``unsafe.network_access``, carried by the contract)."""
    if isolated or outputs.environment != "prod" or "network_access" in outputs.acknowledged:
        return
    raise BadInput(
        f"{what}: network_isolation is false, which prod refuses (the container would get "
        f"outbound network access); allowed: set network_isolation: true in "
        f"stacks/Pulumi.{outputs.stack}.yaml, or acknowledge it there with "
        "unsafe.network_access: true and run pulumi up. Nothing was changed."
    )
