"""Teams: per team, an artifact-store prefix and the IRSA roles scoped to it.

A team's pipelines and services run as one service account in the team's
namespace (created by the in-cluster tenancy component); its role may read and
write ``teams/<team>/`` of the artifact store and nothing else, so one team
cannot read another's models or data. Its model servers run as a second account
(``model-server``) whose role only reads ``teams/<team>/models/``: a model server
(code from a model file, exposed to every request) can neither change a published
model nor read the team's data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.foundation.identity.component import WorkloadIdentity, WorkloadIdentityArgs
from infra.services.tenancy.config import TeamConfig


@dataclass(frozen=True, kw_only=True)
class TeamsArgs:
    """Inputs of Teams.

    Attributes:
        role_prefix: IAM role name prefix (``<prefix>-<env>``); roles are
            ``<prefix>-team-<name>`` and ``<prefix>-team-<name>-serving``.
        teams: The teams.
        prefix_policy: Builds the read-write policy JSON for an artifact-store prefix
            (``ArtifactStore.policy_document``).
        read_policy: Builds the read-only policy JSON for a prefix (the serving role's,
            on the team's models).
        bucket_uri: Builds ``s3://bucket/prefix`` for a prefix (``ArtifactStore.uri``).
        oidc_provider_arn: The cluster's OIDC provider.
        oidc_issuer: The cluster's issuer host/path.
        cluster_name: The cluster the teams' people sign in to (their access entries).
        tags: Tags for every taggable child.
    """

    role_prefix: str
    teams: Sequence[TeamConfig]
    prefix_policy: Callable[[str], str]
    read_policy: Callable[[str], str]
    bucket_uri: Callable[[str], str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    cluster_name: pulumi.Input[str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


def _team_output(team: TeamConfig, artifact_uri: str, arns: list[str]) -> dict[str, str]:
    role_arn, serving_role_arn = arns
    return {
        "namespace": team.namespace,
        "service_account": team.service_account,
        "role_arn": role_arn,
        "artifact_uri": artifact_uri,
        "serving_account": team.serving_account,
        "serving_role_arn": serving_role_arn,
    }


class Teams(pulumi.ComponentResource):
    """Workload identities of the platform's teams.

    Outputs:
        teams: Team name -> namespace, service account, role ARN, artifact prefix URI,
            serving account and its role ARN.

    Attributes:
        role_arns: Team name -> its role ARN (typed access for in-cluster wiring).
        serving_role_arns: Team name -> its serving role ARN.
    """

    teams: pulumi.Output[dict[str, dict[str, str]]]
    role_arns: dict[str, pulumi.Output[str]]
    serving_role_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: TeamsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:tenancy:Teams", name, None, opts)
        out: dict[str, pulumi.Output[dict[str, str]]] = {}
        self.role_arns = {}
        self.serving_role_arns = {}

        def identity(
            team: TeamConfig, suffix: str, account: str, policies: dict[str, str]
        ) -> WorkloadIdentity:
            return WorkloadIdentity(
                f"{name}-{team.name}{suffix}",
                WorkloadIdentityArgs(
                    role_name=f"{args.role_prefix}-team-{team.name}{suffix}",
                    namespace=team.namespace,
                    service_account=account,
                    oidc_provider_arn=args.oidc_provider_arn,
                    oidc_issuer=args.oidc_issuer,
                    inline_policies=policies,
                    tags={**args.tags, "team": team.name},
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        for team in args.teams:
            runner = identity(
                team, "", team.service_account, {"artifacts": args.prefix_policy(team.prefix)}
            )
            self.role_arns[team.name] = runner.role_arn
            serving = identity(
                team,
                "-serving",
                team.serving_account,
                {"models": args.read_policy(team.models_prefix)},
            )
            self.serving_role_arns[team.name] = serving.role_arn
            for i, member in enumerate(team.members):
                if args.cluster_name is None:
                    raise ValueError(f"team {team.name!r} has members but no cluster_name")
                # the group only: the team's RoleBinding grants it, in its namespace only
                aws.eks.AccessEntry(
                    f"{name}-{team.name}-member-{i}",
                    cluster_name=args.cluster_name,
                    principal_arn=member,
                    kubernetes_groups=[team.group],
                    type="STANDARD",
                    tags={**args.tags, "team": team.name},
                    opts=pulumi.ResourceOptions(parent=self),
                )
            out[team.name] = pulumi.Output.all(runner.role_arn, serving.role_arn).apply(
                functools.partial(_team_output, team, args.bucket_uri(team.prefix))
            )
        self.teams = pulumi.Output.all(**out)
        self.register_outputs({"teams": self.teams})
