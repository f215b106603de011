"""team-role-own-prefix-only and team-env-own-workspace: a team's identities and runs stop
at its own prefix and MLflow workspace."""

from __future__ import annotations

from typing import Any

import pytest
from harness import messages, res
from team_plans import (
    BUCKET,
    KMS_DECRYPT,
    LABEL,
    doc,
    identity,
    isvc,
    model,
    models_read,
    namespace,
    scoped,
    serving_plan,
)


def plan(
    fraud_statements: list[dict[str, Any]], *, runner_labelled: bool = True
) -> list[dict[str, Any]]:
    """Two teams; fraud's namespace account and fraud's Kubeflow runner share a policy."""
    out = [namespace("fraud"), namespace("recsys")]
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
        out += identity(ns, sa, role, labels, statements)
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
            # a folder below another team's prefix (its published models): probing the top
            # of the prefix alone would miss it
            [*scoped("teams/fraud"), *scoped("teams/recsys/models")],
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


SERVING_POLICY = "team-serving-read-only"
ISVC_POLICY = "team-inference-service-serving-account"


FRAUD_SERVING = "ServiceAccount team-fraud/model-server (team fraud, serving)"


def test_serving_accounts_reading_their_teams_models_only_pass() -> None:
    plan_ = serving_plan(models_read("fraud"))
    assert messages(SERVING_POLICY, plan_) == []
    # the serving accounts are team identities: the prefix rule holds them too, and passes
    assert messages(POLICY, plan_) == []


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (
            # the team runner's grant: read-write on the whole team prefix
            [*scoped("teams/fraud"), KMS_DECRYPT],
            "may write (s3:DeleteObject, s3:PutObject); a serving account only reads the "
            "team's models under teams/fraud/models/",
        ),
        (
            # writing its own models is a write all the same
            [
                *models_read("fraud"),
                {
                    "Effect": "Allow",
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{BUCKET}/teams/fraud/models/*",
                },
            ],
            "may write (s3:PutObject)",
        ),
        (
            # a write in another service: encrypting with the key
            [*models_read("fraud"), {**KMS_DECRYPT, "Action": "kms:GenerateDataKey"}],
            "may write (kms:GenerateDataKey)",
        ),
        (
            # a read of another service
            [
                *models_read("fraud"),
                {
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
                },
            ],
            "may secretsmanager:GetSecretValue, beyond reading the team's models under "
            "teams/fraud/models/",
        ),
        (
            # read-only, but the team's whole prefix: its data and MLflow artifacts
            [
                {**models_read("fraud")[1], "Resource": f"arn:aws:s3:::{BUCKET}/teams/fraud/*"},
                *models_read("fraud")[::2],
            ],
            "may s3:GetObject on s3://acme-artifacts/teams/fraud/probe, outside the team's "
            "models (teams/fraud/models/)",
        ),
        (
            # a look-alike of the models folder (no slash after the folder)
            [
                {
                    **models_read("fraud")[1],
                    "Resource": f"arn:aws:s3:::{BUCKET}/teams/fraud/models*",
                },
                *models_read("fraud")[::2],
            ],
            "may s3:GetObject on s3://acme-artifacts/teams/fraud/modelsx/probe",
        ),
        (
            # listing the team's whole prefix shows its data's keys
            [
                {
                    **models_read("fraud")[0],
                    "Condition": {"StringLike": {"s3:prefix": ["teams/fraud/*"]}},
                },
                *models_read("fraud")[1:],
            ],
            "may s3:ListBucket on s3://acme-artifacts (s3:prefix teams/fraud/), outside "
            "the team's models",
        ),
        (
            # listing without an s3:prefix condition (HeadBucket) shows every key
            [{**models_read("fraud")[0], "Condition": {}}, *models_read("fraud")[1:]],
            "may s3:ListBucket on s3://acme-artifacts without an s3:prefix (every key's name), "
            "outside the team's models",
        ),
        (
            # a grant on every bucket's objects
            [
                *models_read("fraud"),
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/*"},
            ],
            "may s3:GetObject on s3://acme-artifacts/teams/fraud/probe",
        ),
        (
            # another bucket altogether (no team keeps data there): reading it is beyond too
            [
                *models_read("fraud"),
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::acme-feast-registry/*",
                },
            ],
            "may s3:GetObject on s3://acme-feast-registry/teams/fraud/probe",
        ),
    ],
)
def test_a_serving_account_that_can_write_or_read_beyond_its_models_is_refused(
    statements: list[dict[str, Any]], expected: str
) -> None:
    found = messages(SERVING_POLICY, serving_plan(statements))
    assert found, "refused"
    assert all(m.startswith(FRAUD_SERVING + ": ") for m in found), found
    assert any(expected in m for m in found), found
    # recsys's serving role is read-only on its models: nothing of it is reported


def test_a_serving_account_reaching_another_teams_models_is_refused_as_a_team_identity() -> None:
    statements = [*models_read("fraud"), *models_read("recsys")]
    found = messages(POLICY, serving_plan(statements))
    assert any(
        m.startswith(FRAUD_SERVING.replace(", serving", "") + ": ")
        and "may s3:GetObject under s3://acme-artifacts/teams/recsys/" in m
        for m in found
    ), found


def test_a_serving_policy_the_rule_cannot_read_is_refused() -> None:
    statements = [*models_read("fraud"), {"Effect": "Allow", "Action": "s3:NoSuchAction"}]
    (message,) = messages(SERVING_POLICY, serving_plan(statements))
    assert message.startswith(FRAUD_SERVING + ": what role 'acme-team-fraud-serving' grants ")
    assert "cannot be decided" in message


def test_a_serving_role_with_managed_policies_is_refused() -> None:
    plan_ = serving_plan(models_read("fraud"))
    plan_.append(
        res(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "fraud-serving-s3-read",
            {
                "role": "acme-team-fraud-serving",
                "policyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            },
        )
    )
    (message,) = messages(SERVING_POLICY, plan_)
    assert message == (
        f"{FRAUD_SERVING}: role 'acme-team-fraud-serving': managed policy "
        "'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' is not in the plan (AWS-managed, or "
        "another stack's: its document cannot be read offline), so it cannot be shown to stop "
        "at the team's prefix"
    )


def test_a_customer_managed_policy_of_the_plan_is_read_not_refused_unseen() -> None:
    # a policy the plan holds is read like an inline one: granting the models only passes,
    # granting the team's whole prefix is refused as what it grants
    for scope, refused in (("teams/fraud/models", False), ("teams/fraud", True)):
        plan_ = serving_plan(models_read("fraud"))
        own = res(
            "aws:iam/policy:Policy",
            "extra",
            {
                "name": "extra",
                "arn": "arn:aws:iam::123456789012:policy/extra",
                "policy": doc(
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{BUCKET}/{scope}/*",
                    }
                ),
            },
        )
        attach = res(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "extra-to-serving",
            {
                "role": "acme-team-fraud-serving",
                "policyArn": "arn:aws:iam::123456789012:policy/extra",
            },
        )
        found = messages(SERVING_POLICY, [*plan_, own, attach])
        assert bool(found) is refused, found
        assert not any("cannot be read" in m for m in found)


def test_an_inference_service_under_its_teams_serving_account_passes() -> None:
    resources = [
        *serving_plan(models_read("fraud")),
        isvc("team-fraud", predictor=model("model-server"), transformer=model("model-server")),
        # outside the teams' namespaces: not this rule's
        isvc("kserve-demo", predictor=model(None)),
    ]
    assert messages(ISVC_POLICY, resources) == []


@pytest.mark.parametrize(
    ("components", "expected"),
    [
        (
            {"predictor": model(None)},
            "its predictor names no serviceAccountName, so it runs as the namespace's "
            "'default' account, not the team's serving account",
        ),
        (
            {"predictor": model("pipeline-runner")},
            "its predictor runs as 'pipeline-runner', not the team's serving account "
            "(labelled mlops.platform/workload: serving, read-only on the team's models)",
        ),
        (
            {"predictor": model("model-server"), "transformer": model("pipeline-runner")},
            "its transformer runs as 'pipeline-runner', not the team's serving account",
        ),
        (
            {"predictor": model("default")},
            "its predictor runs as 'default', which the plan does not declare in team-fraud",
        ),
    ],
)
def test_an_inference_service_not_under_its_teams_serving_account_is_refused(
    components: dict[str, Any], expected: str
) -> None:
    resources = [*serving_plan(models_read("fraud")), isvc("team-fraud", **components)]
    (message,) = messages(ISVC_POLICY, resources)
    assert message.startswith("InferenceService team-fraud/fraud-classifier (team fraud): ")
    assert expected in message


def test_another_teams_serving_account_is_not_the_teams() -> None:
    """recsys's serving account, labelled as such, named from fraud's namespace."""
    resources = serving_plan(models_read("fraud"))
    for r in resources:
        if r["name"] == "team-recsys-model-server":
            r["inputs"]["metadata"]["namespace"] = "team-fraud"
            r["inputs"]["metadata"]["name"] = "recsys-server"
    resources.append(isvc("team-fraud", predictor=model("recsys-server")))
    (message,) = messages(ISVC_POLICY, resources)
    assert "runs as 'recsys-server', not the team's serving account" in message


def test_an_unlabelled_serving_account_is_not_a_serving_account() -> None:
    """Without its label the account is not held read-only — and no InferenceService may
    run under it."""
    resources = [
        *serving_plan([*scoped("teams/fraud"), KMS_DECRYPT], serving_label=False),
        isvc("team-fraud", predictor=model("model-server")),
    ]
    assert messages(SERVING_POLICY, resources) == []
    (message,) = messages(ISVC_POLICY, resources)
    assert "runs as 'model-server', not the team's serving account" in message


# ---- ways a team role reaches another team's prefix that the rule does not read yet.
# A role's grants come from its own inlinePolicies, every attachment type (PolicyAttachment,
# managedPolicyArns, RolePolicyAttachmentsExclusive) and the bucket policies naming it
# (policies/rules/role_grants.py): each of them reaching another team's prefix is refused.
WHOLE_BUCKET = {
    "Effect": "Allow",
    "Action": ["s3:GetObject", "s3:PutObject"],
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}
REACHES_RECSYS = "role 'acme-team-fraud' may s3:GetObject under s3://acme-artifacts/teams/recsys/"


def _fraud_role_gets(extra: list[dict[str, Any]]) -> list[str]:
    rs = plan(scoped("teams/fraud"))
    return [m for m in messages(POLICY, rs + extra) if REACHES_RECSYS in m]


def test_a_roles_own_inline_policies_reaching_another_team_are_refused() -> None:
    rs = plan(scoped("teams/fraud"))
    for r in rs:
        if r["name"] == "acme-team-fraud":
            r["inputs"]["inlinePolicies"] = [{"name": "wide", "policy": doc(WHOLE_BUCKET)}]
    assert [m for m in messages(POLICY, rs) if REACHES_RECSYS in m]


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


# A condition on a key every real request carries (TLS, the caller's account or ARN, the
# region) does not hide a grant: the probes fix only who calls and s3:prefix, and an Allow
# counts when some value of any other key satisfies it
IN_ACCOUNT = {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}


def _bucket_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return res(
        "aws:s3/bucketPolicy:BucketPolicy",
        "artifacts",
        {"bucket": BUCKET, "policy": doc(*statements)},
    )


@pytest.mark.parametrize(
    "extra",
    [
        # the role's own grant, wrapped in TLS only or a region
        {"Condition": {"Bool": {"aws:SecureTransport": "true"}}},
        {"Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}},
    ],
    ids=["secure-transport", "requested-region"],
)
def test_a_grant_behind_a_condition_every_request_meets_is_refused(extra: dict[str, Any]) -> None:
    wide = {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/teams/*",
    }
    found = messages(POLICY, plan([*scoped("teams/fraud"), {**wide, **extra}]))
    assert any(REACHES_RECSYS in m for m in found), found


@pytest.mark.parametrize(
    "condition",
    [
        IN_ACCOUNT,
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/acme-team-fraud*"}},
    ],
    ids=["same-account", "principal-arn"],
)
def test_a_bucket_policy_open_to_the_account_or_the_role_by_condition_is_refused(
    condition: dict[str, Any],
) -> None:
    grant = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/teams/recsys/*",
        "Condition": condition,
    }
    assert _fraud_role_gets([_bucket_policy(grant)])


def test_a_bucket_policy_naming_another_role_by_condition_is_not_fraud_s() -> None:
    grant = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/teams/recsys/*",
        "Condition": {
            "ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/acme-team-recsys"}
        },
    }
    assert _fraud_role_gets([_bucket_policy(grant)]) == []


def test_a_serving_grant_behind_tls_or_an_account_condition_is_refused() -> None:
    data = {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/teams/fraud/*",
        "Condition": {"Bool": {"aws:SecureTransport": "true"}},
    }
    assert messages(SERVING_POLICY, serving_plan([*models_read("fraud"), data]))
    overwrite = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/teams/*",
        "Condition": IN_ACCOUNT,
    }
    found = messages(
        SERVING_POLICY, [*serving_plan(models_read("fraud")), _bucket_policy(overwrite)]
    )
    assert any("may s3:PutObject" in m for m in found), found


def test_a_plan_policy_named_like_an_aws_managed_one_is_not_read_as_it() -> None:
    # the ARN is AWS's (account `aws`): the plan's look-alike is not what gets attached
    decoy = res(
        "aws:iam/policy:Policy",
        "decoy",
        {"name": "AmazonEKS_CNI_Policy", "path": "/", "policy": doc(*models_read("fraud"))},
    )
    attach = res(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "cni-to-serving",
        {
            "role": "acme-team-fraud-serving",
            "policyArn": "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        },
    )
    found = messages(SERVING_POLICY, [*serving_plan(models_read("fraud")), decoy, attach])
    assert any("its document cannot be read offline" in m for m in found), found


def test_a_team_account_bound_to_a_role_outside_the_plan_is_refused() -> None:
    rs = plan(scoped("teams/fraud"))
    for r in rs:
        if r["name"] == "team-fraud-pipeline-runner":
            r["inputs"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] = (
                "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole"
            )
    found = messages(POLICY, rs)
    assert any("'OrganizationAccountAccessRole' is not in the plan" in m for m in found), found


def test_an_auto_named_role_is_followed_through_its_dependencies() -> None:
    # no `name` input (Pulumi names it): the RolePolicy and the account name it by dependency
    rs = [r for r in plan(scoped("teams/fraud")) if r["name"] != "acme-team-fraud"]
    role = res("aws:iam/role:Role", "acme-team-fraud", {"assumeRolePolicy": "{}"})
    wide = doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/teams/*"}
    )
    for r in rs:
        if r["name"] == "acme-team-fraud-access":
            r["inputs"] = {"name": "access", "role": "[unknown]", "policy": wide}
            r["propertyDependencies"] = {"role": [role["urn"]]}
        if r["name"] == "team-fraud-pipeline-runner":
            r["inputs"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] = "[unknown]"
            r["propertyDependencies"] = {"metadata": [role["urn"]]}
    found = messages(POLICY, [role, *rs])
    assert any("team-fraud/pipeline-runner" in m and "may s3:GetObject" in m for m in found), found


def test_a_bucket_policy_on_a_bucket_the_plan_does_not_name_is_refused() -> None:
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:role/acme-team-fraud"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::*/teams/recsys/*",
    }
    unnamed = res("aws:s3/bucketV2:BucketV2", "artifacts", {"policy": doc(grant)})
    found = messages(POLICY, [*plan(scoped("teams/fraud")), unnamed])
    assert any("on a bucket the plan does not name" in m for m in found), found


@pytest.mark.parametrize("action", ["sts:AssumeRole", "sts:*", "iam:PassRole"])
def test_a_team_role_that_may_act_as_another_role_is_refused(action: str) -> None:
    hop = {"Effect": "Allow", "Action": action, "Resource": "arn:aws:iam::123456789012:role/helper"}
    found = messages(POLICY, plan([*scoped("teams/fraud"), hop]))
    assert any("acting as another role" in m for m in found), found


def test_an_inference_service_inside_a_yaml_group_is_judged_as_one_declared_alone() -> None:
    spec = isvc("team-fraud", predictor=model("pipeline-runner"))["inputs"]
    group = res(
        "kubernetes:yaml/v2:ConfigGroup",
        "models",
        {
            "objs": [
                {
                    "apiVersion": "serving.kserve.io/v1beta1",
                    "kind": "InferenceService",
                    **spec,
                }
            ]
        },
    )
    (message,) = messages(ISVC_POLICY, [*serving_plan(models_read("fraud")), group])
    assert "its predictor runs as 'pipeline-runner', not the team's serving account" in message


def test_an_inference_service_in_its_providers_namespace_is_judged_there() -> None:
    # no metadata.namespace: the provider's namespace is where it lands
    k8s_provider = res("pulumi:providers:kubernetes", "team-fraud", {"namespace": "team-fraud"})
    model_ = isvc("team-fraud", predictor=model("pipeline-runner"))
    del model_["inputs"]["metadata"]["namespace"]
    model_["provider"] = f"{k8s_provider['urn']}::id"
    (message,) = messages(ISVC_POLICY, [*serving_plan(models_read("fraud")), k8s_provider, model_])
    assert "its predictor runs as 'pipeline-runner', not the team's serving account" in message


def test_a_bucket_policy_on_a_new_bucket_is_followed_to_its_bucket_during_a_preview() -> None:
    # a real first preview: the policy's `bucket` (the new bucket's id) is unknown, its
    # dependency names the bucket, whose `bucket` input is its name
    bucket = res("aws:s3/bucketV2:BucketV2", "artifacts", {"bucket": BUCKET})
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:role/acme-team-fraud"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/teams/recsys/*",
    }
    policy = res(
        "aws:s3/bucketPolicy:BucketPolicy",
        "artifacts-policy",
        {"bucket": "[unknown]", "policy": doc(grant)},
        deps={"bucket": [bucket]},
    )
    found = messages(POLICY, [*plan(scoped("teams/fraud")), bucket, policy])
    assert any(REACHES_RECSYS in m for m in found), found
    assert not any("does not name" in m for m in found), found
