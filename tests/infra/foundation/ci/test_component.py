"""CiIdentity built alone: the role GitHub Actions assumes, pinned to one subject."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from alone import ACCOUNT, Built, build

from infra.foundation.ci.component import CiIdentity, CiIdentityArgs, github_trust_policy
from infra.foundation.ci.config import CiConfig

GITHUB = "token.actions.githubusercontent.com"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/boundary/t-dev-deployer-boundary"
DOC = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "S",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b/*",
            }
        ],
    }
)


def ci(config: CiConfig, **extra: Any) -> Built:
    def make(opts: pulumi.ResourceOptions) -> None:
        CiIdentity(
            "ci",
            CiIdentityArgs(
                config=config, role_name="t-dev-github-actions", account_id=ACCOUNT, **extra
            ),
            opts=opts,
        )

    def held(b: Any) -> dict[str, Any]:
        iam = b.client("iam")
        name = "t-dev-github-actions"
        return {
            "role": iam.get_role(RoleName=name)["Role"],
            "inline": iam.list_role_policies(RoleName=name)["PolicyNames"],
            "attached": iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"],
            "providers": iam.list_open_id_connect_providers()["OpenIDConnectProviderList"],
        }

    return build(make, inspect=held)


def test_trust_pins_one_subject_and_the_audience_with_string_equals() -> None:
    built = ci(
        CiConfig(
            github_repository="org/repo",
            environment="prod",
            branch="main",
            subject_template=["repo", "context", "ref"],
            create_oidc_provider=True,
            max_session_duration=14400,
        ),
        permissions_boundary=BOUNDARY,
    )
    built.assert_parented("mlops:ci:CiIdentity")
    assert built.aws["role"]["MaxSessionDuration"] == 14400
    (statement,) = built.aws["role"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"]["Federated"] == f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB}"
    assert statement["Condition"] == {
        "StringEquals": {
            f"{GITHUB}:aud": "sts.amazonaws.com",
            f"{GITHUB}:sub": "repo:org/repo:environment:prod:ref:refs/heads/main",
        }
    }
    assert built.inputs("aws:iam/role:Role")["permissionsBoundary"] == BOUNDARY
    assert len(built.aws["providers"]) == 1


def test_permissions_are_what_the_slice_gives_plus_pushing_never_power_user() -> None:
    built = ci(
        CiConfig(github_repository="org/repo", environment="dev"),
        policies={"start-deploy": DOC},
        managed_policies={"t-dev-deploy-network": DOC},
        repository_arns=[f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/t-dev/x"],
    )
    assert sorted(built.aws["inline"]) == ["push-images", "start-deploy"]
    assert [a["PolicyName"] for a in built.aws["attached"]] == ["t-dev-deploy-network"]
    push = json.loads(built.inputs("aws:iam/rolePolicy:RolePolicy", "ci-push-images")["policy"])
    actions = {
        a
        for st in push["Statement"]
        for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])
    }
    assert {"ecr:PutImage", "ecr:DescribeImageScanFindings"} <= actions  # image.yml's calls


def test_the_provider_is_created_only_where_configured() -> None:
    built = ci(
        CiConfig(github_repository="org/repo", environment="dev", create_oidc_provider=False)
    )
    assert built.aws["providers"] == []
    assert not built.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")


def test_a_ci_identity_needs_a_repository_and_a_pattern_is_never_trusted() -> None:
    with pytest.raises(ValueError, match="github_repository"):
        CiIdentityArgs(config=CiConfig(), role_name="r", account_id=ACCOUNT)
    with pytest.raises(ValueError, match="pattern"):
        github_trust_policy(provider_arn="arn:p", subject="repo:o/r:*")
