"""S3: default encryption, versioning, public access, TLS-only, access logging, lifecycle.

In pulumi-aws v7 a bucket's settings are separate resources that name it in their
``bucket`` input (the bucket's id, i.e. its physical name). Resource rules judge each
settings resource on its own; stack rules join them to their bucket and judge what is
missing or only decidable across resources (the access-log target may use SSE-S3,
because S3 server access logging cannot deliver to an SSE-KMS bucket).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policies import tokens
from policies.model import Context, Finding, Resource, Rule, StackCheck, StackRule
from policies.values import CannotCheck, get, is_unknown, items, policy_document, statements
from policies.values import text_list as as_list

KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})
SSE_S3 = "AES256"

# ------------------------------------------------------------------ resource rules


def _flag(prop: str) -> Callable[[Mapping[str, Any], Context], list[str]]:
    def check(props: Mapping[str, Any], ctx: Context) -> list[str]:
        value = get(props, prop)
        if value is True:
            return []
        return [f"{prop} is {value!r}; it must be true"]

    return check


def check_versioning_enabled(props: Mapping[str, Any], ctx: Context) -> list[str]:
    status = get(props, "versioningConfiguration.status")
    if status == "Enabled":
        return []
    return [f"versioningConfiguration.status is {status!r}; it must be 'Enabled'"]


def check_lifecycle_rule_enabled(props: Mapping[str, Any], ctx: Context) -> list[str]:
    rules = items(get(props, "rules"), "rules")
    statuses = [get(rule, "status") for rule in rules]
    if "Enabled" in statuses:
        return []
    return [f"no lifecycle rule is Enabled (statuses: {statuses})"]


def tls_deny_problems(document: Mapping[str, Any]) -> list[str]:
    """What a bucket policy lacks to refuse every request made without TLS."""
    covered_objects = covered_bucket = False
    for st in statements(document):
        if st.get("Effect") != "Deny" or not _any_principal(st.get("Principal")):
            continue
        if not {"s3:*", "*"} & set(as_list(st.get("Action"))):
            continue
        if not _denies_insecure_transport(st.get("Condition")):
            continue
        for resource in as_list(st.get("Resource")):
            if resource == "*" or resource.endswith("/*"):
                covered_objects = True
            if resource == "*" or (resource.startswith("arn:") and "/" not in resource):
                covered_bucket = True
    problems = []
    if not covered_objects:
        problems.append(
            "no Deny of s3:* for every principal on the objects (arn:...:bucket/*) "
            "when aws:SecureTransport is false"
        )
    if not covered_bucket:
        problems.append(
            "no Deny of s3:* for every principal on the bucket ARN "
            "when aws:SecureTransport is false"
        )
    return problems


def _any_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS"))


def _denies_insecure_transport(condition: Any) -> bool:
    if not isinstance(condition, Mapping):
        return False
    for operator, clauses in condition.items():
        if operator.lower() != "bool" or not isinstance(clauses, Mapping):
            continue
        for key, value in clauses.items():
            if key.lower() == "aws:securetransport" and [
                str(v).lower() for v in as_list(value)
            ] == ["false"]:
                return True
    return False


def check_policy_tls_only(props: Mapping[str, Any], ctx: Context) -> list[str]:
    raw = get(props, "policy", ref=True, missing_is_unknown=ctx.missing_is_unknown)
    document = policy_document(raw, "policy")
    if document is None:
        return ["the bucket policy has no document"]
    return [f"bucket policy: {p}" for p in tls_deny_problems(document)]


def _resource_rules() -> list[Rule]:
    pab = tokens.S3_PUBLIC_ACCESS_BLOCK
    flags = [
        ("blockPublicAcls", "CKV_AWS_53", "S3 public access block blocks public ACLs"),
        ("blockPublicPolicy", "CKV_AWS_54", "S3 public access block blocks public bucket policies"),
        ("ignorePublicAcls", "CKV_AWS_55", "S3 public access block ignores public ACLs"),
        ("restrictPublicBuckets", "CKV_AWS_56", "S3 public access block restricts public buckets"),
    ]
    rules = [
        Rule(
            id=f"s3-{prop_id}",
            description=description,
            checkov_id=checkov,
            resource_types=pab,
            check=_flag(prop),
            data_protection=True,
        )
        for prop, checkov, description in flags
        for prop_id in [_kebab(prop)]
    ]
    rules += [
        Rule(
            id="s3-versioning-enabled",
            description="S3 bucket versioning is Enabled",
            checkov_id="CKV_AWS_21",
            resource_types=tokens.S3_VERSIONING,
            check=check_versioning_enabled,
        ),
        Rule(
            id="s3-lifecycle-rule-enabled",
            description="S3 lifecycle configuration has an Enabled rule",
            checkov_id="CKV2_AWS_61",
            resource_types=tokens.S3_LIFECYCLE,
            check=check_lifecycle_rule_enabled,
        ),
        Rule(
            id="s3-policy-tls-only",
            description="S3 bucket policy denies requests without TLS (aws:SecureTransport=false)",
            checkov_id=None,
            resource_types=tokens.S3_POLICY,
            check=check_policy_tls_only,
            data_protection=True,
        ),
    ]
    return rules


def _kebab(camel: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in camel)


# --------------------------------------------------------------------- stack rules


@dataclass(frozen=True)
class _Plan:
    """The planned resources, with the lookups the bucket joins need."""

    resources: Sequence[Resource]

    @property
    def buckets(self) -> list[Resource]:
        return [r for r in self.resources if r.type in tokens.S3_BUCKET]

    def of_type(self, types: frozenset[str]) -> list[Resource]:
        return [r for r in self.resources if r.type in types]


def bucket_keys(bucket: Resource) -> set[str]:
    """Every value a settings resource's ``bucket`` input may hold for this bucket."""
    candidates = [
        bucket.name,
        bucket.id,
        bucket.props.get("bucket"),
        bucket.props.get("id"),
        bucket.state.get("bucket"),
        bucket.state.get("id"),
    ]
    return {c for c in candidates if isinstance(c, str) and c and not is_unknown(c)}


