"""WorkloadIdentity built alone: trust pinned to one service account and STS."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from alone import ACCOUNT, build

from infra.foundation.identity.component import WorkloadIdentity, WorkloadIdentityArgs

ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/ABCDEF"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/p/*"}
        ],
    }
)


def test_trust_names_exactly_one_service_account_and_policies_are_inline() -> None:
    def make(opts: pulumi.ResourceOptions) -> None:
        WorkloadIdentity(
            "app",
            WorkloadIdentityArgs(
                role_name="t-app",
                namespace="team-a",
                service_account="runner",
                oidc_provider_arn=PROVIDER,
                inline_policies={"read": POLICY},
            ),
            opts=opts,
        )

    def held(b: Any) -> dict[str, Any]:
        iam = b.client("iam")
        return {
            "role": iam.get_role(RoleName="t-app")["Role"],
            "inline": iam.list_role_policies(RoleName="t-app")["PolicyNames"],
        }

    built = build(make, inspect=held)
    built.assert_parented("mlops:identity:WorkloadIdentity")
    (statement,) = built.aws["role"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Federated": PROVIDER}
    assert statement["Condition"] == {
        "StringEquals": {
            f"{ISSUER}:sub": "system:serviceaccount:team-a:runner",
            f"{ISSUER}:aud": "sts.amazonaws.com",
        }
    }
    assert built.aws["inline"] == ["read"]


def test_role_names_iam_would_refuse_are_refused() -> None:
    with pytest.raises(ValueError, match="1-64 characters"):
        WorkloadIdentityArgs(
            role_name="r" * 65, namespace="n", service_account="s", oidc_provider_arn=PROVIDER
        )
