"""The ``ci`` section: the GitHub Actions identity that deploys the stack."""

from __future__ import annotations

from pydantic import Field, model_validator

from infra.base.config import FieldProblem, Strict


class CiConfig(Strict):
    """GitHub Actions identity. Subjects pin the repository, optionally an environment
    and a branch; pinning both needs the repository's OIDC subject template set to
    ``["repo", "context", "ref"]`` (GitHub's customization API).

    Attributes:
        github_repository: ``<org>/<repo>``; unset: no CI identity.
        environment: GitHub environment the job must run in, if pinned.
        branch: Branch the job must run on, if pinned.
        create_oidc_provider: Create GitHub's OIDC provider (it exists once per account).
    """

    github_repository: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
    )
    environment: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    branch: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_./-]+$")
    create_oidc_provider: bool = True

    @model_validator(mode="after")
    def _check(self) -> CiConfig:
        if not self.github_repository and (self.environment or self.branch):
            field = "environment" if self.environment else "branch"
            raise FieldProblem(field, "only applies when github_repository is set")
        return self
