"""Create the stack's resources in the local cloud from the real stack program.

``materialise(cloud, "local")`` runs ``stacks/Pulumi.local.yaml`` through the real stack
program under Pulumi's mock runtime (``stacks.offline.run_offline``) with ``LocalCloudMocks``:
each resource the engine registers is created in the local cloud with boto3 (KMS key,
buckets and their versioning / encryption / public-access block / policy / lifecycle /
logging, ECR repository, model package group, IAM roles and policies, SNS topic,
alarms, log groups, dashboard), and moto's real ids and ARNs flow back into the program,
so the resulting ``StackOutputs`` point at resources that exist. Types without a
handler are recorded in ``Materialised.skipped`` (with synthesised ids) and reported.

The outputs are also written to ``.mlops/local/outputs-<stack>.json`` under the current
directory, where a pipeline in another process (``mlops ... --outputs FILE``) reads them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.contract import StackOutputs
from localcloud.server import LocalCloud

OUTPUTS_DIR = Path(".mlops") / "local"
"""Where ``materialise`` writes ``outputs-<stack>.json`` (relative to the cwd)."""


@dataclass
class Materialised:
    stack: str
    outputs: StackOutputs
    created: list[str] = field(default_factory=list)
    """``<type> <name>`` of every resource created in the local cloud."""
    skipped: list[str] = field(default_factory=list)
    """``<type> <name>: <why>`` of every resource recorded but not created."""
    outputs_file: Path | None = None


def outputs_path(stack: str, base: Path | None = None) -> Path:
    return (base or Path.cwd()) / OUTPUTS_DIR / f"outputs-{stack}.json"


def _int(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _pascal(value: Any) -> Any:
    """Pulumi's camelCase inputs → the AWS API's PascalCase (``id`` → ``ID``), floats → ints."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = "ID" if key == "id" else key[:1].upper() + key[1:]
            out[name] = _pascal(item)
        return out
    if isinstance(value, list):
        return [_pascal(v) for v in value]
    return _int(value)


def _tags(inputs: dict[str, Any], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: str(v)} for k, v in (inputs.get("tags") or {}).items()]


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _make_mocks_class() -> type:
    from stacks.offline import PlatformMocks, synthesize

    class LocalCloudMocks(PlatformMocks):
        """``PlatformMocks`` whose ``create`` makes each resource for real in the local cloud."""

        def __init__(self, cloud: LocalCloud) -> None:
            super().__init__(account_id="123456789012")
            self.cloud = cloud
            self.created: list[str] = []
            self.skipped: list[str] = []
            self._clients: dict[str, Any] = {}
            self._client_lock = threading.Lock()

        def client(self, service: str) -> Any:
            import boto3

            with self._client_lock:
                if service not in self._clients:
                    factory: Any = boto3.client
                    self._clients[service] = factory(
                        service,
                        endpoint_url=self.cloud.endpoint_url,
                        region_name=self.region,
                        aws_access_key_id="testing",
                        aws_secret_access_key="testing",
                    )
                return self._clients[service]

        def create(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str | None, dict]:
            rid, extra = synthesize(typ, name, inputs, self.account_id, self.region, self.partition)
            handler = HANDLERS.get(typ)
            if handler is None:
                self.skipped.append(f"{typ} {name}: no local cloud handler (ids synthesised)")
                return rid, {**inputs, **extra}
            try:
                real_id, real = handler(self, rid, inputs)
            except _Optional as exc:
                self.skipped.append(f"{typ} {name}: {exc}")
                return rid, {**inputs, **extra}
            self.created.append(f"{typ} {name}")
            return real_id, {**inputs, **extra, **real}

    return LocalCloudMocks


class _Optional(Exception):
    """A secondary setting the local cloud could not apply (recorded, not fatal)."""


Handler = Callable[[Any, str, dict[str, Any]], tuple[str, dict[str, Any]]]


