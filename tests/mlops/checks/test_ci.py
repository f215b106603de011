"""The CI-identity check `mlops plan` runs: every workflow job that assumes a stack's CI
role presents a subject its trust admits, subjects no job uses are refused, and the
deployer cannot make itself an administrator; each with the failing case it exists for."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from plans import ENVS, ROOT, planned, stack_values

from infra.foundation.ci.permissions import DeployScope
from mlops.checks.ci import RoleUse, check_ci_identity, check_escalation, check_trust, role_uses
from mlops.engine.plan import plan_environment
from mlops.errors import PlanError, UsageError

WORKFLOWS = ROOT / ".github" / "workflows"
ISSUER = "token.actions.githubusercontent.com"
MLOPS = Path(sys.executable).with_name("mlops")
OIDC = "aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502"
MAIN = "refs/heads/main"


def workflows(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def job(environment: str, role: str, extra: str = "") -> str:
    return f"""\
        name: t
        on:
          push:
            branches: [main]
        permissions:
          contents: read
        jobs:
          deploy:
            runs-on: ubuntu-latest
            environment: {environment}
            {extra}
            permissions:
              id-token: write
            steps:
              - uses: {OIDC}
                with:
                  role-to-assume: {role}
                  aws-region: us-east-1
        """


# ------------------------------------------------------------------ reading the workflows


def test_the_repositorys_jobs_are_mapped_to_their_stacks() -> None:
    uses = {u.where: u for u in role_uses(WORKFLOWS)}
    for env in ENVS:
        deploy = uses[f"deploy.yml job '{env}'"]
        assert (deploy.stack, deploy.environment) == (env, env)
        assert deploy.runs == (("push", MAIN), ("workflow_dispatch", MAIN))
        image = uses[f"image.yml job 'push' (env={env}, role_var=AWS_ROLE_ARN_{env.upper()})"]
        assert (image.stack, image.environment) == (env, env)
    # pr.yml's preview role is no stack's: named as external, not checked
    previews = [u for u in uses.values() if u.where.startswith("pr.yml job 'preview'")]
    assert previews and {(u.stack, u.runs) for u in previews} == {
        (None, (("pull_request", "refs/pull/1/merge"),))
    }
    assert not [u for u in uses.values() if u.where.startswith("retrain.yml")]


@pytest.mark.parametrize(
    ("role", "extra", "error"),
    [
        (
            "${{ secrets.DEPLOY_ROLE }}",
            "",
            "role-to-assume '${{ secrets.DEPLOY_ROLE }}' maps to no",
        ),
        ("arn:aws:iam::123456789012:role/mlops-dev-github-actions", "", "maps to no stack"),
        ("${{ vars.DEPLOY_ROLE }}", "", "maps to no stack's CI role"),
    ],
)
def test_a_job_whose_role_cannot_be_mapped_is_refused(
    tmp_path: Path, role: str, extra: str, error: str
) -> None:
    with pytest.raises(PlanError, match=r"^t\.yml job 'deploy': ") as exc:
        role_uses(workflows(tmp_path, **{"t.yml": job("dev", role, extra)}))
    assert error in str(exc.value)


def test_a_job_whose_environment_cannot_be_known_is_refused(tmp_path: Path) -> None:
    text = job("${{ inputs.target }}", "${{ vars.AWS_ROLE_ARN_DEV }}")
    with pytest.raises(PlanError, match=r"its environment .* cannot be resolved offline"):
        role_uses(workflows(tmp_path, **{"t.yml": text}))


def test_a_job_condition_on_the_event_is_honoured(tmp_path: Path) -> None:
    text = job("dev", "${{ vars.AWS_ROLE_ARN_DEV }}", "if: github.event_name == 'push'")
    text = text.replace("on:\n          push:", "on:\n          pull_request:\n          push:")
    (use,) = role_uses(workflows(tmp_path, **{"t.yml": text}))
    assert use.runs == (("push", MAIN),)


# ------------------------------------------------------------------ the trust


@pytest.mark.parametrize("env", ENVS)
def test_every_shipped_stack_passes(env: str) -> None:
    check_ci_identity(planned(env).plan, ROOT, ROOT / "environments")


def test_a_job_of_a_stack_the_project_does_not_have_is_refused(tmp_path: Path) -> None:
    github = tmp_path / ".github" / "workflows"
    github.mkdir(parents=True)
    (github / "t.yml").write_text(textwrap.dedent(job("qa", "${{ vars.AWS_ROLE_ARN_QA }}")))
    with pytest.raises(PlanError) as exc:
        check_ci_identity(planned("dev").plan, tmp_path, ROOT / "environments")
    assert str(exc.value) == (
        "t.yml job 'deploy': assumes the CI role of stack 'qa', which the project does not "
        "have (environments/Pulumi.qa.yaml)"
    )


def test_a_job_the_trust_refuses_fails_the_plan(tmp_path: Path) -> None:
    """A staging job given dev's role: GitHub sends environment:staging, dev's role refuses."""
    text = job("staging", "${{ vars.AWS_ROLE_ARN_DEV }}")
    uses = role_uses(workflows(tmp_path, **{"t.yml": text}))
    with pytest.raises(PlanError) as exc:
        check_trust(planned("dev").plan, uses)
    assert str(exc.value) == (
        "aws:iam/role:Role mlops-dev-github-actions refuses t.yml job 'deploy': on push GitHub "
        "sends sub 'repo:example-org/mlops-platform:environment:staging:ref:refs/heads/main' "
        "(aud 'sts.amazonaws.com'), and the trust admits only "
        "'repo:example-org/mlops-platform:environment:dev:ref:refs/heads/main'"
    )


def test_defect_8_staging_pinned_to_the_ref_is_refused_by_mlops_plan(tmp_path: Path) -> None:
    """The old staging config: its trust pinned ref:refs/heads/main while its jobs run in
    `environment: staging`. Planned now, it is refused before anything is built; with the
    environment pinned but the default template, the branch is named as the field that is
    not in the subject GitHub sends."""
    values = copy.deepcopy(stack_values("staging"))
    old = {"github_repository": "example-org/mlops-platform", "branch": "main"}
    for ci, error in (
        (old, "platform.ci.environment: pin the GitHub environment the deploy jobs run in"),
        ({**old, "environment": "staging"}, "platform.ci.branch: is not in the subject"),
    ):
        values["config"]["mlops-platform:platform"]["ci"] = ci
        path = tmp_path / "Pulumi.staging.yaml"
        path.write_text(yaml.safe_dump(values))
        with pytest.raises(UsageError) as exc:
            plan_environment("staging", ROOT, config_file=path)
        assert exc.value.exit_code == 2
        assert str(exc.value).startswith(f"environments/Pulumi.staging.yaml: {error}")


def with_trust(env: str, change: Any) -> dict[str, Any]:
    plan = copy.deepcopy(planned(env).plan)
    (ci,) = [r for r in plan["resources"] if r["name"] == "ci" and r["type"].endswith("role:Role")]
    trust = json.loads(ci["inputs"]["assumeRolePolicy"])
    change(trust["Statement"][0]["Condition"])
    ci["inputs"]["assumeRolePolicy"] = json.dumps(trust)
    return plan


def _also_pull_requests(condition: dict[str, Any]) -> None:
    sub = condition["StringEquals"].pop(f"{ISSUER}:sub")
    pull_requests = "repo:example-org/mlops-platform:pull_request:ref:refs/pull/*/merge"
    condition["StringLike"] = {f"{ISSUER}:sub": [sub, pull_requests]}


def _any_ref(condition: dict[str, Any]) -> None:
    del condition["StringEquals"][f"{ISSUER}:sub"]
    condition["StringLike"] = {f"{ISSUER}:sub": "repo:example-org/mlops-platform:*"}


def _any_audience(condition: dict[str, Any]) -> None:
    del condition["StringEquals"][f"{ISSUER}:aud"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _also_pull_requests,
            "aws:iam/role:Role mlops-dev-github-actions admits sub "
            "'repo:example-org/mlops-platform:pull_request:ref:refs/pull/1/merge' (a pull "
            "request), a subject no job",
        ),
        (  # defect 9, second half: dev's old trust admitted any ref of the repository
            _any_ref,
            "aws:iam/role:Role mlops-dev-github-actions admits sub "
            "'repo:example-org/mlops-platform:environment:another-environment:ref:refs/heads/"
            "main' (a job in environment 'another-environment')",
        ),
        (
            _any_audience,
            "aws:iam/role:Role mlops-dev-github-actions admits audience "
            "'https://github.com/example-org'",
        ),
    ],
)
def test_a_trust_that_admits_a_subject_no_job_uses_fails(change: Any, message: str) -> None:
    uses = role_uses(WORKFLOWS)
    check_trust(with_trust("dev", lambda c: None), uses)  # unchanged: passes
    with pytest.raises(PlanError) as exc:
        check_trust(with_trust("dev", change), uses)
    assert str(exc.value).startswith(message), str(exc.value)


def test_a_job_of_a_stack_without_ci_identity_fails() -> None:
    plan = copy.deepcopy(planned("dev").plan)
    plan["outputs"]["ci"] = None
    use = RoleUse("t.yml job 'x'", "dev", "dev", (("push", MAIN),), "sts.amazonaws.com")
    with pytest.raises(PlanError, match="assumes the CI role of stack 'dev', which has none"):
        check_trust(plan, [use])


# ------------------------------------------------------------------ the deployer


def with_policy(env: str, name: str, document: dict[str, Any]) -> dict[str, Any]:
    plan = copy.deepcopy(planned(env).plan)
    (found,) = [
        r
        for r in plan["resources"]
        if r["type"] == "aws:iam/policy:Policy" and r["inputs"].get("name") == name
    ]
    found["inputs"]["policy"] = json.dumps(document)
    return plan


def old_deploy_policy(env: str) -> dict[str, Any]:
    """What the CI role held before: IAM on the stack's roles, no boundary condition."""
    s = DeployScope(base=f"mlops-{env}", environment=env, account_id="123456789012", region="x")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ManageStackRoles",
                "Effect": "Allow",
                "Action": ["iam:AttachRolePolicy", "iam:CreateRole", "iam:PassRole",
                           "iam:PutRolePolicy"],
                "Resource": [s.role_arn(f"mlops-{env}-*")],
            },
        ],
    }  # fmt: skip


