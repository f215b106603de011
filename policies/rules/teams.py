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
* `team-serving-read-only`: a team's serving account (a team identity also labelled
  ``mlops.platform/workload: serving``) is bound to a role granted nothing but S3 reads and
  ``kms:Decrypt`` (no write of any service, nothing of another service), which AWS —
  conditions included — would refuse reading or listing anything of the team's prefix
  outside its published models (``teams/<team>/models/``: its data, its MLflow artifacts,
  a look-alike ``models*`` folder) and listing a bucket without an ``s3:prefix``, in every
  bucket where teams keep data and every bucket its policies name. Another team's prefix and
  MLflow's are `team-role-own-prefix-only`'s (a serving account is a team identity).
* `team-inference-service-serving-account`: an InferenceService in a team's namespace runs
  each of its components (predictor, transformer, explainer) under a service account the
  plan declares in that namespace as the team's serving account: not the namespace's
  ``default`` (no ``serviceAccountName``), not the team's read-write runner.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import Policy, ReportViolation, StackValidationArgs

from .common import as_dict, as_list, config, get, stack_policy
from .iam_actions import LIST, PERMISSIONS, READ, TAGGING, WRITE, statement_actions
from .iam_eval import Request, Unmodelled, covers_action, decide, statements
from .k8s import YAML_GROUPS, objects
from .role_grants import TYPES_READ as GRANT_TYPES
from .role_grants import Grants, RoleGrants

TEAM_LABEL = "mlops.platform/team"
IRSA = "eks.amazonaws.com/role-arn"
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
ROLE = "aws:iam/role:Role"
WORKSPACE_KEY = "MLFLOW_WORKSPACE"
DATA_PREFIX_KEY = "MLOPS_DATA_PREFIX"
DEFAULT_TEAM_PREFIX = "teams/{team}/"
DEFAULT_PROTECTED = ["mlflow/"]
WORKLOAD_LABEL = "mlops.platform/workload"
SERVING = "serving"
DEFAULT_MODELS_FOLDER = "models"
INFERENCE_SERVICE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
ISVC_COMPONENTS = ("predictor", "transformer", "explainer")
# a bucket no plan names: a grant on every bucket (a wildcard) reaches it too
ANY_BUCKET = "mlops-policy-probe-any-bucket"
# reading an SSE-KMS object asks KMS to decrypt through S3: the one non-S3 action a serving
# role needs (it writes nothing, though AWS files it under Write)
SERVING_KMS = "kms:decrypt"
_BUCKET = re.compile(r"^arn:aws[a-z-]*:s3:::([^/*?]+)")
PROBES = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
# what would let a team identity act as another principal, whose reach the rule cannot
# bound to the team's prefix
HOPS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML", "iam:PassRole")

