"""``MLOpsPlatform``: one environment's whole platform, and the ``StackOutputs`` it exports.

Order: the platform key; the artifact store, model registry and training compute that
it encrypts; then ``Monitoring`` (alarms exist before any endpoint) and one
``GpuEndpoint`` per configured endpoint, wired to its rollback alarms.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

import pulumi
from pydantic import TypeAdapter

from components import naming, tags
from components._resources import Protection, aws_context, derived, resolved
from components.config import EnvironmentConfig
from components.contract import CONTRACT_VERSION, StackOutputs
from components.kms import PlatformKey
from components.monitoring import Monitoring, MonitoringArgs
from components.registry import ModelRegistry
from components.serving import GpuEndpoint, GpuEndpointArgs
from components.storage import ArtifactStore
from components.training import TrainingCompute

MANAGED_BY_PULUMI = "pulumi"


class MLOpsPlatformArgs(TypedDict):
    config: EnvironmentConfig
    """The validated ``mlops:platform`` object of the stack file."""
    project: str
    """Physical names start with ``<project>-<environment>`` (the stack program passes
    ``pulumi.get_project()``)."""
    stack: str
    """Recorded in the outputs and the ``mlops:stack`` tag."""
    account_id: NotRequired[str]
    """Default: ``aws.get_caller_identity()``."""
    region: NotRequired[str]
    """Default: ``aws.get_region()`` (the stack's ``aws:region``)."""


def resource_tags(config: EnvironmentConfig, project: str, stack: str) -> dict[str, str]:
    """What every stack resource carries: the environment's tags + ``mlops:managed-by``."""
    return {**tags.base_tags(config, project, stack), tags.MANAGED_BY: MANAGED_BY_PULUMI}


def validate_outputs(values: dict[str, Any]) -> dict[str, Any]:
    """The exported JSON: exactly ``StackOutputs.model_dump(mode="json")``."""
    return StackOutputs.model_validate(values).model_dump(mode="json")


@functools.cache
def _field_adapter(field: str) -> TypeAdapter[Any]:
    """The validator of one contract field (built once: building one compiles a schema)."""
    annotation = StackOutputs.model_fields[field].annotation
    assert annotation is not None
    return TypeAdapter(annotation)


def dump_field(field: str, value: Any) -> Any:
    """One contract field validated and dumped on its own (for per-field stack outputs)."""
    adapter = _field_adapter(field)
    return adapter.dump_python(adapter.validate_python(value), mode="json")


class MLOpsPlatform(pulumi.ComponentResource):
    """Key, buckets, registry, training role, monitoring and endpoint specs of one
    environment; ``outputs`` is the validated ``StackOutputs`` contract."""

    if TYPE_CHECKING:  # not at run time: Pulumi reads them as output types per registration
        output_fields: dict[str, pulumi.Input[Any]]
        """Per contract field, validated on its own: the JSON value, or an Output of it when it
        depends on resources (so each field is known or unknown on its own in preview)."""

    def __init__(
        self, name: str, args: MLOpsPlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:platform:MLOpsPlatform", name, None, opts)
        config, project, stack = args["config"], args["project"], args["stack"]
        env = config.environment.value
        ctx = aws_context(args.get("account_id"), args.get("region"))
        resource_tag_set = resource_tags(config, project, stack)
        protection = Protection.of(config.storage.retention, config.unsafe)
        child = pulumi.ResourceOptions(parent=self)

        self.key = PlatformKey(
            f"{name}-key",
            {
                "alias": naming.prefix(project, env),
                "retention": config.storage.retention,
                "protect": protection.protect,
                "read_accounts": list(config.registry.cross_account_ids),
                "tags": resource_tag_set,
                "account_id": ctx.account_id,
                "region": ctx.region,
            },
            child,
        )
        key_arn = self.key.arn
        self.storage = ArtifactStore(
            f"{name}-storage",
            {
                "project": project,
                "environment": env,
                "kms_key_arn": key_arn,
                "storage": config.storage,
                "unsafe": config.unsafe,
                "read_accounts": list(config.registry.cross_account_ids),
                "tags": resource_tag_set,
                "account_id": ctx.account_id,
                "region": ctx.region,
                "audit_lock": config.audit_lock,
            },
            child,
        )
        self.registry = ModelRegistry(
            f"{name}-registry",
            {
                "project": project,
                "environment": env,
                "kms_key_arn": key_arn,
                "registry": config.registry,
                "retention": config.storage.retention,
                "unsafe": config.unsafe,
                "tags": resource_tag_set,
                "account_id": ctx.account_id,
                "region": ctx.region,
            },
            child,
        )
        self.training = TrainingCompute(
            f"{name}-training",
            {
                "project": project,
                "environment": env,
                "kms_key_arn": key_arn,
                "data_bucket": self.storage.bucket_names["data"],
                "model_bucket": self.storage.bucket_names["model"],
                "repository_arn": self.registry.repository_arn,
                "model_package_group_name": self.registry.plan.group_name,
                "training": config.training,
                "tags": resource_tag_set,
                "account_id": ctx.account_id,
                "region": ctx.region,
            },
            child,
        )
        self.monitoring = Monitoring(
            f"{name}-monitoring",
            MonitoringArgs(
                project=project,
                environment=env,
                endpoints=list(config.endpoints),
                monitoring=config.monitoring,
                kms_key_arn=key_arn,
                tags=resource_tag_set,
                region=ctx.region,
                protect_logs=protection.protect,
                manage_training_log_group=config.monitoring.manage_training_log_group,
                manage_processing_log_group=config.monitoring.manage_processing_log_group,
            ),
            child,
        )
        self.endpoints: list[GpuEndpoint] = []
        for ep in config.endpoints:
            self.endpoints.append(
                GpuEndpoint(
                    f"{name}-{ep.name}",
                    GpuEndpointArgs(
                        project=project,
                        environment=env,
                        endpoint=ep,
                        kms_key_arn=key_arn,
                        model_bucket_arn=self.storage.bucket_arns["model"],
                        capture_bucket_name=self.storage.bucket_names["capture"],
                        ecr_repository_arn=self.registry.repository_arn,
                        rollback_alarm_names=self.monitoring.rollback_alarm_names[ep.name],
                        rollback_alarm_arns=self.monitoring.endpoint_rollback_alarm_arns[ep.name],
                        alarm_names=self.monitoring.alarm_names[ep.name],
                        log_group_arn=self.monitoring.endpoint_log_group_arns[ep.name],
                        subnet_ids=list(config.training.vpc.subnet_ids)
                        if config.training.vpc
                        else [],
                        security_group_ids=self.training.security_group_ids,
                        tags=resource_tag_set,
                        account_id=ctx.account_id,
                    ),
                    child,
                )
            )

        # Structured values stay contract models inside their Outputs until the one dump per
        # field below, and ``derived``/``resolved`` await only the Outputs inside:
        # ``Output.from_input`` would unwrap every dict entry and list item into an Output of
        # its own (a 50-endpoint plan was ~25 % slower).
        raw: dict[str, Any] = {
            "contract_version": CONTRACT_VERSION,
            "project": project,
            "stack": stack,
            "environment": env,
            "region": ctx.region,
            "account_id": ctx.account_id,
            "kms_key_arn": key_arn,
            "buckets": {
                "data": self.storage.bucket_names["data"],
                "model": self.storage.bucket_names["model"],
                "capture": self.storage.bucket_names["capture"],
                "access_logs": self.storage.bucket_names["access-logs"],
                "audit": self.storage.bucket_names.get("audit"),
            },
            "audit_s3_uri": self.storage.audit_s3_uri,
            "ecr_repository_url": self.registry.repository_url,
            "model_package_group_name": self.registry.model_package_group_name,
            "sagemaker_execution_role_arn": self.training.role_arn,
            "training": self.training.training_defaults,
            "endpoints": [e.serving_spec for e in self.endpoints],
            "alerts_topic_arn": self.monitoring.alerts_topic_arn,
            "quality_gate": config.quality_gate.model_dump(mode="json"),
            "keep_endpoint_configs": config.keep_endpoint_configs,
            "tags": tags.base_tags(config, project, stack),
            "audit_lock": config.audit_lock.model_dump() if config.audit_lock else None,
            "acknowledged": config.acknowledgements_in_use(),
        }
        missing = set(StackOutputs.model_fields) - set(raw)
        if missing:  # a contract field added without wiring it here
            raise ValueError(f"MLOpsPlatform does not produce contract fields {sorted(missing)}")
        self._raw_outputs = raw
        self.output_fields = {
            k: derived(v, functools.partial(dump_field, k)) for k, v in raw.items()
        }
        # The contract is the stack's outputs; the component records what it is.
        self.register_outputs(
            {"contract_version": CONTRACT_VERSION, "environment": env, "stack": stack}
        )

    @functools.cached_property
    def outputs(self) -> pulumi.Output[dict[str, Any]]:
        """``StackOutputs`` as JSON, validated as a whole (the apply fails the program if it
        does not validate); made on first use (``output_fields`` is what the stack exports)."""
        return resolved(self._raw_outputs).apply(validate_outputs)