def test_the_shipped_deployers_cannot_escalate() -> None:
    for env in ENVS:
        check_escalation(planned(env).plan)
    check_escalation(planned("byo").plan)


def test_the_deployer_boundary_holds_even_against_the_old_deploy_policy() -> None:
    """Defence in depth: with the pre-fix IAM statements as its policy, the deployer's
    boundary still refuses every escalation."""
    check_escalation(with_policy("dev", "mlops-dev-deploy-identity", old_deploy_policy("dev")))


def test_a_deployer_that_may_create_an_unbounded_role_fails() -> None:
    """Defect 9: the old policy, and a boundary that caps nothing."""
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    plan = with_policy("dev", "mlops-dev-deploy-identity", old_deploy_policy("dev"))
    (boundary,) = [
        r for r in plan["resources"] if r["inputs"].get("name") == "mlops-dev-deployer-boundary"
    ]
    boundary["inputs"]["policy"] = json.dumps(everything)
    with pytest.raises(PlanError) as exc:
        check_escalation(plan)
    assert str(exc.value) == (
        "aws:iam/role:Role mlops-dev-deployer: may create a role without a permissions boundary "
        "(iam:CreateRole on arn:aws:iam::123456789012:role/mlops-dev-escalated): the deployer "
        "could make itself an administrator"
    )