def refers_to(settings: Resource, prop: str, bucket: Resource) -> bool | None:
    """Does ``settings.<prop>`` name ``bucket``? ``None`` when that is unknown until apply."""
    if bucket.key in settings.dependencies.get(prop, ()):
        return True
    value = settings.props.get(prop)
    if value is None or is_unknown(value):
        return False if settings.dependencies.get(prop) else None
    return value in bucket_keys(bucket)


def settings_of(
    plan: _Plan, bucket: Resource, types: frozenset[str]
) -> tuple[list[Resource], bool]:
    """The settings resources of ``bucket``, and whether others' owner is unknown."""
    found, unresolved = [], False
    for settings in plan.of_type(types):
        match = refers_to(settings, "bucket", bucket)
        if match:
            found.append(settings)
        elif match is None:
            unresolved = True
    return found, unresolved


@dataclass(frozen=True)
class _LogTargets:
    buckets: frozenset[str]
    """Keys of buckets that receive another bucket's access logs."""
    unresolved: bool
    """Some logging target is unknown until apply."""


def log_targets(plan: _Plan) -> _LogTargets:
    targets: set[str] = set()
    unresolved = False
    for bucket in plan.buckets:
        for logging in plan.of_type(tokens.S3_LOGGING):
            is_target = refers_to(logging, "targetBucket", bucket)
            if is_target is None:
                unresolved = True
            elif is_target and refers_to(logging, "bucket", bucket) is not True:
                targets.add(bucket.key)
    return _LogTargets(frozenset(targets), unresolved)


Judge = Callable[[Resource, list[Resource], _Plan, Context], list[str]]


def _per_bucket(what: str, types: frozenset[str], judge: Judge) -> StackCheck:
    """A stack check that finds each bucket's ``types`` settings and judges them."""

    def check(resources: Sequence[Resource], ctx: Context) -> list[Finding]:
        plan = _Plan(resources)
        findings: list[Finding] = []
        for bucket in plan.buckets:
            found, unresolved = settings_of(plan, bucket, types)
            try:
                if not found and unresolved:
                    raise CannotCheck(f"the bucket of each {what}", "unknown until apply")
                messages = judge(bucket, found, plan, ctx)
            except CannotCheck as exc:
                findings.append(Finding(bucket, str(exc), unknown=True))
                continue
            findings += [Finding(bucket, m) for m in messages]
        return findings

    return check


