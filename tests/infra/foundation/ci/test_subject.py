"""The OIDC subject GitHub sends, under the default and customized templates, as GitHub
documents it ("OpenID Connect reference", docs.github.com: example subject claims and
customization templates)."""

from __future__ import annotations

import pytest

from infra.foundation.ci.subject import (
    DEFAULT_TEMPLATE,
    JobClaims,
    SubjectError,
    pinned_claims,
    subject,
)

REPO = "octo-org/octo-repo"


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        # "Filtering for a specific environment": the environment wins over event and ref
        (
            JobClaims(REPO, "Production", "push", "refs/heads/main"),
            "repo:octo-org/octo-repo:environment:Production",
        ),
        (
            JobClaims(REPO, "Production", "pull_request", "refs/pull/7/merge"),
            "repo:octo-org/octo-repo:environment:Production",
        ),
        # "Filtering for pull_request events": only without an environment
        (
            JobClaims(REPO, None, "pull_request", "refs/pull/7/merge"),
            "repo:octo-org/octo-repo:pull_request",
        ),
        # "Filtering for a specific branch" / "tag"
        (
            JobClaims(REPO, None, "push", "refs/heads/demo-branch"),
            "repo:octo-org/octo-repo:ref:refs/heads/demo-branch",
        ),
        (
            JobClaims(REPO, None, "push", "refs/tags/demo-tag"),
            "repo:octo-org/octo-repo:ref:refs/tags/demo-tag",
        ),
        # "Filtering for metadata containing `:`"
        (
            JobClaims(REPO, "Production:V1", "push", "refs/heads/main"),
            "repo:octo-org/octo-repo:environment:Production%3AV1",
        ),
    ],
)
def test_the_default_template_is_githubs_default_subject(claims: JobClaims, expected: str) -> None:
    assert subject(DEFAULT_TEMPLATE, claims) == expected


def test_a_custom_template_joins_each_key_and_value() -> None:
    job = JobClaims("org/repo", "prod", "push", "refs/heads/main")
    assert (
        subject(["repo", "context", "ref"], job)
        == "repo:org/repo:environment:prod:ref:refs/heads/main"
    )
    # GitHub's example: {"include_claim_keys": ["environment", "repository_owner"]}
    escaped = JobClaims("octo-org/x", "production:eastus", "push", "refs/heads/main")
    assert (
        subject(["environment", "repository_owner"], escaped)
        == "environment:production%3Aeastus:repository_owner:octo-org"
    )
    assert subject(["repo", "ref_type"], job) == "repo:org/repo:ref_type:branch"


def test_a_claim_the_job_does_not_have_is_an_error_not_a_guess() -> None:
    with pytest.raises(SubjectError, match="environment"):
        subject(["repo", "environment"], JobClaims("o/r", None, "push", "refs/heads/main"))
    with pytest.raises(SubjectError, match="ref"):
        subject(["repo", "ref"], JobClaims("o/r", "dev", "push", None))
    with pytest.raises(SubjectError, match="pull_request_target"):
        subject(DEFAULT_TEMPLATE, JobClaims("o/r", None, "pull_request_target", "refs/heads/main"))
    with pytest.raises(SubjectError, match="not modelled"):
        subject(["repo", "job_workflow_ref"], JobClaims("o/r", "dev", "push", "refs/heads/main"))


def test_the_pinned_claims_are_a_push_to_the_branch_in_the_environment() -> None:
    assert pinned_claims("o/r", "staging", "main") == JobClaims(
        "o/r", "staging", "push", "refs/heads/main"
    )
    assert pinned_claims("o/r", "staging", None).ref is None
