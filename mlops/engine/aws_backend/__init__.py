"""Create mocked AWS resources in moto too, so AWS's own validation runs offline.

moto accepts some settings AWS refuses (any bucket policy, bad bucket names, unknown
SSE algorithms, versioning status "On"); for those the handlers check what the AWS
API checks before calling moto.

One module per AWS service registers its handlers with the dispatcher
(`dispatch.py`); adding a service is a module here and its line below, never an
edit of the dispatcher.
"""

from mlops.engine.aws_backend import (  # noqa: F401  (each registers its handlers)
    codebuild,
    dynamodb,
    ec2,
    ecr,
    eks,
    elasticache,
    iam,
    kms,
    logs,
    rds,
    s3,
    secretsmanager,
)
from mlops.engine.aws_backend.dispatch import (
    ADOPTERS,
    HANDLERS,
    AwsRejected,
    Backend,
    client,
    reveal,
    warm_up,
)

__all__ = ["ADOPTERS", "HANDLERS", "AwsRejected", "Backend", "client", "reveal", "warm_up"]
