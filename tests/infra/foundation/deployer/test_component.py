"""DeployRunner built alone: a CodeBuild project in the private subnets, reachable to the
cluster's API and nothing else in, its role trusted by CodeBuild for this project only."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from alone import ACCOUNT, REGION, Built, build, private_network

from infra.foundation.deployer.component import BUILDSPEC, DeployRunner, DeployRunnerArgs
from infra.foundation.deployer.config import DeployerConfig
from policies.rules.iam_eval import Request, decide

NAME = "t-dev-deployer"
PROJECT = f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/{NAME}"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/boundary/t-dev-deployer-boundary"
DEPLOY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}
        ],
    }
)


def runner(config: DeployerConfig | None = None) -> Built:
    def make(opts: pulumi.ResourceOptions) -> None:
        vpc_id, subnet_ids, cluster_group = private_network(opts)
        DeployRunner(
            "deployer",
            DeployRunnerArgs(
                config=config or DeployerConfig(),
                name=NAME,
                stack="dev",
                account_id=ACCOUNT,
                region=REGION,
                vpc_id=vpc_id,
                subnet_ids=subnet_ids,
                cluster_name="t-dev",
                cluster_security_group_id=cluster_group,
                source_bucket=f"t-dev-artifacts-{ACCOUNT}",
                source_prefix="deploy/dev",
                deploy_policies={"t-dev-deploy-network": DEPLOY},
                permissions_boundary=BOUNDARY,
                secrets_name="t-dev/deployer/pulumi",
            ),
            opts=opts,
        )

    def held(b: Any) -> dict[str, Any]:
        (project,) = b.client("codebuild").batch_get_projects(names=[NAME])["projects"]
        ec2 = b.client("ec2")
        return {
            "project": project,
            "groups": {g["GroupName"]: g for g in ec2.describe_security_groups()["SecurityGroups"]},
            "log_group": b.client("logs").describe_log_groups(logGroupNamePrefix="/aws/codebuild/")[
                "logGroups"
            ],
        }

    return build(make, inspect=held)


@pytest.fixture(scope="module")
def built() -> Built:
    return runner()


def test_the_project_runs_in_the_private_subnets_unprivileged(built: Built) -> None:
    built.assert_parented("mlops:deployer:DeployRunner", "mlops:network:Network")
    project = built.aws["project"]  # what AWS (moto) holds (moto's own ids)
    subnets = built.inputs("aws:codebuild/project:Project")["vpcConfig"]["subnets"]
    assert len(project["vpcConfig"]["subnets"]) == len(subnets) == 2
    network = built.of_type("aws:ec2/subnet:Subnet")
    private = {built.plan["_states"][s["urn"]]["id"] for s in network if "private" in s["name"]}
    assert set(subnets) == private
    env = project["environment"]
    assert env["privilegedMode"] is False
    assert env["image"] == "aws/codebuild/amazonlinux-x86_64-standard:5.0"
    assert {v["name"]: v["value"] for v in env["environmentVariables"]} == {
        "STACK": "dev",
        "PULUMI_SECRETS_ID": "t-dev/deployer/pulumi",
    }
    assert project["source"] == {
        "type": "S3",
        "location": f"t-dev-artifacts-{ACCOUNT}/deploy/dev/source.zip",
        "buildspec": BUILDSPEC,
    }
    inputs = built.inputs("aws:codebuild/project:Project")
    assert inputs["concurrentBuildLimit"] == 1
    assert inputs["logsConfig"]["s3Logs"]["status"] == "DISABLED"


def test_its_group_sends_https_only_and_the_cluster_admits_it(built: Built) -> None:
    group = built.state("aws:ec2/securityGroup:SecurityGroup", "deployer")["id"]
    cluster = built.state("aws:ec2/securityGroup:SecurityGroup", "clients")["id"]
    held = built.aws["groups"]
    assert held[NAME]["IpPermissions"] == []  # nothing comes in
    egress = built.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert sorted(
        (e["inputs"].get("referencedSecurityGroupId") or e["inputs"]["cidrIpv4"]) for e in egress
    ) == sorted([cluster, "0.0.0.0/0"])
    assert {(e["inputs"]["fromPort"], e["inputs"]["toPort"]) for e in egress} == {(443, 443)}
    (ingress,) = built.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert ingress["inputs"]["securityGroupId"] == cluster
    assert ingress["inputs"]["referencedSecurityGroupId"] == group
    assert (ingress["inputs"]["fromPort"], ingress["inputs"]["toPort"]) == (443, 443)
    clients = next(n for n in held if n.startswith("clients"))
    (pair,) = held[clients]["IpPermissions"]
    assert pair["FromPort"] == 443 and pair["UserIdGroupPairs"][0]["GroupId"]


def test_only_codebuild_for_this_project_may_assume_its_role(built: Built) -> None:
    role = built.inputs("aws:iam/role:Role")
    assert role["permissionsBoundary"] == BOUNDARY
    trust = role["assumeRolePolicy"]

    def assumes(service: str, project: str, account: str = ACCOUNT) -> bool:
        request = Request(
            action="sts:AssumeRole",
            resource=f"arn:aws:iam::{ACCOUNT}:role/{NAME}",
            context={"aws:SourceArn": project, "aws:SourceAccount": account},
            principal={"Service": service},
        )
        return decide(request, (), trust).allowed

    assert assumes("codebuild.amazonaws.com", PROJECT)
    assert not assumes("codebuild.amazonaws.com", PROJECT.replace(NAME, "t-prod-deployer"))
    assert not assumes("codebuild.amazonaws.com", PROJECT, account="210987654321")
    assert not assumes("ec2.amazonaws.com", PROJECT)


def test_it_holds_the_deploy_policy_and_cluster_admin_access(built: Built) -> None:
    (attachment,) = built.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment["inputs"]["policyArn"].endswith(":policy/t-dev-deploy-network")
    entry = built.inputs("aws:eks/accessEntry:AccessEntry")
    association = built.inputs("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    role_arn = built.state("aws:iam/role:Role")["arn"]
    assert entry["principalArn"] == association["principalArn"] == role_arn
    assert entry["clusterName"] == association["clusterName"] == "t-dev"
    assert association["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")
    runtime = json.loads(built.inputs("aws:iam/rolePolicy:RolePolicy")["policy"])
    enis = next(s for s in runtime["Statement"] if s["Sid"] == "VpcNetworkInterfaces")
    subnets = built.inputs("aws:codebuild/project:Project")["vpcConfig"]["subnets"]
    assert enis["Condition"]["ArnEquals"]["ec2:Subnet"] == sorted(
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{s}" for s in subnets
    )


def test_its_log_group_is_encrypted_with_a_retention(built: Built) -> None:
    (group,) = built.aws["log_group"]
    assert group["logGroupName"] == f"/aws/codebuild/{NAME}"
    assert group["retentionInDays"] == 90
    assert group["kmsKeyId"].startswith(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/")
    key = built.state("aws:kms/key:Key")["arn"]
    assert built.inputs("aws:cloudwatch/logGroup:LogGroup")["kmsKeyId"] == key
    logs = built.inputs("aws:codebuild/project:Project")["logsConfig"]["cloudwatchLogs"]
    assert logs == {"groupName": f"/aws/codebuild/{NAME}", "status": "ENABLED"}


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"timeout_minutes": 3}, "timeout_minutes"),
        ({"log_retention_days": 45}, "not a CloudWatch Logs retention"),
        ({"image": "aws/codebuild/standard:latest"}, "image"),
        ({"runner": "jenkins"}, "runner"),
    ],
)
def test_the_deployer_section_refuses_what_codebuild_would(
    config: dict[str, Any], error: str
) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=error):
        DeployerConfig(**config)


def test_the_runner_defaults_to_codebuild_only_for_a_created_cluster() -> None:
    assert DeployerConfig().resolved_runner("create") == "codebuild"
    assert DeployerConfig().resolved_runner("existing") == "none"
    assert DeployerConfig(runner="none").resolved_runner("create") == "none"