SCHEMA: dict[str, dict[str, Any]] = {
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


SERVING_SCHEMA: dict[str, dict[str, Any]] = {
    "team_prefix": SCHEMA["team_prefix"],
    "models_folder": {
        "type": "string",
        "default": DEFAULT_MODELS_FOLDER,
        "description": "The folder of a team's prefix holding its published models (all its "
        "serving account may read).",
    },
}


@dataclass(frozen=True)
class _Object:
    """A Kubernetes object of the plan: a resource, or one inside a yaml group (which
    stands for it: its URN, no dependencies of its own)."""

    urn: str
    props: Mapping[str, Any]
    property_dependencies: Mapping[str, Any]


def _k8s(args: StackValidationArgs, *types: str) -> list[_Object]:
    """The plan's objects of ``types``, native or inside a yaml ConfigGroup/ConfigFile: a
    team's account or model declared in a group is judged as one declared alone."""
    out = []
    for r in args.resources:
        # an object without a namespace lands in its provider's (else `default`)
        provider = r.provider.props.get("namespace") if r.provider is not None else None
        for o in objects(r.resource_type, r.name, r.props):
            if o.type not in types:
                continue
            props = o.props
            meta = as_dict(get(props, "metadata"))
            if o.type != NAMESPACE and not meta.get("namespace"):
                props = {**props, "metadata": {**meta, "namespace": provider or "default"}}
            deps = {} if o.source else r.property_dependencies
            out.append(_Object(r.urn, props, deps))
    return out


def _config(args: StackValidationArgs) -> tuple[str, list[str]]:
    prefix = str(config(args, "team_prefix", DEFAULT_TEAM_PREFIX))
    protected = [str(p) for p in as_list(config(args, "protected_prefixes", DEFAULT_PROTECTED))]
    return prefix, protected


def _labels(props: Any) -> Mapping[str, Any]:
    return as_dict(as_dict(get(props, "metadata")).get("labels"))


def _teams_of_namespaces(args: StackValidationArgs) -> dict[str, str]:
    out: dict[str, str] = {}
    for ns in _k8s(args, NAMESPACE):
        team = _labels(ns.props).get(TEAM_LABEL)
        name = as_dict(get(ns.props, "metadata")).get("name")
        if isinstance(team, str) and isinstance(name, str):
            out[name] = team
    return out


def all_teams(args: StackValidationArgs) -> set[str]:
    teams: set[str] = set()
    for r in _k8s(args, NAMESPACE, SERVICE_ACCOUNT, CONFIG_MAP):
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


def _account_team(props: Any, ns_teams: dict[str, str]) -> str | None:
    """The team of a service account: its label, else its namespace's."""
    meta = as_dict(get(props, "metadata"))
    team = _labels(props).get(TEAM_LABEL) or ns_teams.get(str(meta.get("namespace")))
    return team if isinstance(team, str) else None


class _Identities:
    """The plan's team identities (IRSA service accounts of a team) and their roles."""

    def __init__(self, args: StackValidationArgs, team_prefix: str) -> None:
        self.teams = all_teams(args)
        ns_teams = _teams_of_namespaces(args)
        self.grants = RoleGrants(args)
        # (account, its metadata, its role's name, its role's ARN, its team)
        self.accounts: list[tuple[Any, Mapping[str, Any], str, str, str]] = []
        for account in _k8s(args, SERVICE_ACCOUNT):
            meta = as_dict(get(account.props, "metadata"))
            role_arn = as_dict(meta.get("annotations")).get(IRSA)
            team = _account_team(account.props, ns_teams)
            if role_arn is not None and team is not None:
                arn = str(role_arn)
                self.accounts.append((account, meta, arn.rsplit("/", 1)[-1], arn, team))
        # where teams keep data: buckets in which a team identity is granted a team's prefix
        # (a registry bucket every runner lists holds no team's data), by its own policies
        # or by a bucket policy naming it
        self.buckets = _team_buckets(
            {
                a
                for account, _, _, arn, _ in self.accounts
                for a in _arns(self._grants_of(arn, account).documents)
            },
            team_prefix,
            self.teams,
        ) | self.grants.buckets_naming(arn for _, _, _, arn, _ in self.accounts)

    def _grants_of(self, role_arn: str, account: Any) -> Grants:
        key = self.grants.role_of(role_arn, account)
        return self.grants.of(key) if key else Grants()

    def readable(
        self, account: Any, who: str, role_arn: str, report: ReportViolation
    ) -> list[Any] | None:
        """The role's identity policies, or None (reported) when they cannot be judged."""
        role = role_arn.rsplit("/", 1)[-1]
        key = self.grants.role_of(role_arn, account)
        if key is None:
            report(
                f"{who}: role {role!r} is not in the plan, so what it grants cannot be shown "
                "to stop at the team's prefix",
                account.urn,
            )
            return None
        grants = self.grants.of(key)
        if grants.unreadable:
            report(
                f"{who}: role {role!r}: {grants.unreadable[0]}, so it cannot be shown to stop "
                "at the team's prefix",
                account.urn,
            )
            return None
        return grants.documents

    def bucket_policy(
        self, bucket: str, account: Any, who: str, report: ReportViolation
    ) -> tuple[bool, Any]:
        """(readable, the bucket's policy or None); an unreadable one is reported."""
        policy, problem = self.grants.bucket_policy(bucket)
        if problem:
            report(f"{who}: {problem}", account.urn)
            return False, None
        return True, policy


def _probe(role_arn: str, action: str, resource: str, prefix: str | None = None) -> Request:
    """A request made as the role. It fixes who calls (the principal, and the keys AWS sets
    from the caller) and ``s3:prefix`` (None: absent); every other key may carry any value
    (`decide`'s ``possible``)."""
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else None
    context = {
        "aws:PrincipalArn": role_arn,
        "aws:PrincipalAccount": account,
        "aws:PrincipalType": "AssumedRole",
        "s3:prefix": prefix,
    }
    return Request(action, resource, context=context, principal={"AWS": role_arn})


def _instance(pattern: str) -> str:
    """A concrete value a glob matches (``*`` a name, ``?`` one character)."""
    return pattern.replace("*", "probe").replace("?", "x")


def _instances(policies: list[Any]) -> tuple[set[str], set[str]]:
    """Object keys and ``s3:prefix`` values the policies' own patterns match: (keys, prefixes).

    Probing the top of a prefix misses a grant on a folder below it; probing an instance of
    each pattern the role names finds it.
    """
    keys: set[str] = set()
    prefixes: set[str] = set()

    def walk(value: Any, condition_key: str | None = None) -> None:
        if isinstance(value, str):
            if condition_key == "s3:prefix":
                prefixes.add(_instance(value))
            elif value.startswith("arn:aws") and ":s3:::" in value:
                key = value.split(":::", 1)[1].partition("/")[2]
                if key:
                    keys.add(_instance(key))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, k.lower() if isinstance(k, str) and k.lower() == "s3:prefix" else None)
        elif isinstance(value, list):
            for v in value:
                walk(v, condition_key)

    for policy in policies:
        try:
            walk(json.loads(policy) if isinstance(policy, str) else policy)
        except ValueError:
            continue
    return keys, prefixes


