"""Teams: what a team's identities and runs can reach ends at the team's own prefix and
MLflow workspace.

A team's objects carry the label ``mlops.platform/team: <team>`` (its namespace, its
service accounts, its Kubeflow runner, its runs' environment). Every team the plan labels
is a team whose data another team must not reach.

* `team-role-own-prefix-only`: each IRSA ServiceAccount of a team (labelled, or in a
  namespace labelled) is bound to a role that AWS — conditions included (`iam_eval`) —
  would refuse reading, writing and listing another team's prefix, and the prefixes no
  team may touch (MLflow's own), in every bucket where teams keep data (one in which a
  team identity is granted a team's prefix). A grant on the
  whole bucket, a prefix wildcard that also matches ``teams/<other>``, a ListBucket without
  an ``s3:prefix`` condition: refused. What cannot be decided is refused too.
* `team-env-own-workspace`: a team's ConfigMap that names an MLflow workspace
  (``MLFLOW_WORKSPACE``) names the team's, and a data prefix (``MLOPS_DATA_PREFIX``) lies in
  the team's prefix.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pulumi_policy import Policy, ReportViolation, StackValidationArgs

from .common import SECRET, as_dict, as_list, config, get, resources_of, stack_policy
from .iam_eval import Request, Unmodelled, decide

TEAM_LABEL = "mlops.platform/team"
IRSA = "eks.amazonaws.com/role-arn"
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
WORKSPACE_KEY = "MLFLOW_WORKSPACE"
DATA_PREFIX_KEY = "MLOPS_DATA_PREFIX"
DEFAULT_TEAM_PREFIX = "teams/{team}/"
DEFAULT_PROTECTED = ["mlflow/"]
_BUCKET = re.compile(r"^arn:aws[a-z-]*:s3:::([^/*?]+)")
PROBES = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")

SCHEMA = {
    "team_prefix": {
        "type": "string",
        "default": DEFAULT_TEAM_PREFIX,
        "description": "A team's prefix of the artifact store ({team} is its name).",
    },
    "protected_prefixes": {
        "type": "array",
        "items": {"type": "string"},
        "default": DEFAULT_PROTECTED,
        "description": "Prefixes no team's identity may reach (MLflow's own artifacts).",
    },
}


def _config(args: StackValidationArgs) -> tuple[str, list[str]]:
    prefix = str(config(args, "team_prefix", DEFAULT_TEAM_PREFIX))
    protected = [str(p) for p in as_list(config(args, "protected_prefixes", DEFAULT_PROTECTED))]
    return prefix, protected


def _labels(props: Any) -> dict[str, Any]:
    return as_dict(as_dict(get(props, "metadata")).get("labels"))


def _teams_of_namespaces(args: StackValidationArgs) -> dict[str, str]:
    out: dict[str, str] = {}
    for ns in resources_of(args, NAMESPACE):
        team = _labels(ns.props).get(TEAM_LABEL)
        name = as_dict(get(ns.props, "metadata")).get("name")
        if isinstance(team, str) and isinstance(name, str):
            out[name] = team
    return out


def all_teams(args: StackValidationArgs) -> set[str]:
    teams: set[str] = set()
    for r in resources_of(args, NAMESPACE, SERVICE_ACCOUNT, CONFIG_MAP):
        team = _labels(r.props).get(TEAM_LABEL)
        if isinstance(team, str):
            teams.add(team)
    return teams


def _arns(policies: list[Any]) -> set[str]:
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if value.startswith("arn:"):
                found.add(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for policy in policies:
        try:
            walk(json.loads(policy) if isinstance(policy, str) else policy)
        except ValueError:
            continue
    return found


def _team_buckets(arns: set[str], team_prefix: str, teams: set[str]) -> set[str]:
    """Buckets that hold teams' data: a team identity's policy names a team's prefix there."""
    out: set[str] = set()
    for arn in arns:
        m = _BUCKET.match(arn)
        key = arn.split(":::", 1)[-1].partition("/")[2]
        if m and any(key.startswith(team_prefix.format(team=t)) for t in teams):
            out.add(m.group(1))
    return out


