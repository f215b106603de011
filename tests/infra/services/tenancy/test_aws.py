"""Teams: per team an artifact-store prefix and an IRSA role scoped to it alone."""

from __future__ import annotations

import json

from plans import Planned

from infra.services.artifact_store.component import prefix_policy_document


def test_each_team_has_a_role_scoped_to_its_prefix(env: Planned) -> None:
    outputs = env.plan["outputs"]["team_roles"]
    assert set(outputs) == {t.name for t in env.config.teams}
    bucket = f"mlops-{env.env}-artifacts-123456789012"
    for team in env.config.teams:
        role = env.one("aws:iam/role:Role", f"teams-{team.name}")
        assert role["inputs"]["name"] == f"mlops-{env.env}-team-{team.name}"
        (st,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
        subs = [v for k, v in st["Condition"]["StringEquals"].items() if k.endswith(":sub")]
        assert subs == [f"system:serviceaccount:team-{team.name}:{team.service_account}"]
        policy = env.one("aws:iam/rolePolicy:RolePolicy", f"teams-{team.name}-artifacts")
        assert json.loads(policy["inputs"]["policy"]) == json.loads(
            prefix_policy_document(
                bucket_name=bucket,
                prefix=f"teams/{team.name}",
                access="read-write",
                key_alias=f"alias/{bucket}",
                region="us-east-1",
                account_id="123456789012",
            )
        )
        out = outputs[team.name]
        assert out["artifact_uri"] == f"s3://{bucket}/teams/{team.name}"
        assert out["namespace"] == f"team-{team.name}"
        assert out["role_arn"] == env.state(role)["arn"]


def test_no_team_can_reach_another_teams_prefix(env: Planned) -> None:
    names = [t.name for t in env.config.teams]
    for team in names:
        held = env.aws["roles"][f"mlops-{env.env}-team-{team}"]["inline"]
        text = json.dumps(held)
        assert f"teams/{team}" in text
        assert not [other for other in names if other != team and f"teams/{other}" in text]
