"""Which AWS regions the platform can be deployed to: botocore's endpoint data.

A region is valid when a partition of botocore's ``endpoints.json`` (the data the AWS SDKs
resolve endpoints from) lists it, and every regional service the platform calls has an
endpoint there. IAM is global (one endpoint per partition), so it is not looked up per
region. The file is read directly rather than through a botocore session: a session costs
close to a second to build, the JSON file a few hundredths.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from typing import Any

# endpoints.json's service keys of what the platform creates or calls in its region:
# the VPC, EKS, RDS, ElastiCache or DynamoDB (Feast's online store), S3, KMS keys,
# Secrets Manager, ECR (`api.ecr`), CloudWatch Logs and STS (IRSA's web identity).
SERVICES = (
    "ec2",
    "eks",
    "rds",
    "elasticache",
    "dynamodb",
    "s3",
    "kms",
    "secretsmanager",
    "api.ecr",
    "logs",
    "sts",
)


@functools.cache
def _partitions() -> list[dict[str, Any]]:
    data = importlib.resources.files("botocore").joinpath("data", "endpoints.json").read_text()
    partitions: list[dict[str, Any]] = json.loads(data)["partitions"]
    return partitions


def region_problem(region: str) -> str | None:
    """Why the platform cannot be deployed to ``region``, or None."""
    import botocore

    source = f"botocore {botocore.__version__}'s endpoint data"
    for partition in _partitions():
        if region not in partition["regions"]:
            continue
        missing = [
            service
            for service in SERVICES
            if not _has_endpoint(partition["services"].get(service, {}), region)
        ]
        if missing:
            return (
                f"{region!r} has no endpoint for {', '.join(missing)} in {source}; the "
                f"platform needs {', '.join(SERVICES)}"
            )
        return None
    return f"{region!r} is not an AWS region ({source} lists no such region)"


def _has_endpoint(service: dict[str, Any], region: str) -> bool:
    endpoint = service.get("endpoints", {}).get(region)
    return endpoint is not None and not endpoint.get("deprecated", False)
