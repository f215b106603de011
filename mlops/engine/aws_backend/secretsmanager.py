"""Secrets Manager: secrets and their versions."""

from __future__ import annotations

from typing import Any

from mlops.engine.aws_backend.dispatch import (
    AwsRejected,
    Backend,
    handles,
    tags,
)


@handles("aws:secretsmanager/secret:Secret")
def _secret(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    window = inputs.get("recoveryWindowInDays")
    if window is not None and int(window) != 0 and not 7 <= int(window) <= 30:
        raise AwsRejected(f"InvalidParameterException: recovery window {window} is not 7..30")
    kwargs: dict[str, Any] = {"Name": state["name"], "Tags": tags(inputs)}
    if inputs.get("description"):
        kwargs["Description"] = inputs["description"]
    if inputs.get("kmsKeyId"):
        b.client("kms").describe_key(KeyId=inputs["kmsKeyId"])
        kwargs["KmsKeyId"] = inputs["kmsKeyId"]
    created = b.client("secretsmanager").create_secret(**kwargs)
    b.alias(state["arn"], created["ARN"])


@handles("aws:secretsmanager/secretVersion:SecretVersion")
def _secret_version(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {"SecretId": inputs["secretId"]}
    if inputs.get("secretString") is not None:
        kwargs["SecretString"] = inputs["secretString"]
    elif inputs.get("secretBinary") is not None:
        kwargs["SecretBinary"] = inputs["secretBinary"]
    else:
        raise AwsRejected("InvalidRequestException: a secret version needs a value")
    b.client("secretsmanager").put_secret_value(**kwargs)
