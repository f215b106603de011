"""ECR: repositories, lifecycle and repository policies."""

from __future__ import annotations

from typing import Any

from mlops.engine.aws_backend.dispatch import (
    AwsRejected,
    Backend,
    as_list,
    handles,
    policy_json,
    tags,
)


@handles("aws:ecr/repository:Repository")
def _ecr_repository(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {
        "repositoryName": state["name"],
        "imageTagMutability": inputs.get("imageTagMutability", "MUTABLE"),
        "tags": tags(inputs),
    }
    scanning = inputs.get("imageScanningConfiguration")
    if scanning is not None:
        kwargs["imageScanningConfiguration"] = {"scanOnPush": bool(scanning.get("scanOnPush"))}
    for config in inputs.get("encryptionConfigurations") or []:
        kind = config.get("encryptionType", "AES256")
        if kind not in ("AES256", "KMS", "KMS_DSSE"):
            raise AwsRejected(f"ValidationException: encryption type {kind!r}")
        kwargs["encryptionConfiguration"] = {"encryptionType": kind}
        if config.get("kmsKey"):
            if kind == "AES256":
                raise AwsRejected("ValidationException: a KMS key needs encryption type KMS")
            b.client("kms").describe_key(KeyId=config["kmsKey"])
            kwargs["encryptionConfiguration"]["kmsKey"] = config["kmsKey"]
    b.client("ecr").create_repository(**kwargs)


@handles("aws:ecr/lifecyclePolicy:LifecyclePolicy")
def _ecr_lifecycle(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    b.client("ecr").put_lifecycle_policy(
        repositoryName=inputs["repository"], lifecyclePolicyText=inputs["policy"]
    )


@handles("aws:ecr/repositoryPolicy:RepositoryPolicy")
def _ecr_policy(b: Backend, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> None:
    doc = policy_json(inputs.get("policy"), "repository policy")
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    for st in statements:
        if "Principal" not in st and "NotPrincipal" not in st:
            raise AwsRejected("InvalidParameterException: a repository policy needs a Principal")
        if "Resource" in st:
            raise AwsRejected("InvalidParameterException: a repository policy has no Resource")
        for action in as_list(st.get("Action")):
            if not str(action).startswith("ecr:") and action != "*":
                raise AwsRejected(f"InvalidParameterException: {action!r} is not an ECR action")
    b.client("ecr").set_repository_policy(
        repositoryName=inputs["repository"], policyText=inputs["policy"]
    )
