"""The pack as a whole: names, configs, the offline runner and the pack entry point."""

from __future__ import annotations

import json
import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
import yaml  # pulumi's own dependency
from harness import res
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from policies.offline import PACK_NAME, PayloadError, evaluate, resolve_config
from policies.rules import ALL_POLICIES, AREAS

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "policies"
TESTS = Path(__file__).resolve().parent


def test_pack_has_at_least_30_uniquely_named_kebab_case_rules() -> None:
    names = [p.name for p in ALL_POLICIES]
    assert len(names) >= 30
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", n) for n in names)


def test_one_module_per_area() -> None:
    assert set(AREAS) == {
        "storage",
        "identity",
        "access",
        "teams",
        "reachability",
        "webhooks",
        "crds",
        "keys",
        "logs",
        "coverage",
        "database",
        "network",
        "cluster",
        "capabilities",
        "workloads",
        "serving",
        "monitoring",
        "ml-governance",
        "tagging",
    }
    for area in AREAS:
        assert (PACK / "rules" / f"{area.replace('-', '_')}.py").is_file()


def test_every_rule_is_named_in_its_area_tests() -> None:
    for area, policies in AREAS.items():
        text = (TESTS / f"test_{area.replace('-', '_')}.py").read_text()
        for policy in policies:
            assert f'"{policy.name}"' in text, f"{policy.name} has no test in test_{area}"


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_shipped_pack_configs_are_valid(env: str) -> None:
    config = json.loads((PACK / "config" / f"{env}.json").read_text())
    resolved = resolve_config(config, ALL_POLICIES)
    assert set(resolved) == {p.name for p in ALL_POLICIES}


def test_prod_config_is_mandatory_everywhere_and_dev_relaxes() -> None:
    prod = resolve_config(json.loads((PACK / "config" / "prod.json").read_text()), ALL_POLICIES)
    dev = resolve_config(json.loads((PACK / "config" / "dev.json").read_text()), ALL_POLICIES)
    assert {level.value for level, _ in prod.values()} == {"mandatory"}
    assert dev["ml-model-approved"][0].value == "advisory"
    assert dev["kserve-min-replicas"] == (dev["kserve-min-replicas"][0], {"minimum": 1})
    assert prod["kserve-min-replicas"][1] == {"minimum": 2}


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"no-such-rule": "advisory"}, "config: unknown policy 'no-such-rule'"),
        ({"kms-key-rotation": "sometimes"}, "config.kms-key-rotation: enforcement level must be"),
        ({"rds-multi-az": {"colour": "red"}}, "config.rds-multi-az: unknown propert(ies) colour"),
    ],
)
def test_bad_pack_config_is_rejected(config: dict[str, Any], error: str) -> None:
    with pytest.raises(PayloadError, match=re.escape(error)):
        resolve_config(config, ALL_POLICIES)


def test_pulumi_policy_yaml_declares_the_python_runtime() -> None:
    doc = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    assert doc["runtime"]["name"] == "python"
    assert doc["runtime"]["options"]["virtualenv"] == "../.venv-policy"


def test_main_builds_the_pack_with_every_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    built: dict[str, Any] = {}

    def capture(self: Any, **kwargs: Any) -> None:
        built.update(kwargs)

    monkeypatch.setattr(pulumi_policy.PolicyPack, "__init__", capture)
    # as `pulumi preview --policy-pack policies` runs it: policies/ on sys.path
    monkeypatch.syspath_prepend(str(PACK))
    runpy.run_path(str(PACK / "__main__.py"), run_name="__main__")
    assert built["name"] == PACK_NAME
    assert [p.name for p in built["policies"]] == [p.name for p in ALL_POLICIES]
    assert built["enforcement_level"].value == "mandatory"


def _runner(payload: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PACK / "offline.py")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_offline_runner_prints_sorted_violations_and_counts_evaluations() -> None:
    bad = res("aws:kms/key:Key", "k", {"enableKeyRotation": False})
    also = res("aws:kms/key:Key", "a", {"enableKeyRotation": False})
    proc = _runner({"environment": "prod", "config": {}, "resources": [bad, also]})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["pack"] == PACK_NAME
    n_resource = sum(isinstance(p, ResourceValidationPolicy) for p in ALL_POLICIES)
    n_stack = sum(isinstance(p, StackValidationPolicy) for p in ALL_POLICIES)
    assert out["evaluated"] == 2 * n_resource + n_stack
    keys = [(v["urn"] or "", v["policy"], v["message"]) for v in out["violations"]]
    assert keys == sorted(keys)
    rotation = [v for v in out["violations"] if v["policy"] == "kms-key-rotation"]
    assert [v["urn"] for v in rotation] == [also["urn"], bad["urn"]]
    assert {v["enforcement"] for v in rotation} == {"mandatory"}


@pytest.mark.parametrize(
    "config",
    [
        {"all": "disabled"},
        {"kms-key-rotation": "disabled"},
        {"kms-key-rotation": {"enforcementLevel": "disabled"}},
    ],
)
def test_a_config_cannot_disable_a_rule(config: dict[str, Any]) -> None:
    """A disabled rule cannot fail; a config may lower a rule to advisory, where it still
    evaluates and reports."""
    proc = _runner({"config": config, "resources": []})
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith(
        "a rule cannot be disabled; lower it to advisory, where it still evaluates and reports"
    )
    bad = res("aws:kms/key:Key", "k", {"enableKeyRotation": False})
    out = evaluate({"config": {"all": "advisory"}, "resources": [bad]})
    assert ("kms-key-rotation", "advisory") in {
        (v["policy"], v["enforcement"]) for v in out["violations"]
    }