def _optional(call: Callable[[], Any]) -> None:
    try:
        call()
    except Exception as exc:  # botocore ClientError or moto's NotImplemented
        raise _Optional(f"{type(exc).__name__}: {exc}") from exc


# -- handlers (mocks, synthesised id, inputs) → (id, state) -----------------------------
def _kms_key(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kms = m.client("kms")
    args: dict[str, Any] = {
        "Description": i.get("description", ""),
        "Tags": _tags(i, "TagKey", "TagValue"),
    }
    if i.get("policy"):
        args["Policy"] = i["policy"]
    if i.get("customerMasterKeySpec"):
        args["KeySpec"] = i["customerMasterKeySpec"]
    meta = kms.create_key(**args)["KeyMetadata"]
    if i.get("enableKeyRotation"):
        kms.enable_key_rotation(KeyId=meta["KeyId"])
    return meta["KeyId"], {"keyId": meta["KeyId"], "arn": meta["Arn"]}


def _kms_alias(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kms = m.client("kms")
    try:
        kms.create_alias(AliasName=rid, TargetKeyId=i["targetKeyId"])
    except Exception as exc:
        if _code(exc) != "AlreadyExistsException":
            raise
        kms.update_alias(AliasName=rid, TargetKeyId=i["targetKeyId"])
    return rid, {"arn": f"arn:{m.partition}:kms:{m.region}:{m.account_id}:{rid}"}


def _bucket(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    s3 = m.client("s3")
    args: dict[str, Any] = {"Bucket": rid}
    if i.get("objectLockEnabled"):
        args["ObjectLockEnabledForBucket"] = True
    if m.region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": m.region}
    try:
        s3.create_bucket(**args)
    except Exception as exc:
        if _code(exc) != "BucketAlreadyOwnedByYou":
            raise
    if i.get("tags"):
        s3.put_bucket_tagging(Bucket=rid, Tagging={"TagSet": _tags(i)})
    return rid, {"bucket": rid}


def _bucket_setting(apply: Callable[[Any, dict[str, Any]], None]) -> Handler:
    def handler(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        _optional(lambda: apply(m.client("s3"), i))
        return i["bucket"], {}

    return handler


def _versioning(s3: Any, i: dict[str, Any]) -> None:
    status = (i.get("versioningConfiguration") or {}).get("status", "Enabled")
    s3.put_bucket_versioning(Bucket=i["bucket"], VersioningConfiguration={"Status": status})


def _encryption(s3: Any, i: dict[str, Any]) -> None:
    rules = _pascal(i.get("rules") or [])
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        if "SseAlgorithm" in default:
            default["SSEAlgorithm"] = default.pop("SseAlgorithm")
        if "KmsMasterKeyId" in default:
            default["KMSMasterKeyID"] = default.pop("KmsMasterKeyId")
    s3.put_bucket_encryption(Bucket=i["bucket"], ServerSideEncryptionConfiguration={"Rules": rules})


def _public_access(s3: Any, i: dict[str, Any]) -> None:
    keys = ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets")
    config = {k[:1].upper() + k[1:]: bool(i.get(k)) for k in keys}
    config["BlockPublicAcls"] = config.pop("BlockPublicAcls")
    s3.put_public_access_block(Bucket=i["bucket"], PublicAccessBlockConfiguration=config)


def _ownership(s3: Any, i: dict[str, Any]) -> None:
    rule = (i.get("rule") or {}).get("objectOwnership", "BucketOwnerEnforced")
    s3.put_bucket_ownership_controls(
        Bucket=i["bucket"], OwnershipControls={"Rules": [{"ObjectOwnership": rule}]}
    )


def _policy(s3: Any, i: dict[str, Any]) -> None:
    s3.put_bucket_policy(Bucket=i["bucket"], Policy=i["policy"])


def _object_lock(s3: Any, i: dict[str, Any]) -> None:
    config: dict[str, Any] = {"ObjectLockEnabled": i.get("objectLockEnabled") or "Enabled"}
    retention = (i.get("rule") or {}).get("defaultRetention")
    if retention:
        config["Rule"] = {"DefaultRetention": _pascal(retention)}
    s3.put_object_lock_configuration(Bucket=i["bucket"], ObjectLockConfiguration=config)


def _lifecycle(s3: Any, i: dict[str, Any]) -> None:
    s3.put_bucket_lifecycle_configuration(
        Bucket=i["bucket"], LifecycleConfiguration={"Rules": _pascal(i.get("rules") or [])}
    )


def _logging(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """PutBucketLogging; moto 5.2 crashes reading a target policy whose Principal is ``"*"``
    (the TLS-only deny), so the same configuration is then set on moto's bucket directly."""
    config = {"TargetBucket": i["targetBucket"], "TargetPrefix": i.get("targetPrefix", "")}
    try:
        m.client("s3").put_bucket_logging(
            Bucket=i["bucket"], BucketLoggingStatus={"LoggingEnabled": config}
        )
    except Exception as exc:
        if _code(exc) != "InternalFailure":
            raise _Optional(f"{type(exc).__name__}: {exc}") from exc
        from localcloud.context import s3_backend

        with m.cloud.lock:
            backend = s3_backend(m.account_id, m.region)
            if config["TargetBucket"] not in backend.buckets:
                raise _Optional(f"target bucket {config['TargetBucket']} does not exist") from exc
            backend.get_bucket(i["bucket"]).logging = config
    return i["bucket"], {}


def _ecr_repository(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ecr = m.client("ecr")
    args: dict[str, Any] = {
        "repositoryName": rid,
        "imageTagMutability": i.get("imageTagMutability", "MUTABLE"),
        "imageScanningConfiguration": {
            "scanOnPush": bool((i.get("imageScanningConfiguration") or {}).get("scanOnPush"))
        },
        "tags": _tags(i),
    }
    encryption = (i.get("encryptionConfigurations") or [None])[0]
    if encryption:
        args["encryptionConfiguration"] = {
            k: v
            for k, v in {
                "encryptionType": encryption.get("encryptionType"),
                "kmsKey": encryption.get("kmsKey"),
            }.items()
            if v
        }
    try:
        repo = ecr.create_repository(**args)["repository"]
    except Exception as exc:
        if _code(exc) != "RepositoryAlreadyExistsException":
            raise
        repo = ecr.describe_repositories(repositoryNames=[rid])["repositories"][0]
    return rid, {
        "name": rid,
        "arn": repo["repositoryArn"],
        "registryId": repo["registryId"],
        "repositoryUrl": repo["repositoryUri"],
    }


def _ecr_lifecycle(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    _optional(
        lambda: m.client("ecr").put_lifecycle_policy(
            repositoryName=i["repository"], lifecyclePolicyText=i["policy"]
        )
    )
    return i["repository"], {"registryId": m.account_id}


def _model_package_group(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    sm = m.client("sagemaker")
    existing = sm.list_model_package_groups(NameContains=rid)["ModelPackageGroupSummaryList"]
    match = [g for g in existing if g["ModelPackageGroupName"] == rid]
    if match:
        return rid, {"arn": match[0]["ModelPackageGroupArn"]}
    created = sm.create_model_package_group(
        ModelPackageGroupName=rid,
        ModelPackageGroupDescription=i.get("modelPackageGroupDescription", ""),
        Tags=_tags(i),
    )
    return rid, {"arn": created["ModelPackageGroupArn"]}


def _model_package_group_policy(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    group = i["modelPackageGroupName"]
    m.client("sagemaker").put_model_package_group_policy(
        ModelPackageGroupName=group, ResourcePolicy=i["resourcePolicy"]
    )
    return group, {}


def _ecr_repository_policy(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    m.client("ecr").set_repository_policy(repositoryName=i["repository"], policyText=i["policy"])
    return i["repository"], {"registryId": m.account_id}


def _security_group(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """In the VPC the stack names when the local cloud has it; else recorded and skipped."""
    ec2 = m.client("ec2")
    args: dict[str, Any] = {
        "GroupName": i.get("name") or rid,
        "Description": i.get("description") or rid,
    }
    if i.get("vpcId"):
        args["VpcId"] = i["vpcId"]
    try:
        group_id = ec2.create_security_group(**args)["GroupId"]
    except Exception as exc:
        raise _Optional(f"{type(exc).__name__}: {exc}") from exc
    arn = f"arn:{m.partition}:ec2:{m.region}:{m.account_id}:security-group/{group_id}"
    return group_id, {"arn": arn, "ownerId": m.account_id}


def _iam_role(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    iam = m.client("iam")
    args: dict[str, Any] = {
        "RoleName": rid,
        "AssumeRolePolicyDocument": i["assumeRolePolicy"],
        "Path": i.get("path") or "/",
        "Tags": _tags(i),
    }
    if i.get("description"):
        args["Description"] = i["description"]
    if i.get("maxSessionDuration"):
        args["MaxSessionDuration"] = int(i["maxSessionDuration"])
    try:
        role = iam.create_role(**args)["Role"]
    except Exception as exc:
        if _code(exc) != "EntityAlreadyExists":
            raise
        role = iam.get_role(RoleName=rid)["Role"]
    return rid, {"name": rid, "arn": role["Arn"], "uniqueId": role["RoleId"]}


def _iam_role_policy(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    policy_name = i.get("name") or rid.split(":")[-1]
    m.client("iam").put_role_policy(
        RoleName=i["role"], PolicyName=policy_name, PolicyDocument=i["policy"]
    )
    return f"{i['role']}:{policy_name}", {"name": policy_name}


def _iam_policy(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    created = m.client("iam").create_policy(
        PolicyName=i.get("name") or rid, PolicyDocument=i["policy"], Path=i.get("path") or "/"
    )
    arn = created["Policy"]["Arn"]
    return arn, {"arn": arn, "name": created["Policy"]["PolicyName"]}


def _iam_attachment(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    m.client("iam").attach_role_policy(RoleName=i["role"], PolicyArn=i["policyArn"])
    return f"{i['role']}-{rid}", {}


def _sns_topic(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    attributes = {"KmsMasterKeyId": i["kmsMasterKeyId"]} if i.get("kmsMasterKeyId") else {}
    topic_name = i.get("name") or rid.rsplit(":", 1)[-1]
    arn = m.client("sns").create_topic(Name=topic_name, Attributes=attributes, Tags=_tags(i))[
        "TopicArn"
    ]
    return arn, {"arn": arn, "name": topic_name}


def _sns_policy(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    m.client("sns").set_topic_attributes(
        TopicArn=i["arn"], AttributeName="Policy", AttributeValue=i["policy"]
    )
    return i["arn"], {}


def _sns_subscription(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    arn = m.client("sns").subscribe(
        TopicArn=i["topic"],
        Protocol=i["protocol"],
        Endpoint=i["endpoint"],
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return arn, {"arn": arn}


_ALARM_FIELDS = {
    "comparisonOperator": "ComparisonOperator",
    "evaluationPeriods": "EvaluationPeriods",
    "datapointsToAlarm": "DatapointsToAlarm",
    "metricName": "MetricName",
    "namespace": "Namespace",
    "period": "Period",
    "statistic": "Statistic",
    "extendedStatistic": "ExtendedStatistic",
    "threshold": "Threshold",
    "treatMissingData": "TreatMissingData",
    "actionsEnabled": "ActionsEnabled",
    "alarmDescription": "AlarmDescription",
    "alarmActions": "AlarmActions",
    "okActions": "OKActions",
    "insufficientDataActions": "InsufficientDataActions",
    "unit": "Unit",
}


def _alarm(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    args: dict[str, Any] = {"AlarmName": rid, "Tags": _tags(i)}
    for source, target in _ALARM_FIELDS.items():
        if i.get(source) is not None:
            args[target] = _int(i[source])
    if i.get("dimensions"):
        args["Dimensions"] = [{"Name": k, "Value": str(v)} for k, v in i["dimensions"].items()]
    if i.get("metricQueries"):
        args["Metrics"] = _pascal(i["metricQueries"])
    m.client("cloudwatch").put_metric_alarm(**args)
    return rid, {"arn": f"arn:{m.partition}:cloudwatch:{m.region}:{m.account_id}:alarm:{rid}"}


def _log_group(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    logs = m.client("logs")
    args: dict[str, Any] = {"logGroupName": rid, "tags": dict(i.get("tags") or {})}
    if i.get("kmsKeyId"):
        args["kmsKeyId"] = i["kmsKeyId"]
    try:
        logs.create_log_group(**args)
    except Exception as exc:
        if _code(exc) != "ResourceAlreadyExistsException":
            raise
    if i.get("retentionInDays"):
        logs.put_retention_policy(logGroupName=rid, retentionInDays=int(i["retentionInDays"]))
    return rid, {"arn": f"arn:{m.partition}:logs:{m.region}:{m.account_id}:log-group:{rid}"}


def _dashboard(m: Any, rid: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    _optional(
        lambda: m.client("cloudwatch").put_dashboard(
            DashboardName=rid, DashboardBody=i["dashboardBody"]
        )
    )
    return rid, {}


HANDLERS: dict[str, Handler] = {
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:s3/bucketVersioning:BucketVersioning": _bucket_setting(_versioning),
    "aws:s3/bucketVersioningV2:BucketVersioningV2": _bucket_setting(_versioning),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _bucket_setting(
        _encryption
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_setting(_public_access),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _bucket_setting(_ownership),
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_setting(_policy),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_setting(_lifecycle),
    "aws:s3/bucketLogging:BucketLogging": _logging,
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": _bucket_setting(
        _object_lock
    ),
    "aws:ecr/repository:Repository": _ecr_repository,
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": _ecr_lifecycle,
    "aws:ecr/repositoryPolicy:RepositoryPolicy": _ecr_repository_policy,
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": _model_package_group_policy,
    "aws:ec2/securityGroup:SecurityGroup": _security_group,
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": _model_package_group,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/rolePolicy:RolePolicy": _iam_role_policy,
    "aws:iam/policy:Policy": _iam_policy,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _iam_attachment,
    "aws:sns/topic:Topic": _sns_topic,
    "aws:sns/topicPolicy:TopicPolicy": _sns_policy,
    "aws:sns/topicSubscription:TopicSubscription": _sns_subscription,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
}


def materialise_run(
    cloud: LocalCloud,
    stack: str = "local",
    *,
    stacks_dir: Path | None = None,
    outputs_dir: Path | None = None,
) -> Materialised:
    """Materialise ``stack`` into ``cloud``; the outputs, what was created and what was skipped."""
    from stacks.offline import run_offline

    mocks = _make_mocks_class()(cloud)
    run = run_offline(stack, mocks=mocks, stacks_dir=stacks_dir)
    outputs = StackOutputs.model_validate(run.outputs)
    path = outputs_path(stack, outputs_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(outputs.model_dump(mode="json"), indent=2) + "\n")
    return Materialised(stack, outputs, list(mocks.created), list(mocks.skipped), path)


def materialise(cloud: LocalCloud, stack: str = "local") -> StackOutputs:
    """Create ``stacks/Pulumi.<stack>.yaml``'s resources in ``cloud`` with the real stack
    program; the ``StackOutputs`` (also written to ``.mlops/local/outputs-<stack>.json``)."""
    return materialise_run(cloud, stack).outputs
