"""CI identity in the plans: the trust admits exactly the deploy jobs' subject, the CI role
and the deployer hold no PowerUser and cannot make themselves administrators (evaluated
with the pack's IAM evaluator, conditions and permissions boundaries included), and every
role of the stack carries a boundary."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest
from plans import ENVS, Planned, planned

from infra.foundation.ci.permissions import SERVICE_OF_MODULE, WORKLOAD_SERVICES
from infra.foundation.ci.subject import JobClaims, subject
from mlops.engine.aws_backend.iam import aws_managed_policies
from policies.rules.iam_eval import Request, decide

ISSUER = "token.actions.githubusercontent.com"
ACCOUNT = "123456789012"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
EXPECTED_SUB = {
    env: f"repo:example-org/mlops-platform:environment:{env}:ref:refs/heads/main" for env in ENVS
} | {"byo": "repo:acme/ml-platform:environment:production:ref:refs/heads/main"}


def documents(p: Planned) -> dict[str, str]:
    """Managed policies of the plan by ARN."""
    return {p.state(r)["arn"]: r["inputs"]["policy"] for r in p.of_type(POLICY)}


def role(p: Planned, name: str) -> dict[str, Any]:
    (found,) = [r for r in p.of_type(ROLE) if r["inputs"]["name"] == name]
    return found


def grants(p: Planned, name: str) -> list[str]:
    """The policy documents the role holds: inline, and attached ones the plan creates
    (AWS-managed policies are read from moto's copy where a test needs them)."""
    docs = documents(p)
    inline = [
        r["inputs"]["policy"]
        for r in p.of_type("aws:iam/rolePolicy:RolePolicy")
        if r["inputs"]["role"] == name
    ]
    attached = [
        docs[r["inputs"]["policyArn"]]
        for r in p.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r["inputs"]["role"] == name and ":aws:policy/" not in r["inputs"]["policyArn"]
    ]
    return inline + attached


def allowed(p: Planned, name: str, action: str, resource: str, **context: Any) -> bool:
    """What AWS decides for the role: its policies allow and its boundary allows."""
    request = Request(action=action, resource=resource, context=context)
    boundary = documents(p)[role(p, name)["inputs"]["permissionsBoundary"]]
    return decide(request, grants(p, name)).allowed and decide(request, [boundary]).allowed


def trust_admits(p: Planned, name: str, sub: str, aud: str = "sts.amazonaws.com") -> bool:
    request = Request(
        action="sts:AssumeRoleWithWebIdentity",
        resource=f"arn:aws:iam::{ACCOUNT}:role/{name}",
        context={f"{ISSUER}:sub": sub, f"{ISSUER}:aud": aud},
        principal={"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"},
    )
    return decide(request, (), role(p, name)["inputs"]["assumeRolePolicy"]).allowed


# ------------------------------------------------------------------ trust


@pytest.mark.parametrize("name", [*ENVS, "byo"])
def test_trust_pins_one_subject_and_the_audience(name: str) -> None:
    p = planned(name)
    r = p.one(ROLE, "ci")
    (st,) = json.loads(r["inputs"]["assumeRolePolicy"])["Statement"]
    assert st["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"}
    assert st["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert st["Condition"] == {
        "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": EXPECTED_SUB[name]}
    }
    assert p.aws["roles"][r["inputs"]["name"]]["AssumeRolePolicyDocument"] == json.loads(
        r["inputs"]["assumeRolePolicy"]
    )


def test_each_stack_admits_its_deploy_job_and_no_other(env: Planned) -> None:
    """Defect 8: staging's jobs run with `environment: staging`; its role now admits them."""
    name = f"mlops-{env.env}-github-actions"
    template = env.config.ci.subject_template
    job = JobClaims("example-org/mlops-platform", env.env, "push", "refs/heads/main")
    assert trust_admits(env, name, subject(template, job))
    others = [
        JobClaims("example-org/mlops-platform", other, "push", "refs/heads/main")
        for other in {*ENVS} - {env.env}
    ] + [
        JobClaims("example-org/mlops-platform", None, "pull_request", "refs/pull/1/merge"),
        JobClaims("example-org/mlops-platform", env.env, "push", "refs/heads/feature"),
        JobClaims("example-org/other", env.env, "push", "refs/heads/main"),
    ]
    for claims in others:
        assert not trust_admits(env, name, subject(template, claims)), claims
    assert not trust_admits(env, name, subject(template, job), aud="https://github.com/example-org")


