"""The deploy runner in the plans: how CI's `pulumi up` reaches each private cluster API
(defect 1), what it costs, and the workflow and buildspec that drive it."""

from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path

import pytest
import yaml
from plans import ROOT, Planned, stack_values

from mlops.engine.plan import plan_environment
from mlops.errors import UsageError

PROJECT = "aws:codebuild/project:Project"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EKS = "aws:eks/cluster:Cluster"
DEPLOYER = ROOT / "infra" / "foundation" / "deployer"
WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"


def test_every_environment_deploys_from_inside_its_vpc(env: Planned) -> None:
    project = env.one(PROJECT, "deployer")["inputs"]
    cluster = env.one(EKS, "cluster")
    assert cluster["inputs"]["vpcConfig"]["endpointPublicAccess"] is False
    assert project["name"] == f"mlops-{env.env}-deployer"
    assert project["vpcConfig"]["subnets"] == cluster["inputs"]["vpcConfig"]["subnetIds"]
    assert project["vpcConfig"]["vpcId"] == env.plan["outputs"]["vpc_id"]
    runner_group = env.state(env.one("aws:ec2/securityGroup:SecurityGroup", "deployer"))["id"]
    assert project["vpcConfig"]["securityGroupIds"] == [runner_group]
    cluster_group = env.state(cluster)["vpcConfig"]["clusterSecurityGroupId"]
    rule = env.one(INGRESS, "deployer-api")
    assert rule["inputs"]["securityGroupId"] == cluster_group
    assert rule["inputs"]["referencedSecurityGroupId"] == runner_group
    assert cluster["urn"] in rule["propertyDependencies"]["securityGroupId"]
    (held,) = [g for g in env.aws["security_groups"] if g["GroupName"] == project["name"]]
    assert held["IpPermissions"] == []
    assert {p["FromPort"] for p in held["IpPermissionsEgress"]} == {443}


def test_the_runners_role_administers_the_cluster(env: Planned) -> None:
    role_arn = env.plan["outputs"]["deployer"]["role_arn"]
    entries = env.of_type("aws:eks/accessEntry:AccessEntry")
    assert role_arn in {e["inputs"]["principalArn"] for e in entries}
    (association,) = [
        a
        for a in env.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if a["inputs"]["principalArn"] == role_arn
    ]
    assert association["inputs"]["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")


def test_ci_uploads_into_the_artifact_bucket_the_runner_reads(env: Planned) -> None:
    outputs = env.plan["outputs"]
    assert outputs["deployer"]["source"] == f"s3://{outputs['artifact_bucket']}/deploy/{env.env}/"
    location = env.one(PROJECT, "deployer")["inputs"]["source"]["location"]
    assert location.startswith(f"{outputs['artifact_bucket']}/deploy/{env.env}/")


def test_the_runner_is_priced_as_usage(env: Planned) -> None:
    (item,) = [i for i in env.plan["cost"]["items"] if "codebuild/project" in i["urn"]]
    assert item["monthly_usd"] == 0.0
    assert "per build-minute" in item["basis"] and "not estimated" in item["basis"]
    (key,) = [i for i in env.plan["cost"]["items"] if i["urn"].endswith("::deployer-key")]
    assert key["monthly_usd"] == 1.0


def test_the_pack_sees_how_the_deployer_reaches_the_api(env: Planned) -> None:
    assert not [
        v for v in env.plan["policies"]["violations"] if v["policy"] == "eks-deployer-reaches-api"
    ]


def plan_with(env: str, **deployer: object) -> dict:
    values = copy.deepcopy(stack_values(env))
    values["config"]["mlops-platform:platform"]["deployer"] = deployer
    with tempfile.TemporaryDirectory(prefix="deployer-") as tmp:
        path = Path(tmp) / f"Pulumi.{env}.yaml"
        path.write_text(yaml.safe_dump(values))
        return plan_environment(env, ROOT, config_file=path)


def test_without_the_runner_nothing_reaches_the_private_api() -> None:
    plan = plan_with("dev", runner="none")
    assert not [r for r in plan["resources"] if r["type"] == PROJECT]
    (found,) = [
        v for v in plan["policies"]["violations"] if v["policy"] == "eks-deployer-reaches-api"
    ]
    assert found["enforcement"] == "mandatory"
    assert (
        "the API endpoint is private and nothing shows how the deployer reaches it"
        in (found["message"])
    )


def test_a_runner_for_a_brought_in_cluster_is_refused_with_the_field() -> None:
    values = yaml.safe_load((ROOT / "tests" / "fixtures" / "Pulumi.byo.yaml").read_text())
    values["config"]["mlops-platform:platform"]["deployer"] = {"runner": "codebuild"}
    with tempfile.TemporaryDirectory(prefix="deployer-") as tmp:
        path = Path(tmp) / "Pulumi.byo.yaml"
        path.write_text(yaml.safe_dump(values))
        with pytest.raises(UsageError, match=r"platform\.deployer\.runner: 'codebuild' needs"):
            plan_environment("byo", ROOT, config_file=path)


# ------------------------------------------------------------------ what drives it


def pinned_cli(text: str) -> str:
    found = re.findall(r'PULUMI_VERSION: "(\d+\.\d+\.\d+)"', text)
    assert len(found) == 1
    return found[0]


def test_the_buildspec_runs_the_offline_checks_then_pulumi_up_with_a_pinned_cli() -> None:
    text = (DEPLOYER / "buildspec.yml").read_text()
    spec = yaml.safe_load(text)
    setup = (ROOT / ".github" / "actions" / "setup" / "action.yml").read_text()
    assert pinned_cli(text) == pinned_cli(setup)
    install = "\n".join(spec["phases"]["install"]["commands"])
    assert "sha256sum --check --strict" in install
    assert '*-"${STACK}"-deployer) ;;' in install  # a build deploys its project's stack only
    pre = spec["phases"]["pre_build"]["commands"]
    assert pre[0] == "make venv venv-policy"
    assert '.venv/bin/mlops policy check "$STACK"' in pre
    assert any(c.startswith('.venv/bin/mlops plan "$STACK"') for c in pre)
    build = " ".join("\n".join(spec["phases"]["build"]["commands"]).split())
    assert 'pulumi up --stack "$STACK" --yes --non-interactive' in build
    assert '--policy-pack policies --policy-pack-config "policies/config/${STACK}.json"' in build


def test_deploy_workflow_starts_the_runner_and_fails_with_it() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    script = (DEPLOYER / "start-deploy.sh").read_text()
    for env, job in doc["jobs"].items():
        assert job["environment"] == env and job["env"]["STACK"] == env
        assert job["runs-on"] == "ubuntu-latest"  # GitHub-hosted: no path to the API needed
        (oidc,) = [s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")]
        assert oidc["with"]["role-to-assume"] == f"${{{{ vars.AWS_ROLE_ARN_{env.upper()} }}}}"
        runs = [s["run"] for s in job["steps"] if "run" in s]
        assert runs == ["infra/foundation/deployer/start-deploy.sh"]
        assert not any("pulumi" in str(s.get("with", "")) for s in job["steps"])
    # the names the script uses are the ones the stack creates
    assert 'project="${NAME_PREFIX}-${STACK}-deployer"' in script
    assert 'bucket="${NAME_PREFIX}-${STACK}-artifacts-${account}"' in script
    assert 'key="deploy/${STACK}/' in script
    assert "git archive --format=zip" in script
    assert "aws codebuild start-build" in script and "--source-location-override" in script
    assert 'if [ "$status" != SUCCEEDED ]; then' in script
    assert (DEPLOYER / "start-deploy.sh").stat().st_mode & 0o111
