"""Config that AWS (or Kubernetes) would refuse is refused at validation time, in one line
naming the field: `platform.<field.path>: <what is wrong>`, exit 2.

Each case was accepted, priced, or failed later naming a resource (exit 1, or a
traceback-shaped "the program failed: ..."). The cases marked "real entry" run the way
`mlops plan dev` does (`plan_environment` with the changed stack file: the moto helper,
the policy runner and the program), the others through `parse_config` with the stack's
name, which is what the program calls.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from plans import BYO_CONFIG, ROOT, stack_values

from infra.base import regions
from infra.config import CONFIG_KEY, MAX_CONFIG_TAGS, ConfigError, parse_config
from infra.foundation.cluster.config import MAX_NODES
from infra.services.tenancy.component import TeamTenancyArgs
from infra.services.tenancy.config import CONTAINER_DEFAULT_LIMITS, TeamConfig
from mlops.engine.plan import plan_environment
from mlops.errors import UsageError

Change = Callable[[dict[str, Any]], object]


def dev() -> dict[str, Any]:
    return copy.deepcopy(stack_values("dev")["config"][CONFIG_KEY])


def refusal(change: Change, stack: str = "dev", base: str = "dev") -> str:
    """The one-line refusal of the ``base`` environment's config changed by ``change``."""
    raw = copy.deepcopy(stack_values(base)["config"][CONFIG_KEY])
    change(raw)
    with pytest.raises(ConfigError) as err:
        parse_config(raw, stack=stack)
    message = str(err.value)
    assert "\n" not in message and message.startswith("platform."), message
    return message


def planned_refusal(tmp_path: Path, change: Change) -> str:
    """The refusal of `mlops plan dev` with a stack file changed by ``change`` (the real
    entry: a usage error, which the CLI prints as one line and exits 2 on)."""
    values = stack_values("dev")
    change(values["config"][CONFIG_KEY])
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(values))
    with pytest.raises(UsageError) as err:
        plan_environment("dev", config_file=path)
    assert err.value.exit_code == 2
    message = str(err.value)
    assert "\n" not in message
    prefix = "environments/Pulumi.dev.yaml: "
    assert message.startswith(prefix + "platform."), message
    return message.removeprefix(prefix)


# ---------------------------------------------------------------- controls


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_shipped_environments_pass_with_their_stack_name(env: str) -> None:
    parse_config(copy.deepcopy(stack_values(env)["config"][CONFIG_KEY]), stack=env)


def test_the_bring_your_own_fixture_passes_with_its_stack_name() -> None:
    parse_config(yaml.safe_load(BYO_CONFIG.read_text())["config"][CONFIG_KEY], stack="byo")


# ---------------------------------------------------------------- regions


def test_unknown_region_is_refused_at_its_field(tmp_path: Path) -> None:
    """Was exit 1: "aws:ec2/vpc:Vpc 'network': moto could not model it (KeyError...)"."""
    message = planned_refusal(tmp_path, lambda p: p.update(region="xx-fake-9"))
    assert message.startswith("platform.region: 'xx-fake-9' is not an AWS region (botocore ")