def _check_team_roles(args: StackValidationArgs, report: ReportViolation) -> None:
    team_prefix, protected = _config(args)
    found = _Identities(args, team_prefix)
    teams, buckets = found.teams, found.buckets
    for account, meta, role, role_arn, team in found.accounts:
        who = f"ServiceAccount {meta.get('namespace')}/{meta.get('name')} (team {team})"
        policies = found.readable(account, who, role_arn, report)
        if policies is None:
            continue
        try:
            hops = sorted(
                {
                    hop
                    for policy in policies
                    for statement in statements(policy)
                    if statement.get("Effect") == "Allow"
                    for hop in HOPS
                    if covers_action(statement, hop)
                }
            )
        except Unmodelled as exc:
            report(f"{who}: what role {role!r} grants cannot be decided ({exc})", account.urn)
            continue
        if hops:
            report(
                f"{who}: role {role!r} may {', '.join(hops)}: acting as another role, it could "
                "reach past the team's prefix",
                account.urn,
            )
        foreign = [team_prefix.format(team=o) for o in sorted(teams - {team})] + protected
        for bucket in sorted(buckets):
            readable, bucket_policy = found.bucket_policy(bucket, account, who, report)
            if not readable:
                continue
            keys, listed = _instances([*policies, *([bucket_policy] if bucket_policy else [])])
            for prefix in foreign:
                # the top of the prefix, and whatever deeper the role's own patterns name
                # there (a grant on teams/<other>/models/* does not reach teams/<other>/probe)
                here = ["probe", *sorted(k[len(prefix) :] for k in keys if k.startswith(prefix))]
                requests = [
                    _probe(role_arn, a, f"arn:aws:s3:::{bucket}/{prefix}{key}")
                    for key in here
                    for a in PROBES
                ] + [
                    _probe(role_arn, "s3:ListBucket", f"arn:aws:s3:::{bucket}", p)
                    for p in [prefix, *sorted(v for v in listed if v.startswith(prefix))]
                ]
                for request in requests:
                    try:
                        allowed = decide(request, policies, bucket_policy, possible=True).allowed
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


