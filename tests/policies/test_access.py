"""workload-aws-access: a workload bound to a role can make the calls it declares, as AWS
decides them; what cannot be shown is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import messages, mutated, res
from team_plans import isvc, model, models_read, serving_plan

POLICY = "workload-aws-access"
BUCKET = "acme-artifacts"
ROLE_ARN = "arn:aws:iam::123456789012:role/acme-dev-kfp"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


PREFIX_GRANT = doc(
    {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": f"arn:aws:s3:::{BUCKET}",
        "Condition": {"StringLike": {"s3:prefix": ["pipelines", "pipelines/*"]}},
    },
    {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": f"arn:aws:s3:::{BUCKET}/pipelines/*",
    },
)
HEAD = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"}
CALLS = [
    {
        "action": "s3:ListBucket",
        "resource": f"arn:aws:s3:::{BUCKET}",
        "context": {"s3:prefix": "pipelines/run/"},
        "why": "list a run",
    },
    {
        "action": "s3:PutObject",
        "resource": f"arn:aws:s3:::{BUCKET}/pipelines/run/out",
        "why": "upload",
    },
]


def workload(calls: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    annotations = {"eks.amazonaws.com/role-arn": ROLE_ARN}
    if calls is not None:
        annotations["mlops.platform/aws-calls"] = json.dumps(calls)
    return [
        res("aws:iam/role:Role", "kfp", {"name": "acme-dev-kfp", "assumeRolePolicy": "{}"}),
        res(
            "aws:iam/rolePolicy:RolePolicy",
            "kfp-access",
            {"name": "access", "role": "acme-dev-kfp", "policy": PREFIX_GRANT},
        ),
        res(
            "aws:s3/bucketPolicy:BucketPolicy",
            "policy",
            {
                "bucket": BUCKET,
                "policy": doc(
                    {
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Action": "s3:*",
                        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ),
            },
        ),
        res(
            "kubernetes:core/v1:ServiceAccount",
            "sa",
            {
                "metadata": {
                    "name": "ml-pipeline",
                    "namespace": "kubeflow",
                    "annotations": annotations,
                }
            },
        ),
    ]


def test_declared_calls_the_role_allows_pass() -> None:
    assert messages(POLICY, workload(CALLS)) == []


def test_head_bucket_under_a_prefix_only_grant_is_refused() -> None:
    head = {
        "action": "s3:ListBucket",
        "resource": f"arn:aws:s3:::{BUCKET}",
        "why": "HeadBucket at start",
    }
    (message,) = messages(POLICY, workload([*CALLS, head]))
    assert "kubeflow/ml-pipeline: HeadBucket at start: AWS would refuse s3:ListBucket" in message
    assert "(no condition keys in the request)" in message
    fixed = mutated(
        workload([*CALLS, head]),
        lambda rs: rs[1]["inputs"].update(policy=doc(*json.loads(PREFIX_GRANT)["Statement"], HEAD)),
    )
    assert messages(POLICY, fixed) == []


def test_a_listing_outside_the_prefix_is_refused() -> None:
    other = {
        "action": "s3:ListBucket",
        "resource": f"arn:aws:s3:::{BUCKET}",
        "context": {"s3:prefix": "teams/other/"},
        "why": "list another team",
    }
    assert "AWS would refuse" in messages(POLICY, workload([other]))[0]


def test_a_deny_in_the_bucket_policy_wins() -> None:
    def deny_run(rs: list[dict[str, Any]]) -> None:
        rs[2]["inputs"]["policy"] = doc(
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/pipelines/run/*",
            }
        )

    (message,) = messages(POLICY, mutated(workload(CALLS), deny_run))
    assert "upload: AWS would refuse s3:PutObject" in message and "(deny)" in message


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (
            lambda rs: rs[3]["inputs"]["metadata"]["annotations"].pop("mlops.platform/aws-calls"),
            "declares no AWS calls",
        ),
        (
            lambda rs: rs[3]["inputs"]["metadata"]["annotations"].update(
                {"mlops.platform/aws-calls": "not json"}
            ),
            "declares no AWS calls",
        ),
        (lambda rs: rs.pop(0), "is not in the plan"),
        (
            lambda rs: rs.append(
                res(
                    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                    "a",
                    {
                        "role": "acme-dev-kfp",
                        "policyArn": "arn:aws:iam::aws:policy/PowerUserAccess",
                    },
                )
            ),
            "its document cannot be read offline",
        ),
        (
            lambda rs: rs.append(
                res(
                    "aws:iam/policyAttachment:PolicyAttachment",
                    "b",
                    {
                        "roles": ["acme-dev-kfp"],
                        "policyArn": "arn:aws:iam::aws:policy/PowerUserAccess",
                    },
                )
            ),
            "its document cannot be read offline",
        ),
        (lambda rs: rs[1]["inputs"].update(policy="[secret]"), "Could not see"),
        (
            lambda rs: rs[1]["inputs"].update(
                policy=doc(
                    {
                        "Effect": "Allow",
                        "Action": "s3:*",
                        "Resource": "arn:aws:s3:::b/${aws:username}",
                    }
                )
            ),
            "cannot be decided",
        ),
    ],
)
def test_what_cannot_be_shown_is_refused(change: Any, needle: str) -> None:
    found = messages(POLICY, mutated(workload(CALLS), change))
    assert found and needle in found[0], found


def test_accounts_without_a_role_are_not_its_business() -> None:
    plain = res(
        "kubernetes:core/v1:ServiceAccount", "x", {"metadata": {"name": "x", "namespace": "n"}}
    )
    assert messages(POLICY, [plain]) == []


def test_a_deny_in_the_buckets_own_policy_input_wins() -> None:
    # every place a bucket policy can be set counts: here the bucket's own `policy` input
    deny = doc(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/pipelines/run/*",
        }
    )

    def inline(rs: list[dict[str, Any]]) -> None:
        rs.pop(2)  # the BucketPolicy companion
        rs.append(res("aws:s3/bucket:Bucket", "b", {"bucket": BUCKET, "policy": deny}))

    (message,) = messages(POLICY, mutated(workload(CALLS), inline))
    assert "upload: AWS would refuse s3:PutObject" in message and "(deny)" in message

    def both(rs: list[dict[str, Any]]) -> None:
        rs.append(res("aws:s3/bucket:Bucket", "b", {"bucket": BUCKET, "policy": deny}))

    found = messages(POLICY, mutated(workload(CALLS), both))
    assert found and "2 bucket policies set in different places" in found[0]


def team_serving(key: str) -> list[dict[str, Any]]:
    """A team's serving account (KServe's storage initializer) whose role reads only the
    team's prefix, declaring the download of a model at `key`."""
    grant = doc(
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {"StringLike": {"s3:prefix": ["teams/fraud", "teams/fraud/*"]}},
        },
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": f"arn:aws:s3:::{BUCKET}/teams/fraud/*",
        },
    )
    directory = key.rsplit("/", 1)[0]
    calls = [
        {
            "action": "s3:ListBucket",
            "resource": f"arn:aws:s3:::{BUCKET}",
            "context": {"s3:prefix": f"{directory}/"},
            "why": "list a model's files",
        },
        {"action": "s3:GetObject", "resource": f"arn:aws:s3:::{BUCKET}/{key}", "why": "download"},
    ]

    def as_team(rs: list[dict[str, Any]]) -> None:
        rs[1]["inputs"].update(policy=grant)
        rs[3]["inputs"]["metadata"].update(name="pipeline-runner", namespace="team-fraud")

    return mutated(workload(calls), as_team)


def test_a_team_model_server_reads_its_model_from_the_teams_prefix_only() -> None:
    """What the training pipeline renders: the model published under the team's prefix
    passes; the old shape, MLflow's own prefix, which team roles cannot read, is refused."""
    assert messages(POLICY, team_serving("teams/fraud/models/clf/3/MLmodel")) == []
    refused = messages(POLICY, team_serving("mlflow/1/models/m-0a1b/artifacts/MLmodel"))
    assert refused and all("team-fraud/pipeline-runner" in m for m in refused)
    assert any("AWS would refuse s3:GetObject" in m for m in refused)


# kserve-model-readable: KServe's storage initializer lists the
# model's prefix and downloads it as the component's account; a model it cannot read is a
# pod that never becomes ready while `pulumi up` reports success
READABLE = "kserve-model-readable"
FRAUD_MODEL = f"s3://{BUCKET}/teams/fraud/models/fraud-classifier/3"


def served(account: str | None, uri: str = FRAUD_MODEL) -> dict[str, Any]:
    out = model(account)
    out["model"]["storageUri"] = uri
    return out


def test_a_model_its_serving_account_may_read_passes() -> None:
    rs = [*serving_plan(models_read("fraud")), isvc("team-fraud", predictor=served("model-server"))]
    assert messages(READABLE, rs) == []


@pytest.mark.parametrize(
    ("account", "uri", "expected"),
    [
        (None, FRAUD_MODEL, "runs as 'default', which the plan does not bind to an IAM role"),
        ("nobody", FRAUD_MODEL, "runs as 'nobody', which the plan does not bind to an IAM role"),
        # the serving role reads published models only: a model left in the team's data
        (
            "model-server",
            f"s3://{BUCKET}/teams/fraud/data/model",
            "AWS would refuse s3:ListBucket on s3://acme-artifacts/teams/fraud/data/model",
        ),
        # recsys's serving account cannot read fraud's models
        (
            "model-server",
            f"s3://{BUCKET}/teams/recsys/models/x/1",
            "AWS would refuse s3:ListBucket",
        ),
    ],
)
def test_a_model_its_account_cannot_read_is_refused(
    account: str | None, uri: str, expected: str
) -> None:
    rs = [*serving_plan(models_read("fraud")), isvc("team-fraud", predictor=served(account, uri))]
    (message,) = messages(READABLE, rs)
    assert expected in message, message
