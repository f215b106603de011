"""KMS: keys and aliases."""

from __future__ import annotations

from typing import Any

from mlops.engine.aws_backend.dispatch import (
    AwsRejected,
    Backend,
    handles,
    policy_json,
    tags,
)


@handles("aws:kms/key:Key")
def _kms_key(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    kms = b.client("kms")
    kwargs: dict[str, Any] = {
        "Description": inputs.get("description", ""),
        "KeyUsage": inputs.get("keyUsage", "ENCRYPT_DECRYPT"),
        "KeySpec": inputs.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT"),
    }
    if inputs.get("policy"):
        policy_json(inputs["policy"], "key policy")
        kwargs["Policy"] = inputs["policy"]
    if inputs.get("tags"):
        kwargs["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags(inputs)]
    window = inputs.get("deletionWindowInDays")
    if window is not None and not 7 <= int(window) <= 30:
        raise AwsRejected(f"ValidationException: deletion window {window} is not 7..30 days")
    meta = kms.create_key(**kwargs)["KeyMetadata"]
    b.alias(state["keyId"], meta["KeyId"])
    b.alias(state["arn"], meta["Arn"])
    if inputs.get("enableKeyRotation"):
        kms.enable_key_rotation(KeyId=meta["KeyId"])


@handles("aws:kms/alias:Alias")
def _kms_alias(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    alias = state["name"]
    if not alias.startswith("alias/") or alias.startswith("alias/aws/"):
        raise AwsRejected(
            f"InvalidAliasNameException: {alias!r} must start with alias/ (not alias/aws/)"
        )
    b.client("kms").create_alias(AliasName=alias, TargetKeyId=inputs["targetKeyId"])