def _serving_grants(policies: list[Any]) -> tuple[list[str], list[str]]:
    """What Allow statements grant beyond S3 reads and kms:Decrypt: (writes, other actions).

    Raises:
        Unmodelled: a statement or an action the action reference cannot read.
    """
    writes: set[str] = set()
    other: set[str] = set()
    for policy in policies:
        for statement in statements(policy):
            if statement.get("Effect") != "Allow":
                continue
            for action in statement_actions(statement):
                if action.key.lower() == SERVING_KMS:
                    continue
                if action.service == "s3" and action.levels <= {READ, LIST}:
                    continue
                if action.levels & {WRITE, PERMISSIONS, TAGGING}:
                    writes.add(action.key)
                else:
                    other.add(action.key)
    return sorted(writes), sorted(other)


def _few(keys: list[str], n: int = 3) -> str:
    shown = ", ".join(keys[:n])
    return shown + (f" and {len(keys) - n} more" if len(keys) > n else "")


def _check_serving(args: StackValidationArgs, report: ReportViolation) -> None:
    team_prefix, _ = _config(args)
    folder = str(config(args, "models_folder", DEFAULT_MODELS_FOLDER)).strip("/")
    found = _Identities(args, team_prefix)
    for account, meta, role, role_arn, team in found.accounts:
        if _labels(account.props).get(WORKLOAD_LABEL) != SERVING:
            continue
        who = f"ServiceAccount {meta.get('namespace')}/{meta.get('name')} (team {team}, serving)"
        policies = found.readable(account, who, role_arn, report)
        if policies is None:
            continue
        own = team_prefix.format(team=team)
        models = f"{own}{folder}/"
        try:
            writes, other = _serving_grants(policies)
        except Unmodelled as exc:
            report(f"{who}: what role {role!r} grants cannot be decided ({exc})", account.urn)
            continue
        if writes:
            report(
                f"{who}: role {role!r} may write ({_few(writes)}); a serving account only "
                f"reads the team's models under {models}",
                account.urn,
            )
        if other:
            report(
                f"{who}: role {role!r} may {_few(other)}, beyond reading the team's models "
                f"under {models}",
                account.urn,
            )
        named = {m.group(1) for a in _arns(policies) if (m := _BUCKET.match(a))}
        outside = [f"{own}probe", f"{own}{folder}x/probe", "probe"]
        for bucket in sorted(found.buckets | named | {ANY_BUCKET}):
            readable, bucket_policy = found.bucket_policy(bucket, account, who, report)
            if not readable:
                continue
            arn = f"arn:aws:s3:::{bucket}"
            requests = [
                *(_probe(role_arn, "s3:GetObject", f"{arn}/{key}") for key in outside),
                # HeadBucket, or a listing of the whole bucket: no s3:prefix at all
                _probe(role_arn, "s3:ListBucket", arn),
                *(_probe(role_arn, "s3:ListBucket", arn, p) for p in (own, f"{own}{folder}x/")),
                # a bucket policy may grant what the role's own policies do not
                *(
                    _probe(role_arn, a, f"{arn}/{models}probe")
                    for a in ("s3:PutObject", "s3:DeleteObject")
                ),
            ]
            for request in requests:
                where = request.resource.removeprefix("arn:aws:s3:::")
                prefix = request.context.get("s3:prefix")
                if request.action != "s3:ListBucket":
                    target = f"s3://{where}"
                elif prefix:
                    target = f"s3://{where} (s3:prefix {prefix})"
                else:
                    target = f"s3://{where} without an s3:prefix (every key's name)"
                try:
                    allowed = decide(request, policies, bucket_policy, possible=True).allowed
                except Unmodelled as exc:
                    report(
                        f"{who}: {request.action} on {target} cannot be decided ({exc})",
                        account.urn,
                    )
                    break
                if allowed:
                    report(
                        f"{who}: role {role!r} may {request.action} on {target}, outside the "
                        f"team's models ({models})",
                        account.urn,
                    )
                    break