def _check_team_roles(args: StackValidationArgs, report: ReportViolation) -> None:
    team_prefix, protected = _config(args)
    teams = all_teams(args)
    ns_teams = _teams_of_namespaces(args)
    inline: dict[str, list[Any]] = {}
    for r in resources_of(args, ROLE_POLICY):
        inline.setdefault(str(get(r.props, "role")), []).append(get(r.props, "policy"))
    attached = {str(get(r.props, "role")) for r in resources_of(args, ATTACHMENT)}
    identities = []
    for account in resources_of(args, SERVICE_ACCOUNT):
        meta = as_dict(get(account.props, "metadata"))
        role_arn = as_dict(meta.get("annotations")).get(IRSA)
        team = _labels(account.props).get(TEAM_LABEL) or ns_teams.get(str(meta.get("namespace")))
        if role_arn is not None and isinstance(team, str):
            identities.append((account, meta, str(role_arn).rsplit("/", 1)[-1], team))
    # where teams keep data: buckets in which a team identity is granted a team's prefix
    # (a registry bucket every runner lists holds no team's data)
    buckets = _team_buckets(
        {a for _, _, role, _ in identities for a in _arns(inline.get(role, []))}, team_prefix, teams
    )
    for account, meta, role, team in identities:
        who = f"ServiceAccount {meta.get('namespace')}/{meta.get('name')} (team {team})"
        policies = inline.get(role, [])
        if role in attached:
            report(
                f"{who}: role {role!r} has managed policies, which cannot be shown to stop "
                "at the team's prefix offline",
                account.urn,
            )
            continue
        if any(not isinstance(p, str) or p == SECRET for p in policies):
            report(f"{who}: a policy of role {role!r} cannot be read", account.urn)
            continue
        foreign = [team_prefix.format(team=o) for o in sorted(teams - {team})] + protected
        for bucket in sorted(buckets):
            for prefix in foreign:
                requests = [
                    Request(action=a, resource=f"arn:aws:s3:::{bucket}/{prefix}probe")
                    for a in PROBES
                ] + [
                    Request(
                        action="s3:ListBucket",
                        resource=f"arn:aws:s3:::{bucket}",
                        context={"s3:prefix": prefix},
                    ),
                ]
                for request in requests:
                    try:
                        allowed = decide(request, policies).allowed
                    except Unmodelled as exc:
                        report(
                            f"{who}: {request.action} on s3://{bucket}/{prefix} cannot be "
                            f"decided ({exc})",
                            account.urn,
                        )
                        break
                    if allowed:
                        report(
                            f"{who}: role {role!r} may {request.action} under "
                            f"s3://{bucket}/{prefix}, which is not the team's",
                            account.urn,
                        )
                        break


def _check_team_env(args: StackValidationArgs, report: ReportViolation) -> None:
    team_prefix, _ = _config(args)
    for cm in resources_of(args, CONFIG_MAP):
        team = _labels(cm.props).get(TEAM_LABEL)
        if not isinstance(team, str):
            continue
        meta = as_dict(get(cm.props, "metadata"))
        who = f"ConfigMap {meta.get('namespace')}/{meta.get('name')} (team {team})"
        data = as_dict(get(cm.props, "data"))
        workspace = data.get(WORKSPACE_KEY)
        if workspace is not None and workspace != team:
            report(f"{who}: {WORKSPACE_KEY} is {workspace!r}, not the team's workspace", cm.urn)
        prefix = data.get(DATA_PREFIX_KEY)
        own = team_prefix.format(team=team).rstrip("/")
        if prefix is not None and not (
            isinstance(prefix, str) and (prefix == own or prefix.startswith(own + "/"))
        ):
            report(
                f"{who}: {DATA_PREFIX_KEY} is {prefix!r}, outside the team's prefix {own!r}", cm.urn
            )


POLICIES: list[Policy] = [
    stack_policy(
        "team-role-own-prefix-only",
        "A team's workload identities (IRSA service accounts labelled with the team, or in "
        "its namespace) cannot read, write or list another team's prefix, nor MLflow's own "
        "prefix, in a bucket where teams keep data, as AWS would evaluate it (conditions "
        "included).",
        _check_team_roles,
        schema=SCHEMA,
        types=(NAMESPACE, SERVICE_ACCOUNT, CONFIG_MAP, ROLE_POLICY, ATTACHMENT),
        remediation="Scope the role's S3 statements to the team's prefix (objects under "
        "teams/<team>/*, ListBucket with s3:prefix teams/<team>/*).",
    ),
    stack_policy(
        "team-env-own-workspace",
        "A team's run environment (ConfigMap labelled with the team) names the team's own "
        "MLflow workspace and a data prefix inside the team's prefix.",
        _check_team_env,
        schema={"team_prefix": SCHEMA["team_prefix"]},
        types=(CONFIG_MAP,),
        remediation="Set MLFLOW_WORKSPACE to the team's name and MLOPS_DATA_PREFIX under "
        "teams/<team>/.",
    ),
]
