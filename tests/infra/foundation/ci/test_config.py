"""The ``ci`` section: one pinned subject, built from the declared subject template."""

from __future__ import annotations

from typing import Any, get_args

import pytest
import yaml
from plans import ENVS, ROOT, config_of

from infra.config import CONFIG_KEY, ConfigError, parse_config
from infra.foundation.ci.config import CiConfig, ClaimKey
from infra.foundation.ci.subject import (
    CLAIM_KEYS,
    DEFAULT_TEMPLATE,
    JobClaims,
    pinned_claims,
    subject,
)


def with_ci(ci: dict[str, Any]) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "environments" / "Pulumi.dev.yaml").read_text())
    platform = doc["config"][CONFIG_KEY]
    platform["ci"] = ci
    return platform


def test_the_default_template_is_githubs_own() -> None:
    cfg = CiConfig(github_repository="o/r", environment="staging")
    assert cfg.subject_template == ["repo", "context"]
    assert cfg.subject == "repo:o/r:environment:staging"


@pytest.mark.parametrize("env", ENVS)
def test_every_shipped_stack_pins_its_github_environment(env: str) -> None:
    ci = config_of(env).ci
    assert ci.environment == env
    assert ci.subject == f"repo:example-org/mlops-platform:environment:{env}:ref:refs/heads/main"


def test_staging_no_longer_pins_a_ref_its_jobs_never_present() -> None:
    # defect 8: the jobs run with `environment: staging`, so under GitHub's default
    # template they present the environment, never the ref; the config says so
    old = {"github_repository": "o/r", "branch": "main"}
    trusted = subject(DEFAULT_TEMPLATE, pinned_claims("o/r", None, "main"))
    presented = subject(DEFAULT_TEMPLATE, JobClaims("o/r", "staging", "push", "refs/heads/main"))
    assert (trusted, presented) == ("repo:o/r:ref:refs/heads/main", "repo:o/r:environment:staging")
    with pytest.raises(ConfigError) as exc:
        parse_config(with_ci({**old, "environment": "staging"}))
    assert str(exc.value).startswith("platform.ci.branch: is not in the subject")


@pytest.mark.parametrize(
    ("ci", "error"),
    [
        (
            {"github_repository": "o/r"},
            "platform.ci.environment: pin the GitHub environment the deploy jobs run in",
        ),
        (
            {"github_repository": "o/r", "environment": "dev", "subject_template": ["context"]},
            "platform.ci.subject_template: must include 'repo'",
        ),
        (
            {"github_repository": "o/r", "environment": "dev", "subject_template": ["repo", "ref"]},
            "platform.ci.branch: is required: subject_template has 'ref'",
        ),
        (
            {
                "github_repository": "o/r",
                "environment": "dev",
                "subject_template": ["repo", "repository_owner"],
            },
            "platform.ci.environment: is not in the subject",
        ),
        (
            {"github_repository": "o/r", "environment": "dev", "subject_template": ["repo", "sha"]},
            "platform.ci.subject_template.1: Input should be",
        ),
        (
            {"github_repository": "o/r", "environment": "d", "subject_template": ["repo", "repo"]},
            "platform.ci.subject_template: names a claim key twice",
        ),
        ({"environment": "dev"}, "platform.ci.environment: only applies when github_repository"),
    ],
)
def test_a_trust_that_cannot_be_pinned_is_refused(ci: dict[str, Any], error: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(with_ci(ci))
    assert str(exc.value).startswith(error), str(exc.value)


def test_the_config_offers_exactly_the_claim_keys_the_subject_model_computes() -> None:
    assert get_args(ClaimKey) == CLAIM_KEYS