def test_unknown_region_through_the_cli_exits_2_with_one_line(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "infra", project / "infra", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    values = stack_values("dev")
    values["config"][CONFIG_KEY]["region"] = "us-fake-1"
    (project / "environments").mkdir()
    (project / "environments" / "Pulumi.dev.yaml").write_text(yaml.safe_dump(values))
    done = subprocess.run(
        [sys.executable, "-m", "mlops.cli", "plan", "dev"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(
        "error: environments/Pulumi.dev.yaml: platform.region: 'us-fake-1' is not an AWS region"
    )
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-7", "us-gov-west-1", "cn-north-1"])
def test_regions_with_every_service_pass(region: str) -> None:
    assert regions.region_problem(region) is None


@pytest.mark.parametrize("region", ["us-east-1-fips", "fips-us-east-1", "US-EAST-1", "mars-1"])
def test_endpoint_aliases_and_misspellings_are_not_regions(region: str) -> None:
    assert "is not an AWS region" in (regions.region_problem(region) or "")


def test_a_region_without_a_service_the_platform_needs_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    partitions = copy.deepcopy(regions._partitions())
    aws = next(p for p in partitions if p["partition"] == "aws")
    del aws["services"]["eks"]["endpoints"]["eu-west-1"]
    monkeypatch.setattr(regions, "_partitions", lambda: partitions)
    message = refusal(lambda p: p.update(region="eu-west-1"))
    assert message.startswith("platform.region: 'eu-west-1' has no endpoint for eks in botocore")


# ---------------------------------------------------------------- versions (the one table)


def test_eks_version_not_in_the_table_is_refused(tmp_path: Path) -> None:
    message = planned_refusal(tmp_path, lambda p: p["cluster"].update(version="1.99"))
    assert message.startswith("platform.cluster.version: EKS 1.99 is not in the version table")


def test_rds_engine_version_not_in_the_table_is_refused(tmp_path: Path) -> None:
    message = planned_refusal(
        tmp_path, lambda p: p["databases"]["mlflow"].update(engine_version="99.9")
    )
    assert message.startswith(
        "platform.databases.mlflow.engine_version: postgres 99.9 is not in the version table"
    )


def test_elasticache_engine_version_not_in_the_table_is_refused() -> None:
    message = refusal(lambda p: p["online_store"]["redis"].update(engine_version="9.9"))
    assert message.startswith(
        "platform.online_store.redis.engine_version: redis 9.9 is not in the version table"
    )


def test_an_eks_version_on_a_brought_in_cluster_is_refused() -> None:
    def byo(p: dict[str, Any]) -> None:
        p.clear()
        p.update(yaml.safe_load(BYO_CONFIG.read_text())["config"][CONFIG_KEY])
        p["cluster"]["version"] = "1.99"

    assert refusal(byo, stack="byo").startswith(
        "platform.cluster.version: only applies when mode is 'create'"
    )


# ---------------------------------------------------------------- the one instance table


def test_unknown_node_instance_type_is_refused(tmp_path: Path) -> None:
    """Was accepted and priced $0."""
    message = planned_refusal(
        tmp_path,
        lambda p: p["cluster"]["node_groups"]["workloads"].update(
            instance_types=["m6i.large", "z9.mega"]
        ),
    )
    assert message.startswith(
        "platform.cluster.node_groups.workloads.instance_types.1: EC2 instance type 'z9.mega' "
        "is not in the instance table infra/base/prices-us-east-1.yaml"
    )


def test_unknown_rds_instance_class_is_refused() -> None:
    message = refusal(lambda p: p["databases"]["mlflow"].update(instance_class="db.z9.mega"))
    assert message.startswith(
        "platform.databases.mlflow.instance_class: RDS postgres instance class 'db.z9.mega' is "
        "not in the instance table"
    )


def test_an_rds_class_the_table_lists_only_for_another_engine_is_refused() -> None:
    message = refusal(lambda p: p["databases"]["kfp"].update(instance_class="db.t3.large"))
    assert message.startswith("platform.databases.kfp.instance_class: RDS mysql instance class")


def test_unknown_cache_node_type_is_refused() -> None:
    message = refusal(lambda p: p["online_store"]["redis"].update(node_type="cache.t4g.mega"))
    assert message.startswith(
        "platform.online_store.redis.node_type: ElastiCache node type 'cache.t4g.mega' is not"
    )


def test_an_arm_instance_type_on_the_x86_node_groups_is_refused() -> None:
    message = refusal(
        lambda p: p["cluster"]["node_groups"]["system"].update(instance_types=["m7g.large"])
    )
    assert message.startswith(
        "platform.cluster.node_groups.system.instance_types.0: m7g.large is an arm64 type"
    )


def test_config_and_cost_read_one_instance_table() -> None:
    from infra.base import instances
    from mlops import cost

    assert cost.PRICE_FILE == instances.TABLE
    assert not (ROOT / "mlops" / "data" / "prices-us-east-1.yaml").exists()


# ---------------------------------------------------------------- sizes and counts


def test_a_node_group_of_1e30_nodes_is_refused(tmp_path: Path) -> None:
    """Was accepted and priced $3.2e31/month."""
    message = planned_refusal(
        tmp_path,
        lambda p: p["cluster"]["node_groups"]["workloads"].update(max_size=1e30, desired_size=1e30),
    )
    assert message.startswith("platform.cluster.node_groups.workloads.desired_size: ")


def test_a_node_group_of_10_to_the_400_nodes_is_refused(tmp_path: Path) -> None:
    """Was exit 1: "the program failed: int too large to convert to float"."""
    message = planned_refusal(
        tmp_path,
        lambda p: p["cluster"]["node_groups"]["workloads"].update(
            max_size=10**400, desired_size=10**400
        ),
    )
    assert message == (
        "platform.cluster.node_groups.workloads.desired_size: "
        f"Input should be less than or equal to {MAX_NODES}"
    )


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("cluster.node_groups.workloads.max_size", MAX_NODES + 1, "max_size"),
        ("cluster.node_groups.workloads.disk_size_gb", 2001, "disk_size_gb"),
        ("components.mlflow.replicas", 21, "replicas"),
        ("components.feast.replicas", 10**400, "replicas"),
        ("databases.mlflow.allocated_storage_gb", 65537, "allocated_storage_gb"),
        ("databases.mlflow.max_allocated_storage_gb", 10**30, "max_allocated_storage_gb"),
        ("online_store.redis.num_cache_clusters", 7, "num_cache_clusters"),
        ("components.monitoring.storage_gb", 16001, "storage_gb"),
        ("teams.0.quota.gpu", 2**63, "gpu"),
        ("components.kserve.models.0.max_replicas", 101, "max_replicas"),
        ("components.mlflow.autoscaling.max_replicas", 101, "max_replicas"),
    ],
)
def test_size_and_count_fields_are_bounded(path: str, value: int, field: str) -> None:
    def change(p: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = p
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        node[last] = value

    message = refusal(change)
    assert message.startswith(f"platform.{path}: Input should be less than or equal to"), message


@pytest.mark.parametrize("threshold", [float("inf"), float("nan")])
def test_infinite_or_nan_thresholds_are_refused(threshold: float) -> None:
    message = refusal(lambda p: p["components"]["monitoring"].update(p99_latency_seconds=threshold))
    assert message.startswith("platform.components.monitoring.p99_latency_seconds: ")


# ---------------------------------------------------------------- cross-field orders


def test_served_model_min_replicas_above_max_is_refused(tmp_path: Path) -> None:
    """Was exit 1 without a path: "the program failed: max_replicas must be >= ..."."""
    message = planned_refusal(
        tmp_path,
        lambda p: p["components"]["kserve"]["models"][0].update(min_replicas=5, max_replicas=2),
    )
    assert message == "platform.components.kserve.models.0.max_replicas: is below min_replicas (5)"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p["cluster"]["node_groups"]["workloads"].update(
                min_size=3, desired_size=3, max_size=2
            ),
            "platform.cluster.node_groups.workloads.min_size: 3 is above max_size 2",
        ),
        (
            lambda p: p["components"]["mlflow"].update(
                autoscaling={"enabled": True, "min_replicas": 4, "max_replicas": 2}
            ),
            "platform.components.mlflow.autoscaling.max_replicas: is below min_replicas (4)",
        ),
        (
            lambda p: p["databases"]["mlflow"].update(
                allocated_storage_gb=100, max_allocated_storage_gb=105
            ),
            "platform.databases.mlflow.max_allocated_storage_gb: must exceed "
            "allocated_storage_gb (100) by at least 10% (110)",
        ),
        (
            lambda p: p["components"]["mlflow"].update(
                resources={"cpu_request": "2", "cpu_limit": "1"}
            ),
            "platform.components.mlflow.resources.cpu_request: 2 is above cpu_limit 1, which "
            "Kubernetes refuses",
        ),
        (
            lambda p: p["components"]["feast"].update(
                resources={"memory_request": "2Gi", "memory_limit": "1024Mi"}
            ),
            "platform.components.feast.resources.memory_request: 2Gi is above memory_limit",
        ),
        (
            lambda p: p["teams"][0]["quota"].update(cpu="250m"),
            "platform.teams.0.quota.cpu: 250m is below the default container limit 500m",
        ),
        (
            lambda p: p["components"]["mlflow"].update(
                job_execution=True, resources={"memory_limit": "1500Mi"}
            ),
            "platform.components.mlflow.resources.memory_limit: 1500Mi is below 2Gi",
        ),
    ],
    ids=[
        "node group min above max",
        "autoscaling min above max",
        "storage ceiling under 110%",
        "cpu request above limit",
        "memory request above limit",
        "team quota below the LimitRange default",
        "job execution under 2Gi",
    ],
)
def test_cross_field_orders_are_refused(change: Change, message: str) -> None:
    assert refusal(change).startswith(message)


