"""ContainerRegistry built alone: immutable, scanned, encrypted; nodes pull, CI pushes."""

from __future__ import annotations

import json
from typing import Any

import pulumi
from alone import ACCOUNT, REGION, build

from infra.foundation.registry.component import ContainerRegistry, ContainerRegistryArgs
from infra.foundation.registry.config import RegistryConfig

NODES = f"arn:aws:iam::{ACCOUNT}:role/t-node"
CI = f"arn:aws:iam::{ACCOUNT}:role/t-github-actions"


def test_repositories_are_immutable_scanned_and_only_ci_pushes() -> None:
    def make(opts: pulumi.ResourceOptions) -> None:
        ContainerRegistry(
            "registry",
            ContainerRegistryArgs(
                config=RegistryConfig(untagged_expiry_days=3),
                prefix="t",
                puller_arns=[NODES],
                pusher_arn=CI,
                account_id=ACCOUNT,
                region=REGION,
            ),
            opts=opts,
        )

    def held(b: Any) -> dict[str, Any]:
        ecr = b.client("ecr")
        return {r["repositoryName"]: r for r in ecr.describe_repositories()["repositories"]}

    built = build(make, inspect=held)
    built.assert_parented("mlops:registry:ContainerRegistry")
    assert sorted(built.aws) == ["t/pipeline-components", "t/serving"]
    for repo in built.aws.values():
        assert repo["imageTagMutability"] == "IMMUTABLE"
        assert repo["imageScanningConfiguration"]["scanOnPush"] is True
        assert repo["encryptionConfiguration"]["encryptionType"] == "KMS"
    for policy in built.of_type("aws:ecr/repositoryPolicy:RepositoryPolicy"):
        statements = {s["Sid"]: s for s in json.loads(policy["inputs"]["policy"])["Statement"]}
        assert statements["NodesPull"]["Principal"] == {"AWS": [NODES]}
        assert not any("Put" in a for a in statements["NodesPull"]["Action"])
        assert statements["CiPushes"]["Principal"] == {"AWS": CI}
        deny = statements["OnlyCiPushes"]
        assert (deny["Effect"], deny["Principal"]) == ("Deny", "*")
        assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": CI}}
    (rule,) = json.loads(
        built.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")[0]["inputs"]["policy"]
    )["rules"]
    assert rule["selection"]["countNumber"] == 3