@pytest.mark.parametrize(
    ("config", "error"),
    [
        # each would make a mandatory rule unable to fail
        (
            {"kserve-min-replicas": {"minimum": 0}},
            "config.kserve-min-replicas.minimum: must be at least 1, got 0",
        ),
        (
            {"eks-control-plane-logging": {"required_log_types": []}},
            "config.eks-control-plane-logging.required_log_types: needs at least 1 item(s)",
        ),
        (
            {"iam-no-admin-policy-attachment": {"denied_policy_arns": []}},
            "config.iam-no-admin-policy-attachment.denied_policy_arns: needs at least 1 item(s)",
        ),
        (
            {"aws-required-tags": {"required_tags": []}},
            "config.aws-required-tags.required_tags: needs at least 1 item(s)",
        ),
        # and values of the wrong type
        (
            {"rds-backup-retention": {"minimum_days": "7"}},
            'config.rds-backup-retention.minimum_days: expected integer, got "7"',
        ),
        (
            {"eks-control-plane-logging": {"required_log_types": ["api", "everything"]}},
            "config.eks-control-plane-logging.required_log_types[1]: must be one of",
        ),
    ],
)
def test_config_properties_are_checked_against_the_rule_schema(
    config: dict[str, Any], error: str
) -> None:
    with pytest.raises(PayloadError, match=re.escape(error)):
        resolve_config(config, ALL_POLICIES)


def test_a_schema_keyword_the_runner_cannot_check_is_refused() -> None:
    policy = ResourceValidationPolicy(
        name="p",
        description="d",
        validate=lambda args, report: None,
        config_schema=pulumi_policy.PolicyConfigSchema(
            properties={"x": {"type": "string", "format": "uri"}}
        ),
    )
    with pytest.raises(PayloadError, match=r"config\.p\.x: the rule's schema uses format"):
        resolve_config({"p": {"x": "abc"}}, [policy])


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_shipped_configs_keep_every_rule_able_to_fail(env: str) -> None:
    """No shipped config disables a rule or sets a property outside its schema (which
    resolve_config checks): at worst a rule is advisory, and it still reports."""
    config = json.loads((PACK / "config" / f"{env}.json").read_text())
    levels = {level.value for level, _ in resolve_config(config, ALL_POLICIES).values()}
    assert levels <= {"advisory", "mandatory"}


def test_duplicate_urn_is_refused_by_the_runner() -> None:
    one = res("aws:kms/key:Key", "k", {"enableKeyRotation": True})
    proc = _runner({"resources": [one, {**one, "inputs": {"enableKeyRotation": False}}]})
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"error: resources[1].urn: duplicate resource URN '{one['urn']}'"
    )


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ("not a dict", "error: payload: expected a JSON object"),
        ({"resources": [{"urn": 1}]}, "error: resources[0].urn: expected a string"),
        ({"resources": [], "config": {"nope": "advisory"}}, "error: config: unknown policy 'nope'"),
    ],
)
def test_offline_runner_bad_input_is_one_line_exit_2(payload: Any, error: str) -> None:
    proc = _runner(payload)
    assert proc.returncode == 2
    assert proc.stderr.strip() == error


def test_a_crashing_rule_is_reported_not_passed() -> None:
    def boom(args: Any, report: Any) -> None:
        raise KeyError("spec")

    policy = ResourceValidationPolicy(name="boom", description="d", validate=boom)
    out = evaluate({"resources": [res("aws:kms/key:Key", "k", {})]}, [policy])
    assert [v["message"] for v in out["violations"]] == ["the rule failed: KeyError: 'spec'"]


# one type per code path of the rules (resource and stack policies alike)
TYPES = [
    "aws:s3/bucket:Bucket",
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:rds/instance:Instance",
    "aws:eks/cluster:Cluster",
    "aws:ec2/securityGroup:SecurityGroup",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:core/v1:Pod",
    "kubernetes:serving.kserve.io/v1beta1:InferenceService",
    "kubernetes:helm.sh/v3:Release",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:dynamodb/table:Table",
    "aws:ecr/repository:Repository",
    "aws:kms/key:Key",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:ec2/vpc:Vpc",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
]
SECRET_INPUTS = [
    "tags",
    "spec",
    "policy",
    "metadata",
    "vpcConfig",
    "bucket",
    "ingress",
    "assumeRolePolicy",
    "inlinePolicies",
    "metadataOptions",
    "encryptionConfig",
    "rules",
    "versioningConfiguration",
    "serverSideEncryption",
    "version",
]


def test_every_rule_fails_closed_on_secret_placeholders_everywhere() -> None:
    """A value the plan shows only as [secret] is something the rule could not see, not
    something absent: every rule that reads one reports it, at its own level."""
    resources = [
        res(t, f"r{i}", dict.fromkeys(SECRET_INPUTS, "[secret]")) for i, t in enumerate(TYPES)
    ]
    out = evaluate({"resources": resources})
    assert not [v for v in out["violations"] if v["message"].startswith("the rule failed")]
    unseen = [v for v in out["violations"] if v["message"].startswith("Could not see")]
    # every area's rules read one of them
    assert len({v["policy"] for v in unseen}) >= 30
    assert {v["enforcement"] for v in unseen} == {"mandatory"}
    config = json.loads((PACK / "config" / "dev.json").read_text())
    dev = evaluate({"config": config, "resources": resources})
    levels = {
        v["policy"]: v["enforcement"]
        for v in dev["violations"]
        if v["message"].startswith("Could not see")
    }
    assert levels["k8s-probes"] == "advisory"  # advisory in dev: still reported
    assert levels["k8s-no-privileged"] == "mandatory"


def test_readme_documents_every_rule() -> None:
    text = (PACK / "README.md").read_text()
    for policy in ALL_POLICIES:
        assert f"`{policy.name}`" in text, policy.name
