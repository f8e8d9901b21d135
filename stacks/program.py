"""The stack program: ``stacks/Pulumi.<stack>.yaml`` → ``MLOpsPlatform`` → stack outputs.

``pulumi up`` runs it through ``stacks/__main__.py``; ``mlops plan`` (``stacks.offline``)
runs the very same ``main()`` under Pulumi's mock runtime.
"""

from __future__ import annotations

import pulumi

from components import naming
from components.config import CONFIG_KEY, ConfigError, EnvironmentConfig, parse_environment
from components.contract import output_names
from components.platform import MLOpsPlatform


class StackConfigError(ConfigError, pulumi.RunError):
    """A bad stack file: the Pulumi CLI prints the message without a traceback."""


def stack_source(stack: str) -> str:
    """``acme/mlops-stack/prod`` → ``stacks/Pulumi.prod.yaml`` (the file the CLI read)."""
    return f"stacks/Pulumi.{stack.rsplit('/', 1)[-1]}.yaml"


def read_config(stack: str) -> EnvironmentConfig:
    """Validate ``mlops:platform`` before any resource is registered."""
    source = stack_source(stack)
    namespace, key = CONFIG_KEY.split(":", 1)
    try:
        raw = pulumi.Config(namespace).get_object(key)
    except Exception as exc:  # e.g. not valid JSON
        raise StackConfigError(source, [f"{CONFIG_KEY}: {exc}"]) from None
    if raw is None:
        raise StackConfigError(source, [f"config.{CONFIG_KEY}: required value is missing"])
    try:
        return parse_environment(raw, source=source, stack=stack)
    except ConfigError as exc:
        raise StackConfigError(exc.source, exc.problems) from None


def main() -> MLOpsPlatform:
    stack = pulumi.get_stack()
    project = pulumi.get_project()
    config = read_config(stack)
    # Endpoint warnings (FAULTS 7) are logged by GpuEndpoint, against the resource.
    platform = MLOpsPlatform(
        naming.prefix(project, config.environment.value),
        {"config": config, "project": project, "stack": stack},
    )
    for name in output_names():
        pulumi.export(name, platform.output_fields[name])
    return platform
