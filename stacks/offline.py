"""Run the real stack program offline, under Pulumi's mock runtime, with a stack file's config.

``run_offline("prod")`` reads ``stacks/Pulumi.prod.yaml`` (refusing bad config before any
resource, ``components.config.ConfigError``), feeds its ``config:`` through Pulumi's
runtime config exactly as the CLI would, runs ``stacks.program.main()`` and returns every
resource the engine saw (type, name, inputs) and the exported stack outputs.

``PlatformMocks.create`` is the override point: the default synthesises realistic ids and
ARNs (so the ``StackOutputs`` contract validates); the local cloud subclasses it to create
each resource for real in moto and return moto's ids. In preview mode the default returns
only the inputs, as a real preview of a new stack would: computed attributes (ARNs, ids)
are unknown and reported as ``UNKNOWN``.

No Pulumi CLI, engine or cloud credentials are involved.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.config import EnvironmentConfig, load_stack_config, stack_file
from components.iam import partition_of

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_PROJECT = "mlops-stack"
UNKNOWN = "<unknown until deployed>"
"""How an output or input that only a deployment can know is reported (``preview=True``)."""


@dataclass
class PlannedResource:
    type: str
    name: str
    inputs: dict[str, Any]
    """As the engine saw them (camelCase keys; unknowns as ``UNKNOWN``)."""
    id: str
    state: dict[str, Any]
    custom: bool = True
    """False for component resources (``mlops:*``)."""


@dataclass
class OfflineRun:
    stack: str
    config: EnvironmentConfig
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    """Stack outputs by name; values (or parts) only a deployment can know are ``UNKNOWN``."""
    preview: bool = False
    project: str = DEFAULT_PROJECT
    region: str = ""
    source: str = ""
    """The stack file that was read."""
    warnings: list[str] = field(default_factory=list)
    """Config warnings and warnings the program logged (deduplicated, in order)."""
    unknown_outputs: list[str] = field(default_factory=list)

    def of_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> PlannedResource:
        for r in self.resources:
            if r.name == name:
                return r
        raise KeyError(f"no resource named {name!r}")


# ------------------------------------------------------------------------- mocks


def _digest(*parts: str, length: int = 16) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


class PlatformMocks(pulumi_mocks.Mocks):
    """Records every resource; answers the AWS invokes the platform makes; nothing else."""

    def __init__(self, *, account_id: str = DEFAULT_ACCOUNT_ID, region: str | None = None):
        self.account_id = account_id
        self.region = region or "eu-west-1"
        self.preview = False
        self.resources: list[PlannedResource] = []
        self._lock = threading.Lock()

    # run_offline sets these before the program runs
    def configure(self, *, region: str, preview: bool) -> None:
        self.region = region
        self.preview = preview
        self.resources = []

    @property
    def partition(self) -> str:
        return partition_of(self.region)

    # --------------------------------------------------------------- resources
    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        with self._lock:  # the runtime registers from a thread pool
            inputs = dict(args.inputs)
            rid: str | None
            state: dict[str, Any]
            if args.custom is False:
                rid, state = f"{args.name}", {}
            else:
                rid, state = self.create(args.typ, args.name, inputs)
            self.resources.append(
                PlannedResource(
                    type=args.typ,
                    name=args.name,
                    inputs=plain(inputs),
                    id=UNKNOWN if rid is None else str(rid),
                    state=plain(state),
                    custom=args.custom is not False,
                )
            )
            return rid, state

    def create(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str | None, dict]:
        """The override point: return ``(id, state)`` for a new resource.

        Default: in preview only the inputs (ids and computed attributes unknown); otherwise
        the inputs plus realistic ids/ARNs/URLs derived deterministically from the names.
        """
        if self.preview:
            return None, dict(inputs)
        rid, extra = synthesize(typ, name, inputs, self.account_id, self.region, self.partition)
        return rid, {**inputs, **extra}

    # ----------------------------------------------------------------- invokes
    def call(self, args: pulumi_mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account_id,
                "arn": f"arn:{self.partition}:iam::{self.account_id}:user/mlops-plan",
                "id": self.account_id,
                "userId": "AIDAMLOPSPLAN",
            }
        if token == "aws:index/getRegion:getRegion":
            return {
                "region": self.region,
                "name": self.region,
                "id": self.region,
                "endpoint": f"ec2.{self.region}.amazonaws.com",
                "description": self.region,
            }
        if token == "aws:index/getPartition:getPartition":
            return {
                "partition": self.partition,
                "id": self.partition,
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
            }
        raise NotImplementedError(
            f"PlatformMocks has no stub for invoke {token!r} (args {args.args}); "
            "add one in stacks/offline.py"
        )


def synthesize(
    typ: str, name: str, inputs: dict[str, Any], account: str, region: str, partition: str
) -> tuple[str, dict[str, Any]]:
    """A realistic id and the computed attributes AWS would return for a new resource."""
    h = _digest(typ, name)
    arn = f"arn:{partition}"
    module = typ.split(":")[1].split("/")[0] if typ.count(":") >= 2 else "unknown"
    if typ == "aws:kms/key:Key":
        key_id = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{_digest(name)[:3]}-{_digest(name, typ)[:12]}"
        return key_id, {"keyId": key_id, "arn": f"{arn}:kms:{region}:{account}:key/{key_id}"}
    if typ == "aws:kms/alias:Alias":
        alias = inputs.get("name") or f"alias/{name}"
        return alias, {"arn": f"{arn}:kms:{region}:{account}:{alias}"}
    if typ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or f"{name}-{h[:7]}"
        return bucket, {
            "bucket": bucket,
            "arn": f"{arn}:s3:::{bucket}",
            "bucketDomainName": f"{bucket}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
            "region": region,
        }
    if typ == "aws:ecr/repository:Repository":
        repo = inputs.get("name") or f"{name}-{h[:7]}"
        return repo, {
            "name": repo,
            "arn": f"{arn}:ecr:{region}:{account}:repository/{repo}",
            "registryId": account,
            "repositoryUrl": f"{account}.dkr.ecr.{region}.amazonaws.com/{repo}",
        }
    if typ == "aws:sagemaker/modelPackageGroup:ModelPackageGroup":
        group = inputs.get("modelPackageGroupName") or f"{name}-{h[:7]}"
        return group, {"arn": f"{arn}:sagemaker:{region}:{account}:model-package-group/{group}"}
    if typ == "aws:iam/role:Role":
        role = inputs.get("name") or f"{name}-{h[:7]}"
        path = inputs.get("path") or "/"
        return role, {
            "name": role,
            "arn": f"{arn}:iam::{account}:role{path}{role}",
            "uniqueId": f"AROA{h[:17].upper()}",
        }
    if typ == "aws:iam/rolePolicy:RolePolicy":
        return f"{inputs.get('role', name)}:{inputs.get('name') or name}", {}
    if typ == "aws:ec2/securityGroup:SecurityGroup":
        sg = f"sg-{h[:17]}"
        return sg, {"arn": f"{arn}:ec2:{region}:{account}:security-group/{sg}", "ownerId": account}
    if typ == "aws:sns/topic:Topic":
        topic = inputs.get("name") or f"{name}-{h[:7]}"
        topic_arn = f"{arn}:sns:{region}:{account}:{topic}"
        return topic_arn, {"name": topic, "arn": topic_arn}
    if typ == "aws:sns/topicSubscription:TopicSubscription":
        sub_arn = f"{inputs.get('topic', 'topic')}:{h[:8]}-{h[8:12]}-{h[12:16]}"
        return sub_arn, {"arn": sub_arn}
    if typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
        alarm = inputs.get("name") or f"{name}-{h[:7]}"
        return alarm, {"arn": f"{arn}:cloudwatch:{region}:{account}:alarm:{alarm}"}
    if typ == "aws:cloudwatch/logGroup:LogGroup":
        group = inputs.get("name") or f"{name}-{h[:7]}"
        return group, {"arn": f"{arn}:logs:{region}:{account}:log-group:{group}"}
    if typ == "aws:cloudwatch/dashboard:Dashboard":
        dash = inputs.get("dashboardName") or name
        return dash, {"dashboardArn": f"{arn}:cloudwatch::{account}:dashboard/{dash}"}
    physical = inputs.get("name") or inputs.get("bucket") or f"{name}-{h[:7]}"
    return str(physical), {"arn": f"{arn}:{module}:{region}:{account}:{module}/{physical}"}


def plain(value: Any) -> Any:
    """Engine values → JSON-ready values (unknowns → ``UNKNOWN``, resources → their URN)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, pulumi.output.Unknown):
        return UNKNOWN
    if isinstance(value, pulumi.Resource):
        return f"<resource {type(value).__name__}>"
    return str(value)


