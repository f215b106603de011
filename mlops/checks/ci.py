"""CI identity: the roles GitHub Actions assumes admit exactly the jobs that use them, and
the deployer cannot make itself an administrator.

For a planned stack this reads ``.github/workflows/*.yml`` and, for every job that assumes
a role with ``aws-actions/configure-aws-credentials``, maps the role to a stack
(`ROLE_VARIABLES`, explicit; a job it cannot map is refused), computes the OIDC subject
GitHub sends for each way the job runs (its environment; each event of the workflow the
job can run on, with its ref: ``push`` on the listed branches, ``workflow_dispatch`` and
``schedule`` on the default branch, ``pull_request`` on ``refs/pull/<n>/merge``) under the
stack's declared subject template (`infra/foundation/ci/subject.py`), and evaluates
``sts:AssumeRoleWithWebIdentity`` with that ``sub`` and ``aud`` against the CI role's trust
policy from the plan, with `policies/rules/iam_eval.py` (AWS's evaluation, conditions
included). Every job of the stack must be admitted. Then the subjects no job uses (each
job's, with another environment, no environment, a pull request, another branch, a tag,
another repository, another audience) must be refused.

Then every role a deployer identity holds (a role trusting GitHub's OIDC provider or
CodeBuild) is evaluated, with its inline policies and its permissions boundary from the
plan, on the calls that would make it an administrator: creating a role without the
stack's workload boundary, removing or replacing a boundary, changing a boundary policy,
changing its own role, attaching an administrator policy. Each must be refused; the role
that runs ``pulumi up`` must still be allowed to create a role that carries the boundary.

A refusal raises `PlanError` (exit 1) naming the workflow job or the role.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from infra.base import yamlio
from infra.foundation.ci.subject import AUDIENCE, ISSUER, JobClaims, SubjectError, subject
from mlops.errors import PlanError
from mlops.paths import PACKAGE_DIR

OIDC_ACTION = "aws-actions/configure-aws-credentials@"
DEFAULT_BRANCH = "main"  # where workflow_dispatch and schedule runs start by default
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
GROUP_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"  # roles, users, groups
EXCLUSIVE = "aws:iam/roleManagedPolicyAttachmentsExclusive:RoleManagedPolicyAttachmentsExclusive"
POLICY = "aws:iam/policy:Policy"
PULL_REQUEST_REF = "refs/pull/1/merge"
CODEBUILD_PROJECT = "aws:codebuild/project:Project"
# configure-aws-credentials asks for one hour unless role-duration-seconds says otherwise;
# GitHub cancels a job after 360 minutes unless timeout-minutes says otherwise
DEFAULT_SESSION_SECONDS = 3600
DEFAULT_JOB_TIMEOUT_MINUTES = 360
# the script a deploy job runs to start the stack's runner build and wait for it
DEPLOY_SCRIPT = "start-deploy.sh"
# CodeBuild's defaults when a project leaves them unset (minutes)
CODEBUILD_DEFAULT_TIMEOUT = 60
CODEBUILD_DEFAULT_QUEUED_TIMEOUT = 480
IAM_DEFAULT_MAX_SESSION = 3600
ADMIN_POLICY = "AdministratorAccess"

# The repository variables a job may take its role from, and whose role each one is.
# `AWS_ROLE_ARN_<STACK>` holds the `ci_role_arn` output of stack <stack> (lower case);
# `AWS_ROLE_ARN` is the read-only preview role of pr.yml, which no stack creates: it is
# not a stack's CI role and is not checked here. Any other source is refused.
ROLE_VARIABLES: tuple[tuple[re.Pattern[str], str | None], ...] = (
    (re.compile(r"^AWS_ROLE_ARN_(?P<stack>[A-Z0-9_]+)$"), "stack"),
    (re.compile(r"^AWS_ROLE_ARN$"), None),
)


@dataclass(frozen=True)
class RoleUse:
    """One job (one matrix combination) that assumes a role."""

    where: str  # "deploy.yml job 'dev'"
    stack: str | None  # None: a role no stack creates
    environment: str | None
    runs: tuple[tuple[str, str | None], ...]  # (event, ref) the job can run on
    audience: str
    # the session it asks for (role-duration-seconds; the action's default is one hour),
    # the job's timeout-minutes (GitHub's default is 360), and whether it waits for the
    # stack's deploy build (runs DEPLOY_SCRIPT): None when not resolvable offline
    duration_seconds: int | None = DEFAULT_SESSION_SECONDS
    timeout_minutes: int | None = DEFAULT_JOB_TIMEOUT_MINUTES
    waits_for_build: bool = False


def _iam_eval() -> ModuleType:
    """The pack's evaluator (pure Python), from the checkout next to this engine."""
    name = "policies.rules.iam_eval"
    if name not in sys.modules:
        path = PACKAGE_DIR.parent / "policies" / "rules" / "iam_eval.py"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise PlanError(f"cannot load the IAM evaluator from {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


# ------------------------------------------------------------------ workflows


def _load(path: Path) -> dict[str, Any]:
    try:
        doc = yamlio.load(path.read_text())
    except yaml.YAMLError as exc:
        raise PlanError(f"{path.name}: not YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise PlanError(f"{path.name}: not a workflow (a YAML mapping)")
    if True in doc:  # YAML 1.1 reads the key `on` as True
        doc["on"] = doc.pop(True)
    return doc


_EXPR = re.compile(r"^\$\{\{\s*(.+?)\s*\}\}$")


def _resolve(value: Any, matrix: Mapping[str, Any]) -> Any:
    """A workflow value with ``${{ matrix.x }}`` / ``${{ 'x' }}`` resolved; an expression it
    cannot resolve stays as it is (the caller decides)."""
    if not isinstance(value, str):
        return value
    match = _EXPR.match(value.strip())
    if not match:
        return value if "${{" not in value else None
    expr = match.group(1)
    if m := re.fullmatch(r"matrix\.([A-Za-z0-9_-]+)", expr):
        return matrix.get(m.group(1))
    if m := re.fullmatch(r"'([^']*)'", expr):
        return m.group(1)
    return None


def _role_variable(value: Any, matrix: Mapping[str, Any]) -> str | None:
    """The repository variable ``role-to-assume`` reads (``vars.X`` or ``vars[matrix.k]``)."""
    match = _EXPR.match(str(value).strip())
    if not match:
        return None
    expr = match.group(1)
    if m := re.fullmatch(r"vars\.([A-Za-z0-9_]+)", expr):
        return m.group(1)
    if m := re.fullmatch(r"vars\[\s*matrix\.([A-Za-z0-9_-]+)\s*\]", expr):
        found = matrix.get(m.group(1))
        return str(found) if isinstance(found, str) else None
    if m := re.fullmatch(r"vars\[\s*'([A-Za-z0-9_]+)'\s*\]", expr):
        return m.group(1)
    return None


def _combinations(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The job's matrix combinations (one empty one without a matrix)."""
    matrix = (job.get("strategy") or {}).get("matrix")
    if matrix is None:
        return [{}]
    if not isinstance(matrix, dict):
        raise ValueError("its matrix is an expression, not a mapping")
    axes = {k: v for k, v in matrix.items() if k not in ("include", "exclude")}
    if any(not isinstance(v, list) for v in axes.values()):
        raise ValueError("a matrix axis is an expression, not a list")
    combos: list[dict[str, Any]] = (
        [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())]
        if axes
        else []
    )
    for extra in matrix.get("include") or []:
        matched = [c for c in combos if all(c.get(k) == v for k, v in extra.items() if k in axes)]
        if axes and matched and all(k in axes or k not in c for c in matched for k in extra):
            for c in matched:
                c.update(extra)
        else:
            combos.append(dict(extra))
    for gone in matrix.get("exclude") or []:
        combos = [c for c in combos if not all(c.get(k) == v for k, v in gone.items())]
    return combos or [{}]


def _events(on: Any, default_branch: str) -> list[tuple[str, str | None]]:
    """(event, ref) a workflow runs on; ref None when it cannot be known."""
    triggers: dict[str, Any]
    if isinstance(on, str):
        triggers = {on: None}
    elif isinstance(on, list):
        triggers = dict.fromkeys(on)
    elif isinstance(on, dict):
        triggers = on
    else:
        raise ValueError("its `on` is neither a string, a list nor a mapping")
    runs: list[tuple[str, str | None]] = []
    for event, spec in triggers.items():
        spec = spec if isinstance(spec, dict) else {}
        if event == "push":
            branches = [str(b) for b in spec.get("branches") or []]
            tags = [str(t) for t in spec.get("tags") or []]
            if not branches and not tags:
                runs.append((event, None))
            for kind, names in (("heads", branches), ("tags", tags)):
                for name in names:
                    glob = any(c in name for c in "*?[!")
                    runs.append((event, None if glob else f"refs/{kind}/{name}"))
        elif event == "pull_request":
            runs.append((event, PULL_REQUEST_REF))
        elif event in ("workflow_dispatch", "schedule", "repository_dispatch"):
            runs.append((event, f"refs/heads/{default_branch}"))
        else:
            runs.append((event, None))
    return runs


def _allowed_events(
    condition: Any, runs: list[tuple[str, str | None]]
) -> list[tuple[str, str | None]]:
    """Keep the runs a job's ``if:`` lets through, for ``github.event_name ==/!= 'x'``
    terms joined by ``&&`` (anything else is kept: it does not change the event)."""
    if not isinstance(condition, str) or "||" in condition:
        return runs
    text = condition.strip().removeprefix("${{").removesuffix("}}")
    kept = runs
    for term in text.split("&&"):
        if m := re.fullmatch(r"\s*github\.event_name\s*(==|!=)\s*'([^']+)'\s*", term):
            op, name = m.groups()
            kept = [r for r in kept if (r[0] == name) == (op == "==")]
    return kept


def _gets_id_token(workflow: Mapping[str, Any], job: Mapping[str, Any]) -> bool:
    """GitHub's rule: a job's `permissions` replace the workflow's; `write-all` grants the
    token; a job without either gets the repository's default, which never includes it."""
    permissions = job["permissions"] if "permissions" in job else workflow.get("permissions")
    if isinstance(permissions, str):
        return permissions == "write-all"
    return isinstance(permissions, dict) and permissions.get("id-token") == "write"


def role_uses(workflows: Path, default_branch: str = DEFAULT_BRANCH) -> list[RoleUse]:
    """Every job of ``workflows`` that assumes a role; a job it cannot map is refused."""
    uses: list[RoleUse] = []
    files = (
        sorted([*workflows.glob("*.yml"), *workflows.glob("*.yaml")]) if workflows.is_dir() else []
    )
    for path in files:
        doc = _load(path)
        try:
            runs = _events(doc.get("on"), default_branch)
        except ValueError as exc:
            raise PlanError(f"{path.name}: {exc}") from None
        for job_id, job in (doc.get("jobs") or {}).items():
            if not isinstance(job, dict):
                continue
            steps = [
                s
                for s in job.get("steps") or []
                if isinstance(s, dict) and str(s.get("uses", "")).startswith(OIDC_ACTION)
            ]
            where = f"{path.name} job '{job_id}'"
            if not steps:
                if _gets_id_token(doc, job):
                    # the token can be exchanged for any role (a script, a reusable
                    # workflow): what it assumes cannot be read here
                    raise PlanError(
                        f"{where}: may request an OIDC token (id-token: write) but assumes no "
                        f"role with {OIDC_ACTION.rstrip('@')}: its role cannot be checked"
                    )
                continue
            try:
                combos = _combinations(job)
            except ValueError as exc:
                raise PlanError(f"{where}: {exc}: its roles cannot be mapped") from None
            job_runs = tuple(_allowed_events(job.get("if"), runs))
            for matrix in combos:
                shown = where + (
                    f" ({', '.join(f'{k}={v}' for k, v in sorted(matrix.items()))})"
                    if matrix
                    else ""
                )
                raw_env = job.get("environment")
                if isinstance(raw_env, dict):
                    raw_env = raw_env.get("name")
                environment = _resolve(raw_env, matrix)
                if raw_env is not None and not isinstance(environment, str):
                    raise PlanError(
                        f"{shown}: its environment {raw_env!r} cannot be resolved offline, so "
                        "the OIDC subject it presents cannot be known"
                    )
                for step in steps:
                    given = (step.get("with") or {}).get("role-to-assume")
                    variable = _role_variable(given, matrix)
                    stack = _stack_of(variable)
                    if stack is False:
                        raise PlanError(
                            f"{shown}: role-to-assume {given!r} maps to no stack's CI role "
                            "(use ${{ vars.AWS_ROLE_ARN_<STACK> }}; mlops/checks/ci.py "
                            "ROLE_VARIABLES)"
                        )
                    audience = str((step.get("with") or {}).get("audience") or AUDIENCE)
                    uses.append(
                        RoleUse(
                            where=shown,
                            stack=stack if isinstance(stack, str) else None,
                            environment=environment,
                            runs=job_runs,
                            audience=audience,
                            duration_seconds=_whole(
                                (step.get("with") or {}).get("role-duration-seconds"),
                                matrix,
                                DEFAULT_SESSION_SECONDS,
                            ),
                            timeout_minutes=_whole(
                                job.get("timeout-minutes"), matrix, DEFAULT_JOB_TIMEOUT_MINUTES
                            ),
                            waits_for_build=any(
                                DEPLOY_SCRIPT in str(s.get("run", ""))
                                for s in job.get("steps") or []
                                if isinstance(s, dict)
                            ),
                        )
                    )
    return uses


def _whole(value: Any, matrix: Mapping[str, Any], default: int) -> int | None:
    """A whole number a job sets (resolved through its matrix), ``default`` when unset,
    None when it cannot be known offline (an expression)."""
    if value is None:
        return default
    value = _resolve(value, matrix)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _stack_of(variable: str | None) -> str | bool | None:
    """The stack whose CI role ``variable`` holds; None for a known external role; False
    when the variable is not in `ROLE_VARIABLES`."""
    if variable is None:
        return False
    for pattern, kind in ROLE_VARIABLES:
        if m := pattern.match(variable):
            return m.group("stack").lower() if kind == "stack" else None
    return False


# ------------------------------------------------------------------ trust


def _account(arn: str) -> tuple[str, str]:
    parts = arn.split(":")
    return parts[1], parts[4]


def _admits(trust: str, provider: str, role_arn: str, sub: str, aud: str, where: str) -> bool:
    ev = _iam_eval()
    request = ev.Request(
        action="sts:AssumeRoleWithWebIdentity",
        resource=role_arn,
        context={f"{ISSUER}:sub": sub, f"{ISSUER}:aud": aud},
        principal={"Federated": provider},
    )
    try:
        return bool(ev.decide(request, (), trust).allowed)
    except ev.Unmodelled as exc:
        raise PlanError(f"{where}: its trust policy cannot be evaluated ({exc})") from None


def _variants(claims: JobClaims, environments: Iterable[str]) -> Iterable[tuple[JobClaims, str]]:
    """Subjects like ``claims`` that differ in one way: what no job should get in with."""
    owner, _, name = claims.repository.partition("/")
    for env in sorted({*environments, "another-environment"} - {claims.environment or ""}):
        yield replace(claims, environment=env), f"a job in environment {env!r}"
    if claims.environment:
        yield replace(claims, environment=None), "a job without an environment"
    yield (
        replace(claims, environment=None, event_name="pull_request", ref=PULL_REQUEST_REF),
        "a pull request",
    )
    yield (
        replace(claims, event_name="pull_request", ref=PULL_REQUEST_REF),
        "a pull request run of the job",
    )
    yield replace(claims, ref="refs/heads/not-the-pinned-branch"), "another branch"
    yield replace(claims, ref="refs/tags/v0.0.0"), "a tag"
    yield replace(claims, repository=f"{owner}/{name}-fork"), "another repository of the owner"
    yield replace(claims, repository=f"{owner}-fork/{name}"), "a fork"


def check_trust(plan: Mapping[str, Any], uses: list[RoleUse]) -> None:
    """The stack's CI role admits every job mapped to it, and no subject no job uses."""
    env = str(plan["environment"])
    outputs = plan.get("outputs") or {}
    mine = [u for u in uses if u.stack == env]
    ci = outputs.get("ci")
    if not ci:
        if mine:
            raise PlanError(
                f"{mine[0].where}: assumes the CI role of stack {env!r}, which has none "
                "(ci.github_repository is unset)"
            )
        return
    name = ci["role_name"]
    found = [r for r in plan["resources"] if r["type"] == ROLE and r["inputs"].get("name") == name]
    if len(found) != 1:
        raise PlanError(f"{ROLE} {name}: the stack's CI role is not in the plan")
    trust = found[0]["inputs"].get("assumeRolePolicy")
    who = f"{ROLE} {name}"
    if not isinstance(trust, str):
        raise PlanError(f"{who}: its trust policy cannot be read")
    role_arn = str(outputs.get("ci_role_arn"))
    partition, account = _account(role_arn)
    provider = f"arn:{partition}:iam::{account}:oidc-provider/{ISSUER}"
    template = list(ci["subject_template"])
    repository = str(ci["repository"])

    used: set[str] = set()
    bases: list[JobClaims] = []
    for use in mine:
        if not use.runs:
            continue
        for event, ref in use.runs:
            claims = JobClaims(repository, use.environment, event, ref)
            try:
                sub = subject(template, claims)
            except SubjectError as exc:
                raise PlanError(
                    f"{use.where}: the subject GitHub sends on {event} cannot be known under "
                    f"subject_template {template} ({exc}); {who} cannot be shown to admit it"
                ) from None
            if not _admits(trust, provider, role_arn, sub, use.audience, who):
                raise PlanError(
                    f"{who} refuses {use.where}: on {event} GitHub sends sub {sub!r} "
                    f"(aud {use.audience!r}), and the trust admits only {ci['subject']!r}"
                )
            used.add(sub)
            bases.append(claims)
    if not bases:  # no job of this repository uses it: judge the subject it was built for
        bases.append(
            JobClaims(
                repository,
                ci.get("environment"),
                "push",
                f"refs/heads/{ci['branch']}" if ci.get("branch") else None,
            )
        )
    environments = {u.environment for u in uses if u.environment}
    for base in bases:
        for claims, why in _variants(base, environments):
            try:
                sub = subject(template, claims)
            except SubjectError:
                continue  # GitHub sends no such subject under this template
            if sub not in used and _admits(trust, provider, role_arn, sub, AUDIENCE, who):
                raise PlanError(
                    f"{who} admits sub {sub!r} ({why}), a subject no job of "
                    f".github/workflows presents for stack {env!r}: pin the trust"
                )
    for sub in sorted(used) or [ci["subject"]]:
        aud = f"https://github.com/{repository.split('/', 1)[0]}"  # GitHub's default audience
        if _admits(trust, provider, role_arn, sub, aud, who):
            raise PlanError(f"{who} admits audience {aud!r}: pin sts.amazonaws.com")


def check_session(plan: Mapping[str, Any], uses: list[RoleUse]) -> None:
    """Every job of the stack asks for a session its CI role grants (AWS refuses a
    ``DurationSeconds`` above the role's ``MaxSessionDuration``), and a job that waits for the
    stack's deploy build keeps its credentials and its run for as long as the build may
    queue and run (CodeBuild's ``queuedTimeout`` + ``buildTimeout``)."""
    env = str(plan["environment"])
    mine = [u for u in uses if u.stack == env]
    ci = (plan.get("outputs") or {}).get("ci")
    if not mine or not ci:
        return  # check_trust refuses a job of a stack without a CI role
    name = ci["role_name"]
    (role,) = [
        r for r in plan["resources"] if r["type"] == ROLE and r["inputs"].get("name") == name
    ]
    granted = role["inputs"].get("maxSessionDuration", IAM_DEFAULT_MAX_SESSION)
    who = f"{ROLE} {name}"
    if not isinstance(granted, int):
        raise PlanError(f"{who}: its maxSessionDuration cannot be read")
    deployer = (plan.get("outputs") or {}).get("deployer") or {}
    projects = [
        r
        for r in plan["resources"]
        if r["type"] == CODEBUILD_PROJECT and r["inputs"].get("name") == deployer.get("project")
    ]
    for use in mine:
        if use.duration_seconds is None:
            raise PlanError(
                f"{use.where}: its role-duration-seconds cannot be resolved offline, so whether "
                f"{who} grants it cannot be known"
            )
        if use.duration_seconds > granted:
            raise PlanError(
                f"{use.where}: asks for a {use.duration_seconds} s session, and {who} grants at "
                f"most {granted} s (maxSessionDuration): AWS refuses the AssumeRole"
            )
        if not use.waits_for_build:
            continue
        if len(projects) != 1:
            continue  # no runner build to outlast (the reachability rule judges the path)
        inputs = projects[0]["inputs"]
        run = inputs.get("buildTimeout", CODEBUILD_DEFAULT_TIMEOUT)
        queued = inputs.get("queuedTimeout", CODEBUILD_DEFAULT_QUEUED_TIMEOUT)
        if not isinstance(run, int) or not isinstance(queued, int):
            raise PlanError(
                f"{CODEBUILD_PROJECT} {deployer['project']}: its timeouts cannot be read"
            )
        wait = run + queued
        if use.duration_seconds < wait * 60:
            raise PlanError(
                f"{use.where}: its {use.duration_seconds} s session ends before the deploy build "
                f"it waits for may (queued {queued} + run {run} minutes): its credentials expire "
                "mid-deploy; raise role-duration-seconds (and ci.max_session_duration)"
            )
        if use.timeout_minutes is None or use.timeout_minutes < wait:
            raise PlanError(
                f"{use.where}: timeout-minutes {use.timeout_minutes} is shorter than the deploy "
                f"build it waits for may take (queued {queued} + run {run} minutes): GitHub "
                "cancels the job and leaves the build unwatched"
            )


# ------------------------------------------------------------------ escalation


@dataclass(frozen=True)
class _Identity:
    name: str
    arn: str
    policies: list[str]
    boundary: str | None  # its document, when the plan holds it
    boundary_arn: str | None


def _attached(
    resources: list[dict[str, Any]], role: dict[str, Any], name: str
) -> Iterable[tuple[Any, list[str]]]:
    """(policy ARN, the URNs it comes from) of every managed policy attached to the role,
    whichever resource attaches it."""
    for arn in role["inputs"].get("managedPolicyArns") or []:
        yield arn, (role.get("propertyDependencies") or {}).get("managedPolicyArns") or []
    for a in resources:
        inputs, deps = a["inputs"], a.get("propertyDependencies") or {}
        one = (a["type"] == ATTACHMENT and inputs.get("role") == name) or (
            a["type"] == GROUP_ATTACHMENT and name in (inputs.get("roles") or [])
        )
        if one:
            yield inputs.get("policyArn"), deps.get("policyArn") or []
        elif a["type"] == EXCLUSIVE and inputs.get("roleName") == name:
            for arn in inputs.get("policyArns") or []:
                yield arn, deps.get("policyArns") or []


def _deployer_roles(plan: Mapping[str, Any]) -> list[_Identity]:
    """Roles GitHub Actions or CodeBuild assume, with their policies (inline, and managed
    ones the plan holds) and their boundary."""
    resources = plan["resources"]
    states = plan.get("_states") or {}
    documents = _documents(plan)  # a managed policy's ARN or URN -> its document
    found: list[_Identity] = []
    for r in resources:
        if r["type"] != ROLE:
            continue
        trust = str(r["inputs"].get("assumeRolePolicy") or "")
        if f"oidc-provider/{ISSUER}" not in trust and "codebuild.amazonaws.com" not in trust:
            continue
        name = str(r["inputs"].get("name") or r["name"])
        policies = [
            str(p["inputs"].get("policy"))
            for p in resources
            if p["type"] == ROLE_POLICY and p["inputs"].get("role") == name
        ]
        policies += [str(i.get("policy")) for i in r["inputs"].get("inlinePolicies") or []]
        for arn, linked in _attached(resources, r, name):
            document = documents.get(str(arn)) or next(
                (documents[u] for u in linked if u in documents), None
            )
            if document is None:
                raise PlanError(
                    f"{ROLE} {name}: the deployer role has the managed policy {arn}, which the "
                    "plan does not hold, so what it may do cannot be evaluated offline"
                )
            policies.append(document)
        arn = str((states.get(r["urn"]) or {}).get("arn") or "")
        boundary_arn = r["inputs"].get("permissionsBoundary")
        boundary = documents.get(boundary_arn) if isinstance(boundary_arn, str) else None
        found.append(_Identity(name, arn, policies, boundary, boundary_arn if boundary else None))
    return found


def _effective(identity: _Identity, action: str, resource: str, context: dict[str, Any]) -> bool:
    """What AWS decides for the role: its policies allow, and its boundary too."""
    ev = _iam_eval()
    request = ev.Request(action=action, resource=resource, context=context)
    try:
        allowed = bool(ev.decide(request, identity.policies).allowed)
        if allowed and identity.boundary is not None:
            allowed = bool(ev.decide(request, [identity.boundary]).allowed)
    except ev.Unmodelled as exc:
        raise PlanError(f"{ROLE} {identity.name}: {action} cannot be decided ({exc})") from None
    return allowed


def _check_workload_boundary(
    plan: Mapping[str, Any], workload: str, other: str, admin: str
) -> None:
    """The roles the deployer may create carry the workload boundary: it caps them only if
    it refuses, whatever their own policies say, every IAM write that could lift a role
    (its own or another's) above it."""
    document = _documents(plan).get(workload)
    where = f"{POLICY} {workload.rsplit('/', 1)[-1]}"
    if document is None:
        raise PlanError(
            f"{where}: the workload boundary is not in the plan, so what the roles the "
            "deployer creates may do cannot be evaluated offline"
        )
    ev = _iam_eval()
    bound = {"iam:PermissionsBoundary": workload}
    calls = [
        ("iam:CreateRole", other, {}),
        ("iam:AttachRolePolicy", other, {**bound, "iam:PolicyARN": admin}),
        ("iam:PutRolePolicy", other, bound),
        ("iam:DeleteRolePermissionsBoundary", other, bound),
        ("iam:PassRole", other, {}),
        ("iam:CreatePolicyVersion", workload, {}),
        ("iam:CreateUser", other.replace(":role/", ":user/"), {}),
    ]
    for action, resource, context in calls:
        request = ev.Request(action=action, resource=resource, context=context)
        try:
            allowed = bool(ev.decide(request, [document]).allowed)
        except ev.Unmodelled as exc:
            raise PlanError(f"{where}: {action} cannot be decided ({exc})") from None
        if allowed:
            raise PlanError(
                f"{where}: the workload boundary allows {action} on {resource}: a role the "
                "deployer creates could lift itself or another role above the boundary"
            )


def _documents(plan: Mapping[str, Any]) -> dict[str, str]:
    """The plan's managed policy documents by URN and by ARN."""
    states = plan.get("_states") or {}
    documents: dict[str, str] = {}
    for r in plan["resources"]:
        if r["type"] == POLICY and isinstance(r["inputs"].get("policy"), str):
            documents[r["urn"]] = r["inputs"]["policy"]
            arn = (states.get(r["urn"]) or {}).get("arn")
            if isinstance(arn, str):
                documents[arn] = r["inputs"]["policy"]
    return documents


def check_escalation(plan: Mapping[str, Any]) -> None:
    """No deployer identity can create an unbounded role, drop or replace a boundary,
    change a boundary policy or itself, or attach an administrator policy; the one that
    runs ``pulumi up`` can create a role that carries the workload boundary."""
    identity = (plan.get("outputs") or {}).get("deploy_identity")
    roles = _deployer_roles(plan)
    if not roles:
        return
    if not identity:
        raise PlanError(
            f"{ROLE} {roles[0].name}: the stack has a deployer identity but no permissions "
            "boundaries (deploy_identity)"
        )
    base = str(identity["base"])
    workload = str(identity["workload_boundary_arn"])
    partition, account = _account(roles[0].arn or workload)
    role_arn = f"arn:{partition}:iam::{account}:role/"
    admin = f"arn:{partition}:iam::aws:policy/{ADMIN_POLICY}"
    other = f"{role_arn}{base}-escalated"
    _check_workload_boundary(plan, workload, other, admin)
    for role in roles:
        own = {"iam:PermissionsBoundary": role.boundary_arn} if role.boundary_arn else {}
        refused = [
            ("iam:CreateRole", other, {}, "create a role without a permissions boundary"),
            (
                "iam:CreateRole",
                other,
                {"iam:PermissionsBoundary": admin},
                "create a role with another boundary",
            ),
            (
                "iam:PutRolePermissionsBoundary",
                other,
                {"iam:PermissionsBoundary": admin},
                "replace a role's boundary",
            ),
            (
                "iam:DeleteRolePermissionsBoundary",
                other,
                {"iam:PermissionsBoundary": workload},
                "remove a role's boundary",
            ),
            (
                "iam:AttachRolePolicy",
                other,
                {"iam:PermissionsBoundary": workload, "iam:PolicyARN": admin},
                f"attach {ADMIN_POLICY}",
            ),
            ("iam:CreatePolicyVersion", workload, {}, "rewrite the workload boundary"),
            ("iam:DeletePolicy", workload, {}, "delete the workload boundary"),
            ("iam:PutRolePolicy", role.arn, own, "give itself an inline policy"),
            (
                "iam:AttachRolePolicy",
                role.arn,
                {**own, "iam:PolicyARN": admin},
                f"attach {ADMIN_POLICY} to itself",
            ),
            ("iam:UpdateAssumeRolePolicy", role.arn, own, "change who may assume it"),
            ("iam:DeleteRolePermissionsBoundary", role.arn, own, "remove its own boundary"),
        ]
        if role.boundary_arn:
            refused.append(
                ("iam:CreatePolicyVersion", role.boundary_arn, {}, "rewrite its own boundary")
            )
        for action, resource, context, what in refused:
            if _effective(role, action, resource, context):
                raise PlanError(
                    f"{ROLE} {role.name}: may {what} ({action} on {resource}): the deployer "
                    "could make itself an administrator"
                )
        if role.name in identity.get("deployers", []) and not _effective(
            role, "iam:CreateRole", other, {"iam:PermissionsBoundary": workload}
        ):
            raise PlanError(
                f"{ROLE} {role.name}: runs pulumi up but may not create a role that carries "
                f"the workload boundary {workload}: deploys would fail"
            )


def check_ci_identity(plan: Mapping[str, Any], root: Path, stack_config_dir: Path) -> None:
    """Both checks for a planned environment of the project at ``root``; a job whose role
    variable names a stack the project does not have is refused (nothing checks it)."""
    uses = role_uses(root / ".github" / "workflows")
    for use in uses:
        if use.stack and not (stack_config_dir / f"Pulumi.{use.stack}.yaml").is_file():
            raise PlanError(
                f"{use.where}: assumes the CI role of stack {use.stack!r}, which the project "
                f"does not have ({stack_config_dir.name}/Pulumi.{use.stack}.yaml)"
            )
    check_trust(plan, uses)
    check_session(plan, uses)
    check_escalation(plan)


def check_oidc_provider_owners(accounts: Mapping[str, tuple[str | None, bool]]) -> None:
    """At most one stack per account creates GitHub's OIDC provider: IAM holds one per URL
    per account, so a second stack's create fails with ``EntityAlreadyExists`` (and deleting
    either stack would take the other's trust anchor with it). ``accounts`` maps each stack
    to its (``account_id``, ``ci.create_oidc_provider``)."""
    creators: dict[str, list[str]] = {}
    for stack, (account, creates) in sorted(accounts.items()):
        if not creates:
            continue
        if account is None:
            raise PlanError(
                f"stack {stack!r}: ci.create_oidc_provider without account_id: whether another "
                "stack of its account creates the provider too cannot be known"
            )
        creators.setdefault(account, []).append(stack)
    for account, stacks in creators.items():
        if len(stacks) > 1:
            raise PlanError(
                f"stacks {', '.join(repr(s) for s in stacks)} of account {account} each set "
                "ci.create_oidc_provider: IAM holds one GitHub OIDC provider per account; let "
                "one stack create it and set it false in the others"
            )