def test_a_deployer_that_cannot_create_bounded_roles_fails() -> None:
    nothing = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "R", "Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}],
    }
    plan = with_policy("dev", "mlops-dev-deploy-identity", nothing)
    with pytest.raises(PlanError, match="runs pulumi up but may not create a role that carries"):
        check_escalation(plan)


def test_a_deployer_with_a_policy_the_plan_does_not_hold_fails() -> None:
    plan = copy.deepcopy(planned("dev").plan)
    (attachment,) = [
        r
        for r in plan["resources"]
        if r["type"] == "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
        and r["name"] == "deployer-mlops-dev-deploy-identity"
    ]
    attachment["inputs"]["policyArn"] = "arn:aws:iam::aws:policy/PowerUserAccess"
    attachment["propertyDependencies"] = {}
    with pytest.raises(
        PlanError, match=r"has the managed policy .*PowerUserAccess, which the plan"
    ):
        check_escalation(plan)


# ------------------------------------------------------------------ the command


def test_mlops_plan_exits_1_with_one_line_naming_the_role(tmp_path: Path) -> None:
    for part in ("Pulumi.yaml", "environments", "infra", "pipelines", "mlops_runtime", ".github"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tmp_path / part)
    staging = tmp_path / "environments" / "Pulumi.staging.yaml"
    values = yaml.safe_load(staging.read_text())
    ci = values["config"]["mlops-platform:platform"]["ci"]
    ci["environment"], ci["subject_template"] = "production", ["repo", "context", "ref"]
    staging.write_text(yaml.safe_dump(values))
    done = subprocess.run(
        [str(MLOPS), "plan", "staging"], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "error: aws:iam/role:Role mlops-staging-github-actions refuses deploy.yml job 'staging'"
    )


def test_a_workload_boundary_that_allows_iam_writes_fails() -> None:
    """The roles the deployer may create are capped by the workload boundary only if it
    refuses IAM writes: one that allows them lets such a role lift itself."""
    lax = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "All", "Effect": "Allow", "Action": "iam:*", "Resource": "*"}],
    }
    plan = with_policy("dev", "mlops-dev-boundary", lax)
    with pytest.raises(PlanError) as exc:
        check_escalation(plan)
    assert str(exc.value) == (
        "aws:iam/policy:Policy mlops-dev-boundary: the workload boundary allows iam:CreateRole "
        "on arn:aws:iam::123456789012:role/mlops-dev-escalated: a role the deployer creates "
        "could lift itself or another role above the boundary"
    )


@pytest.mark.parametrize(
    ("job_permissions", "workflow_permissions"),
    [("permissions:\n              id-token: write", "contents: read"), ("", "id-token: write")],
)
def test_a_job_that_gets_a_token_but_assumes_no_role_here_is_refused(
    tmp_path: Path, job_permissions: str, workflow_permissions: str
) -> None:
    """A token exchanged by a script or a reusable workflow: nothing here can check it."""
    text = f"""\
        name: t
        on: push
        permissions:
          {workflow_permissions}
        jobs:
          sneaky:
            runs-on: ubuntu-latest
            {job_permissions}
            steps:
              - run: aws sts assume-role-with-web-identity --role-arn "$ROLE"
        """
    with pytest.raises(PlanError) as exc:
        role_uses(workflows(tmp_path, **{"t.yml": text}))
    assert str(exc.value) == (
        "t.yml job 'sneaky': may request an OIDC token (id-token: write) but assumes no role "
        "with aws-actions/configure-aws-credentials: its role cannot be checked"
    )