def contains_unknown(value: Any) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


# ------------------------------------------------------------------------ runner


def find_stacks_dir(start: Path | None = None) -> Path:
    """``stackConfigDir`` (default ``stacks/``) of the nearest ``Pulumi.yaml`` above ``start``
    (the cwd), else the installed ``stacks`` package."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        project_file = directory / "Pulumi.yaml"
        if project_file.is_file():
            document = _read_yaml(project_file)
            return directory / str(document.get("stackConfigDir") or "stacks")
    return Path(__file__).resolve().parent


def project_name(stacks_dir: Path) -> str:
    """``name:`` of the ``Pulumi.yaml`` next to (or above) ``stacks_dir``, else mlops-stack."""
    for directory in (stacks_dir.resolve(), *stacks_dir.resolve().parents[:2]):
        project_file = directory / "Pulumi.yaml"
        if project_file.is_file():
            return str(_read_yaml(project_file).get("name") or DEFAULT_PROJECT)
    return DEFAULT_PROJECT


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return document if isinstance(document, dict) else {}


def runtime_config(config: dict[str, Any], project: str) -> dict[str, str]:
    """A stack file's ``config:`` as the CLI hands it to the program: namespaced keys,
    strings as-is, everything else as JSON."""
    out: dict[str, str] = {}
    for key, value in config.items():
        full = key if ":" in key else f"{project}:{key}"
        out[full] = value if isinstance(value, str) else json.dumps(value)
    return out


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def run_program(
    program: Callable[[], Any],
    *,
    mocks: PlatformMocks,
    project: str = DEFAULT_PROJECT,
    stack: str = "test",
    config: dict[str, str] | None = None,
    preview: bool = False,
) -> tuple[dict[str, Any], list[str]]:
    """Run ``program`` under a fresh mock runtime; return (resolved stack outputs, logged
    warnings). The recorded resources are in ``mocks.resources``. Reusable in one process.
    """
    config = dict(config or {})
    region = config.get("aws:region", mocks.region)
    mocks.configure(region=region, preview=preview)
    # A fresh runtime: no root stack, no config or outputs from an earlier run.
    pulumi_settings.reset_options(project=project, stack=stack, preview=preview)
    pulumi.runtime.set_all_config(config)
    logger = logging.getLogger(f"mlops.offline.{stack}")
    logger.propagate = False
    collector = _Collector()
    logger.addHandler(collector)
    # The runtime allocates many short-lived futures and Outputs; the cyclic collector's
    # passes over them grew the time per resource with the stack's size (benchmarks/plan.py).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        pulumi_mocks.set_mocks(mocks, project=project, stack=stack, preview=preview, logger=logger)
        root = pulumi_settings.get_root_resource()

        def run() -> None:
            program()

        _sync_await(run_pulumi_func(run))
        outputs: dict[str, Any] = {}
        exported = getattr(root, "outputs", {}) or {}
        for name, value in exported.items():
            out = pulumi.Output.from_input(value)
            resolved = _sync_await(out.future(with_unknowns=True))
            known = _sync_await(out.is_known())
            outputs[name] = plain(resolved) if known or resolved is not None else UNKNOWN
            if not known and not contains_unknown(outputs[name]):
                outputs[name] = UNKNOWN
    finally:
        if gc_was_enabled:
            gc.enable()
        logger.removeHandler(collector)
        pulumi_settings.reset_options(project=project, stack=stack)
        pulumi.runtime.set_all_config({})
    return outputs, collector.messages


def run_offline(
    stack: str,
    *,
    mocks: PlatformMocks | None = None,
    preview: bool = False,
    stacks_dir: Path | None = None,
) -> OfflineRun:
    """Evaluate ``stacks/Pulumi.<stack>.yaml`` with the real stack program under mocks.

    Raises ``ConfigError`` (naming the file and the YAML path) before anything runs when
    the stack file is missing, malformed or refused.
    """
    from stacks import program

    directory = stacks_dir if stacks_dir is not None else find_stacks_dir()
    path = stack_file(directory, stack)
    shown = _display_path(path)
    raw_config, config = load_stack_config(Path(shown))
    project = project_name(directory)
    mocks = mocks if mocks is not None else PlatformMocks()
    outputs, logged = run_program(
        program.main,
        mocks=mocks,
        project=project,
        stack=stack,
        config=runtime_config(raw_config, project),
        preview=preview,
    )
    warnings = list(dict.fromkeys([*config.warnings(), *logged]))
    return OfflineRun(
        stack=stack,
        config=config,
        resources=list(mocks.resources),
        outputs=outputs,
        preview=preview,
        project=project,
        region=str(raw_config["aws:region"]),
        source=shown,
        warnings=warnings,
        unknown_outputs=[k for k, v in outputs.items() if contains_unknown(v)],
    )


def _display_path(path: Path) -> str:
    """The stack file relative to the cwd when it is below it (shorter error messages)."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)
