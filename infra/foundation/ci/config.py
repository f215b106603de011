"""The ``ci`` section: the GitHub Actions identity that deploys the stack.

The CI role's trust admits exactly one OIDC subject: the one GitHub sends for the stack's
deploy jobs. That subject depends on the repository's OIDC subject template, a setting of
the GitHub repository (not of this one), so the template is declared here and both the
trust policy and `mlops plan`'s CI-identity check (mlops/checks/ci.py) build the subject
from it (docs/adr/0004-ci-role-and-permissions-boundary.md).
"""

from __future__ import annotations

from typing import Literal, cast

from pydantic import Field, model_validator

from infra.base.config import FieldProblem, Strict
from infra.foundation.ci.subject import DEFAULT_TEMPLATE, pinned_claims, subject

# the claim keys infra/foundation/ci/subject.py can compute (subject.CLAIM_KEYS)
ClaimKey = Literal["repo", "context", "ref", "environment", "repository_owner", "ref_type"]


def _default_template() -> list[ClaimKey]:
    """GitHub's own subject format (subject.DEFAULT_TEMPLATE)."""
    return [cast(ClaimKey, key) for key in DEFAULT_TEMPLATE]


class CiConfig(Strict):
    """GitHub Actions identity.

    Attributes:
        github_repository: ``<org>/<repo>``; unset: no CI identity.
        environment: The GitHub environment the deploy jobs run in (``environment:`` of
            the jobs in .github/workflows); required with a repository. Its protection
            rules (reviewers, deployment branches) then gate every job that gets the role.
        branch: The branch the jobs run on; needs ``ref`` in the template (with an
            environment, GitHub's default subject does not carry the ref).
        subject_template: The repository's OIDC subject template (GitHub's
            ``include_claim_keys``); the default is GitHub's own format. A repository
            with a custom template must declare it here, or no job can assume the role.
        create_oidc_provider: Create GitHub's OIDC provider
            (``token.actions.githubusercontent.com``). IAM holds one per URL per account:
            exactly one stack of an account may create it (the others reference it by ARN),
            and a second create fails with ``EntityAlreadyExists``. Off by default; on, the
            stack must name its ``account_id`` so ``mlops plan`` can refuse two stacks of one
            account both creating it.
        max_session_duration: Longest session of the CI role, in seconds (IAM: 3600 to
            43200). A deploy job holds its session while it waits for the deploy, so with the
            runner it must outlast the build's queue and run timeouts
            (``deployer.queued_timeout_minutes`` + ``deployer.timeout_minutes``); the jobs
            request it with ``role-duration-seconds``.
    """

    github_repository: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
    )
    environment: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    branch: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_./-]+$")
    subject_template: list[ClaimKey] = Field(default_factory=_default_template)
    create_oidc_provider: bool = False
    max_session_duration: int = Field(default=7200, ge=3600, le=43200)

    @model_validator(mode="after")
    def _check(self) -> CiConfig:
        keys = self.subject_template
        if len(set(keys)) != len(keys):
            raise FieldProblem("subject_template", "names a claim key twice")
        if "repo" not in keys:
            # without it every repository's jobs with the same context would match
            raise FieldProblem("subject_template", "must include 'repo'")
        if not self.github_repository:
            if self.environment or self.branch:
                field = "environment" if self.environment else "branch"
                raise FieldProblem(field, "only applies when github_repository is set")
            return self
        if not self.environment:
            raise FieldProblem("environment", "pin the GitHub environment the deploy jobs run in")
        if "ref" in keys and not self.branch:
            raise FieldProblem("branch", "is required: subject_template has 'ref'")
        # the job has an environment, so `context` is `environment:<env>`
        if "context" not in keys and "environment" not in keys:
            raise FieldProblem(
                "environment",
                f"is not in the subject: subject_template {keys} carries neither 'context' "
                "nor 'environment', so every environment's jobs would be admitted",
            )
        if self.branch and "ref" not in keys:
            raise FieldProblem(
                "branch",
                f"is not in the subject: subject_template {keys} has no 'ref' (with an "
                "environment, GitHub's context is the environment, not the ref); add 'ref' to "
                "the template (and to the repository's) or remove branch",
            )
        return self

    @property
    def subject(self) -> str:
        """The one ``sub`` the CI role admits: a push to ``branch`` in ``environment``."""
        if not self.github_repository:
            raise ValueError("no subject without github_repository")
        claims = pinned_claims(self.github_repository, self.environment, self.branch)
        return subject(self.subject_template, claims)
