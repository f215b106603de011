"""Teams' roles through the condition-aware IAM evaluator (`policies.rules.iam_eval`): own
prefix read, write and list; another team's prefix and MLflow's own prefix denied, listing
included (moto ignores the `s3:prefix` condition, so only an evaluator shows list isolation).
The policies are the ones the plan hands to AWS (moto's state), for every team role: the
team namespace's role and the team's Kubeflow runner; and the team's serving role, which
reads the team's published models and nothing else."""

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


def _kms_decrypt(env: Planned, service: str = "s3") -> Request:
    region = env.config.region
    return Request(
        action="kms:Decrypt",
        resource=f"arn:aws:kms:{region}:123456789012:key/0123",
        context={
            "kms:ViaService": f"{service}.{region}.amazonaws.com",
            "kms:ResourceAliases": [f"alias/{_bucket(env)}"],
        },
    )


def test_serving_roles_read_their_teams_models_and_nothing_else(env: Planned) -> None:
    names = [t.name for t in env.config.teams]
    bucket = _bucket(env)
    for team in names:
        role = f"mlops-{env.env}-team-{team}-serving"
        held = _policies(env, role)
        models = f"teams/{team}/models"
        model = f"{models}/fraud-classifier/3/model.pkl"
        # what KServe's storage initializer does: list the version's files, download them
        # (decrypting through S3 with the bucket's key)
        assert _can(held, "s3:ListBucket", bucket, f"{models}/fraud-classifier/3/"), role
        assert _can(held, "s3:GetObject", bucket, model), role
        assert decide(_kms_decrypt(env), held).allowed, role
        # the key only through S3, and never to encrypt (it writes nothing)
        assert not decide(_kms_decrypt(env, "secretsmanager"), held).allowed, role
        for action in ("kms:Encrypt", "kms:GenerateDataKey"):
            request = _kms_decrypt(env)
            assert not decide(Request(action, request.resource, request.context), held).allowed
        # no write of any kind, its own models included
        for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"):
            for key in (model, f"teams/{team}/data/part.parquet", "mlflow/1/model.pkl"):
                assert not _can(held, action, bucket, key), (role, action, key)
        for action in ("s3:PutObjectAcl", "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration"):
            assert not _can(held, action, bucket, None), (role, action)
        # the team's own prefix outside its models: its data and its MLflow artifacts
        for key in (
            f"teams/{team}/data/part.parquet",
            f"teams/{team}/mlflow/1/abc/artifacts/model.pkl",
            f"teams/{team}/modelsx/m/1/model.pkl",  # a look-alike of the models folder
        ):
            assert not _can(held, "s3:GetObject", bucket, key), (role, key)
        for listed in (f"teams/{team}/", f"teams/{team}/data/", f"teams/{team}/modelsx/"):
            assert not _can(held, "s3:ListBucket", bucket, listed), (role, listed)
        # another team's models, MLflow's own prefix, a look-alike team prefix
        others = [f"teams/{o}/models" for o in names if o != team]
        for prefix in [*others, "mlflow", f"teams/{team}x/models"]:
            assert not _can(held, "s3:GetObject", bucket, f"{prefix}/m/1/model.pkl"), (role, prefix)
            assert not _can(held, "s3:ListBucket", bucket, f"{prefix}/"), (role, prefix)
        # listing without a prefix (HeadBucket) would show every team's keys
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