def test_the_limit_range_default_is_the_one_the_config_checks() -> None:
    args = TeamTenancyArgs(config=TeamConfig(name="fraud"), role_arn="arn", serving_role_arn="s")
    assert args.default_limits == CONTAINER_DEFAULT_LIMITS


# ---------------------------------------------------------------- served models


def test_the_same_served_model_listed_twice_is_refused(tmp_path: Path) -> None:
    """Was accepted, and one InferenceService silently dropped."""

    def twice(p: dict[str, Any]) -> None:
        models = p["components"]["kserve"]["models"]
        models.append({**models[0], "model_version": "2"})

    message = planned_refusal(tmp_path, twice)
    assert message == (
        "platform.components.kserve.models.1.name: 'fraud-classifier' of team 'fraud' is "
        "already served by models.0"
    )


def test_the_same_model_name_in_two_teams_is_two_objects() -> None:
    raw = dev()
    models = raw["components"]["kserve"]["models"]
    models.append({**models[0], "team": "recsys"})
    assert len(parse_config(raw, stack="dev").components.kserve.models) == 2


@pytest.mark.parametrize("path", ["../recsys/models/x", "models//x", "/models/x", "models/./x"])
def test_a_served_model_path_leaving_its_prefix_is_refused(path: str) -> None:
    message = refusal(lambda p: p["components"]["kserve"]["models"][0].update(path=path))
    assert message.startswith("platform.components.kserve.models.0.path: ")


