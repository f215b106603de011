"""team-role-own-prefix-only and team-env-own-workspace: a team's identities and runs stop
at its own prefix and MLflow workspace."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import messages, res

BUCKET = "acme-artifacts"
LABEL = "mlops.platform/team"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def scoped(prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
        },
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": f"arn:aws:s3:::{BUCKET}/{prefix}/*",
        },
    ]


def plan(
    fraud_statements: list[dict[str, Any]], *, runner_labelled: bool = True
) -> list[dict[str, Any]]:
    """Two teams; fraud's namespace account and fraud's Kubeflow runner share a policy."""
    out = []
    for team in ("fraud", "recsys"):
        out.append(
            res(
                "kubernetes:core/v1:Namespace",
                f"ns-{team}",
                {"metadata": {"name": f"team-{team}", "labels": {LABEL: team}}},
            )
        )
    accounts = [
        ("team-fraud", "pipeline-runner", "acme-team-fraud", {}),
        (
            "kubeflow",
            "pipeline-runner-fraud",
            "acme-kfp-runner-fraud",
            {LABEL: "fraud"} if runner_labelled else {},
        ),
        ("team-recsys", "pipeline-runner", "acme-team-recsys", {}),
    ]
    for ns, sa, role, labels in accounts:
        statements = scoped("teams/recsys") if "recsys" in role else fraud_statements
        out += [
            res("aws:iam/role:Role", role, {"name": role, "assumeRolePolicy": "{}"}),
            res(
                "aws:iam/rolePolicy:RolePolicy",
                f"{role}-access",
                {"name": "access", "role": role, "policy": doc(*statements)},
            ),
            res(
                "kubernetes:core/v1:ServiceAccount",
                f"{ns}-{sa}",
                {
                    "metadata": {
                        "name": sa,
                        "namespace": ns,
                        "labels": labels,
                        "annotations": {
                            "eks.amazonaws.com/role-arn": f"arn:aws:iam::123456789012:role/{role}"
                        },
                    }
                },
            ),
        ]
    return out


POLICY = "team-role-own-prefix-only"


def test_roles_scoped_to_their_teams_prefix_pass() -> None:
    assert messages(POLICY, plan(scoped("teams/fraud"))) == []


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (
            [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}],
            "may s3:GetObject under s3://acme-artifacts/teams/recsys/",
        ),
        (
            [*scoped("teams/fraud"), *scoped("teams/recsys")],
            "may s3:GetObject under s3://acme-artifacts/teams/recsys/",
        ),
        (
            # a prefix wildcard that also matches every other team's
            scoped("teams/*"),
            "may s3:GetObject under s3://acme-artifacts/teams/recsys/",
        ),
        (
            # listing without an s3:prefix condition shows every team's keys
            [
                *scoped("teams/fraud")[1:],
                {
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": f"arn:aws:s3:::{BUCKET}",
                },
            ],
            "may s3:ListBucket under s3://acme-artifacts/teams/recsys/, which is not the team's",
        ),
        (
            [*scoped("teams/fraud"), *scoped("mlflow")],
            "may s3:GetObject under s3://acme-artifacts/mlflow/",
        ),
    ],
)
def test_a_team_role_reaching_beyond_its_prefix_is_refused(
    statements: list[dict[str, Any]], expected: str
) -> None:
    found = messages(POLICY, plan(statements))
    # the team namespace's account and the labelled runner: both held to the team's prefix
    assert any(
        m.startswith("ServiceAccount team-fraud/pipeline-runner (team fraud)") for m in found
    )
    assert any(
        m.startswith("ServiceAccount kubeflow/pipeline-runner-fraud (team fraud)") for m in found
    )
    assert any(expected in m for m in found), found
    assert not any("team recsys" in m for m in found)  # recsys's own role is scoped


def test_an_unlabelled_runner_in_a_shared_namespace_is_not_a_team_identity() -> None:
    found = messages(POLICY, plan(scoped("teams/*"), runner_labelled=False))
    assert [m.split(":")[0] for m in found] == [
        "ServiceAccount team-fraud/pipeline-runner (team fraud)"
    ]


ENV_POLICY = "team-env-own-workspace"


def env(data: dict[str, str]) -> list[dict[str, Any]]:
    return [
        res(
            "kubernetes:core/v1:ConfigMap",
            "env-fraud",
            {
                "metadata": {
                    "name": "mlops-pipelines-env-fraud",
                    "namespace": "kubeflow",
                    "labels": {LABEL: "fraud"},
                },
                "data": data,
            },
        )
    ]


def test_a_teams_env_naming_its_workspace_and_prefix_passes() -> None:
    ok = {"MLFLOW_WORKSPACE": "fraud", "MLOPS_DATA_PREFIX": "teams/fraud"}
    assert messages(ENV_POLICY, env(ok)) == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"MLFLOW_WORKSPACE": "recsys", "MLOPS_DATA_PREFIX": "teams/fraud"},
            "MLFLOW_WORKSPACE is 'recsys', not the team's workspace",
        ),
        (
            {"MLFLOW_WORKSPACE": "fraud", "MLOPS_DATA_PREFIX": "teams/fraudulent"},
            "MLOPS_DATA_PREFIX is 'teams/fraudulent', outside the team's prefix 'teams/fraud'",
        ),
        (
            {"MLFLOW_WORKSPACE": "fraud", "MLOPS_DATA_PREFIX": "pipelines"},
            "MLOPS_DATA_PREFIX is 'pipelines', outside the team's prefix",
        ),
    ],
)
def test_a_teams_env_naming_another_workspace_or_prefix_is_refused(
    data: dict[str, str], expected: str
) -> None:
    (message,) = messages(ENV_POLICY, env(data))
    assert message.startswith("ConfigMap kubeflow/mlops-pipelines-env-fraud (team fraud): ")
    assert expected in message


# ---- ways a team role reaches another team's prefix that the rule does not read yet.
# policies/rules/teams.py is another helper's to change: these stay xfail (strict) until the
# rule reads grants from every place they can come from. The fix: take a role's policies
# from its inlinePolicies, every attachment type (PolicyAttachment, managedPolicyArns,
# RolePolicyAttachmentsExclusive, ...) and the bucket policies naming it, as
# workload-aws-access and the identity rules do.
WHOLE_BUCKET = {
    "Effect": "Allow",
    "Action": ["s3:GetObject", "s3:PutObject"],
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}
REACHES_RECSYS = "role 'acme-team-fraud' may s3:GetObject under s3://acme-artifacts/teams/recsys/"


def _fraud_role_gets(extra: list[dict[str, Any]]) -> list[str]:
    rs = plan(scoped("teams/fraud"))
    return [m for m in messages(POLICY, rs + extra) if REACHES_RECSYS in m]


@pytest.mark.xfail(
    strict=True,
    reason="teams.py reads only aws:iam/rolePolicy resources: a Role's own inlinePolicies "
    "granting the whole bucket are not evaluated",
)
def test_a_roles_own_inline_policies_reaching_another_team_are_refused() -> None:
    rs = plan(scoped("teams/fraud"))
    for r in rs:
        if r["name"] == "acme-team-fraud":
            r["inputs"]["inlinePolicies"] = [{"name": "wide", "policy": doc(WHOLE_BUCKET)}]
    assert [m for m in messages(POLICY, rs) if REACHES_RECSYS in m]


@pytest.mark.xfail(
    strict=True,
    reason="teams.py counts only aws:iam/rolePolicyAttachment as managed policies: a "
    "PolicyAttachment (roles=[...]) of a customer policy granting the whole bucket passes",
)
def test_a_policy_attached_by_a_policy_attachment_is_refused() -> None:
    wide = res("aws:iam/policy:Policy", "wide", {"policy": doc(WHOLE_BUCKET)})
    attach = res(
        "aws:iam/policyAttachment:PolicyAttachment",
        "wide-to-fraud",
        {"roles": ["acme-team-fraud"], "policyArn": "arn:aws:iam::123456789012:policy/wide"},
        deps={"policyArn": [wide]},
    )
    found = messages(POLICY, [*plan(scoped("teams/fraud")), wide, attach])
    # refused either as the grant it makes or as a managed policy it cannot follow
    assert any("ServiceAccount team-fraud/pipeline-runner" in m for m in found)


@pytest.mark.xfail(
    strict=True,
    reason="teams.py evaluates identity policies only: a bucket policy granting the team's "
    "role every prefix (enough for AWS within one account) passes",
)
def test_a_bucket_policy_granting_the_team_role_every_prefix_is_refused() -> None:
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:role/acme-team-fraud"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    policy = res(
        "aws:s3/bucketPolicy:BucketPolicy", "artifacts", {"bucket": BUCKET, "policy": doc(grant)}
    )
    assert _fraud_role_gets([policy])
