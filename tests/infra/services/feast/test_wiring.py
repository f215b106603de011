"""Feast is wired to the real AWS outputs: Redis and the bucket, or exactly the provisioned
DynamoDB tables; its apply Job and materialization schedule."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from plans import (
    ENVIRONMENTS,
    FEAST_REPO_COMMIT,
    artifact_bucket,
    find,
    objects,
    plan,
    pod_specs,
    resources_of,
    role_trusting,
    sa_role,
    state,
)

from infra.services.feast.component import REPO_DIR


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_feast_config_points_at_the_real_redis_and_bucket(env: str) -> None:
    p = plan(env)
    config = yaml.safe_load(
        find(p, "ConfigMap", "feast-config", "feast")["data"]["feature_store.yaml"]
    )
    # Feast's registry has a bucket of its own (its S3 client calls HeadBucket on every read)
    registry = state(p, "aws:s3/bucket:Bucket", "feast-registry")["bucket"]
    assert registry != artifact_bucket(p)
    assert config["registry"]["path"] == f"s3://{registry}/feast/registry.db"
    host = state(p, "aws:elasticache/replicationGroup:ReplicationGroup", "online-store")[
        "primaryEndpointAddress"
    ]
    assert config["online_store"] == {
        "type": "redis",
        "connection_string": f"{host}:6379,ssl=true,password=${{REDIS_PASSWORD}}",
    }
    assert config["offline_store"] == {"type": "file"}
    secret_arn = state(p, "aws:secretsmanager/secret:Secret", "online-store-auth-token")["arn"]
    for where, spec in pod_specs(p):
        if "feast" not in where:
            continue
        (container,) = spec["containers"]
        env_vars = {e["name"]: e.get("value") for e in container["env"]}
        assert env_vars["REDIS_AUTH_SECRET_ARN"] == secret_arn, where
        assert "REDIS_PASSWORD=" in container["command"][-1], where
        trust = role_trusting(p, sa_role(p, "feast", spec["serviceAccountName"]))
        assert trust["sub"] == "system:serviceaccount:feast:feast"


def test_feast_uses_exactly_the_provisioned_dynamodb_tables(oidc_plan: dict[str, Any]) -> None:
    config = yaml.safe_load(
        find(oidc_plan, "ConfigMap", "feast-config", "feast")["data"]["feature_store.yaml"]
    )
    assert config["online_store"]["type"] == "dynamodb"
    assert config["online_store"]["region"] == "us-east-1"
    # the names Feast computes for the sample repo's feature view...
    template = config["online_store"]["table_name_template"]
    wanted = template.format(project=config["project"], table_name="breast_cancer_features")
    # ...are the tables the plan provisions, and the only ones the Feast role may touch
    provisioned = {
        r["inputs"]["name"]: r for r in resources_of(oidc_plan, "aws:dynamodb/table:Table")
    }
    assert set(provisioned) == {wanted}
    arn = state(oidc_plan, "aws:dynamodb/table:Table", f"online-store-{wanted}")["arn"]
    (role,) = [
        r
        for r in resources_of(oidc_plan, "aws:iam/rolePolicy:RolePolicy")
        if r["name"].startswith("feast-")
    ]
    (tables,) = [
        st for st in json.loads(role["inputs"]["policy"])["Statement"] if st["Sid"] == "NamedTables"
    ]
    assert tables["Resource"] == [arn]
    assert "dynamodb:CreateTable" not in tables["Action"]


def test_feast_apply_runs_the_pushed_image_of_the_configured_commit(
    oidc_plan: dict[str, Any],
) -> None:
    (job,) = [
        o
        for o in objects(oidc_plan)
        if o["kind"] == "Job" and o["metadata"]["namespace"] == "feast"
    ]
    (apply,) = job["spec"]["template"]["spec"]["containers"]
    assert apply["image"].endswith(f"/mlops-dev/pipeline-components:{FEAST_REPO_COMMIT}")
    assert apply["command"] == ["feast", "-c", REPO_DIR, "apply"]
    env = {e["name"]: e.get("value") for e in apply["env"]}
    # the definitions' source is where the features pipeline writes
    assert env["MLOPS_ARTIFACT_BUCKET"].startswith("mlops-dev-artifacts-")
    assert env["MLOPS_DATA_PREFIX"] == "pipelines"
    # without a commit configured there is no image to run it in, and no Job
    assert not [
        o
        for o in objects(plan("dev"))
        if o["kind"] == "Job" and o["metadata"]["namespace"] == "feast"
    ]


def test_feast_materializes_on_the_configured_schedule() -> None:
    cron = find(plan("dev"), "CronJob", "feast-materialize", "feast")
    assert cron["spec"]["schedule"] == "0 */6 * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