@pytest.mark.parametrize(
    "path", ["data/fraud-classifier/1", "mlflow/1/abc", "modelsx/m/1", "models"]
)
def test_a_served_model_outside_the_teams_models_is_refused(path: str) -> None:
    """The team's serving account reads only teams/<team>/models/: a model elsewhere would
    fail to download at run time."""
    message = refusal(lambda p: p["components"]["kserve"]["models"][0].update(path=path))
    assert message == (
        f"platform.components.kserve.models.0.path: {path!r} is not under models/: the "
        "team's serving account reads only its published models (teams/<team>/models/)"
    )


def test_a_teams_pipelines_account_named_like_its_serving_account_is_refused() -> None:
    message = refusal(lambda p: p["teams"][0].update(service_account="model-server"))
    assert message.startswith(
        "platform.teams.0.service_account: 'model-server' is the team's serving account"
    )


# ---------------------------------------------------------------- cron


@pytest.mark.parametrize(
    ("schedule", "why"),
    [
        ("99 * * * *", "minute '99' is outside 0-59"),
        ("0 24 * * *", "hour '24' is outside 0-23"),
        ("0 0 0 * *", "day of month '0' is outside 1-31"),
        ("0 0 * 13 *", "month '13' is outside 1-12"),
        ("0 0 * * 7", "day of week '7' is outside 0-6"),
        ("*/0 * * * *", "step '0' is not a positive number"),
        ("30-10 * * * *", "begins after it ends"),
        ("0 0 1-2-3 * *", "too many hyphens"),
        ("0 * * *", "has 4 fields"),
        ("0 * * * * *", "has 6 fields"),
        ("@every 1h", "is not one of @yearly"),
        ("TZ=UTC 0 * * * *", "use spec.timeZone"),
        ("0 0 30 2 *", "never fires"),
        ("0 0 31 apr,jun,sep,nov *", "never fires"),
        ("x * * * *", "minute 'x' is not a number"),
    ],
)
def test_an_invalid_cron_is_refused(schedule: str, why: str) -> None:
    message = refusal(lambda p: p["components"]["feast"].update(materialize_schedule=schedule))
    assert message.startswith("platform.components.feast.materialize_schedule: "), message
    assert why in message


