"""pulumi-aws v7 type tokens the rules apply to (the deprecated V2 aliases included)."""

from __future__ import annotations

from typing import Final


def _v2(token: str) -> frozenset[str]:
    """``aws:s3/bucketVersioning:BucketVersioning`` and its deprecated ``...V2`` twin."""
    module, name = token.rsplit(":", 1)
    prefix, resource = module.split("/")
    return frozenset({token, f"{prefix}/{resource}V2:{name}V2"})


S3_BUCKET: Final = _v2("aws:s3/bucket:Bucket")
S3_ENCRYPTION: Final = _v2(
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
S3_VERSIONING: Final = _v2("aws:s3/bucketVersioning:BucketVersioning")
S3_LOGGING: Final = _v2("aws:s3/bucketLogging:BucketLogging")
S3_LIFECYCLE: Final = _v2("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
S3_PUBLIC_ACCESS_BLOCK: Final = frozenset(
    {"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"}
)
S3_POLICY: Final = frozenset({"aws:s3/bucketPolicy:BucketPolicy"})
S3_OBJECT_LOCK: Final = _v2("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")

ECR_REPOSITORY: Final = frozenset({"aws:ecr/repository:Repository"})
ECR_REPOSITORY_POLICY: Final = frozenset({"aws:ecr/repositoryPolicy:RepositoryPolicy"})
ECR_REGISTRY_POLICY: Final = frozenset({"aws:ecr/registryPolicy:RegistryPolicy"})
KMS_KEY: Final = frozenset({"aws:kms/key:Key"})
KMS_KEY_POLICY: Final = frozenset({"aws:kms/keyPolicy:KeyPolicy"})

IAM_ROLE: Final = "aws:iam/role:Role"
IAM_POLICY_HOLDERS: Final = frozenset(
    {
        IAM_ROLE,
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/policy:Policy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
    }
)
"""Resources that carry identity policies (``policy``, or a role's ``inlinePolicies``)."""

LOG_GROUP: Final = frozenset({"aws:cloudwatch/logGroup:LogGroup"})
ALARMS: Final = frozenset(
    {"aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/compositeAlarm:CompositeAlarm"}
)
SNS_TOPIC: Final = frozenset({"aws:sns/topic:Topic"})
SNS_TOPIC_POLICY: Final = frozenset({"aws:sns/topicPolicy:TopicPolicy"})
SQS_QUEUE: Final = frozenset({"aws:sqs/queue:Queue"})
SQS_QUEUE_POLICY: Final = frozenset({"aws:sqs/queuePolicy:QueuePolicy"})
SECRET_POLICY: Final = frozenset({"aws:secretsmanager/secretPolicy:SecretPolicy"})

SAGEMAKER_ENDPOINT_CONFIG: Final = frozenset(
    {"aws:sagemaker/endpointConfiguration:EndpointConfiguration"}
)
SAGEMAKER_MODEL: Final = frozenset({"aws:sagemaker/model:Model"})
SAGEMAKER_DATA_QUALITY: Final = frozenset(
    {"aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"}
)
SAGEMAKER_MODEL_PACKAGE_GROUP_POLICY: Final = frozenset(
    {"aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"}
)

TAGGABLE: Final = (
    S3_BUCKET
    | ECR_REPOSITORY
    | KMS_KEY
    | LOG_GROUP
    | ALARMS
    | SNS_TOPIC
    | SAGEMAKER_ENDPOINT_CONFIG
    | SAGEMAKER_MODEL
    | SAGEMAKER_DATA_QUALITY
    | frozenset(
        {
            IAM_ROLE,
            "aws:iam/policy:Policy",
            "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
            "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
            "aws:sagemaker/endpoint:Endpoint",
            "aws:sagemaker/trainingJob:TrainingJob",
            "aws:ec2/securityGroup:SecurityGroup",
            "aws:sqs/queue:Queue",
            "aws:lambda/function:Function",
        }
    )
)
"""Resource types that take ``tags`` and must carry the required ones."""
