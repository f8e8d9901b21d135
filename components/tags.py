"""The tags every resource carries (the policy pack requires the first three)."""

from __future__ import annotations

from components.config import EnvironmentConfig

REQUIRED_TAGS = ("environment", "owner", "cost-centre")
MANAGED_BY = "mlops:managed-by"
STACK_TAG = "mlops:stack"
ROLE_TAG = "mlops:role"
"""What an IAM role is for, where a rule needs to know (``MONITOR_ROLE``)."""
MONITOR_ROLE = "monitor"
"""A monitored endpoint's drift job role (the ``iam-monitor-role-scoped`` rule judges it)."""


def base_tags(config: EnvironmentConfig, project: str, stack: str) -> dict[str, str]:
    """Config tags, then the required ones (which a config tag cannot override)."""
    return {
        **config.tags,
        "environment": config.environment.value,
        "owner": config.owner,
        "cost-centre": config.cost_centre,
        "project": project,
        STACK_TAG: stack,
    }