@pytest.mark.parametrize(
    "schedule",
    ["0 */6 * * *", "@hourly", "15 2 * * MON-fri", "0 0 29 2 *", "0 0 30 2 1", "0,30 8-18/2 * * ?"],
)
def test_valid_crons_pass(schedule: str) -> None:
    raw = dev()
    raw["components"]["feast"]["materialize_schedule"] = schedule
    parse_config(raw, stack="dev")


# ---------------------------------------------------------------- tags


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (
            {"owner": "team<a>"},
            "platform.tags.owner: tag value 'team<a>' has characters AWS tags do not allow",
        ),
        ({"owner": "x" * 300}, "platform.tags.owner: tag value 'xxxx"),
        ({"k" * 129: "v"}, "platform.tags: tag key 'kkkk"),
        ({"aws:owner": "v"}, "platform.tags: tag key 'aws:owner' starts with 'aws:'"),
        ({"rds:owner": "v"}, "platform.tags: tag key 'rds:owner' starts with 'rds:'"),
        ({"cost center!": "v"}, "platform.tags: tag key 'cost center!' has characters"),
        ({"team": "fraud"}, "platform.tags: 'team' is a tag the platform sets itself"),
        ({"name": "x"}, "platform.tags: 'name' is a tag the platform sets itself"),
        ({"Managed-By": "me"}, "platform.tags: 'Managed-By' is a tag the platform sets"),
        (
            {"kubernetes.io/role/elb": "1"},
            "platform.tags: 'kubernetes.io/role/elb' is a tag the platform sets itself",
        ),
        ({"Environment": "prod"}, "platform.tags: 'environment' is set from the stack name"),
        ({"Owner": "someone"}, "platform.tags: tag keys 'owner' and 'Owner' differ only in case"),
        (
            {f"extra-{i}": "v" for i in range(MAX_CONFIG_TAGS)},
            f"platform.tags: {MAX_CONFIG_TAGS + 3} tags; AWS allows 50 per resource",
        ),
    ],
    ids=[
        "value outside the character set",
        "300-character value",
        "129-character key",
        "aws: prefix",
        "rds: prefix",
        "key outside the character set",
        "platform's team tag",
        "platform's Name tag in another case",
        "platform's managed-by tag",
        "kubernetes.io tag",
        "environment in another case",
        "keys differing in case",
        "too many tags",
    ],
)
def test_tags_aws_would_refuse_are_refused(tags: dict[str, str], message: str) -> None:
    assert refusal(lambda p: p["tags"].update(tags)).startswith(message)


# ---------------------------------------------------------------- derived names


@pytest.mark.parametrize(
    ("prefix", "why"),
    [
        ("xn--ml", "S3 reserves the prefix 'xn--'"),
        ("sthree-ml", "S3 reserves the prefix 'sthree-'"),
        ("amzn-s3-demo-ml", "S3 reserves the prefix 'amzn-s3-demo-'"),
    ],
)
def test_a_name_prefix_making_a_reserved_bucket_name_is_refused(prefix: str, why: str) -> None:
    message = refusal(lambda p: p.update(name_prefix=prefix))
    assert message.startswith(
        f"platform.name_prefix: with the stack 'dev', it makes the S3 bucket name "
        f"'{prefix}-dev-artifacts-<account-id>', which is not a valid S3 bucket name: {why}"
    )


def test_a_team_name_making_an_iam_role_over_64_characters_is_refused(tmp_path: Path) -> None:
    """Was exit 1 naming a resource: "the program failed: IAM role name ... 1-64"."""
    long = "fraud-detection-and-chargebacks"

    def change(p: dict[str, Any]) -> None:
        p["name_prefix"] = "acme-ml-platform-eu1"
        p["teams"][0]["name"] = long
        p["components"]["kserve"]["models"][0]["team"] = long

    message = planned_refusal(tmp_path, change)
    assert message == (
        "platform.teams.0.name: with the stack 'dev', it makes the IAM role name "
        f"'acme-ml-platform-eu1-dev-team-{long}-serving', which is 69 characters; AWS allows "
        "1-64 for the IAM role name"
    )


