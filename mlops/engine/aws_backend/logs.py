"""CloudWatch Logs: log groups and the retention values AWS accepts."""

from __future__ import annotations

from typing import Any

from mlops.engine.aws_backend.dispatch import (
    AwsRejected,
    Backend,
    handles,
)

# the only retention values CloudWatch Logs accepts
_RETENTION_DAYS = {
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
}


@handles("aws:cloudwatch/logGroup:LogGroup")
def _log_group(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    logs = b.client("logs")
    group = state["name"]
    kwargs: dict[str, Any] = {"logGroupName": group}
    if inputs.get("kmsKeyId"):
        b.client("kms").describe_key(KeyId=inputs["kmsKeyId"])  # AWS refuses unknown keys
        kwargs["kmsKeyId"] = inputs["kmsKeyId"]
    if inputs.get("tags"):
        kwargs["tags"] = {k: str(v) for k, v in inputs["tags"].items()}
    retention = inputs.get("retentionInDays")
    if retention and int(retention) not in _RETENTION_DAYS:
        raise AwsRejected(
            f"InvalidParameterException: retention {retention} days is not one of "
            f"{sorted(_RETENTION_DAYS)}"
        )
    logs.create_log_group(**kwargs)
    if retention:
        logs.put_retention_policy(logGroupName=group, retentionInDays=int(retention))
