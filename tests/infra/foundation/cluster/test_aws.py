"""Cluster: private EKS, logging, envelope encryption, OIDC, node groups, add-ons, one
Kubernetes provider — or a brought-in cluster that creates no EKS and no VPC."""

from __future__ import annotations

import json

from plans import Planned

EKS = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
K8S_PROVIDER = "pulumi:providers:kubernetes"


def cluster_of(env: Planned) -> dict:
    (cluster,) = env.aws["clusters"].values()
    return cluster


def test_api_endpoint_is_private(env: Planned) -> None:
    vpc = cluster_of(env)["resourcesVpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is False
    assert env.one(EKS, "cluster")["inputs"]["vpcConfig"]["endpointPublicAccess"] is False


def test_control_plane_logs_to_a_precreated_encrypted_group(env: Planned) -> None:
    (logging,) = cluster_of(env)["logging"]["clusterLogging"]
    assert logging["enabled"] and set(logging["types"]) == set(env.config.cluster.log_types)
    name = f"/aws/eks/mlops-{env.env}/cluster"
    (group,) = [g for g in env.aws["log_groups"] if g["logGroupName"] == name]
    assert group["retentionInDays"] == env.config.cluster.log_retention_days
    log_group = env.one("aws:cloudwatch/logGroup:LogGroup", "cluster-logs")
    assert log_group["urn"] in env.one(EKS, "cluster")["dependencies"]


def test_secrets_are_envelope_encrypted_with_the_rotating_cluster_key(env: Planned) -> None:
    key = env.one("aws:kms/key:Key", "cluster-key")
    assert key["inputs"]["enableKeyRotation"] is True
    (config,) = cluster_of(env)["encryptionConfig"]
    assert config["resources"] == ["secrets"]
    assert (
        env.one(EKS, "cluster")["inputs"]["encryptionConfig"]["provider"]["keyArn"]
        == (env.state(key)["arn"])
    )


def test_access_entries_api_mode_and_only_the_deployer_is_cluster_admin(env: Planned) -> None:
    """The role that runs `pulumi up` (the runner in the VPC) administers the cluster; the
    GitHub Actions role, which only starts the runner, has no access entry."""
    access = env.one(EKS, "cluster")["inputs"]["accessConfig"]
    assert access["authenticationMode"] == "API"
    (entry,) = env.of_type("aws:eks/accessEntry:AccessEntry")
    (assoc,) = env.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    runner_arn = f"arn:aws:iam::123456789012:role/mlops-{env.env}-deployer"
    assert entry["inputs"]["principalArn"] == assoc["inputs"]["principalArn"] == runner_arn
    assert assoc["inputs"]["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")


def test_oidc_provider_is_the_clusters_issuer_for_sts(env: Planned) -> None:
    issuer = env.state(env.one(EKS, "cluster"))["identities"][0]["oidcs"][0]["issuer"]
    assert issuer.startswith(f"https://oidc.eks.{env.config.region}.amazonaws.com/id/")
    eks_oidc = [p for p in env.aws["oidc_providers"] if "oidc.eks." in p["Url"]]
    (provider,) = eks_oidc
    assert provider["Url"] == issuer.removeprefix("https://")
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert env.plan["outputs"]["oidc_provider_arn"] == provider["Arn"]


def test_node_groups_sized_from_config_in_private_subnets(env: Planned) -> None:
    groups = env.config.cluster.node_groups
    expected = {
        name: g
        for name, g in (
            ("system", groups.system),
            ("workloads", groups.workloads),
            ("gpu", groups.gpu),
        )
        if g.enabled
    }
    held = {g: ng for (_, g), ng in env.aws["node_groups"].items()}
    assert set(held) == set(expected)
    private = {
        s["inputs"]["cidrBlock"]
        for s in env.of_type("aws:ec2/subnet:Subnet")
        if "-private-" in s["name"]
    }
    cidr_of = {s["SubnetId"]: s["CidrBlock"] for s in env.aws["subnets"]}
    for name, cfg in expected.items():
        ng = held[name]
        assert ng["scalingConfig"] == {
            "minSize": cfg.min_size,
            "desiredSize": cfg.desired_size,
            "maxSize": cfg.max_size,
        }
        assert ng["capacityType"] == cfg.capacity_type
        assert ng["instanceTypes"] == cfg.instance_types
        assert {cidr_of[s] for s in ng["subnets"]} == private


def test_system_on_demand_workloads_spot_outside_prod(env: Planned) -> None:
    held = {g: ng for (_, g), ng in env.aws["node_groups"].items()}
    assert held["system"]["capacityType"] == "ON_DEMAND"
    expected = "ON_DEMAND" if env.env == "prod" else "SPOT"
    assert held["workloads"]["capacityType"] == expected


def test_gpu_group_only_in_prod_tainted_on_the_nvidia_ami(env: Planned) -> None:
    held = {g: ng for (_, g), ng in env.aws["node_groups"].items()}
    if env.env != "prod":
        assert "gpu" not in held
        return
    gpu = held["gpu"]
    assert gpu["amiType"] == "AL2023_x86_64_NVIDIA"
    assert gpu["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]


def test_nodes_require_imdsv2_with_one_hop_and_encrypted_roots(env: Planned) -> None:
    templates = env.aws["launch_templates"]
    assert set(templates) == {f"mlops-{env.env}-{g}" for (_, g) in env.aws["node_groups"]}
    for data in templates.values():
        assert data["MetadataOptions"]["HttpTokens"] == "required"
        assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1  # pods cannot use IMDS
        (root,) = data["BlockDeviceMappings"]
        assert root["Ebs"]["Encrypted"] is True and root["Ebs"]["VolumeType"] == "gp3"


def test_node_role_has_no_cni_policy_and_pulls_only(env: Planned) -> None:
    role = env.aws["roles"][f"mlops-{env.env}-node"]
    assert sorted(a.rsplit("/", 1)[-1] for a in role["attached"]) == [
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKSWorkerNodePolicy",
    ]


def test_core_addons_with_irsa_for_cni_and_ebs_csi_after_nodes(env: Planned) -> None:
    addons = {a["inputs"]["addonName"]: a for a in env.of_type(ADDON)}
    assert set(addons) == {
        "vpc-cni",
        "coredns",
        "kube-proxy",
        "aws-ebs-csi-driver",
        "metrics-server",
    }
    roles = {r["urn"]: r for r in env.of_type("aws:iam/role:Role")}
    arn_of = {env.state(r)["arn"]: r for r in roles.values()}
    ebs_role = arn_of[addons["aws-ebs-csi-driver"]["inputs"]["serviceAccountRoleArn"]]
    cni_role = arn_of[addons["vpc-cni"]["inputs"]["serviceAccountRoleArn"]]
    for role, sa in (
        (ebs_role, "kube-system:ebs-csi-controller-sa"),
        (cni_role, "kube-system:aws-node"),
    ):
        (st,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
        subs = [v for k, v in st["Condition"]["StringEquals"].items() if k.endswith(":sub")]
        assert subs == [f"system:serviceaccount:{sa}"]
    assert env.aws["roles"][ebs_role["inputs"]["name"]]["attached"] == [
        "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    ]
    node_groups = {ng["urn"] for ng in env.of_type(NODE_GROUP)}
    for name in ("coredns", "aws-ebs-csi-driver", "metrics-server"):
        assert node_groups <= set(addons[name]["dependencies"])
    # the CNI comes first: nodes never become Ready without it
    for ng in env.of_type(NODE_GROUP):
        assert addons["vpc-cni"]["urn"] in ng["dependencies"]


def test_kubernetes_providers_from_a_secret_kubeconfig(env: Planned) -> None:
    # one for the cluster's controllers, one (exported) for everything else, which waits
    # for the load balancer controller whose webhooks refuse Services until it answers
    providers = {p["name"]: p for p in env.of_type(K8S_PROVIDER)}
    assert set(providers) == {"cluster-k8s", "cluster-k8s-controllers"}
    endpoint = env.state(env.one(EKS, "cluster"))["endpoint"]
    for provider in providers.values():
        assert provider["inputs"]["kubeconfig"] == "[secret]"
        assert endpoint not in json.dumps(provider["inputs"])  # nothing of it in the clear
    assert env.plan["outputs"]["kubeconfig"] == "[secret]"
    assert env.plan["outputs"]["kubernetes_provider_urn"] == providers["cluster-k8s"]["urn"]


def test_bring_your_own_creates_no_cluster_and_no_network(byo: Planned) -> None:
    created = {r["type"] for r in byo.resources}
    assert not {t for t in created if t.startswith(("aws:eks/", "aws:ec2/", "aws:cloudwatch/"))} - {
        "aws:ec2/securityGroup:SecurityGroup"  # the databases' own groups, in the given VPC
    }
    # moto's default VPC, and the looked-up one the given subnets live in: nothing created
    assert {v["CidrBlock"] for v in byo.aws["vpcs"]} == {"172.31.0.0/16", "10.200.0.0/16"}
    assert byo.aws["clusters"] == {} and byo.aws["node_groups"] == {}
    (provider,) = byo.of_type(K8S_PROVIDER)
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert "byo-kubeconfig-token-do-not-leak" not in byo.text
    for group in byo.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert group["inputs"]["vpcId"] == byo.config.cluster.vpc_id
    for rule in byo.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        assert (
            rule["inputs"]["referencedSecurityGroupId"] == byo.config.cluster.node_security_group_id
        )