def test_a_name_prefix_making_a_bucket_name_over_63_characters_is_refused() -> None:
    def change(p: dict[str, Any]) -> None:
        p["name_prefix"] = "acme-machine-learnin"
        p["artifact_store"]["access_logging"] = True

    message = refusal(change, stack="production")
    assert message.startswith(
        "platform.name_prefix: with the stack 'production', it makes the S3 bucket name "
        "'acme-machine-learnin-production-feast-registry-<account-id>-logs', which is 64 "
        "characters; S3 bucket names are 3-63"
    )


def test_a_stack_making_an_elasticache_id_over_40_characters_is_refused() -> None:
    stack = "production-europe-west-a-blue"
    message = refusal(lambda p: None, stack=stack)
    assert message == (
        f"platform.name_prefix: with the stack '{stack}', it makes the ElastiCache "
        f"replication group id 'mlops-{stack}-feast', which is 41 characters; AWS allows 1-40 "
        "for the ElastiCache replication group id"
    )


def test_a_name_prefix_with_two_hyphens_making_an_invalid_rds_identifier_is_refused() -> None:
    message = refusal(lambda p: p.update(name_prefix="ml--ops"))
    assert message.startswith("platform.name_prefix: with the stack 'dev', it makes the ")
    assert "two consecutive hyphens" in message


def test_a_name_prefix_making_a_security_group_named_like_an_id_is_refused() -> None:
    message = refusal(lambda p: p.update(name_prefix="sg-ml"))
    assert message.startswith(
        "platform.name_prefix: with the stack 'dev', it makes the security group name "
        "'sg-ml-dev-deployer', which is not a valid security group name: it starts with 'sg-'"
    )


def test_an_upper_case_stack_name_is_refused_where_aws_names_are_lower_case() -> None:
    message = refusal(lambda p: None, stack="Dev")
    assert message.startswith(
        "platform.name_prefix: with the stack 'Dev', it makes the S3 bucket name "
        "'mlops-Dev-artifacts-<account-id>', which is not a valid S3 bucket name"
    )


def test_an_ecr_repository_name_is_checked_with_its_field() -> None:
    def change(p: dict[str, Any]) -> None:
        p["registry"]["repositories"] = ["serving", "a" * 250]

    message = refusal(change)
    assert message.startswith(
        "platform.registry.repositories.1: with the stack 'dev', it makes the ECR repository"
    )


# ---------------------------------------------------------------- zero and durations


@pytest.mark.parametrize(
    ("resources", "field"),
    [
        ({"cpu_request": "0", "cpu_limit": "0"}, "cpu_limit"),
        ({"memory_request": "0Mi", "memory_limit": "0Mi"}, "memory_limit"),
        ({"cpu_request": "0", "cpu_limit": "0.0001"}, "cpu_limit"),
    ],
    ids=["zero cpu limit", "zero memory limit", "cpu finer than 1m"],
)
def test_zero_resource_limits_are_refused(resources: dict[str, str], field: str) -> None:
    message = refusal(lambda p: p["components"]["mlflow"].update(resources=resources))
    assert message.startswith(f"platform.components.mlflow.resources.{field}: ")


def test_zero_team_quota_is_refused() -> None:
    message = refusal(lambda p: p["teams"][0]["quota"].update(memory="0Mi"))
    assert message.startswith("platform.teams.0.quota.memory: 0Mi is below the default")


def test_retention_0d_is_refused(tmp_path: Path) -> None:
    """Was accepted."""
    message = planned_refusal(
        tmp_path, lambda p: p["components"]["monitoring"].update(retention="0d")
    )
    assert message == "platform.components.monitoring.retention: '0d' is zero"