def test_the_github_provider_is_created_where_configured(env: Planned, byo: Planned) -> None:
    made = [p for p in env.aws["oidc_providers"] if ISSUER in p["Url"]]
    # one stack per account creates it (staging shares dev's account and dev's provider)
    assert len(made) == (1 if env.config.ci.create_oidc_provider else 0)
    assert env.config.ci.create_oidc_provider == (env.env != "staging")
    for provider in made:
        assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert not [p for p in byo.aws["oidc_providers"] if ISSUER in p["Url"]]


# ------------------------------------------------------------------ permissions


def test_no_role_gets_an_administrator_level_aws_policy(env: Planned) -> None:
    for held in env.aws["roles"].values():
        for arn in held["attached"]:
            assert not arn.endswith(("/PowerUserAccess", "/AdministratorAccess", "/IAMFullAccess"))


def test_github_only_starts_deploys_of_its_stack(env: Planned) -> None:
    """With the runner, the CI role uploads the checkout, starts and watches the build."""
    ci = f"mlops-{env.env}-github-actions"
    bucket = f"mlops-{env.env}-artifacts-{ACCOUNT}"
    project = f"arn:aws:codebuild:us-east-1:{ACCOUNT}:project/mlops-{env.env}-deployer"
    assert allowed(env, ci, "s3:PutObject", f"arn:aws:s3:::{bucket}/deploy/{env.env}/x.zip")
    assert not allowed(env, ci, "s3:PutObject", f"arn:aws:s3:::{bucket}/mlflow/x")
    assert allowed(env, ci, "codebuild:StartBuild", project)
    assert not allowed(env, ci, "codebuild:StartBuild", project.replace(env.env, "other"))
    for action, resource in (
        ("eks:CreateCluster", f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/mlops-{env.env}"),
        ("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/mlops-{env.env}-x"),
        ("ec2:CreateVpc", "*"),
    ):
        assert not allowed(env, ci, action, resource, **{"aws:RequestTag/environment": env.env})


@pytest.mark.parametrize("name", [*ENVS, "byo"])
def test_the_deployer_cannot_make_itself_administrator(name: str) -> None:
    """Defect 9, evaluated as AWS would: as the role that runs `pulumi up` (the runner's;
    byo's CI role), with its policies and its permissions boundary."""
    p = planned(name)
    base = p.plan["outputs"]["deploy_identity"]["base"]
    (deployer,) = p.plan["outputs"]["deploy_identity"]["deployers"]
    workload = p.plan["outputs"]["deploy_identity"]["workload_boundary_arn"]
    own = role(p, deployer)["inputs"]["permissionsBoundary"]
    new_role = f"arn:aws:iam::{ACCOUNT}:role/{base}-new"
    itself = f"arn:aws:iam::{ACCOUNT}:role/{deployer}"
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    # a role without the boundary: refused; with it: allowed (deploys still work)
    assert not allowed(p, deployer, "iam:CreateRole", new_role)
    assert allowed(p, deployer, "iam:CreateRole", new_role, **{"iam:PermissionsBoundary": workload})
    assert not allowed(p, deployer, "iam:CreateRole", new_role, **{"iam:PermissionsBoundary": own})
    assert not allowed(
        p, deployer, "iam:DeleteRolePermissionsBoundary", new_role,
        **{"iam:PermissionsBoundary": workload},
    )  # fmt: skip
    assert not allowed(p, deployer, "iam:PutRolePolicy", itself, **{"iam:PermissionsBoundary": own})
    assert not allowed(
        p, deployer, "iam:AttachRolePolicy", new_role,
        **{"iam:PermissionsBoundary": workload, "iam:PolicyARN": admin},
    )  # fmt: skip
    for boundary in (workload, own):
        assert not allowed(p, deployer, "iam:CreatePolicyVersion", boundary)
        assert not allowed(p, deployer, "iam:DeletePolicy", boundary)
    # what it deploys, it may
    assert allowed(
        p, deployer, "iam:PutRolePolicy", new_role, **{"iam:PermissionsBoundary": workload}
    )
    assert allowed(
        p, deployer, "iam:PassRole", new_role, **{"iam:PassedToService": "eks.amazonaws.com"}
    )


def test_every_role_carries_a_boundary(env: Planned, byo: Planned) -> None:
    for p in (env, byo):
        identity = p.plan["outputs"]["deploy_identity"]
        deployers = {*identity["deployers"], *identity["triggers"]}
        for r in p.of_type(ROLE):
            expected = (
                identity["deployer_boundary_arn"]
                if r["inputs"]["name"] in deployers
                else identity["workload_boundary_arn"]
            )
            assert r["inputs"]["permissionsBoundary"] == expected, r["inputs"]["name"]
        paths = {r["inputs"]["name"]: r["inputs"].get("path") for r in p.of_type(POLICY)}
        assert paths[f"{identity['base']}-boundary"] == "/boundary/"


def _actions(doc: dict[str, Any]) -> Iterable[str]:
    for st in doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]:
        if st.get("Effect") == "Allow":
            yield from st["Action"] if isinstance(st["Action"], list) else [st["Action"]]


