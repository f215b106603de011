"""CI identity: GitHub OIDC trust pinned to the repository (prod: main and the prod
environment, from config values), permissions to deploy this stack and push images."""

from __future__ import annotations

import json

import pytest
from plans import Planned, planned

from infra.foundation.ci.component import github_subject

ISSUER = "token.actions.githubusercontent.com"
EXPECTED_SUB = {
    "dev": ("StringLike", "repo:example-org/mlops-platform:*"),
    "staging": ("StringEquals", "repo:example-org/mlops-platform:ref:refs/heads/main"),
    "prod": (
        "StringEquals",
        "repo:example-org/mlops-platform:environment:prod:ref:refs/heads/main",
    ),
    "byo": ("StringEquals", "repo:acme/ml-platform:environment:production:ref:refs/heads/main"),
}


@pytest.mark.parametrize("name", ["dev", "staging", "prod", "byo"])
def test_trust_is_pinned_to_the_repository_and_audience(name: str) -> None:
    p = planned(name)
    role = p.one("aws:iam/role:Role", "ci")
    (st,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    assert st["Principal"] == {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"}
    assert st["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert st["Condition"]["StringEquals"][f"{ISSUER}:aud"] == "sts.amazonaws.com"
    operator, sub = EXPECTED_SUB[name]
    assert st["Condition"][operator][f"{ISSUER}:sub"] == sub
    assert p.aws["roles"][role["inputs"]["name"]]["AssumeRolePolicyDocument"] == json.loads(
        role["inputs"]["assumeRolePolicy"]
    )


def test_prod_pinning_comes_from_config_values() -> None:
    assert github_subject("o/r", "prod", "main") == "repo:o/r:environment:prod:ref:refs/heads/main"
    assert github_subject("o/r", "staging", None) == "repo:o/r:environment:staging"
    assert github_subject("o/r") == "repo:o/r:*"


def test_github_provider_created_where_configured(env: Planned, byo: Planned) -> None:
    (provider,) = [p for p in env.aws["oidc_providers"] if ISSUER in p["Url"]]
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert not [p for p in byo.aws["oidc_providers"] if ISSUER in p["Url"]]


def test_may_deploy_the_stack_and_push_but_not_touch_itself(env: Planned) -> None:
    role = env.aws["roles"][f"mlops-{env.env}-github-actions"]
    assert role["attached"] == ["arn:aws:iam::aws:policy/PowerUserAccess"]
    statements = {st["Sid"]: st for st in role["inline"]["deploy-stack"]["Statement"]}
    assert statements["ManageStackRoles"]["Resource"] == [
        f"arn:aws:iam::123456789012:role/mlops-{env.env}-*",
        f"arn:aws:iam::123456789012:policy/mlops-{env.env}-*",
    ]
    assert statements["NeverItself"]["Effect"] == "Deny"
    assert statements["NeverItself"]["Resource"] == role["Arn"]
    assert sorted(statements["PushImages"]["Resource"]) == sorted(
        r["repositoryArn"] for r in env.aws["repositories"].values()
    )


def test_every_stack_role_is_within_the_ci_scope(env: Planned) -> None:
    names = [r["inputs"]["name"] for r in env.of_type("aws:iam/role:Role")]
    assert names and all(n.startswith(f"mlops-{env.env}-") for n in names)