def judge_encryption(
    bucket: Resource, found: list[Resource], plan: _Plan, ctx: Context
) -> list[str]:
    if not found:
        return [f"bucket {bucket.name} has no server-side encryption configuration"]
    algorithms = []
    for settings in found:
        for rule in items(get(settings.props, "rules"), "rules"):
            algorithms.append(get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm"))
    if not algorithms:
        return [f"bucket {bucket.name} has no default encryption rule"]
    bad = [a for a in algorithms if a not in KMS_ALGORITHMS]
    if not bad:
        return []
    if all(a == SSE_S3 for a in bad):
        targets = log_targets(plan)
        if bucket.key in targets.buckets:
            return []  # the access-log target: S3 cannot deliver logs to an SSE-KMS bucket
        if targets.unresolved:
            raise CannotCheck(f"whether bucket {bucket.name} is the access-log target")
    return [
        f"bucket {bucket.name} default encryption is {', '.join(map(repr, bad))}; SSE-KMS "
        "(aws:kms) is required (AES256 only on the bucket that receives S3 access logs)"
    ]


def judge_exists(what: str) -> Judge:
    def judge(bucket: Resource, found: list[Resource], plan: _Plan, ctx: Context) -> list[str]:
        return [] if found else [f"bucket {bucket.name} has no {what}"]

    return judge


def judge_tls(bucket: Resource, found: list[Resource], plan: _Plan, ctx: Context) -> list[str]:
    if not found:
        return [f"bucket {bucket.name} has no bucket policy denying requests without TLS"]
    problems: list[str] = []
    for policy in found:
        document = policy_document(
            get(policy.props, "policy", ref=True, missing_is_unknown=ctx.missing_is_unknown),
            f"{policy.name}.policy",
        )
        current = tls_deny_problems(document) if document else ["the policy is empty"]
        if not current:
            return []
        problems += current
    return [f"bucket {bucket.name}: {p}" for p in problems]


def judge_logging(bucket: Resource, found: list[Resource], plan: _Plan, ctx: Context) -> list[str]:
    if found:
        return []
    targets = log_targets(plan)
    if bucket.key in targets.buckets:
        return []  # the access-log target itself does not log into itself
    if targets.unresolved:
        raise CannotCheck(f"whether bucket {bucket.name} is the access-log target")
    return [f"bucket {bucket.name} has no server access logging (BucketLogging)"]


def _stack_rules() -> list[StackRule]:
    def rule(
        id: str,
        description: str,
        checkov_id: str | None,
        types: frozenset[str],
        judge: Judge,
        what: str,
        data_protection: bool = False,
    ) -> StackRule:
        return StackRule(
            id=id,
            description=description,
            checkov_id=checkov_id,
            resource_types=tokens.S3_BUCKET | types,
            check=_per_bucket(what, types, judge),
            data_protection=data_protection,
        )

    return [
        rule(
            "s3-bucket-encryption-kms",
            "S3 buckets use SSE-KMS by default (SSE-S3 only on the access-log target bucket)",
            "CKV_AWS_145",
            tokens.S3_ENCRYPTION,
            judge_encryption,
            "BucketServerSideEncryptionConfiguration",
            data_protection=True,
        ),
        rule(
            "s3-bucket-versioning",
            "S3 buckets have a versioning configuration",
            "CKV_AWS_21",
            tokens.S3_VERSIONING,
            judge_exists("versioning configuration (BucketVersioning)"),
            "BucketVersioning",
        ),
        rule(
            "s3-bucket-public-access-block",
            "S3 buckets have a public access block",
            "CKV2_AWS_6",
            tokens.S3_PUBLIC_ACCESS_BLOCK,
            judge_exists("public access block (BucketPublicAccessBlock)"),
            "BucketPublicAccessBlock",
            data_protection=True,
        ),
        rule(
            "s3-bucket-tls-only",
            "S3 buckets have a policy denying requests without TLS",
            None,
            tokens.S3_POLICY,
            judge_tls,
            "BucketPolicy",
            data_protection=True,
        ),
        rule(
            "s3-bucket-access-logging",
            "S3 buckets log server access (except the bucket that receives the logs)",
            "CKV_AWS_18",
            tokens.S3_LOGGING,
            judge_logging,
            "BucketLogging",
        ),
        rule(
            "s3-bucket-lifecycle",
            "S3 buckets have a lifecycle configuration",
            "CKV2_AWS_61",
            tokens.S3_LIFECYCLE,
            judge_exists("lifecycle configuration (BucketLifecycleConfiguration)"),
            "BucketLifecycleConfiguration",
        ),
    ]


RULES: list[Rule] = _resource_rules()
STACK_RULES: list[StackRule] = _stack_rules()
