"""CiIdentity built alone: the role GitHub Actions assumes, pinned to the repository."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from alone import ACCOUNT, build

from infra.foundation.ci.component import CiIdentity, CiIdentityArgs
from infra.foundation.ci.config import CiConfig

GITHUB = "token.actions.githubusercontent.com"


def ci(config: CiConfig) -> Any:
    def make(opts: pulumi.ResourceOptions) -> None:
        CiIdentity(
            "ci",
            CiIdentityArgs(
                config=config,
                role_name="t-dev-github-actions",
                name_prefix="t-dev",
                account_id=ACCOUNT,
            ),
            opts=opts,
        )

    def held(b: Any) -> dict[str, Any]:
        iam = b.client("iam")
        return {
            "role": iam.get_role(RoleName="t-dev-github-actions")["Role"],
            "providers": iam.list_open_id_connect_providers()["OpenIDConnectProviderList"],
        }

    return build(make, inspect=held)


def test_trust_pins_repository_environment_branch_and_audience() -> None:
    built = ci(CiConfig(github_repository="org/repo", environment="prod", branch="main"))
    built.assert_parented("mlops:ci:CiIdentity")
    (statement,) = built.aws["role"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"]["Federated"].endswith(f":oidc-provider/{GITHUB}")
    conditions = json.dumps(statement["Condition"])
    assert "repo:org/repo:environment:prod" in conditions
    assert f"{GITHUB}:aud" in conditions and "sts.amazonaws.com" in conditions
    assert len(built.aws["providers"]) == 1


def test_the_provider_is_created_only_where_configured() -> None:
    built = ci(CiConfig(github_repository="org/repo", create_oidc_provider=False))
    assert built.aws["providers"] == []
    assert not built.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")


def test_a_ci_identity_needs_a_repository() -> None:
    with pytest.raises(ValueError, match="github_repository"):
        CiIdentityArgs(config=CiConfig(), role_name="r", name_prefix="p", account_id=ACCOUNT)
