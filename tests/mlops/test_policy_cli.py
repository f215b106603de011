"""`mlops policy check`: the pack offline on the blueprint's plans and on any program.

These run in the main environment; the rules themselves run in .venv-policy (through
mlops.policy_check), so they are skipped when that venv has not been created.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from plans import planned
from typer.testing import CliRunner

from mlops.cli import app
from mlops.errors import UsageError
from mlops.policy_check import (
    POLICY_VENV,
    evaluate,
    mandatory_violations,
    pack_config,
    policy_python,
)

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "tests" / "fixtures" / "violating_program"
needs_pack_venv = pytest.mark.skipif(
    not (ROOT / POLICY_VENV / "bin" / "python").is_file(),
    reason="run `make venv-policy` to create the policy pack's environment",
)
runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def prod_plan() -> dict[str, Any]:
    plan = dict(planned("prod").plan)  # the session's plan, shared: popped from a copy
    plan.pop("policies", None)
    return plan


@needs_pack_venv
@pytest.mark.parametrize("env", ["dev", "staging"])
def test_blueprint_plans_pass_every_mandatory_rule(env: str) -> None:
    result = evaluate(planned(env).plan, env, ROOT)
    assert result["evaluated"] > 1000
    assert mandatory_violations(result) == []


@needs_pack_venv
def test_blueprint_prod_plan_passes_every_mandatory_rule(prod_plan: dict[str, Any]) -> None:
    result = evaluate(prod_plan, "prod", ROOT)
    assert mandatory_violations(result) == []


def _urn(name: str, type_: str) -> str:
    return f"urn:pulumi:prod::mlops-platform::{type_}::{name}"


def _added(name: str, type_: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "urn": _urn(name, type_),
        "type": type_,
        "name": name,
        "parent": None,
        "custom": True,
        "inputs": inputs,
        "dependencies": [],
        "propertyDependencies": {},
        "protect": False,
    }


TAGS = {"owner": "o", "cost-center": "c", "environment": "prod", "data-classification": "internal"}
ADDITIONS = [
    (
        _added(
            "leaky", "aws:s3/bucket:Bucket", {"bucket": "leaky", "acl": "public-read", "tags": TAGS}
        ),
        "s3-bucket-public-access-block",
    ),
    (
        _added(
            "too-much",
            "aws:iam/policy:Policy",
            {
                "policy": json.dumps(
                    {
                        "Statement": [
                            {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"}
                        ]
                    }
                ),
                "tags": TAGS,
            },
        ),
        "iam-no-wildcard-resource-on-write",
    ),
    (
        _added(
            "unbounded",
            "kubernetes:apps/v1:Deployment",
            {
                "spec": {
                    "template": {
                        "spec": {
                            "securityContext": {"runAsNonRoot": True},
                            "containers": [
                                {
                                    "name": "app",
                                    "image": "app:1.0",
                                    "securityContext": {
                                        "allowPrivilegeEscalation": False,
                                        "readOnlyRootFilesystem": True,
                                        "capabilities": {"drop": ["ALL"]},
                                    },
                                    "livenessProbe": {"tcpSocket": {"port": 80}},
                                    "readinessProbe": {"tcpSocket": {"port": 80}},
                                }
                            ],
                        }
                    }
                }
            },
        ),
        "k8s-container-resources",
    ),
]


@needs_pack_venv
@pytest.mark.parametrize(("resource", "policy"), ADDITIONS)
def test_adding_a_violation_to_prod_fails_the_check(
    prod_plan: dict[str, Any],
    resource: dict[str, Any],
    policy: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = copy.deepcopy(prod_plan)
    plan["resources"].append(resource)
    monkeypatch.setattr(
        "mlops.engine.plan.plan_environments", lambda envs, root=None: {env: plan for env in envs}
    )
    result = invoke("policy", "check", "prod", "--json")
    assert result.exit_code == 1, result.output
    mandatory = [
        v for v in json.loads(result.stdout)["violations"] if v["enforcement"] == "mandatory"
    ]
    assert (policy, resource["urn"]) in {(v["policy"], v["urn"]) for v in mandatory}
    assert {v["urn"] for v in mandatory} == {resource["urn"]}  # prod is clean otherwise
    table = invoke("policy", "check", "prod")
    assert table.exit_code == 1
    assert policy in table.stdout and resource["name"] in table.stdout


@needs_pack_venv
def test_check_program_reports_the_violating_fixture() -> None:
    result = invoke("policy", "check", "--program", str(PROGRAM), "--json")
    assert result.exit_code == 1, result.output
    found = {
        (v["policy"], v["urn"].rsplit("::", 1)[-1]) for v in json.loads(result.stdout)["violations"]
    }
    assert {
        ("s3-no-public-acl", "public-data"),
        ("s3-bucket-public-access-block", "public-data"),
        ("iam-no-wildcard-actions", "team-admin"),
        ("iam-no-wildcard-resource-on-write", "team-admin"),
        ("k8s-container-resources", "scorer"),
    } <= found
    # the fixture is otherwise compliant: tagged, pinned, non-root, probed
    assert not {p for p, _ in found} & {
        "aws-required-tags",
        "k8s-image-pinned",
        "k8s-run-as-non-root",
        "k8s-probes",
    }


@needs_pack_venv
@pytest.mark.parametrize(
    ("program", "policy", "fragment"),
    [
        # workload access: HeadBucket carries no s3:prefix, the role lists only under one
        ("gate_access", "workload-aws-access", "HeadBucket: the client checks its bucket"),
        # images: the platform's own image under a tag the image workflow never pushes
        ("gate_image", "k8s-image-pinned", "not a tag the image workflow pushes"),
        # reachability: Kubernetes objects in a private cluster nothing reaches
        (
            "gate_reachability",
            "eks-deployer-reaches-api",
            "EKS cluster 'team': the API endpoint is private and nothing shows how the "
            "deployer reaches it (the stack has no runner in the VPC)",
        ),
        # CI identity: roles without a boundary beside a CI role ...
        (
            "gate_ci_identity",
            "iam-role-permissions-boundary",
            "Role 'team-worker' has no permissionsBoundary, and the stack has a deployer "
            "identity (team-github-actions)",
        ),
        # ... and a grant filed under /boundary/ is still read as a grant
        ("gate_ci_identity", "iam-no-wildcard-actions", "statement Roles allows action 'iam:*'"),
    ],
)
def test_check_program_refuses_each_class_the_pack_owns(
    program: str, policy: str, fragment: str
) -> None:
    path = ROOT / "tests" / "fixtures" / "programs" / program
    result = invoke("policy", "check", "--program", str(path), "--json")
    assert result.exit_code == 1, result.output
    found = [v for v in json.loads(result.stdout)["violations"] if v["policy"] == policy]
    assert any(fragment in v["message"] for v in found), found


def test_check_program_refuses_an_object_two_writers_create(tmp_path: Path) -> None:
    """Object identity runs with the plan: `--program` refuses before the pack runs."""
    (tmp_path / "Pulumi.yaml").write_text("name: toy\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi, pulumi_kubernetes as k8s\n"
        "o = pulumi.ResourceOptions(provider=k8s.Provider('k8s', kubeconfig='{}'))\n"
        "for n in ('a', 'b'):\n"
        "    k8s.core.v1.ConfigMap(n, metadata={'name': 'same', 'namespace': 'x'}, opts=o)\n"
    )
    result = invoke("policy", "check", "--program", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: object identity: ConfigMap x/same is created by kubernetes:core/v1:ConfigMap a "
        "and again by kubernetes:core/v1:ConfigMap b: the second create fails (AlreadyExists); "
        "keep one writer"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "error: give exactly one of ENV or --program PATH"),
        (("prod", "--program", "x"), "error: give exactly one of ENV or --program PATH"),
        (("prod", "--config", "x.yaml"), "error: --config and --policy-config go with --program"),
        (("--program", "/no/such/dir"), "error: /no/such/dir: not a directory"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    result = invoke("policy", "check", *args)
    assert result.exit_code == 2
    assert result.stderr.strip() == message


def test_missing_policy_venv_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"run `make venv-policy`"):
        policy_python(tmp_path)


def test_pack_config_per_environment_and_bad_files(tmp_path: Path) -> None:
    assert pack_config("prod", ROOT)["all"] == "mandatory"
    assert pack_config("no-such-env", ROOT) == {}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UsageError, match=r"bad\.json: not valid JSON"):
        pack_config(None, ROOT, bad)


# issue 14's network, data-store and Kubernetes misses, as one attacker program and its
# compliant control (tests/fixtures/programs/gate_cluster/shapes.py builds both)
GATE_CLUSTER_MISSES = {
    ("security-group-no-public-ingress", "db-sg"),  # 0.0.0.0/1 + 128.0.0.0/1
    ("security-group-no-public-egress", "nodes-sg"),  # egress to everything
    ("rds-not-publicly-accessible", "reports-1"),  # a public Aurora cluster instance
    ("elasticache-encrypted", "sessions"),  # a cache outside a replication group
    ("s3-bucket-encryption-kms", "secrets"),  # purpose=s3-access-logs on itself
    ("s3-bucket-access-logging", "secrets"),
    ("k8s-image-pinned", "web"),  # ':stable'
    ("k8s-image-pinned", "runtime"),  # an empty '@sha256:' in a ServingRuntime
    ("k8s-no-privileged", "legacy"),  # a ReplicationController
    ("k8s-no-privileged", "scorer"),  # an InferenceService predictor container
    ("k8s-no-host-network", "extras"),  # a DaemonSet inside a yaml/v2 ConfigGroup
    ("k8s-no-cluster-admin-binding", "runner-admin"),
    ("k8s-namespace-network-policy", "team-ns"),
    ("k8s-public-endpoint-authenticated", "mlflow-lb"),  # a public LB in front of MLflow
    ("mlflow-auth-required", "mlflow"),  # MLflow without auth
}


def _gate_cluster(program: str) -> set[tuple[str, str]]:
    path = ROOT / "tests" / "fixtures" / "programs" / program
    result = invoke("policy", "check", "--program", str(path), "--json")
    assert result.exit_code in (0, 1), result.output
    return {
        (v["policy"], v["urn"].rsplit("::", 1)[-1])
        for v in json.loads(result.stdout)["violations"]
        if v["enforcement"] == "mandatory"
    }


@needs_pack_venv
def test_check_program_refuses_the_network_data_store_and_kubernetes_misses() -> None:
    found = _gate_cluster("gate_cluster")
    assert found >= GATE_CLUSTER_MISSES, sorted(GATE_CLUSTER_MISSES - found)


@needs_pack_venv
def test_check_program_passes_the_same_shapes_done_right() -> None:
    # the same resources, compliant: none of them breaks the rule its twin broke
    found = _gate_cluster("gate_cluster_ok")
    assert not found & GATE_CLUSTER_MISSES, sorted(found & GATE_CLUSTER_MISSES)