def _check_isvc_accounts(args: StackValidationArgs, report: ReportViolation) -> None:
    ns_teams = _teams_of_namespaces(args)
    accounts: dict[tuple[str, str], Any] = {}
    for account in _k8s(args, SERVICE_ACCOUNT):
        meta = as_dict(get(account.props, "metadata"))
        accounts[(str(meta.get("namespace")), str(meta.get("name")))] = account.props
    for isvc in _k8s(args, INFERENCE_SERVICE):
        meta = as_dict(get(isvc.props, "metadata"))
        ns = meta.get("namespace")
        team = ns_teams.get(str(ns)) or _labels(isvc.props).get(TEAM_LABEL)
        if not isinstance(team, str):
            continue  # not a team's: the platform's own models are not this rule's
        who = f"InferenceService {ns}/{meta.get('name')} (team {team})"
        if not isinstance(ns, str):
            report(f"{who}: its namespace cannot be read", isvc.urn)
            continue
        spec = as_dict(get(isvc.props, "spec"))
        for component in ISVC_COMPONENTS:
            if component not in spec:
                continue
            name = as_dict(spec[component]).get("serviceAccountName")
            if name is None:
                report(
                    f"{who}: its {component} names no serviceAccountName, so it runs as the "
                    "namespace's 'default' account, not the team's serving account",
                    isvc.urn,
                )
                continue
            props = accounts.get((ns, str(name)))
            if props is None:
                report(
                    f"{who}: its {component} runs as {name!r}, which the plan does not declare "
                    f"in {ns}: it cannot be shown to be the team's serving account",
                    isvc.urn,
                )
                continue
            if (
                _account_team(props, ns_teams) != team
                or _labels(props).get(WORKLOAD_LABEL) != SERVING
            ):
                report(
                    f"{who}: its {component} runs as {name!r}, not the team's serving account "
                    f"(labelled {WORKLOAD_LABEL}: {SERVING}, read-only on the team's models)",
                    isvc.urn,
                )


def _check_team_env(args: StackValidationArgs, report: ReportViolation) -> None:
    team_prefix, _ = _config(args)
    for cm in _k8s(args, CONFIG_MAP):
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
        types=(NAMESPACE, SERVICE_ACCOUNT, CONFIG_MAP, *YAML_GROUPS, *GRANT_TYPES),
        remediation="Scope the role's S3 statements to the team's prefix (objects under "
        "teams/<team>/*, ListBucket with s3:prefix teams/<team>/*).",
    ),
    stack_policy(
        "team-serving-read-only",
        "A team's serving account (a team identity labelled mlops.platform/workload: "
        "serving) may only read: its role grants no write and nothing beyond S3 reads and "
        "kms:Decrypt, and cannot read or list the team's prefix outside its published models "
        "(teams/<team>/models/) nor list a bucket without an s3:prefix, as AWS would evaluate "
        "it (conditions included).",
        _check_serving,
        schema=SERVING_SCHEMA,
        types=(NAMESPACE, SERVICE_ACCOUNT, CONFIG_MAP, *YAML_GROUPS, *GRANT_TYPES),
        remediation="Give the serving account a role of its own with s3:GetObject on "
        "teams/<team>/models/*, s3:ListBucket with s3:prefix teams/<team>/models/*, and "
        "kms:Decrypt through S3; run the team's pipelines under another account.",
    ),
    stack_policy(
        "team-inference-service-serving-account",
        "An InferenceService in a team's namespace runs each component (predictor, "
        "transformer, explainer) as the team's serving account declared in that namespace: "
        "not the namespace's default account, not the team's read-write runner.",
        _check_isvc_accounts,
        types=(NAMESPACE, SERVICE_ACCOUNT, INFERENCE_SERVICE, *YAML_GROUPS),
        remediation="Set spec.<component>.serviceAccountName to the team's serving account "
        "(model-server).",
    ),
    stack_policy(
        "team-env-own-workspace",
        "A team's run environment (ConfigMap labelled with the team) names the team's own "
        "MLflow workspace and a data prefix inside the team's prefix.",
        _check_team_env,
        schema={"team_prefix": SCHEMA["team_prefix"]},
        types=(CONFIG_MAP, *YAML_GROUPS),
        remediation="Set MLFLOW_WORKSPACE to the team's name and MLOPS_DATA_PREFIX under "
        "teams/<team>/.",
    ),
]
