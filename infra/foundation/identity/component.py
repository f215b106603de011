"""WorkloadIdentity: the one way this platform gives a Kubernetes service account AWS access.

An IAM role for service accounts (IRSA) whose trust policy pins

* the cluster's OIDC provider (``Federated`` principal),
* ``<issuer>:sub`` = ``system:serviceaccount:<namespace>:<serviceaccount>`` and
* ``<issuer>:aud`` = ``sts.amazonaws.com``,

both with ``StringEquals`` (never ``StringLike``), so no other service account,
namespace or audience can assume it: a gap that otherwise shows only at run time.
Permissions are inline, least-privilege documents the caller builds from explicit
names (artifact-store prefix, named secrets, named table); AWS-managed policies are
only for AWS's own add-ons (EBS CSI, VPC CNI) whose needs AWS defines.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

STS_AUDIENCE = "sts.amazonaws.com"


def issuer_from_provider_arn(provider_arn: str) -> str:
    """``oidc.eks.<region>.amazonaws.com/id/<ID>`` from an IAM OIDC provider ARN."""
    marker = ":oidc-provider/"
    if marker not in provider_arn:
        raise ValueError(f"{provider_arn!r} is not an IAM OIDC provider ARN")
    return provider_arn.split(marker, 1)[1]


def irsa_trust_policy(
    *, provider_arn: str, issuer: str, namespace: str, service_account: str
) -> str:
    """Trust policy JSON for one service account of one cluster."""
    host = issuer.removeprefix("https://").rstrip("/")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ServiceAccount",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        f"{host}:aud": STS_AUDIENCE,
                    }
                },
            }
        ],
    }
    return json.dumps(document, sort_keys=True)


def _key_statement(
    sid: str, actions: list[str], *, key_aliases: Sequence[str], service: str, scope: KeyScope
) -> dict[str, object]:
    """KMS use through one service, for keys named by alias (known before deployment)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": f"arn:{scope.partition}:kms:{scope.region}:{scope.account_id}:key/*",
        "Condition": {
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": sorted(key_aliases)},
            "StringEquals": {"kms:ViaService": f"{service}.{scope.region}.amazonaws.com"},
        },
    }


@dataclass(frozen=True, kw_only=True)
class KeyScope:
    """Where the keys named by alias live."""

    region: str
    account_id: str
    partition: str = "aws"

    def secret_arn(self, name: str) -> str:
        """ARN pattern of a named secret (AWS appends 6 random characters)."""
        return (
            f"arn:{self.partition}:secretsmanager:{self.region}:{self.account_id}:"
            f"secret:{name}-??????"
        )

    def table_arn(self, name: str) -> str:
        return f"arn:{self.partition}:dynamodb:{self.region}:{self.account_id}:table/{name}"


def secrets_read_policy(
    *, secret_names: Sequence[str], key_aliases: Sequence[str], scope: KeyScope
) -> str:
    """Read the named Secrets Manager secrets (and decrypt them), nothing else."""
    statements = [
        {
            "Sid": "ReadNamedSecrets",
            "Effect": "Allow",
            "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
            "Resource": sorted(scope.secret_arn(n) for n in secret_names),
        },
        _key_statement(
            "DecryptSecrets",
            ["kms:Decrypt"],
            key_aliases=key_aliases,
            service="secretsmanager",
            scope=scope,
        ),
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def dynamodb_tables_policy(
    *, table_names: Sequence[str], key_aliases: Sequence[str], scope: KeyScope
) -> str:
    """Read and write items of the named tables (Feast online store), nothing else."""
    statements = [
        {
            "Sid": "NamedTables",
            "Effect": "Allow",
            "Action": [
                "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:DeleteItem",
                "dynamodb:DescribeTable",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
            ],
            "Resource": sorted(scope.table_arn(t) for t in table_names),
        },
        _key_statement(
            "TableKey",
            ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            key_aliases=key_aliases,
            service="dynamodb",
            scope=scope,
        ),
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def merge_policies(*documents: str) -> str:
    """One document holding the statements of several (one inline policy, one size limit)."""
    statements: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    for text in documents:
        doc = json.loads(text)
        st = doc["Statement"]
        for statement in st if isinstance(st, list) else [st]:
            sid = statement.get("Sid")
            if isinstance(sid, str):
                # IAM wants Sids unique per policy: the second "ObjectsRW" is "ObjectsRW2"
                seen[sid] = seen.get(sid, 0) + 1
                if seen[sid] > 1:
                    statement = {**statement, "Sid": f"{sid}{seen[sid]}"}
            statements.append(statement)
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


@dataclass(frozen=True, kw_only=True)
class WorkloadIdentityArgs:
    """Inputs of a WorkloadIdentity.

    Attributes:
        role_name: Explicit IAM role name (so other policies can name it before it exists).
        namespace: Kubernetes namespace of the service account.
        service_account: Name of the service account.
        oidc_provider_arn: ARN of the cluster's IAM OIDC provider.
        oidc_issuer: The cluster's issuer (URL or host/path); defaults to the one
            encoded in ``oidc_provider_arn``.
        inline_policies: Policy name -> identity-policy JSON (least privilege).
        managed_policy_arns: AWS-managed policies, only for AWS add-ons.
        permissions_boundary: The permissions boundary the role carries, if any.
        tags: Tags for the role.
    """

    role_name: str
    namespace: str
    service_account: str
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str] | None = None
    inline_policies: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    managed_policy_arns: Sequence[str] = ()
    permissions_boundary: pulumi.Input[str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= len(self.role_name) <= 64:
            raise ValueError(f"IAM role name {self.role_name!r} must be 1-64 characters")
        if not self.namespace or not self.service_account:
            raise ValueError("namespace and service_account are required")


class WorkloadIdentity(pulumi.ComponentResource):
    """IRSA role for one Kubernetes service account.

    Outputs:
        role_arn: ARN to annotate the service account with
            (``eks.amazonaws.com/role-arn``).
        role_name: Name of the role.
    """

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: WorkloadIdentityArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlops:identity:WorkloadIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        issuer = (
            args.oidc_issuer
            if args.oidc_issuer is not None
            else pulumi.Output.from_input(args.oidc_provider_arn).apply(issuer_from_provider_arn)
        )
        trust = pulumi.Output.all(pulumi.Output.from_input(args.oidc_provider_arn), issuer).apply(
            lambda v: irsa_trust_policy(
                provider_arn=v[0],
                issuer=v[1],
                namespace=args.namespace,
                service_account=args.service_account,
            )
        )
        self.role = aws.iam.Role(
            name,
            name=args.role_name,
            assume_role_policy=trust,
            description=f"IRSA for {args.namespace}/{args.service_account}",
            max_session_duration=3600,
            permissions_boundary=args.permissions_boundary,
            tags=dict(args.tags),
            opts=child,
        )
        for policy_name, document in sorted(args.inline_policies.items()):
            aws.iam.RolePolicy(
                f"{name}-{policy_name}",
                name=policy_name,
                role=self.role.name,
                policy=document,
                opts=child,
            )
        for arn in args.managed_policy_arns:
            aws.iam.RolePolicyAttachment(
                f"{name}-{arn.rsplit('/', 1)[-1]}", role=self.role.name, policy_arn=arn, opts=child
            )
        self.role_arn = self.role.arn
        self.role_name = self.role.name
        self.register_outputs({"role_arn": self.role_arn, "role_name": self.role_name})
