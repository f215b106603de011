"""Databases: private, encrypted, autoscaled, backed up, protected in prod, TLS-only, the
password generated and kept in Secrets Manager, never in the plan; AWS refuses bad settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from plans import BYO_CONFIG, Planned, planned

from mlops.engine.fakes import Ctx, random_password
from mlops.engine.plan import plan_environment
from mlops.errors import PlanError, UsageError

DB = "aws:rds/instance:Instance"
SERVICES = (("mlflow", "postgres", 5432), ("kfp", "mysql", 3306))


def held(env: Planned, service: str) -> dict:
    (db,) = [d for d in env.aws["db_instances"] if d["DBInstanceIdentifier"].endswith(service)]
    return db


@pytest.mark.parametrize(("service", "engine", "port"), SERVICES)
def test_engine_storage_and_backups_from_config(
    env: Planned, service: str, engine: str, port: int
) -> None:
    cfg = getattr(env.config.databases, service)
    db = held(env, service)
    assert db["Engine"] == engine == cfg.engine and db["Endpoint"]["Port"] == port
    assert db["DBInstanceClass"] == cfg.instance_class
    assert db["AllocatedStorage"] == cfg.allocated_storage_gb
    assert db["MaxAllocatedStorage"] == cfg.max_allocated_storage_gb > cfg.allocated_storage_gb
    assert db["BackupRetentionPeriod"] == cfg.backup_retention_days
    assert db["StorageEncrypted"] is True
    key = env.one("aws:kms/key:Key", f"{service}-db-key")
    assert key["inputs"]["enableKeyRotation"] is True
    assert db["KmsKeyId"].startswith(f"arn:aws:kms:{env.config.region}:123456789012:key/")
    assert env.one(DB, f"{service}-db")["inputs"]["kmsKeyId"] == env.state(key)["arn"]
    assert db["PubliclyAccessible"] is False
    assert db["IAMDatabaseAuthenticationEnabled"] is True


@pytest.mark.parametrize(("service", "engine", "port"), SERVICES)
def test_prod_is_multi_az_protected_and_snapshotted(
    prod: Planned, service: str, engine: str, port: int
) -> None:
    db = held(prod, service)
    assert db["MultiAZ"] is True and db["DeletionProtection"] is True
    inputs = prod.one(DB, f"{service}-db")
    assert inputs["inputs"]["skipFinalSnapshot"] is False
    assert inputs["inputs"]["finalSnapshotIdentifier"] == f"mlops-prod-{service}-final"
    assert inputs["protect"] is True


def test_dev_is_cheap_and_disposable(dev: Planned) -> None:
    for service, _, _ in SERVICES:
        db = held(dev, service)
        assert db["MultiAZ"] is False and db["DeletionProtection"] is False
        assert dev.one(DB, f"{service}-db")["inputs"]["skipFinalSnapshot"] is True


@pytest.mark.parametrize(("service", "engine", "port"), SERVICES)
def test_only_the_cluster_group_reaches_the_port(
    env: Planned, service: str, engine: str, port: int
) -> None:
    (rule,) = [
        r
        for r in env.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r["name"] == f"{service}-db-from-cluster"
    ]
    cluster_sg = env.plan["_states"][env.one("aws:eks/cluster:Cluster", "cluster")["urn"]][
        "vpcConfig"
    ]["clusterSecurityGroupId"]
    assert rule["inputs"]["referencedSecurityGroupId"] == cluster_sg
    assert rule["inputs"]["fromPort"] == rule["inputs"]["toPort"] == port
    assert "cidrIpv4" not in rule["inputs"]
    (group,) = [
        g for g in env.aws["security_groups"] if g["GroupName"] == f"mlops-{env.env}-{service}-db"
    ]
    (perm,) = group["IpPermissions"]
    assert perm["FromPort"] == perm["ToPort"] == port and perm["IpRanges"] == []
    (pair,) = perm["UserIdGroupPairs"]
    (eks_sg,) = [
        g for g in env.aws["security_groups"] if g["GroupName"].startswith("eks-cluster-sg-")
    ]
    assert pair["GroupId"] == eks_sg["GroupId"]
    assert group["IpPermissionsEgress"] == []


@pytest.mark.parametrize(("service", "engine", "port"), SERVICES)
def test_private_subnets_and_tls_forced(env: Planned, service: str, engine: str, port: int) -> None:
    (group,) = [g for g in env.aws["db_subnet_groups"] if g["DBSubnetGroupName"].endswith(service)]
    private = {
        s["inputs"]["cidrBlock"]
        for s in env.of_type("aws:ec2/subnet:Subnet")
        if "-private-" in s["name"]
    }
    cidr_of = {s["SubnetId"]: s["CidrBlock"] for s in env.aws["subnets"]}
    assert {cidr_of[s["SubnetIdentifier"]] for s in group["Subnets"]} == private
    params = env.one("aws:rds/parameterGroup:ParameterGroup", f"{service}-db-params")["inputs"]
    expected = {"postgres": ("rds.force_ssl", "1"), "mysql": ("require_secure_transport", "ON")}
    assert [(p["name"], p["value"]) for p in params["parameters"]] == [expected[engine]]


@pytest.mark.parametrize("name", ["dev", "staging", "prod", "byo"])
def test_passwords_are_generated_kept_in_secrets_manager_and_never_in_the_plan(name: str) -> None:
    p = planned(name)
    text = p.text
    for service, _, _ in SERVICES:
        generator = p.one("random:index/randomPassword:RandomPassword", f"{service}-db-password")
        password = random_password(
            Ctx(stack=name, region=p.config.region), generator["name"], generator["inputs"]
        )
        secret = p.aws["secrets"][f"{p.config.name_prefix}-{name}/{service}/db-master"]
        stored = json.loads(secret["value"])
        assert stored["password"] == password  # the value AWS got is the one we search for
        assert password not in text and json.dumps(password)[1:-1] not in text
        assert p.one(DB, f"{service}-db")["inputs"]["password"] == "[secret]"
        version = p.one(
            "aws:secretsmanager/secretVersion:SecretVersion", f"{service}-db-credentials"
        )
        assert version["inputs"]["secretString"] == "[secret]"
        key = p.one("aws:kms/key:Key", f"{service}-db-key")
        assert (
            secret["KmsKeyId"]
            and p.one("aws:secretsmanager/secret:Secret", f"{service}-db-credentials")["inputs"][
                "kmsKeyId"
            ]
            == p.state(key)["arn"]
        )


def test_an_instance_class_rds_does_not_offer_is_refused_at_its_field(tmp_path: Path) -> None:
    """Config validation refuses it from the instance table, before moto would (which
    refuses it too, naming the resource)."""
    doc = yaml.safe_load(BYO_CONFIG.read_text())
    doc["config"]["mlops-platform:platform"]["databases"]["kfp"]["instance_class"] = "db.q9.huge"
    bad = tmp_path / "Pulumi.byo.yaml"
    bad.write_text(yaml.safe_dump(doc))
    with pytest.raises(UsageError) as err:
        plan_environment("byo", config_file=bad)
    assert (
        ": platform.databases.kfp.instance_class: RDS mysql instance class 'db.q9.huge' is not "
        "in the instance table"
    ) in str(err.value)


def test_moto_refuses_an_unknown_engine_and_the_plan_names_the_instance(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: bad-rds\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi, pulumi_aws as aws\n"
        "p = aws.Provider('aws', region='us-east-1')\n"
        "aws.rds.Instance('db', identifier='db', engine='postgress', instance_class='db.t4g.micro',"
        " allocated_storage=20, username='app', password='correct-horse-battery',"
        " skip_final_snapshot=True, opts=pulumi.ResourceOptions(provider=p))\n"
    )
    from mlops.engine.plan import plan_program

    with pytest.raises(PlanError) as err:
        plan_program(tmp_path)
    assert str(err.value).startswith("aws:rds/instance:Instance 'db': InvalidParameterValue:")
    assert "postgress" in str(err.value)
