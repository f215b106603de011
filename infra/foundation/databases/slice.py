"""Databases are provisioned by the service that owns one (MLflow, Kubeflow Pipelines):
the service names its database, the foundation places it in the network, admits only
the cluster and keeps its master credentials in Secrets Manager."""

from __future__ import annotations

from typing import Literal

from infra.foundation.databases.component import Database, DatabaseArgs
from infra.foundation.identity.component import secrets_read_policy
from infra.platform import Platform


def provision(p: Platform, service: Literal["mlflow", "kfp"], *, db_name: str) -> Database:
    """The RDS instance of ``service`` from its ``databases.<service>`` section."""
    identifier = f"{p.base}-{service}"
    vpc_id, subnet_ids = p.subnets
    database = Database(
        f"{service}-db",
        DatabaseArgs(
            config=getattr(p.config.databases, service),
            identifier=identifier,
            db_name=db_name,
            username=f"{service}_admin",
            vpc_id=vpc_id,
            subnet_ids=subnet_ids,
            client_security_group_id=p.the_cluster.node_security_group_id,
            secret_name=secret_name(p, service),
            tags=p.tags,
        ),
        opts=p.aws,
    )
    p.databases[service] = database
    return database


def secret_name(p: Platform, service: str) -> str:
    """Secrets Manager name of the master credentials of ``service``'s database."""
    return f"{p.base}/{service}/db-master"


def credentials_policy(p: Platform, service: str) -> str:
    """Read the master credentials of ``service``'s database, nothing else."""
    return secrets_read_policy(
        secret_names=[secret_name(p, service)],
        key_aliases=[f"alias/{p.base}-{service}-db"],
        scope=p.scope,
    )
