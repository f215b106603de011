"""DynamoDB: tables."""

from __future__ import annotations

from typing import Any

from mlops.engine.aws_backend.dispatch import (
    Backend,
    handles,
    tags,
)


@handles("aws:dynamodb/table:Table")
def _table(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    ddb = b.client("dynamodb")
    billing = inputs.get("billingMode", "PROVISIONED")
    keys = [{"AttributeName": inputs["hashKey"], "KeyType": "HASH"}]
    if inputs.get("rangeKey"):
        keys.append({"AttributeName": inputs["rangeKey"], "KeyType": "RANGE"})
    kwargs: dict[str, Any] = {
        "TableName": state["name"],
        "AttributeDefinitions": [
            {"AttributeName": a["name"], "AttributeType": a["type"]}
            for a in inputs.get("attributes") or []
        ],
        "KeySchema": keys,
        "BillingMode": billing,
        "Tags": tags(inputs),
    }
    if billing == "PROVISIONED":
        kwargs["ProvisionedThroughput"] = {
            "ReadCapacityUnits": int(inputs.get("readCapacity") or 0),
            "WriteCapacityUnits": int(inputs.get("writeCapacity") or 0),
        }
    sse = inputs.get("serverSideEncryption") or {}
    if sse.get("enabled"):
        kwargs["SSESpecification"] = {"Enabled": True, "SSEType": "KMS"}
        if sse.get("kmsKeyArn"):
            b.client("kms").describe_key(KeyId=sse["kmsKeyArn"])
            kwargs["SSESpecification"]["KMSMasterKeyId"] = sse["kmsKeyArn"]
    if inputs.get("deletionProtectionEnabled") is not None:
        kwargs["DeletionProtectionEnabled"] = bool(inputs["deletionProtectionEnabled"])
    ddb.create_table(**kwargs)
    if (inputs.get("pointInTimeRecovery") or {}).get("enabled"):
        ddb.update_continuous_backups(
            TableName=state["name"],
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
