"""Issue 18, defect 10: the CI session outlasts the deploy it waits for, and one stack per
account creates GitHub's OIDC provider. Each check with the failing case it exists for."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from plans import ENVS, ROOT, planned, stack_values

from infra.config import CONFIG_KEY, ConfigError, parse_config
from mlops.checks.ci import check_oidc_provider_owners, check_session, role_uses
from mlops.engine.plan import plan_environment
from mlops.errors import PlanError

OIDC = "aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502"


def deploy_job(env: str, *, duration: int | None, timeout: int | None) -> str:
    session = f"role-duration-seconds: {duration}" if duration is not None else ""
    limit = f"timeout-minutes: {timeout}" if timeout is not None else ""
    return textwrap.dedent(f"""\
        name: t
        on:
          push:
            branches: [main]
        jobs:
          {env}:
            runs-on: ubuntu-latest
            {limit}
            environment: {env}
            permissions:
              id-token: write
            steps:
              - uses: {OIDC}
                with:
                  role-to-assume: ${{{{ vars.AWS_ROLE_ARN_{env.upper()} }}}}
                  {session}
                  aws-region: us-east-1
              - run: infra/foundation/deployer/start-deploy.sh
        """)


def uses(tmp_path: Path, text: str) -> list[Any]:
    (tmp_path / "t.yml").write_text(text)
    return role_uses(tmp_path)


@pytest.mark.parametrize("env", ENVS)
def test_the_shipped_deploy_jobs_outlast_their_builds(env: str) -> None:
    check_session(planned(env).plan, role_uses(ROOT / ".github" / "workflows"))


def test_defect_10_a_one_hour_session_ends_before_prods_build(tmp_path: Path) -> None:
    # the old deploy.yml: no role-duration-seconds (one hour), timeout-minutes 90
    found = uses(tmp_path, deploy_job("prod", duration=None, timeout=90))
    with pytest.raises(PlanError, match="session ends before the deploy build"):
        check_session(planned("prod").plan, found)


def test_a_job_timeout_shorter_than_the_build_fails(tmp_path: Path) -> None:
    found = uses(tmp_path, deploy_job("prod", duration=14400, timeout=90))
    with pytest.raises(PlanError, match="timeout-minutes 90 is shorter"):
        check_session(planned("prod").plan, found)


def test_a_session_longer_than_the_role_grants_fails(tmp_path: Path) -> None:
    # AWS refuses AssumeRoleWithWebIdentity above the role's MaxSessionDuration
    found = uses(tmp_path, deploy_job("dev", duration=43200, timeout=100))
    with pytest.raises(PlanError, match="grants at most 7200 s"):
        check_session(planned("dev").plan, found)


def test_a_session_that_cannot_be_resolved_offline_fails(tmp_path: Path) -> None:
    text = deploy_job("dev", duration=7200, timeout=100).replace(
        "role-duration-seconds: 7200", "role-duration-seconds: ${{ vars.SESSION }}"
    )
    with pytest.raises(PlanError, match="cannot be resolved offline"):
        check_session(planned("dev").plan, uses(tmp_path, text))


def test_the_ci_role_grants_the_configured_session() -> None:
    plan = planned("prod").plan
    (role,) = [
        r
        for r in plan["resources"]
        if r["type"] == "aws:iam/role:Role"
        and r["inputs"].get("name") == "mlops-prod-github-actions"
    ]
    assert role["inputs"]["maxSessionDuration"] == 14400


def raw(env: str) -> dict[str, Any]:
    return copy.deepcopy(stack_values(env)["config"][CONFIG_KEY])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: c["ci"].update(max_session_duration=3599),
            "platform.ci.max_session_duration: Input should be greater than or equal to 3600",
        ),
        (
            lambda c: c["ci"].update(max_session_duration=43201),
            "platform.ci.max_session_duration: Input should be less than or equal to 43200",
        ),
        (
            lambda c: c["deployer"].update(timeout_minutes=2161),
            "platform.deployer.timeout_minutes: Input should be less than or equal to 2160",
        ),
        (
            lambda c: c["deployer"].update(timeout_minutes=120),
            "platform.ci.max_session_duration: 7200 s is shorter than the runner's build may "
            "queue and run (9000 s",
        ),
        (
            lambda c: c.pop("account_id"),
            "platform.ci.create_oidc_provider: needs account_id",
        ),
        (lambda c: c.update(account_id="1234"), "platform.account_id: String should match"),
    ],
)
def test_config_refuses_sessions_aws_refuses_or_too_short(change: Any, message: str) -> None:
    config = raw("dev")
    change(config)
    with pytest.raises(ConfigError) as err:
        parse_config(config, stack="dev")
    assert str(err.value).startswith(message), err.value


def test_the_provider_is_not_created_unless_configured() -> None:
    config = raw("staging")
    config["ci"].pop("create_oidc_provider")
    assert parse_config(config, stack="staging").ci.create_oidc_provider is False


def test_one_creator_per_account_passes() -> None:
    check_oidc_provider_owners(
        {
            "dev": ("111111111111", True),
            "staging": ("111111111111", False),
            "prod": ("2" * 12, True),
        }
    )


def test_defect_10_two_stacks_of_one_account_creating_the_provider_fail() -> None:
    # the old shipped stacks: create_oidc_provider true in all three
    with pytest.raises(PlanError) as err:
        check_oidc_provider_owners(
            {"dev": ("1" * 12, True), "staging": ("1" * 12, True), "prod": ("2" * 12, True)}
        )
    assert str(err.value).startswith(
        "stacks 'dev', 'staging' of account 111111111111 each set ci.create_oidc_provider"
    )


def test_a_creator_without_an_account_fails_closed() -> None:
    with pytest.raises(PlanError, match="without account_id"):
        check_oidc_provider_owners({"dev": (None, True)})


def test_mlops_plan_refuses_a_second_creator_in_the_account(tmp_path: Path) -> None:
    """The real entry: planning staging with a stack file that creates the provider too,
    while dev's (same account) already does."""
    values = stack_values("staging")
    values["config"][CONFIG_KEY]["ci"]["create_oidc_provider"] = True
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(yaml.safe_dump(values))
    with pytest.raises(PlanError, match="'dev', 'staging' of account 111111111111"):
        plan_environment("staging", config_file=path)


def test_the_shipped_stacks_create_the_provider_once_per_account() -> None:
    owners: dict[str, list[str]] = {}
    for env in ENVS:
        config = parse_config(raw(env), stack=env)
        if config.ci.create_oidc_provider:
            owners.setdefault(str(config.account_id), []).append(env)
    assert owners == {"111111111111": ["dev"], "222222222222": ["prod"]}
    assert ROOT.is_dir()
