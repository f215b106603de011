"""Container registry: scanned, immutable, KMS-encrypted, untagged images expire; nodes
pull, only CI pushes."""

from __future__ import annotations

from plans import Planned


def test_repositories_scan_on_push_are_immutable_and_kms_encrypted(env: Planned) -> None:
    repos = env.aws["repositories"]
    assert set(repos) == {f"mlops-{env.env}/{r}" for r in env.config.registry.repositories}
    for repo in repos.values():
        assert repo["imageTagMutability"] == "IMMUTABLE"
        assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo["encryptionConfiguration"]["encryptionType"] == "KMS"
        assert repo["encryptionConfiguration"]["kmsKey"].startswith("arn:aws:kms:")


def test_untagged_images_expire_after_the_configured_days(env: Planned) -> None:
    for repo in env.aws["repositories"].values():
        (rule,) = repo["lifecycle"]["rules"]
        assert rule["selection"]["tagStatus"] == "untagged"
        assert rule["selection"]["countNumber"] == env.config.registry.untagged_expiry_days
        assert rule["action"] == {"type": "expire"}


def test_nodes_pull_and_only_ci_pushes(env: Planned) -> None:
    node_role = env.state(env.one("aws:iam/role:Role", "cluster-node"))["arn"]
    ci_role = env.plan["outputs"]["ci_role_arn"]
    for repo in env.aws["repositories"].values():
        statements = {st["Sid"]: st for st in repo["policy"]["Statement"]}
        assert statements["NodesPull"]["Principal"] == {"AWS": [node_role]}
        assert not any(a.startswith("ecr:Put") for a in statements["NodesPull"]["Action"])
        assert statements["CiPushes"]["Principal"] == {"AWS": ci_role}
        deny = statements["OnlyCiPushes"]
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
        assert "ecr:PutImage" in deny["Action"]
        assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": ci_role}}


def test_dev_repositories_may_be_deleted_with_images_prod_not(env: Planned) -> None:
    for repo in env.of_type("aws:ecr/repository:Repository"):
        assert repo["inputs"]["forceDelete"] is (env.env == "dev")
