"""The ``sub`` claim GitHub Actions puts in a job's OIDC token, under a subject template.

One model of GitHub's behaviour, used by both sides: the CI role's trust policy (the
subject the stack admits) and the offline CI-identity check (the subject each workflow
job presents, `mlops/checks/ci.py`). Pure Python, no Pulumi.

What GitHub documents ("OpenID Connect reference" / "About security hardening with
OpenID Connect", docs.github.com, read 2026-12):

* The default subject is ``repo:<owner>/<repo>:<context>``, where the context is
  ``environment:<name>`` when the job references an environment; otherwise
  ``pull_request`` when the workflow was triggered by a pull request event; otherwise
  ``ref:<ref>`` (``refs/heads/<branch>`` or ``refs/tags/<tag>``).
* A repository (or organization) can replace that format with a customization template,
  a list of claim keys (``PUT /repos/{owner}/{repo}/actions/oidc/customization/sub`` with
  ``{"use_default": false, "include_claim_keys": [...]}``). The subject is then each key
  and its value, joined by ``:``; ``repo`` is the shortened form of the repository and
  ``context`` is the part that follows the repository in the default format. GitHub's
  own example: ``["repo", "context", "job_workflow_ref"]`` gives
  ``repo:octo-org/octo-repo:environment:prod:job_workflow_ref:...``. So
  ``["repo", "context", "ref"]`` gives ``repo:org/repo:environment:prod:ref:refs/heads/main``.
  ``["repo", "context"]`` is GitHub's default format.
* Any ``:`` inside a value is sent as ``%3A``.

Only the claim keys whose value follows from the job's repository, environment, event
and ref are modelled (`CLAIM_KEYS`); a template with any other key is refused by the
config, not guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CLAIM_KEYS = ("repo", "context", "ref", "environment", "repository_owner", "ref_type")
DEFAULT_TEMPLATE: tuple[str, ...] = ("repo", "context")
ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"  # what aws-actions/configure-aws-credentials asks for
# events whose default context is `pull_request` (pull_request_target is not modelled:
# GitHub documents only "a pull request event", so a job on it is refused, not guessed)
PULL_REQUEST_EVENTS = ("pull_request",)


class SubjectError(ValueError):
    """The subject cannot be computed from what is known (a claim the job does not have)."""


@dataclass(frozen=True)
class JobClaims:
    """What a job's token carries that the subject can contain.

    Attributes:
        repository: ``<owner>/<repo>``.
        environment: The GitHub environment the job references, if any.
        event_name: What triggered the workflow (``push``, ``pull_request``, ...).
        ref: The ref the run is for (``refs/heads/main``, ``refs/pull/1/merge``); None
            when it is not known (only a template that needs it fails then).
    """

    repository: str
    environment: str | None = None
    event_name: str = "push"
    ref: str | None = None


def _escaped(value: str) -> str:
    return value.replace(":", "%3A")


def _ref(claims: JobClaims, key: str) -> str:
    if claims.ref is None:
        raise SubjectError(f"claim {key!r} needs the run's ref, which is not known")
    return claims.ref


def context(claims: JobClaims) -> str:
    """The part after the repository in GitHub's default subject."""
    if claims.environment:
        return f"environment:{_escaped(claims.environment)}"
    if claims.event_name in PULL_REQUEST_EVENTS:
        return "pull_request"
    if claims.event_name == "pull_request_target":
        raise SubjectError("the subject of a pull_request_target run is not modelled")
    return f"ref:{_escaped(_ref(claims, 'context'))}"


def _value(key: str, claims: JobClaims) -> str:
    if key == "repo":
        return f"repo:{_escaped(claims.repository)}"
    if key == "context":
        return context(claims)
    if key == "ref":
        return f"ref:{_escaped(_ref(claims, key))}"
    if key == "environment":
        if not claims.environment:
            raise SubjectError("claim 'environment' needs a job that references an environment")
        return f"environment:{_escaped(claims.environment)}"
    if key == "repository_owner":
        return f"repository_owner:{_escaped(claims.repository.split('/', 1)[0])}"
    if key == "ref_type":
        ref = _ref(claims, key)
        if ref.startswith("refs/heads/"):
            return "ref_type:branch"
        if ref.startswith("refs/tags/"):
            return "ref_type:tag"
        raise SubjectError(f"claim 'ref_type' of ref {ref!r} is not modelled")
    raise SubjectError(f"claim key {key!r} is not modelled")


def subject(template: Sequence[str], claims: JobClaims) -> str:
    """The ``sub`` GitHub sends for a job with ``claims`` under ``template``."""
    if not template:
        raise SubjectError("the subject template is empty")
    return ":".join(_value(key, claims) for key in template)


def pinned_claims(repository: str, environment: str | None, branch: str | None) -> JobClaims:
    """The claims of the one kind of job a stack's trust admits: in ``environment`` (if
    pinned), on a push to ``branch`` (if pinned)."""
    return JobClaims(
        repository=repository,
        environment=environment,
        event_name="push",
        ref=f"refs/heads/{branch}" if branch else None,
    )
