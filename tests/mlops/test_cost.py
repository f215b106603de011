"""`mlops cost`: the price table, each pricer's arithmetic, the contract shape and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops.cost import PRICE_FILE, estimate, load_prices
from mlops.errors import MlopsError, PlanError

ROOT = Path(__file__).resolve().parents[2]
HOURS = 730


def res(typ: str, name: str, **inputs: Any) -> dict[str, Any]:
    return {
        "urn": f"urn:pulumi:dev::p::{typ}::{name}",
        "type": typ,
        "name": name,
        "parent": None,
        "custom": True,
        "inputs": inputs,
        "dependencies": [],
        "propertyDependencies": {},
        "protect": False,
    }


def one(resource: dict[str, Any]) -> dict[str, Any]:
    cost = estimate({"environment": "dev", "resources": [resource], "outputs": {}})
    assert len(cost["items"]) == 1
    return dict(cost["items"][0])


NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def test_price_table_is_dated_and_says_it_must_be_refreshed() -> None:
    text = PRICE_FILE.read_text()
    doc = yaml.safe_load(text)
    assert doc["region"] == "us-east-1"
    assert len(str(doc["as_of"])) == 10  # an ISO date
    assert "list prices as of" in text and "refresh" in text
    assert 0 < doc["assumptions"]["spot_discount"] < 1


def test_on_demand_node_group_is_nodes_times_hours_times_rate_plus_disks() -> None:
    item = one(
        res(
            NODE_GROUP,
            "system",
            instanceTypes=["m6i.large"],
            capacityType="ON_DEMAND",
            scalingConfig={"desiredSize": 3, "minSize": 3, "maxSize": 4},
            diskSize=50,
        )
    )
    assert item["monthly_usd"] == pytest.approx(3 * (0.096 * HOURS + 50 * 0.08))  # 222.24
    assert item["basis"].startswith("3 x m6i.large on-demand x 730 h x $0.096/h")
    assert "3 x 50 GB gp3 x $0.08/GB-month" in item["basis"]
    assert "scales 3..4 nodes: $222.24..$296.32/month" in item["basis"]


def test_spot_node_group_takes_the_stated_discount_off_the_first_type() -> None:
    item = one(
        res(
            NODE_GROUP,
            "workloads",
            instanceTypes=["m6i.xlarge", "m5.xlarge"],
            capacityType="SPOT",
            scalingConfig={"desiredSize": 2, "minSize": 1, "maxSize": 6},
        )
    )
    # no diskSize: the EKS default of 20 GB
    assert item["monthly_usd"] == round(2 * (0.192 * 0.4 * HOURS + 20 * 0.08), 2)
    assert "spot x 730 h x $0.0768/h" in item["basis"]
    assert "60% spot discount" in item["basis"]
    assert "the first is priced" in item["basis"]


def test_node_group_root_volume_comes_from_its_launch_template() -> None:
    template = res(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "lt",
        blockDeviceMappings=[
            {"deviceName": "/dev/xvda", "ebs": {"volumeSize": 100, "volumeType": "gp2"}}
        ],
    )
    group = res(
        NODE_GROUP,
        "system",
        instanceTypes=["t3.large"],
        scalingConfig={"desiredSize": 2},
        launchTemplate={"id": "lt-123", "version": "1"},
    )
    group["propertyDependencies"] = {"launchTemplate": [template["urn"]]}
    cost = estimate({"resources": [template, group]})
    (item,) = cost["items"]
    assert item["monthly_usd"] == round(2 * (0.0832 * HOURS + 100 * 0.10), 2)
    assert "2 x 100 GB gp2 x $0.10/GB-month" in item["basis"]


def test_empty_node_group_costs_nothing_but_shows_its_ceiling() -> None:
    item = one(
        res(
            NODE_GROUP,
            "gpu",
            instanceTypes=["g5.xlarge"],
            scalingConfig={"desiredSize": 0, "minSize": 0, "maxSize": 2},
        )
    )
    assert item["monthly_usd"] == 0
    assert "scales 0..2 nodes: $0.00..$1,471.96/month" in item["basis"]


def test_unknown_instance_type_is_refused_not_priced_at_zero() -> None:
    with pytest.raises(PlanError) as err:
        one(res(NODE_GROUP, "odd", instanceTypes=["z9.mega"]))
    assert str(err.value).startswith("aws:eks/nodeGroup:NodeGroup 'odd': cannot price it: ")
    assert "no us-east-1 list price for EC2 z9.mega in infra/base/prices-us-east-1.yaml" in str(
        err.value
    )


def test_an_unknown_second_instance_type_is_refused_too() -> None:
    """EKS may launch any listed type, so each must be known, not only the priced first."""
    with pytest.raises(PlanError, match=r"EC2 z9\.mega"):
        one(res(NODE_GROUP, "mixed", instanceTypes=["m6i.large", "z9.mega"]))


@pytest.mark.parametrize(
    ("typ", "inputs", "what"),
    [
        (
            "aws:rds/instance:Instance",
            {"engine": "postgres", "instanceClass": "db.z9.mega"},
            "RDS postgres db.z9.mega",
        ),
        (
            "aws:rds/instance:Instance",
            {"engine": "sqlserver-ex", "instanceClass": "db.t3.micro"},
            "RDS sqlserver-ex db.t3.micro",
        ),
        (
            "aws:rds/instance:Instance",
            {"engine": "postgres", "instanceClass": "db.t4g.micro", "storageType": "floppy"},
            "RDS storage type floppy",
        ),
        (
            "aws:elasticache/replicationGroup:ReplicationGroup",
            {"nodeType": "cache.z9.mega"},
            "ElastiCache cache.z9.mega",
        ),
        (
            "aws:lb/loadBalancer:LoadBalancer",
            {"loadBalancerType": "quantum"},
            "load balancer type quantum",
        ),
    ],
)
def test_what_the_table_cannot_price_is_refused(typ: str, inputs: dict, what: str) -> None:
    with pytest.raises(PlanError, match=f"cannot price it: no us-east-1 list price for {what} "):
        one(res(typ, "x", **inputs))


def test_a_node_group_whose_type_the_plan_does_not_show_is_refused() -> None:
    group = res(NODE_GROUP, "lt", launchTemplate={"id": "lt-elsewhere", "version": "1"})
    with pytest.raises(PlanError, match="cannot see its instance type"):
        one(group)


@pytest.mark.parametrize("size", [10**30, 1e30, 10**400, -1, 2.5, float("inf")])
def test_a_count_aws_would_refuse_is_refused_not_priced(size: float) -> None:
    """1e30 nodes priced $3.2e31/month, 10**400 crashed on float conversion: neither is
    a node count AWS accepts (its APIs take 32-bit integers)."""
    group = res(
        NODE_GROUP, "huge", instanceTypes=["m6i.large"], scalingConfig={"desiredSize": size}
    )
    with pytest.raises(PlanError, match="is not a count AWS accepts"):
        one(group)


@pytest.mark.parametrize(
    ("version", "on", "expected", "support"),
    [
        ("1.35", "2026-11-30", 0.10 * HOURS, "standard support"),
        ("1.34", "2026-12-01", 0.10 * HOURS, "standard support"),
        ("1.34", "2026-12-02", 0.60 * HOURS, "extended support"),
        ("1.33", "2026-11-30", 0.60 * HOURS, "extended support"),
        ("1.28", "2026-11-30", 0.60 * HOURS, "extended support (not in the version table)"),
    ],
)
def test_eks_control_plane_is_priced_by_its_support_on_the_plan_date(
    version: str, on: str, expected: float, support: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_PLAN_DATE", on)
    item = one(res("aws:eks/cluster:Cluster", "c", version=version))
    assert item["monthly_usd"] == pytest.approx(expected)
    assert support in item["basis"]


def test_rds_multi_az_doubles_instance_and_storage() -> None:
    single = one(
        res(
            "aws:rds/instance:Instance",
            "db",
            engine="postgres",
            instanceClass="db.t4g.medium",
            allocatedStorage=20,
            storageType="gp3",
        )
    )
    multi = one(
        res(
            "aws:rds/instance:Instance",
            "db",
            engine="postgres",
            instanceClass="db.t4g.medium",
            allocatedStorage=20,
            storageType="gp3",
            multiAz=True,
        )
    )
    assert single["monthly_usd"] == pytest.approx(0.065 * HOURS + 20 * 0.115)  # 49.75
    assert multi["monthly_usd"] == pytest.approx(2 * single["monthly_usd"])
    assert "Multi-AZ" in multi["basis"] and "db.t4g.medium" in multi["basis"]


def test_elasticache_counts_nodes_of_replication_groups() -> None:
    plain = one(
        res(
            "aws:elasticache/replicationGroup:ReplicationGroup",
            "redis",
            nodeType="cache.t4g.small",
            numCacheClusters=2,
        )
    )
    sharded = one(
        res(
            "aws:elasticache/replicationGroup:ReplicationGroup",
            "redis",
            nodeType="cache.r6g.large",
            numNodeGroups=2,
            replicasPerNodeGroup=1,
            engine="valkey",
        )
    )
    assert plain["monthly_usd"] == pytest.approx(2 * 0.032 * HOURS)
    assert sharded["monthly_usd"] == pytest.approx(round(4 * 0.206 * 0.8 * HOURS, 2))
    assert "Valkey" in sharded["basis"]


def test_network_pieces() -> None:
    nat = one(res("aws:ec2/natGateway:NatGateway", "nat-a", subnetId="subnet-1"))
    assert nat["monthly_usd"] == pytest.approx(0.045 * HOURS)  # 32.85
    interface = one(
        res(
            "aws:ec2/vpcEndpoint:VpcEndpoint",
            "ecr-api",
            vpcEndpointType="Interface",
            serviceName="com.amazonaws.us-east-1.ecr.api",
            subnetIds=["a", "b", "c"],
        )
    )
    assert interface["monthly_usd"] == pytest.approx(3 * 0.01 * HOURS)  # 21.90
    gateway = one(res("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", vpcEndpointType="Gateway"))
    assert gateway["monthly_usd"] == 0 and "no charge" in gateway["basis"]
    alb = one(res("aws:lb/loadBalancer:LoadBalancer", "alb"))
    nlb = one(res("aws:lb/loadBalancer:LoadBalancer", "nlb", loadBalancerType="network"))
    assert alb["monthly_usd"] == nlb["monthly_usd"] == round(0.0225 * HOURS, 2)
    assert "Application" in alb["basis"] and "Network" in nlb["basis"]


def test_kubernetes_services_and_ingresses_that_create_load_balancers() -> None:
    svc = "kubernetes:core/v1:Service"
    nlb = res(
        svc,
        "serving",
        metadata={"annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}},
        spec={"type": "LoadBalancer"},
    )
    elb = res(svc, "legacy", spec={"type": "LoadBalancer"})
    internal = res(svc, "internal", spec={"type": "ClusterIP"})
    ing = "kubernetes:networking.k8s.io/v1:Ingress"
    group = {"annotations": {"alb.ingress.kubernetes.io/group.name": "platform"}}
    a = res(ing, "a", metadata=group, spec={"ingressClassName": "alb"})
    b = res(ing, "b", metadata=group, spec={"ingressClassName": "alb"})
    plan = {"resources": [nlb, elb, internal, a, b]}
    items = {i["urn"].rsplit("::", 1)[1]: i for i in estimate(plan)["items"]}
    assert set(items) == {"serving", "legacy", "a", "b"}  # ClusterIP costs nothing
    assert items["serving"]["monthly_usd"] == round(0.0225 * HOURS, 2)
    assert items["legacy"]["monthly_usd"] == round(0.025 * HOURS, 2)
    assert items["a"]["monthly_usd"] == round(0.0225 * HOURS, 2)
    assert items["b"]["monthly_usd"] == 0 and "platform" in items["b"]["basis"]


def test_claims_bill_the_ebs_volumes_their_storage_class_provisions() -> None:
    # issue 18: the default StorageClass makes Prometheus's claim a real gp3 volume
    sc = "kubernetes:storage.k8s.io/v1:StorageClass"
    gp3 = res(
        sc,
        "gp3",
        metadata={
            "name": "gp3",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        provisioner="ebs.csi.aws.com",
        parameters={"type": "gp3"},
    )
    legacy = res(sc, "legacy", metadata={"name": "legacy"}, provisioner="kubernetes.io/aws-ebs")
    efs = res(sc, "efs", metadata={"name": "efs"}, provisioner="efs.csi.aws.com")
    kps = res(
        "kubernetes:helm.sh/v3:Release",
        "monitoring",
        values={
            "prometheus": {
                "prometheusSpec": {
                    "replicas": 2,
                    "storageSpec": {
                        "volumeClaimTemplate": {
                            "spec": {"resources": {"requests": {"storage": "50Gi"}}}
                        }
                    },
                }
            }
        },
    )
    pvc = res(
        "kubernetes:core/v1:PersistentVolumeClaim",
        "data",
        spec={"storageClassName": "legacy", "resources": {"requests": {"storage": "10Gi"}}},
    )
    shared = res(
        "kubernetes:core/v1:PersistentVolumeClaim",
        "shared",
        spec={"storageClassName": "efs", "resources": {"requests": {"storage": "10Gi"}}},
    )
    sts = res(
        "kubernetes:apps/v1:StatefulSet",
        "db",
        spec={
            "replicas": 3,
            "volumeClaimTemplates": [{"spec": {"resources": {"requests": {"storage": "20G"}}}}],
        },
    )
    plan = {"resources": [gp3, legacy, efs, kps, pvc, shared, sts]}
    items = {i["urn"].rsplit("::", 1)[1]: i for i in estimate(plan)["items"]}
    assert set(items) == {"monitoring", "data", "db"}  # EFS bills by use, not provisioned
    assert items["monitoring"]["monthly_usd"] == round(2 * 50 * 0.08, 2)
    assert "2 x 50 GiB gp3 (StorageClass gp3)" in items["monitoring"]["basis"]
    assert items["data"]["monthly_usd"] == round(10 * 0.10, 2)  # in-tree: gp2
    assert items["db"]["monthly_usd"] == round(3 * 20e9 / 2**30 * 0.08, 2)
    # no default class: the claim provisions nothing (cluster-capabilities refuses it)
    assert "monitoring" not in {
        i["urn"].rsplit("::", 1)[1] for i in estimate({"resources": [kps]})["items"]
    }
    odd = res(
        sc, "io", metadata={"name": "io"}, provisioner="ebs.csi.aws.com", parameters={"type": "io9"}
    )
    claim = res(
        "kubernetes:core/v1:PersistentVolumeClaim",
        "x",
        spec={"storageClassName": "io", "resources": {"requests": {"storage": "1Gi"}}},
    )
    with pytest.raises(PlanError, match="EBS volume type 'io9' is not in"):
        estimate({"resources": [odd, claim]})


def test_an_ingress_class_with_a_group_puts_its_ingresses_on_one_alb() -> None:
    params = res(
        "kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParams",
        "params",
        metadata={"name": "shared"},
        spec={"group": {"name": "platform"}},
    )
    klass = res(
        "kubernetes:networking.k8s.io/v1:IngressClass",
        "class",
        metadata={"name": "platform-alb"},
        spec={"controller": "ingress.k8s.aws/alb", "parameters": {"name": "shared"}},
    )
    ing = "kubernetes:networking.k8s.io/v1:Ingress"
    a = res(ing, "mlflow", spec={"ingressClassName": "platform-alb"})
    b = res(ing, "kfp", spec={"ingressClassName": "platform-alb"})
    nginx = res(ing, "other", spec={"ingressClassName": "nginx"})
    cost = estimate({"resources": [params, klass, a, b, nginx]})
    amounts = {i["urn"].rsplit("::", 1)[1]: i["monthly_usd"] for i in cost["items"]}
    assert amounts == {"kfp": round(0.0225 * HOURS, 2), "mlflow": 0.0}


def test_small_items_and_usage_only_resources() -> None:
    plan = {
        "resources": [
            res("aws:kms/key:Key", "k"),
            res("aws:secretsmanager/secret:Secret", "s"),
            res("aws:dynamodb/table:Table", "online", billingMode="PAY_PER_REQUEST"),
            res("aws:cloudwatch/logGroup:LogGroup", "logs"),
            res("aws:iam/role:Role", "role"),  # free: not listed at all
        ]
    }
    cost = estimate(plan)
    by_name = {i["urn"].rsplit("::", 1)[1]: i for i in cost["items"]}
    assert set(by_name) == {"k", "s", "online", "logs"}
    assert by_name["k"]["monthly_usd"] == 1.0
    assert by_name["s"]["monthly_usd"] == 0.4
    assert by_name["online"]["monthly_usd"] == 0 and "per request" in by_name["online"]["basis"]
    assert "not estimated" in by_name["logs"]["basis"]
    assert cost["monthly_usd"] == 1.4


def test_contract_shape_order_and_rounding() -> None:
    plan = {
        "resources": [
            res(NODE_GROUP, "b", instanceTypes=["t3.medium"], scalingConfig={"desiredSize": 1}),
            res("aws:ec2/natGateway:NatGateway", "a"),
            res("aws:kms/key:Key", "c"),
        ]
    }
    cost = estimate(plan)
    assert set(cost) == {"monthly_usd", "items"}
    assert [i["urn"] for i in cost["items"]] == sorted(i["urn"] for i in cost["items"])
    for item in cost["items"]:
        assert set(item) == {"urn", "monthly_usd", "basis"}
        assert item["monthly_usd"] == round(item["monthly_usd"], 2)
    assert cost["monthly_usd"] == round(sum(i["monthly_usd"] for i in cost["items"]), 2)
    # t3.medium 0.0416 x 730 = 30.368 + 20 GB x 0.08 = 1.60 -> 31.97 (rounded to cents)
    assert cost["items"][1]["monthly_usd"] == 31.97
    assert estimate(plan) == cost


def test_other_regions_are_flagged() -> None:
    provider = res("pulumi:providers:aws", "aws", region="eu-west-1")
    cost = estimate({"resources": [provider, res("aws:kms/key:Key", "k")]})
    assert "the stack is in eu-west-1" in cost["items"][0]["basis"]


def test_broken_price_table_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "prices.yaml"
    bad.write_text("region: us-east-1\nas_of: '2025-06-01'\n")
    with pytest.raises(MlopsError, match="price table lacks"):
        load_prices(bad)


def test_cli_json_prices_a_real_plan() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mlops.cli", "cost", "dev", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    report = json.loads(out)
    assert report["environment"] == "dev"
    assert report["prices"]["as_of"] == load_prices().as_of
    assert report["items"], "the dev plan has priced resources"
    assert report["monthly_usd"] == round(sum(i["monthly_usd"] for i in report["items"]), 2)


def test_cli_bad_environment_is_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mlops.cli", "cost", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "nope" in done.stderr