@pytest.mark.parametrize(
    ("retention", "why"),
    [("99999999999d", "beyond what Prometheus can hold"), ("15 days", "not a Prometheus duration")],
)
def test_prometheus_retention_outside_its_grammar_is_refused(retention: str, why: str) -> None:
    message = refusal(lambda p: p["components"]["monitoring"].update(retention=retention))
    assert message.startswith("platform.components.monitoring.retention: ") and why in message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p["cluster"].update(log_retention_days=45), "cluster.log_retention_days"),
        (
            lambda p: p["network"].update(flow_logs_retention_days=0),
            "network.flow_logs_retention_days",
        ),
    ],
)
def test_log_retention_cloudwatch_does_not_offer_is_refused(change: Change, field: str) -> None:
    message = refusal(change)
    assert message.startswith(f"platform.{field}: ") and "CloudWatch Logs accepts" in message


def test_the_cloudwatch_retentions_are_botocores() -> None:
    import re

    import botocore.session

    from infra.base.config import LOG_RETENTION_DAYS

    doc = botocore.session.get_session().get_service_model("logs").shape_for("Days").documentation
    listed = re.search(r"Possible values are: ([\d, and]+)\.", doc)
    assert listed is not None
    assert tuple(int(d) for d in re.findall(r"\d+", listed[1])) == LOG_RETENTION_DAYS


# ---------------------------------------------------------------- the API server's CIDRs


@pytest.mark.parametrize(
    "cidrs",
    [["0.0.0.0/1", "128.0.0.0/1"], ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1", "203.0.113.0/24"]],
)
def test_public_access_cidrs_that_together_cover_the_internet_are_refused(
    cidrs: list[str],
) -> None:
    message = refusal(
        lambda p: p["cluster"].update(endpoint_public_access=True, public_access_cidrs=cidrs)
    )
    assert message.startswith("platform.cluster.public_access_cidrs: ")
    assert message.startswith(
        "platform.cluster.public_access_cidrs: open the API server to the internet ("
    )
    assert "together reach 100% of the public IPv4 internet)" in message


def test_an_office_range_for_the_api_server_passes() -> None:
    raw = dev()
    raw["cluster"].update(endpoint_public_access=True, public_access_cidrs=["203.0.113.0/24"])
    parse_config(raw, stack="dev")


def test_more_public_access_cidrs_than_eks_takes_are_refused() -> None:
    cidrs = [f"203.0.{i}.0/24" for i in range(41)]
    message = refusal(
        lambda p: p["cluster"].update(endpoint_public_access=True, public_access_cidrs=cidrs)
    )
    assert message.startswith("platform.cluster.public_access_cidrs: List should have at most 40")


def test_a_dynamodb_table_listed_twice_is_refused() -> None:
    tables = ["platform.features", "platform.features"]
    message = refusal(
        lambda p: p.update(online_store={"kind": "dynamodb", "dynamodb": {"tables": tables}})
    )
    assert message == "platform.online_store.dynamodb.tables: lists a table twice"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda p: p["teams"][0].update(mlflow_users=["Ana Smith"]),
            "platform.teams.0.mlflow_users.0: 'Ana Smith': use 2-64 of a-z, 0-9, '.', '-'",
        ),
        (
            lambda p: p["teams"][0].update(mlflow_users=["admin"]),
            "platform.teams.0.mlflow_users.0: 'admin'",
        ),
        (
            # the team's pipeline user is made for it; a member cannot take its name
            lambda p: p["teams"][0].update(mlflow_users=["fraud-pipelines"]),
            "platform.teams.0.mlflow_users.0: 'fraud-pipelines'",
        ),
        (
            lambda p: p["teams"][0].update(mlflow_users=["ana", "ana"]),
            "platform.teams.0.mlflow_users: names a user twice",
        ),
        (
            lambda p: (
                p["teams"][0].update(mlflow_users=["ana"]),
                p["teams"][1].update(mlflow_users=["ana"]),
            ),
            "platform.teams.1.mlflow_users: 'ana' is already an account of team 'fraud'",
        ),
        (
            lambda p: p.update(purged_teams=["fraud"]),
            "platform.purged_teams.0: 'fraud' is still a team: remove it from teams first",
        ),
    ],
)
def test_mlflow_accounts_belong_to_one_team_and_a_purge_names_a_removed_one(
    change: Change, expected: str
) -> None:
    assert refusal(change).startswith(expected)
