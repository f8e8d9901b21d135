"""End-to-end lineage: dataset versions → training job → model package (and its approvals) →
endpoint configs → endpoints and the time each served, in both directions.

Built from what the pipeline already records, never a store of its own: the audit trail
(which config a deploy or rollback put live and when, who registered and approved), the model
packages' metadata (training job, git commit, image digest, data versions) and the training
jobs. Where a record is missing, the lineage says so instead of guessing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pipelines.context import Context
from pipelines.errors import ArtifactMissing, BadInput, MlopsError

SWITCHES = ("deploy", "rollback")
APPROVALS = ("register", "approve", "reject", "promote")


@dataclass
class Served:
    endpoint: str
    config: str
    package_arn: str | None
    since: str
    until: str | None
    """None: still live."""
    by: str
    """The action that put it live (deploy or rollback) and who."""


@dataclass
class RolledBack:
    endpoint: str
    config: str | None
    package_arn: str | None
    when: str
    reason: str


@dataclass
class PackageNode:
    arn: str
    version: int | None = None
    status: str | None = None
    training_job: str | None = None
    git_commit: str | None = None
    image_digest: str | None = None
    datasets: dict[str, str] = field(default_factory=dict)
    """Channel → data version (``sha256:…`` of its objects' keys and versions)."""
    metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, str]] = field(default_factory=list)
    """register / approve / reject / promote: action, outcome, who, when, status."""