def test_the_workload_boundary_lets_every_workload_role_do_its_job(env: Planned) -> None:
    """The boundary caps, it must not break: every action a workload role is granted
    (inline, and in the AWS-managed policies of EKS, nodes, CNI, EBS CSI) stays allowed."""
    managed = aws_managed_policies()
    workload = env.plan["outputs"]["deploy_identity"]["workload_boundary_arn"]
    boundary = documents(env)[workload]
    checked = 0
    for r in env.of_type(ROLE):
        if r["inputs"]["permissionsBoundary"] != workload:
            continue
        name = r["inputs"]["name"]
        docs = [json.loads(d) for d in grants(env, name)] + [
            managed[arn.rsplit("/", 1)[-1]]["Document"]
            for arn in env.aws["roles"][name]["attached"]
        ]
        for doc in docs:
            for action in _actions(doc):
                checked += 1
                assert action.split(":")[0] in WORKLOAD_SERVICES or action.startswith("iam:")
                decision = decide(Request(action=action, resource="*"), [boundary])
                assert decision.allowed, f"{name}: the boundary refuses {action}"
    assert checked > 50


def test_the_deploy_services_are_the_plans_aws_modules() -> None:
    """The deploy policy grants the services of the resources the stacks manage: derived
    from the plans of every environment, both ways (a new resource type in a fork fails
    here until its service is added; a service no plan uses is not granted)."""
    modules = {
        r["type"].removeprefix("aws:").split("/", 1)[0]
        for name in (*ENVS, "byo")
        for r in planned(name).resources
        if r["type"].startswith("aws:")
    }
    assert modules == set(SERVICE_OF_MODULE)


def test_every_stack_role_is_within_the_deployers_scope(env: Planned) -> None:
    names = [r["inputs"]["name"] for r in env.of_type(ROLE)]
    assert names and all(n.startswith(f"mlops-{env.env}-") for n in names)


@pytest.mark.parametrize("name", [*ENVS, "byo"])
def test_the_deployer_reads_and_writes_its_own_pulumi_state_only(name: str) -> None:
    """docs/deploy.md's S3 backend and awskms secrets provider: the role that runs
    `pulumi up` may use its stack's state bucket and an environment-tagged key, and
    nothing of another stack's state."""
    p = planned(name)
    base = p.plan["outputs"]["deploy_identity"]["base"]
    (deployer,) = p.plan["outputs"]["deploy_identity"]["deployers"]
    state = f"arn:aws:s3:::{base}-pulumi-state-{ACCOUNT}"
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert allowed(p, deployer, action, f"{state}/.pulumi/stacks/x.json"), action
    assert allowed(p, deployer, "s3:ListBucket", state)
    other = f"arn:aws:s3:::mlops-other-pulumi-state-{ACCOUNT}/.pulumi/stacks/x.json"
    assert not allowed(p, deployer, "s3:GetObject", other)
    key = f"arn:aws:kms:{p.config.region}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    env = p.plan["environment"]
    for action in ("kms:Encrypt", "kms:Decrypt"):
        assert allowed(p, deployer, action, key, **{"aws:ResourceTag/environment": env})
        assert not allowed(p, deployer, action, key, **{"aws:ResourceTag/environment": "other"})
