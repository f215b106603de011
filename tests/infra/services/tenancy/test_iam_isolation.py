"""Teams' roles through the condition-aware IAM evaluator (`policies.rules.iam_eval`): own
prefix read, write and list; another team's prefix and MLflow's own prefix denied, listing
included (moto ignores the `s3:prefix` condition, so only an evaluator shows list isolation).
The policies are the ones the plan hands to AWS (moto's state), for every team role: the
team namespace's role and the team's Kubeflow runner."""

from __future__ import annotations

from typing import Any

from plans import Planned

from policies.rules.iam_eval import Request, decide


def _policies(env: Planned, role: str) -> list[dict[str, Any]]:
    return list(env.aws["roles"][role]["inline"].values())


def _bucket(env: Planned) -> str:
    return f"mlops-{env.env}-artifacts-123456789012"


def _can(policies: list[dict[str, Any]], action: str, bucket: str, key: str | None) -> bool:
    if key is None:  # a bucket-level call without a prefix (HeadBucket is ListBucket)
        request = Request(action=action, resource=f"arn:aws:s3:::{bucket}")
    elif action == "s3:ListBucket":
        request = Request(
            action=action, resource=f"arn:aws:s3:::{bucket}", context={"s3:prefix": key}
        )
    else:
        request = Request(action=action, resource=f"arn:aws:s3:::{bucket}/{key}")
    return decide(request, policies).allowed


def test_team_roles_reach_their_prefix_and_nothing_of_another_team_or_mlflow(
    env: Planned,
) -> None:
    names = [t.name for t in env.config.teams]
    assert len(names) >= 2, "isolation needs two teams to show"
    bucket = _bucket(env)
    for team in names:
        for role in (f"mlops-{env.env}-team-{team}", f"mlops-{env.env}-kfp-runner-{team}"):
            held = _policies(env, role)
            own = f"teams/{team}"
            for key in (f"{own}/data/part.parquet", f"{own}/mlflow/1/abc/artifacts/model.pkl"):
                assert _can(held, "s3:GetObject", bucket, key), (role, key)
                assert _can(held, "s3:PutObject", bucket, key), (role, key)
            assert _can(held, "s3:ListBucket", bucket, f"{own}/models/"), role
            denied = [f"teams/{other}" for other in names if other != team] + ["mlflow"]
            for prefix in denied:
                for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
                    assert not _can(held, action, bucket, f"{prefix}/x/model.pkl"), (
                        role,
                        action,
                        prefix,
                    )
                assert not _can(held, "s3:ListBucket", bucket, f"{prefix}/"), (role, prefix)
                # a prefix that merely starts like the team's is another team's
                assert not _can(held, "s3:GetObject", bucket, f"{own}x/data"), role
            # listing the whole bucket (no prefix) would show every team's keys
            assert not _can(held, "s3:ListBucket", bucket, None), role
            assert not _can(held, "s3:ListBucket", bucket, "teams/"), role


def test_mlflow_reads_each_workspaces_artifacts_and_writes_only_its_own_prefix(
    env: Planned,
) -> None:
    held = _policies(env, f"mlops-{env.env}-mlflow")
    bucket = _bucket(env)
    for team in (t.name for t in env.config.teams):
        key = f"teams/{team}/mlflow/1/abc/artifacts/model.pkl"
        assert _can(held, "s3:GetObject", bucket, key)
        assert _can(held, "s3:ListBucket", bucket, f"teams/{team}/mlflow/1/")
        assert not _can(held, "s3:PutObject", bucket, key)
        assert not _can(held, "s3:GetObject", bucket, f"teams/{team}/data/part.parquet")
    assert _can(held, "s3:PutObject", bucket, "mlflow/1/abc/artifacts/model.pkl")