@dataclass
class Lineage:
    subject: str
    packages: list[PackageNode]
    served: list[Served]
    rolled_back: list[RolledBack]
    missing: list[str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _package_of(record: Any) -> str | None:
    for source in (record.details, record.inputs):
        arn = source.get("model_package_arn")
        if isinstance(arn, str) and ":model-package/" in arn:
            return arn
    return None


def build(
    ctx: Context,
) -> tuple[list[Served], list[RolledBack], dict[str, list[dict[str, str]]], dict[str, str]]:
    """From the audit trail: what served where and when, rollbacks, each package's history, and
    which package each config was made from."""
    config_package: dict[str, str] = {}
    live: dict[str, Served] = {}
    served: list[Served] = []
    rolled_back: list[RolledBack] = []
    history: dict[str, list[dict[str, str]]] = {}
    for record in ctx.audit.records():
        arn = _package_of(record)
        config = record.details.get("config")
        endpoint = record.inputs.get("endpoint")
        if record.action == "deploy" and isinstance(config, str) and arn:
            config_package.setdefault(config, arn)
        if record.action in APPROVALS and arn:
            history.setdefault(arn, []).append(
                {
                    "action": record.action,
                    "outcome": record.outcome,
                    "who": record.who,
                    "when": record.when,
                    "status": str(
                        record.details.get("approval_status") or record.inputs.get("previous") or ""
                    ),
                }
            )
        if record.action not in SWITCHES or not isinstance(endpoint, str):
            continue
        if record.outcome == "rolled_back":
            rolled_back.append(
                RolledBack(
                    endpoint,
                    config if isinstance(config, str) else None,
                    arn,
                    record.when,
                    str(record.details.get("failure_reason") or record.details.get("error") or ""),
                )
            )
        if record.outcome != "succeeded" or not isinstance(config, str):
            continue
        previous = live.get(endpoint)
        if previous is not None and previous.config == config:
            continue
        if previous is not None:
            previous.until = record.when
        entry = Served(
            endpoint,
            config,
            config_package.get(config),
            record.when,
            None,
            f"{record.action} by {record.who}",
        )
        live[endpoint] = entry
        served.append(entry)
    return served, rolled_back, history, config_package


def _node(
    ctx: Context, arn: str, history: dict[str, list[dict[str, str]]], missing: list[str]
) -> PackageNode:
    from pipelines.registry import describe_package

    node = PackageNode(arn, history=history.get(arn, []))
    try:
        package = describe_package(ctx, arn)
    except MlopsError as exc:
        missing.append(f"model package {arn}: {exc}")
        return node
    meta = package.metadata
    node.version, node.status = package.version, package.status
    node.training_job = meta.get("mlops:training-job")
    node.git_commit = meta.get("mlops:git-commit")
    node.image_digest = meta.get("mlops:image-digest")
    node.datasets = {
        k.removeprefix("mlops:data:"): v for k, v in meta.items() if k.startswith("mlops:data:")
    }
    node.metrics = package.metrics
    if not node.training_job:
        missing.append(f"model package {arn}: no training job recorded")
    if not node.datasets:
        missing.append(f"model package {arn}: no data version recorded")
    if not node.history:
        missing.append(f"model package {arn}: no register or approval record in the audit trail")
    return node


def for_endpoint(ctx: Context, name: str) -> Lineage:
    try:
        endpoint = ctx.outputs.endpoint(name).endpoint_name
    except KeyError as exc:
        raise BadInput(str(exc.args[0])) from None
    served, rolled_back, history, _ = build(ctx)
    served = [s for s in served if s.endpoint == endpoint]
    rolled_back = [r for r in rolled_back if r.endpoint == endpoint]
    missing: list[str] = []
    if not served:
        missing.append(f"endpoint {endpoint}: no deploy in the audit trail")
    arns: list[str] = []
    for s in reversed(served):  # the live one first
        if s.package_arn is None:
            missing.append(f"config {s.config}: no deploy record names its model package")
        elif s.package_arn not in arns:
            arns.append(s.package_arn)
    packages = [_node(ctx, arn, history, missing) for arn in arns]
    return Lineage(f"endpoint {endpoint}", packages, served, rolled_back, missing)


def for_package(ctx: Context, ref: str) -> Lineage:
    from pipelines.registry import resolve_package_arn

    arn = resolve_package_arn(ctx, ref)
    served, rolled_back, history, _ = build(ctx)
    missing: list[str] = []
    node = _node(ctx, arn, history, missing)
    return Lineage(
        f"model package {arn}",
        [node],
        [s for s in served if s.package_arn == arn],
        [r for r in rolled_back if r.package_arn == arn],
        missing,
    )


def for_dataset(ctx: Context, ref: str) -> Lineage:
    """``CHANNEL:VERSION`` (a prefix of the recorded version, ``sha256:`` optional): every
    package trained on it, and every endpoint that ever served one of them."""
    from pipelines.registry import list_packages

    channel, sep, version = ref.partition(":")
    if not sep or not channel or not version:
        raise BadInput(f"--dataset {ref!r}: expected CHANNEL:VERSION, e.g. train:sha256:3f2a")
    wanted = version if version.startswith("sha256:") else f"sha256:{version}"
    served, rolled_back, history, _ = build(ctx)
    missing: list[str] = []
    nodes = [_node(ctx, arn, history, missing) for _, arn in list_packages(ctx)]
    trained = [n for n in nodes if n.datasets.get(channel, "").startswith(wanted)]
    arns = {n.arn for n in trained}
    if not trained:
        raise ArtifactMissing(
            f"--dataset {ref!r}: no model package of {ctx.outputs.model_package_group_name} "
            f"was trained on it"
        )
    return Lineage(
        f"dataset {channel} {wanted}",
        trained,
        [s for s in served if s.package_arn in arns],
        [r for r in rolled_back if r.package_arn in arns],
        [m for m in missing if any(a in m for a in arns)],
    )


# ------------------------------------------------------------------------------ render


def _short(text: str | None, n: int = 19) -> str:
    if not text:
        return "?"
    return text if len(text) <= n else text[:n] + "…"


def text(lineage: Lineage) -> str:
    lines = [f"lineage of {lineage.subject}:"]
    for p in lineage.packages:
        data = ", ".join(f"{c} {_short(v)}" for c, v in sorted(p.datasets.items())) or "?"
        lines.append(f"  model package v{p.version} ({p.status}): {p.arn}")
        lines.append(f"    trained by {p.training_job or '?'} on {data}")
        lines.append(f"    code {_short(p.git_commit, 12)}, image {_short(p.image_digest)}")
        if p.metrics:
            shown = ", ".join(f"{k} {v:g}" for k, v in sorted(p.metrics.items()))
            lines.append(f"    metrics: {shown}")
        for h in p.history:
            lines.append(
                f"    {h['when']}  {h['action']} {h['outcome']} {h['status']} by {h['who']}"
            )
    for s in lineage.served:
        until = s.until or "now (live)"
        lines.append(f"  {s.endpoint} served {s.config} from {s.since} until {until} ({s.by})")
    for r in lineage.rolled_back:
        lines.append(f"  {r.endpoint}: {r.config} rolled back at {r.when}: {_short(r.reason, 120)}")
    for m in lineage.missing:
        lines.append(f"  missing: {m}")
    return "\n".join(lines)


def _graph(lineage: Lineage) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Node id → label, and edges, for mermaid and dot."""
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    ids: dict[tuple[str, str], str] = {}

    def node(kind: str, key: str, label: str) -> str:
        ident = ids.setdefault((kind, key), f"{kind}{len(ids) + 1}")
        nodes[ident] = label
        return ident

    pkg_ids: dict[str, str] = {}
    for p in lineage.packages:
        pid = node("p", p.arn, f"model package v{p.version} ({p.status})")
        pkg_ids[p.arn] = pid
        job = node("j", p.training_job or p.arn, f"training job {p.training_job or '?'}")
        edges.append((job, pid))
        for channel, version in sorted(p.datasets.items()):
            edges.append((node("d", f"{channel}{version}", f"{channel} {_short(version)}"), job))
    for s in lineage.served:
        cid = node("c", s.config, f"config {s.config}")
        if s.package_arn in pkg_ids:
            edges.append((pkg_ids[s.package_arn], cid))
        eid = node("e", f"{s.endpoint}{s.since}", f"{s.endpoint}: {s.since} to {s.until or 'now'}")
        edges.append((cid, eid))
    return nodes, list(dict.fromkeys(edges))


def mermaid(lineage: Lineage) -> str:
    nodes, edges = _graph(lineage)
    lines = ["flowchart LR"]
    lines += [f'  {i}["{label.replace(chr(34), "")}"]' for i, label in nodes.items()]
    lines += [f"  {a} --> {b}" for a, b in edges]
    return "\n".join(lines)


def dot(lineage: Lineage) -> str:
    nodes, edges = _graph(lineage)
    lines = ["digraph lineage {", "  rankdir=LR;", "  node [shape=box];"]
    lines += [f'  {i} [label="{label.replace(chr(34), "")}"];' for i, label in nodes.items()]
    lines += [f"  {a} -> {b};" for a, b in edges]
    return "\n".join([*lines, "}"])
