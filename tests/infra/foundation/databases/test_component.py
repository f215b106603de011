"""Database built alone: private, encrypted, TLS-only, credentials in Secrets Manager."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from alone import Built, build, private_network

from infra.foundation.databases.component import Database, DatabaseArgs
from infra.foundation.databases.config import DatabaseConfig

TYPE = "mlops:data:Database"


def database(config: DatabaseConfig) -> Built:
    def make(opts: pulumi.ResourceOptions) -> None:
        vpc, subnets, clients = private_network(opts)
        Database(
            "db",
            DatabaseArgs(
                config=config,
                identifier="t-app",
                db_name="app",
                username="app_admin",
                vpc_id=vpc,
                subnet_ids=subnets,
                client_security_group_id=clients,
                secret_name="t/app/db-master",
            ),
            opts=opts,
        )

    def held(b: Any) -> dict[str, Any]:
        (instance,) = b.client("rds").describe_db_instances()["DBInstances"]
        params = b.client("rds").describe_db_parameters(DBParameterGroupName="t-app")
        secret = b.client("secretsmanager").get_secret_value(SecretId="t/app/db-master")
        return {
            "instance": instance,
            "params": params["Parameters"],
            "secret": json.loads(secret["SecretString"]),
        }

    return build(make, inspect=held)


def test_postgres_is_private_encrypted_and_forces_tls() -> None:
    built = database(DatabaseConfig(engine="postgres", engine_version="17.7"))
    built.assert_parented(TYPE, "mlops:network:Network")
    instance = built.aws["instance"]
    assert instance["PubliclyAccessible"] is False and instance["StorageEncrypted"] is True
    assert {(p["ParameterName"], p.get("ParameterValue")) for p in built.aws["params"]} >= {
        ("rds.force_ssl", "1")
    }
    ingress = built.inputs("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert (ingress["fromPort"], ingress["toPort"]) == (5432, 5432)
    assert "referencedSecurityGroupId" in ingress and "cidrIpv4" not in ingress
    secret = built.aws["secret"]
    assert (secret["engine"], secret["port"], secret["username"]) == ("postgres", 5432, "app_admin")
    # the password is a secret everywhere in the plan
    assert built.inputs("aws:rds/instance:Instance")["password"] == "[secret]"


def test_mysql_requires_secure_transport_and_the_section_sizes_it() -> None:
    config = DatabaseConfig(
        engine="mysql",
        engine_version="8.4.8",
        instance_class="db.r6g.large",
        allocated_storage_gb=100,
        max_allocated_storage_gb=500,
        multi_az=True,
        backup_retention_days=30,
        protect=True,
        performance_insights=True,
    )
    built = database(config)
    instance = built.aws["instance"]
    assert (instance["DBInstanceClass"], instance["MultiAZ"]) == ("db.r6g.large", True)
    assert instance["BackupRetentionPeriod"] == 30
    assert ("require_secure_transport", "ON") in {
        (p["ParameterName"], p.get("ParameterValue")) for p in built.aws["params"]
    }
    protected = {r["type"] for r in built.resources if r["protect"]}
    assert protected >= {"aws:rds/instance:Instance", "aws:kms/key:Key"}


def test_an_unprotected_database_can_go_without_a_final_snapshot() -> None:
    built = database(
        DatabaseConfig(
            engine="postgres",
            engine_version="17.7",
            final_snapshot=False,
            deletion_protection=False,
        )
    )
    inputs = built.inputs("aws:rds/instance:Instance")
    assert inputs["skipFinalSnapshot"] is True and "finalSnapshotIdentifier" not in inputs
    assert not any(r["protect"] for r in built.resources)


def test_the_section_refuses_a_storage_ceiling_below_the_floor() -> None:
    with pytest.raises(ValueError, match="must exceed allocated_storage_gb"):
        DatabaseConfig(
            engine="postgres",
            engine_version="17.7",
            allocated_storage_gb=100,
            max_allocated_storage_gb=50,
        )
