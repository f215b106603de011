"""The platform being deployed: what every slice reads, and what earlier slices made.

The composition root (``infra/__main__.py``) creates one `Platform` from the stack's
config and hands it to each slice in order. The foundation fills the typed fields below
(network, cluster, data stores, registry, CI); each service registers itself under its
name with `add`, and a later service that needs it asks with `service`. A slice never
imports another service's wiring, only its component's type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import pulumi
import pulumi_aws as aws

from infra.base.exposure import OidcProxyArgs
from infra.config import PlatformConfig, load_stack_config
from infra.foundation.ci.boundary import has_deployer_identity
from infra.foundation.ci.permissions import DeployScope
from infra.foundation.identity.component import KeyScope, WorkloadIdentity, WorkloadIdentityArgs
from mlops_runtime import teams

if TYPE_CHECKING:
    from infra.foundation.cert_manager.component import CertManager
    from infra.foundation.cluster.component import Cluster
    from infra.foundation.databases.component import Database
    from infra.foundation.online_store.component import OnlineStore
    from infra.foundation.registry.component import ContainerRegistry

T = TypeVar("T")


@dataclass
class Platform:
    """One stack's platform, filled in slice by slice.

    Attributes:
        config: The validated stack config.
        env: The stack (``dev``, ``staging``, ``prod``).
        tags: Tags of every taggable AWS resource (config tags, environment, managed-by).
        aws: Options that put a resource on the stack's AWS provider.
        account_id / partition: Of the deploying account.
    """

    config: PlatformConfig
    env: str
    tags: dict[str, str]
    aws: pulumi.ResourceOptions
    account_id: str
    partition: str
    # the foundation
    ci_role_arn: str | None = None
    ci_role: pulumi.Resource | None = None
    # roles given cluster-admin by the cluster slice: the CI role when it runs `pulumi up`
    # itself (the in-VPC runner gets its own access entry, infra/foundation/deployer/)
    cluster_admin_role_arns: list[str] = field(default_factory=list)
    vpc_id: pulumi.Input[str] | None = None
    private_subnet_ids: pulumi.Input[list[str]] | None = None
    cluster: Cluster | None = None
    registry: ContainerRegistry | None = None
    databases: dict[str, Database] = field(default_factory=dict)
    online_store: OnlineStore | None = None
    # what a Feast client needs on the online store (a policy document)
    online_store_access: str | None = None
    cert_manager: CertManager | None = None
    services: dict[str, Any] = field(default_factory=dict)
    # IRSA role of each service's own service account (exported as ``service_roles``)
    service_roles: dict[str, pulumi.Output[str]] = field(default_factory=dict)

    @classmethod
    def from_stack(cls) -> Platform:
        """The running stack's platform: its config, AWS provider and account."""
        cfg = load_stack_config()
        env = pulumi.get_stack()
        provider = aws.Provider(
            "aws",
            region=cfg.region,
            # a stack file names its account: credentials of another account are refused
            allowed_account_ids=[cfg.account_id] if cfg.account_id else None,
        )
        invoke = pulumi.InvokeOptions(provider=provider)
        identity = aws.get_caller_identity(opts=invoke)
        partition = aws.get_partition(opts=invoke).partition
        pulumi.export("region", cfg.region)
        return cls(
            config=cfg,
            env=env,
            tags={**cfg.tags, "environment": env, "managed-by": "pulumi"},
            aws=pulumi.ResourceOptions(provider=provider),
            account_id=identity.account_id,
            partition=partition,
        )

    @property
    def region(self) -> str:
        return self.config.region

    @property
    def base(self) -> str:
        """``<prefix>-<env>``: the start of every name of the stack (IAM roles: CI's scope)."""
        return f"{self.config.name_prefix}-{self.env}"

    @property
    def deploy_scope(self) -> DeployScope:
        """The names the stack owns: what its deployer may touch and its boundaries cap."""
        store = self.config.online_store
        return DeployScope(
            base=self.base,
            environment=self.env,
            account_id=self.account_id,
            region=self.region,
            partition=self.partition,
            tables=tuple(store.dynamodb.tables) if store.kind == "dynamodb" else (),
        )

    @property
    def scope(self) -> KeyScope:
        return KeyScope(region=self.region, account_id=self.account_id, partition=self.partition)

    @property
    def invoke(self) -> pulumi.InvokeOptions:
        return pulumi.InvokeOptions(provider=self.aws.provider)

    @property
    def k8s(self) -> pulumi.ResourceOptions:
        """Options that put a resource on the one Kubernetes provider (the cluster's)."""
        return pulumi.ResourceOptions(provider=self.the_cluster.provider)

    @property
    def subnets(self) -> tuple[pulumi.Input[str], pulumi.Input[list[str]]]:
        """(VPC id, private subnet ids) the data stores go into."""
        if self.vpc_id is None or self.private_subnet_ids is None:
            raise RuntimeError("the network slice has not run yet")
        return self.vpc_id, self.private_subnet_ids

    @property
    def the_cluster(self) -> Cluster:
        if self.cluster is None:
            raise RuntimeError("the cluster slice has not run yet")
        return self.cluster

    @cached_property
    def oidc(self) -> OidcProxyArgs | None:
        """oauth2-proxy settings when people sign in with OIDC (the client secret is the
        Pulumi secret ``mlops-platform:oidcClientSecret``)."""
        auth = self.config.components.auth
        if auth.mode != "oidc" or auth.oidc is None:
            return None
        secret = pulumi.Config("mlops-platform").require_secret("oidcClientSecret")
        return OidcProxyArgs(config=auth.oidc, client_secret=secret)

    def irsa(
        self,
        name: str,
        namespace: str,
        service_account: str,
        policies: dict[str, str],
        *,
        team: str | None = None,
    ) -> WorkloadIdentity:
        """The IRSA role ``<base>-<name>`` of one service account of the cluster; a team's
        carries the tag ``team`` (its cost line, `mlops cost ENV --by team`)."""
        cluster = self.the_cluster
        return WorkloadIdentity(
            name,
            WorkloadIdentityArgs(
                role_name=f"{self.base}-{name}",
                namespace=namespace,
                service_account=service_account,
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer=cluster.oidc_issuer,
                inline_policies=policies,
                permissions_boundary=(
                    self.deploy_scope.workload_boundary_arn
                    if has_deployer_identity(self.config)
                    else None
                ),
                tags={**self.tags, teams.TAG: team} if team else self.tags,
            ),
            opts=self.aws,
        )

    def add(self, name: str, service: object) -> None:
        """Register a deployed service for the slices after it."""
        if name in self.services:
            raise RuntimeError(f"service {name!r} is deployed twice")
        self.services[name] = service

    def require(self, name: str, kind: type[T]) -> T:
        """The service deployed under ``name``; a slice that cannot work without it asks so."""
        found = self.service(name, kind)
        if found is None:
            raise RuntimeError(f"service {name!r} must be deployed before this one")
        return found

    def service(self, name: str, kind: type[T]) -> T | None:
        """The service deployed under ``name``, or None when it is not deployed."""
        found = self.services.get(name)
        if found is not None and not isinstance(found, kind):
            raise TypeError(f"service {name!r} is a {type(found).__name__}, not {kind.__name__}")
        return found

    def export(self) -> None:
        """Stack outputs that gather what several slices made."""
        pulumi.export(
            "databases",
            {
                name: {"address": db.address, "port": db.port, "secret_arn": db.secret_arn}
                for name, db in self.databases.items()
            },
        )
        pulumi.export("service_roles", dict(self.service_roles))
