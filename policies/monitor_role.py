"""A monitored endpoint's drift job role reads that endpoint's captured traffic and the
baselines, writes reports, and nothing more (``components.iam.processing_role_policy``).

The role is the one tagged ``mlops:role: monitor`` (``components.tags``), or a role trusting
SageMaker whose name ends in ``-monitor`` (``components.naming.processing_role_name``). Its
permissions are spread over the role (``inlinePolicies``) and its ``RolePolicy`` resources,
joined by their ``role`` input, so this is a stack rule. Each Allow statement must keep
``s3:PutObject`` under ``<capture bucket>/<endpoint>/reports/``, ``s3:GetObject`` under the
endpoint's capture prefix or the model bucket's baseline keys, ``cloudwatch:PutMetricData``
under a ``cloudwatch:namespace`` condition and ``kms:Decrypt`` / ``kms:GenerateDataKey`` under
a ``kms:ViaService`` condition. A managed policy attached to it is refused: this rule cannot
see into it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from components.naming import BASELINE_KEYS
from components.tags import MONITOR_ROLE, ROLE_TAG
from policies import tokens
from policies.arns import condition_values, has_wildcard, only_wildcards, parse_arn, principals
from policies.model import Context, Finding, Resource, StackRule
from policies.values import CannotCheck, get, is_unknown, items, policy_document, statements
from policies.values import text_list as as_list

ROLE_POLICY = frozenset({"aws:iam/rolePolicy:RolePolicy"})
ROLE_POLICY_ATTACHMENT = frozenset({"aws:iam/rolePolicyAttachment:RolePolicyAttachment"})
MONITOR_SUFFIX = "-monitor"
_MAX_ROLE_NAME = 64
BUCKET_TAG = "mlops:bucket"
ENDPOINT_TAG = "mlops:endpoint"
_KMS_USE = ("kms:decrypt", "kms:generatedatakey")


def _tags(resource: Resource) -> Mapping[str, Any]:
    tags = resource.props.get("tags")
    return tags if isinstance(tags, Mapping) else {}


def _trusts_sagemaker(role: Resource) -> bool:
    try:
        document = policy_document(role.props.get("assumeRolePolicy"), "assumeRolePolicy")
    except CannotCheck:
        return False
    return any(
        "sagemaker.amazonaws.com" in principals(st.get("Principal")).get("Service", [])
        for st in statements(document or {})
        if st.get("Effect") == "Allow"
    )


def _role_name(role: Resource) -> str | None:
    name = role.props.get("name")
    return name if isinstance(name, str) and not is_unknown(name) else None


def is_monitor_role(role: Resource) -> bool:
    """Tagged ``mlops:role: monitor``, or trusting SageMaker and named ``…-monitor``."""
    if _tags(role).get(ROLE_TAG) == MONITOR_ROLE:
        return True
    name = _role_name(role)
    return name is not None and name.endswith(MONITOR_SUFFIX) and _trusts_sagemaker(role)


def expected_endpoint(role: Resource, ctx: Context) -> str | None:
    """The endpoint the role monitors: ``<name_prefix>-<mlops:endpoint tag>``, else its name
    without ``-monitor`` (when IAM's 64 characters did not cut it); ``None``: unknown, and each
    prefix must then just name one endpoint (no wildcard)."""
    short = _tags(role).get(ENDPOINT_TAG)
    if ctx.name_prefix is not None and isinstance(short, str):
        return f"{ctx.name_prefix}-{short}"
    name = _role_name(role)
    if name is not None and name.endswith(MONITOR_SUFFIX) and len(name) < _MAX_ROLE_NAME:
        return name.removesuffix(MONITOR_SUFFIX)
    return None


def _bucket_names(resources: Sequence[Resource], purpose: str) -> set[str] | None:
    """Names of the planned buckets tagged ``mlops:bucket: <purpose>``; ``None``: none planned
    (any bucket name is then taken as that bucket, a wildcard never)."""
    names: set[str] = set()
    found = False
    for bucket in resources:
        if bucket.type in tokens.S3_BUCKET and _tags(bucket).get(BUCKET_TAG) == purpose:
            found = True
            for value in (bucket.props.get("bucket"), bucket.id, bucket.state.get("bucket")):
                if isinstance(value, str) and value and not is_unknown(value):
                    names.add(value)
    return names if found else None


def _role_keys(role: Resource) -> set[str]:
    """Every value a ``RolePolicy``'s ``role`` input may hold for this role."""
    values = [role.id, role.props.get("name"), role.state.get("name"), role.state.get("id")]
    return {v for v in values if isinstance(v, str) and v and not is_unknown(v)}


def _attached(attachment: Resource, role: Resource) -> bool | None:
    """Does ``attachment.role`` name ``role``? ``None``: unknown until apply."""
    if role.key in attachment.dependencies.get("role", ()):
        return True
    value = attachment.props.get("role")
    if value is None or is_unknown(value):
        return False if attachment.dependencies.get("role") else None
    return value in _role_keys(role)


class _Judge:
    """One monitor role's statements against its endpoint and the stack's buckets."""

    def __init__(self, role: Resource, resources: Sequence[Resource], ctx: Context) -> None:
        self.endpoint = expected_endpoint(role, ctx)
        self.capture = _bucket_names(resources, "capture")
        self.model = _bucket_names(resources, "model")

    def _object(self, resource: str) -> tuple[str, str] | None:
        arn = parse_arn(resource)
        if arn is None or arn.service != "s3" or "/" not in arn.resource:
            return None
        bucket, key = arn.resource.split("/", 1)
        return (bucket, key) if not has_wildcard(bucket) else None

    def _in(self, bucket: str, known: set[str] | None) -> bool:
        return bucket in known if known is not None else True

    def _endpoint_prefix(self, key: str) -> str | None:
        """The endpoint segment ``key`` starts with, when it is one endpoint's (literal)."""
        segment, sep, _ = key.partition("/")
        if not sep or not segment or has_wildcard(segment):
            return None
        if self.endpoint is not None and segment != self.endpoint:
            return None
        return segment

    def put_problem(self, resource: str) -> bool:
        found = self._object(resource)
        if found is None or not self._in(found[0], self.capture):
            return True
        key = found[1]
        segment = self._endpoint_prefix(key)
        return segment is None or not key.startswith(f"{segment}/reports/")

    def get_problem(self, resource: str) -> bool:
        found = self._object(resource)
        if found is None:
            return True
        bucket, key = found
        if self._in(bucket, self.capture) and self._endpoint_prefix(key) is not None:
            return False
        # a key pattern read as literal text that a baseline pattern covers (BASELINE_KEYS
        # use '*' only, so every key the resource matches is a baseline key too)
        baseline = any(fnmatchcase(key, pattern) for pattern in BASELINE_KEYS)
        return not (baseline and self._in(bucket, self.model))

    def where_reports(self) -> str:
        endpoint = self.endpoint or "<endpoint>"
        return f"arn:<partition>:s3:::<capture bucket>/{endpoint}/reports/*"

    def where_reads(self) -> str:
        endpoint = self.endpoint or "<endpoint>"
        keys = ", ".join(BASELINE_KEYS)
        return f"<capture bucket>/{endpoint}/* or the model bucket's baseline keys ({keys})"


def _matches(actions: list[str], action: str) -> bool:
    return any(fnmatchcase(action, a.lower()) for a in actions)


def _condition_problem(st: Mapping[str, Any], key: str) -> str | None:
    found = condition_values(st.get("Condition"), lambda k: k == key)
    values = [v for _, vs in found for v in vs]
    if not values:
        return f"has no {key} condition"
    wild = [v for v in values if only_wildcards(v)]
    if wild:
        return f"conditions {key} on {wild}, which matches everything"
    return None


def statement_problems(where: str, st: Mapping[str, Any], judge: _Judge) -> Iterator[str]:
    """What one Allow statement of a monitor role grants beyond its job."""
    if "NotAction" in st:
        yield f"{where} allows NotAction (every other action); name the actions"
        return
    actions = as_list(st.get("Action"))
    resources = as_list(st.get("Resource"))
    put, read = _matches(actions, "s3:putobject"), _matches(actions, "s3:getobject")
    if (put or read) and "NotResource" in st:
        yield f"{where} allows S3 object access on NotResource (every other object)"
    if put:
        for resource in (r for r in resources if judge.put_problem(r)):
            yield (
                f"{where} allows s3:PutObject on {resource!r}; a monitor role writes its "
                f"reports only: {judge.where_reports()}"
            )
    if read:
        for resource in (r for r in resources if judge.get_problem(r)):
            yield (
                f"{where} allows s3:GetObject on {resource!r}; a monitor role reads "
                f"{judge.where_reads()} only"
            )
    if _matches(actions, "cloudwatch:putmetricdata"):
        problem = _condition_problem(st, "cloudwatch:namespace")
        if problem:
            yield (
                f"{where} allows cloudwatch:PutMetricData but {problem}; name the drift "
                "namespace (components.naming.DRIFT_NAMESPACE)"
            )
    if any(_matches(actions, action) for action in _KMS_USE):
        problem = _condition_problem(st, "kms:viaservice")
        if problem:
            yield (
                f"{where} allows kms:Decrypt/GenerateDataKey but {problem}; use the key "
                "through S3 only (kms:ViaService s3.<region>.amazonaws.com)"
            )


def _documents(
    role: Resource, resources: Sequence[Resource], ctx: Context
) -> Iterator[tuple[str, Any, str]]:
    """(where, raw policy, path) for each policy the role carries or is given."""
    for i, inline in enumerate(items(get(role.props, "inlinePolicies"), "inlinePolicies")):
        name = get(inline, "name")
        where = f"inline policy {name!r}" if name else f"inlinePolicies[{i}]"
        yield where, get(inline, "policy"), f"{role.name}.inlinePolicies[{i}].policy"
    for policy in resources:
        if policy.type not in ROLE_POLICY:
            continue
        joined = _attached(policy, role)
        if joined is None:
            raise CannotCheck(f"{policy.name}.role", "unknown until apply")
        if joined:
            raw = get(policy.props, "policy", ref=True, missing_is_unknown=ctx.missing_is_unknown)
            yield f"RolePolicy {policy.name}", raw, f"{policy.name}.policy"


def _managed_problems(role: Resource, resources: Sequence[Resource]) -> Iterator[str]:
    for arn in items(get(role.props, "managedPolicyArns"), "managedPolicyArns"):
        yield (
            f"has the managed policy {arn!r} (managedPolicyArns); a monitor role's permissions "
            "are its own inline policy, which this rule can check"
        )
    for attachment in resources:
        if attachment.type in ROLE_POLICY_ATTACHMENT and _attached(attachment, role):
            yield (
                f"has the managed policy {attachment.props.get('policyArn')!r} attached "
                f"({attachment.name}); a monitor role's permissions are its own inline policy, "
                "which this rule can check"
            )


def judge_role(role: Resource, resources: Sequence[Resource], ctx: Context) -> list[str]:
    judge = _Judge(role, resources, ctx)
    problems = list(_managed_problems(role, resources))
    for where, raw, path in _documents(role, resources, ctx):
        document = policy_document(raw, path)
        if document is None:
            continue
        for i, st in enumerate(statements(document)):
            if st.get("Effect") != "Allow":
                continue
            sid = st.get("Sid")
            label = f"{where} statement {i}" + (f" ({sid})" if sid else "")
            problems += statement_problems(label, st, judge)
    return problems


def check_monitor_roles(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
    findings: list[Finding] = []
    for role in resources:
        if role.type != tokens.IAM_ROLE or not is_monitor_role(role):
            continue
        try:
            messages = judge_role(role, resources, ctx)
        except CannotCheck as exc:
            findings.append(Finding(role, str(exc), unknown=True))
            continue
        findings += [Finding(role, m) for m in messages]
    return findings


STACK_RULES: list[StackRule] = [
    StackRule(
        id="iam-monitor-role-scoped",
        description="A drift job's role (mlops:role: monitor) writes reports only under its "
        "endpoint's reports/ prefix, reads its endpoint's capture and the baselines only, puts "
        "metrics under a cloudwatch:namespace condition and uses KMS through kms:ViaService",
        checkov_id=None,
        resource_types=frozenset({tokens.IAM_ROLE}) | ROLE_POLICY | ROLE_POLICY_ATTACHMENT,
        check=check_monitor_roles,
    )
]
