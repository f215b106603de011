"""TeamTenancy and Teams built alone: a team's namespace is isolated; its role its prefix."""

from __future__ import annotations

import json
from typing import Any

import pulumi
from alone import ACCOUNT, build

from infra.base.aws_calls import AwsCall
from infra.services.artifact_store.component import prefix_policy_document
from infra.services.tenancy.component import Peer, TeamTenancy, TeamTenancyArgs
from infra.services.tenancy.config import TeamConfig
from infra.services.tenancy.teams import Teams, TeamsArgs

POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/ABC"


def tenancy(team: TeamConfig, peers: list[Peer]) -> Any:
    def make(opts: pulumi.ResourceOptions) -> None:
        TeamTenancy(
            "tenant",
            TeamTenancyArgs(
                config=team,
                role_arn="arn:team",
                serving_role_arn="arn:team-serving",
                serving_aws_calls=[AwsCall("s3:GetObject", "arn:aws:s3:::b/x", "download")],
                peers=peers,
                group=f"team-{team.name}",
            ),
            opts=opts,
        )

    return build(make, kubernetes=True)


def test_a_team_namespace_is_restricted_bounded_and_denied_by_default() -> None:
    team = TeamConfig(name="fraud", quota={"cpu": "16", "memory": "64Gi", "gpu": 1})
    built = tenancy(team, [Peer(namespace="mlflow", ports=[5000])])
    built.assert_parented("mlops:kubernetes:TeamTenancy")
    labels = built.inputs("kubernetes:core/v1:Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    hard = built.inputs("kubernetes:core/v1:ResourceQuota")["spec"]["hard"]
    assert (hard["limits.cpu"], hard["limits.memory"]) == ("16", "64Gi")
    assert hard["requests.nvidia.com/gpu"] == "1" and hard["services.loadbalancers"] == "0"
    policies = {p["inputs"]["metadata"]["name"]: p["inputs"]["spec"] for p in built.of_type(POLICY)}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    (egress,) = policies["allow-mlflow"]["egress"]
    assert egress["ports"] == [{"protocol": "TCP", "port": 5000}]
    (aws,) = policies["allow-aws-apis"]["egress"]
    assert aws["to"][0]["ipBlock"]["except"] == ["169.254.169.254/32"]  # no node credentials
    sa = built.inputs("kubernetes:core/v1:ServiceAccount", "tenant-sa")["metadata"]
    assert sa["annotations"] == {"eks.amazonaws.com/role-arn": "arn:team"}
    assert sa["namespace"] == "team-fraud"


def test_model_servers_have_an_account_of_their_own_without_api_rights() -> None:
    built = tenancy(TeamConfig(name="fraud"), [])
    serving = built.inputs("kubernetes:core/v1:ServiceAccount", "tenant-serving-sa")
    meta = serving["metadata"]
    assert (meta["name"], meta["namespace"]) == ("model-server", "team-fraud")
    # its own (read-only) role, and the model download it makes declared on it
    assert meta["annotations"]["eks.amazonaws.com/role-arn"] == "arn:team-serving"
    assert "s3:GetObject" in meta["annotations"]["mlops.platform/aws-calls"]
    # the labels the pack recognises a team's serving account by
    assert meta["labels"]["mlops.platform/team"] == "fraud"
    assert meta["labels"]["mlops.platform/workload"] == "serving"
    # no API token in its pods, and no RoleBinding names it
    assert serving["automountServiceAccountToken"] is False
    binding = built.inputs("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
    assert [s["name"] for s in binding["subjects"] if s["kind"] == "ServiceAccount"] == [
        "pipeline-runner"
    ]


def test_each_team_role_reaches_its_own_prefix_only() -> None:
    def policy(prefix: str, access: Any = "read-write") -> str:
        return prefix_policy_document(
            bucket_name="b",
            prefix=prefix,
            access=access,
            key_alias="alias/b",
            region="us-east-1",
            account_id=ACCOUNT,
        )

    def make(opts: pulumi.ResourceOptions) -> None:
        Teams(
            "teams",
            TeamsArgs(
                role_prefix="t-dev",
                teams=[TeamConfig(name="a"), TeamConfig(name="b")],
                prefix_policy=policy,
                read_policy=lambda prefix: policy(prefix, "read"),
                bucket_uri=lambda p: f"s3://b/{p}",
                oidc_provider_arn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}",
                oidc_issuer=ISSUER,
            ),
            opts=opts,
        )

    built = build(
        make,
        inspect=lambda b: {
            "roles": sorted(r["RoleName"] for r in b.client("iam").list_roles()["Roles"])
        },
    )
    built.assert_parented("mlops:tenancy:Teams")
    assert built.aws["roles"] == [
        "t-dev-team-a",
        "t-dev-team-a-serving",
        "t-dev-team-b",
        "t-dev-team-b-serving",
    ]
    for team in ("a", "b"):
        document = json.loads(
            built.inputs("aws:iam/rolePolicy:RolePolicy", f"teams-{team}-artifacts")["policy"]
        )
        text = json.dumps(document)
        assert f"teams/{team}/" in text and f"teams/{'b' if team == 'a' else 'a'}/" not in text
        # the serving role: its team's models, read only (the evaluator's matrix is in
        # test_iam_isolation.py)
        serving = built.inputs("aws:iam/rolePolicy:RolePolicy", f"teams-{team}-serving-models")
        text = serving["policy"]
        assert f"teams/{team}/models/*" in text and "s3:PutObject" not in text
        trust = json.loads(
            built.inputs("aws:iam/role:Role", f"teams-{team}-serving")["assumeRolePolicy"]
        )
        (statement,) = trust["Statement"]
        assert statement["Condition"]["StringEquals"][f"{ISSUER}:sub"] == (
            f"system:serviceaccount:team-{team}:model-server"
        )
