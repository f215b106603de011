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
# make test-all: a corrected twin (its refused program stays in make test)
@pytest.mark.long
def test_check_program_passes_the_same_shapes_done_right() -> None:
    # the same resources, compliant: none of them breaks the rule its twin broke
    found = _gate_cluster("gate_cluster_ok")
    assert not found & GATE_CLUSTER_MISSES, sorted(found & GATE_CLUSTER_MISSES)


# A fork turns components off; the plan it gets must still pass the pack (with KServe off,
# monitoring once kept a PodMonitor for model servers nothing declared the port of)
def _dev_without(tmp_path: Path, *components: str) -> Path:
    import yaml

    doc = yaml.safe_load((ROOT / "environments" / "Pulumi.dev.yaml").read_text())
    section = doc["config"]["mlops-platform:platform"].setdefault("components", {})
    for name in components:
        section[name] = {**(section.get(name) or {}), "enabled": False}
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _mandatory_without(tmp_path: Path, *components: str) -> list[str]:
    config = _dev_without(tmp_path, *components)
    pack = ROOT / "policies" / "config" / "dev.json"
    result = invoke(
        "policy",
        "check",
        "--program",
        str(ROOT),
        "--config",
        str(config),
        "--policy-config",
        str(pack),
        "--json",
    )
    assert result.exit_code in (0, 1), result.output
    return [
        f"{v['policy']}: {v['message']}"
        for v in json.loads(result.stdout)["violations"]
        if v["enforcement"] == "mandatory"
    ]


@needs_pack_venv
def test_the_blueprint_without_kserve_passes_the_pack(tmp_path: Path) -> None:
    assert _mandatory_without(tmp_path, "kserve") == []


@needs_pack_venv
@pytest.mark.long
@pytest.mark.parametrize(
    "components",
    [
        ("monitoring",),
        ("kfp",),
        ("feast",),
        ("kfp", "mlflow"),
        ("kserve", "kfp", "cert_manager"),
        ("monitoring", "kserve"),
    ],
    ids="-".join,
)
def test_the_blueprint_with_components_off_passes_the_pack(
    tmp_path: Path, components: tuple[str, ...]
) -> None:
    assert _mandatory_without(tmp_path, *components) == []


# ------------------------------------------------------------------ the gate fails closed
# Each program below is a compliant-looking start plus one way past the gate: a public
# bucket, then a trick. `--program` plans it in a process of its own (mlops.engine.isolated).

PUBLIC_BUCKET = """
import json, os, sys, time
import pulumi
import pulumi_aws as aws

on_aws = pulumi.ResourceOptions(provider=aws.Provider("aws", region="us-east-1"))
bucket = aws.s3.Bucket("public-data", bucket="team-public-data", acl="public-read",
                       opts=on_aws)
"""


def program(tmp_path: Path, tail: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: team\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(PUBLIC_BUCKET + tail + "\n")
    return tmp_path


def refused(tmp_path: Path, tail: str) -> tuple[int, str, Any]:
    """(exit code, last stderr line, the --json document) of checking the program."""
    result = invoke("policy", "check", "--program", str(program(tmp_path, tail)), "--json")
    lines = result.stderr.strip().splitlines()
    return result.exit_code, lines[-1] if lines else "", json.loads(result.stdout)


@needs_pack_venv
def test_program_calling_sys_exit_0_is_refused(tmp_path: Path) -> None:
    code, line, doc = refused(tmp_path, "sys.exit(0)")
    assert code == 1
    assert line == (
        "error: the program called sys.exit(0) while it was planned: a Pulumi program must not exit"
    )
    assert doc == {"error": line.removeprefix("error: "), "exit": 1}


@needs_pack_venv
def test_program_calling_sys_exit_3_is_refused(tmp_path: Path) -> None:
    code, line, _ = refused(tmp_path, "raise SystemExit(3)")
    assert (code, line) == (
        1,
        "error: the program called sys.exit(3) while it was planned: "
        "a Pulumi program must not exit",
    )


@needs_pack_venv
def test_program_exiting_inside_an_apply_is_refused(tmp_path: Path) -> None:
    code, line, _ = refused(tmp_path, "bucket.id.apply(lambda _: sys.exit(0))")
    assert code == 1 and "called sys.exit(0)" in line


@needs_pack_venv
def test_program_calling_os_exit_is_refused(tmp_path: Path) -> None:
    code, line, _ = refused(tmp_path, "os._exit(0)")
    assert code == 1
    assert line == (
        "error: the program ended its planning process (exit code 0) before its "
        "plan was recorded: a Pulumi program must not exit (sys.exit, os._exit) "
        "or end the process"
    )


@needs_pack_venv
def test_program_raising_is_refused(tmp_path: Path) -> None:
    code, line, _ = refused(tmp_path, "raise KeyboardInterrupt")
    assert (code, line) == (1, "error: the planning process failed: KeyboardInterrupt")


@needs_pack_venv
def test_print_in_program_keeps_json_parseable(tmp_path: Path) -> None:
    tail = "print('{not json'); os.write(1, b'raw bytes on fd 1\\n'); print('x', file=sys.stderr)"
    result = invoke("policy", "check", "--program", str(program(tmp_path, tail)), "--json")
    assert result.exit_code == 1
    found = {v["policy"] for v in json.loads(result.stdout)["violations"]}
    assert "s3-no-public-acl" in found  # and still judged


@needs_pack_venv
def test_duplicate_urn_is_refused(tmp_path: Path) -> None:
    code, line, _ = refused(tmp_path, 'aws.s3.Bucket("public-data", bucket="other", opts=on_aws)')
    assert code == 1
    assert line == (
        "error: Duplicate resource URN 'urn:pulumi:dev::team::pulumi:pulumi:Stack"
        "$aws:s3/bucket:Bucket::public-data'; try giving it a unique name"
    )


@needs_pack_venv
def test_program_that_never_finishes_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mlops.engine.isolated.TIMEOUT_SECONDS", 3)
    code, line, _ = refused(tmp_path, "time.sleep(600)")
    assert (code, line) == (1, "error: the program did not finish planning within 3 s")


@needs_pack_venv
def test_program_patching_the_evaluator_cannot_change_the_verdict(tmp_path: Path) -> None:
    """What used to share the evaluator's interpreter now lives in the program's own
    process: patching the evaluator there changes nothing here."""
    tail = (
        "import mlops.policy_check as gate\n"
        "gate.run_pack = lambda *a, **k: {'pack': 'x', 'evaluated': 0, 'violations': []}\n"
        "gate.mandatory_violations = lambda result: []\n"
    )
    code, _, doc = refused(tmp_path, tail)
    assert code == 1
    assert "s3-no-public-acl" in {v["policy"] for v in doc["violations"]}


@needs_pack_venv
def test_secret_wrapped_pod_spec_in_a_program_is_checked(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: team\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi, pulumi_kubernetes as k8s\n"
        "o = pulumi.ResourceOptions(provider=k8s.Provider('k8s', kubeconfig='{}'))\n"
        "spec = {'selector': {'matchLabels': {'app': 'x'}}, 'template': {\n"
        "    'metadata': {'labels': {'app': 'x'}}, 'spec': {'containers': [{\n"
        "        'name': 'quiet-name', 'image': 'registry.example/app:1.2.3',\n"
        "        'securityContext': {'privileged': True}}]}}}\n"
        "k8s.apps.v1.Deployment('d', metadata={'name': 'd', 'namespace': 'team'},\n"
        "                       spec=pulumi.Output.secret(spec), opts=o)\n"
    )
    result = invoke("policy", "check", "--program", str(tmp_path), "--json")
    assert result.exit_code == 1
    found = json.loads(result.stdout)["violations"]
    assert ("k8s-no-privileged", "Container '[secret]' is privileged.") in {
        (v["policy"], v["message"]) for v in found
    }
    assert "quiet-name" not in result.stdout + result.stderr


# A transform the engine runs after registration (issue: attack on the gate). Pulumi's
# mock monitor never calls one, so the plan would record the database as written, private,
# while `pulumi up` would create it public.
PRIVATE_DB = (
    'aws.rds.Instance("db", engine="postgres", instance_class="db.t3.micro", '
    'allocated_storage=20, username="app", password="p" * 16, storage_encrypted=True, '
    "publicly_accessible=False, opts=pulumi.ResourceOptions(provider=on_aws.provider{opts}))"
)
OPEN_UP = (
    "def open_up(args):\n"
    "    if args.type_ == 'aws:rds/instance:Instance':\n"
    "        return pulumi.ResourceTransformResult("
    "{{**args.props, 'publiclyAccessible': True}}, args.opts)\n"
)


@needs_pack_venv
@pytest.mark.parametrize(
    ("tail", "where"),
    [
        (
            OPEN_UP.format()
            + "pulumi.runtime.register_resource_transform(open_up)\n"
            + PRIVATE_DB.format(opts=""),
            "pulumi.runtime.register_resource_transform",
        ),
        (
            OPEN_UP.format() + PRIVATE_DB.format(opts=", transforms=[open_up]"),
            "ResourceOptions.transforms of aws:rds/instance:Instance 'db'",
        ),
    ],
    ids=["stack-transform", "resource-transforms"],
)
def test_program_with_an_engine_run_transform_is_refused(
    tmp_path: Path, tail: str, where: str
) -> None:
    code, line, _ = refused(tmp_path, tail)
    assert (code, line) == (
        1,
        f"error: the program registers a transform ({where}): the Pulumi engine runs it on "
        "what the program registers, the offline plan cannot, so the plan would not be what "
        "`pulumi up` creates; set the values in the program, or use "
        "register_stack_transformation / transformations=, which run in the program",
    )


@needs_pack_venv
def test_program_transformation_run_in_the_program_is_judged_as_applied(
    tmp_path: Path,
) -> None:
    """`transformations=` runs in the program before registration: the plan shows its result."""
    tail = (
        "def open_up(args):\n"
        "    return pulumi.ResourceTransformationResult("
        "{**args.props, 'publicly_accessible': True}, args.opts)\n"
        + PRIVATE_DB.format(opts=", transformations=[open_up]")
    )
    code, _, doc = refused(tmp_path, tail)
    assert code == 1
    assert ("rds-not-publicly-accessible", "db") in {
        (v["policy"], v["urn"].rsplit("::", 1)[-1]) for v in doc["violations"]
    }


@needs_pack_venv
@pytest.mark.parametrize("merge", ["source_policy_documents", "override_policy_documents"])
def test_a_policy_document_merged_from_another_is_judged_whole(tmp_path: Path, merge: str) -> None:
    """get_policy_document merges whole documents into its statements, as the provider
    does: the plan once showed only the narrow statement and the role passed."""
    code, _, doc = refused(
        tmp_path,
        'role = aws.iam.Role("app", assume_role_policy=json.dumps({"Version": "2012-10-17", '
        '"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, '
        '"Action": "sts:AssumeRole"}]}), opts=on_aws)\n'
        "everything = json.dumps({'Version': '2012-10-17', 'Statement': "
        "[{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]})\n"
        f"merged = aws.iam.get_policy_document_output({merge}=[everything], statements=["
        "{'actions': ['s3:GetObject'], 'resources': ['arn:aws:s3:::team-public-data/*']}])\n"
        'aws.iam.RolePolicy("app-access", role=role.name, policy=merged.json, opts=on_aws)',
    )
    assert code == 1
    assert (
        "iam-no-wildcard-actions",
        "app-access",
        "policy: statement (no Sid) allows action '*'.",
    ) in {(v["policy"], v["urn"].rsplit("::", 1)[-1], v["message"]) for v in doc["violations"]}


@needs_pack_venv
def test_policy_document_conditions_on_one_key_are_judged_together(tmp_path: Path) -> None:
    """Two conditions on aws:SourceIp add up in the provider's document: the plan once kept
    the last (a private range) and the bucket open to 0.0.0.0/0 passed."""
    code, _, doc = refused(
        tmp_path,
        "anyone = aws.iam.get_policy_document_output(statements=[{'actions': ['s3:GetObject'], "
        "'resources': ['arn:aws:s3:::team-public-data/*'], "
        "'principals': [{'type': '*', 'identifiers': ['*']}], 'conditions': ["
        "{'test': 'IpAddress', 'variable': 'aws:SourceIp', 'values': ['0.0.0.0/0']}, "
        "{'test': 'IpAddress', 'variable': 'aws:SourceIp', 'values': ['10.0.0.0/8']}]}])\n"
        'aws.s3.BucketPolicy("public-read", bucket=bucket.id, policy=anyone.json, opts=on_aws)',
    )
    assert code == 1
    assert ("s3-bucket-policy-not-public", "public-read") in {
        (v["policy"], v["urn"].rsplit("::", 1)[-1]) for v in doc["violations"]
    }


@needs_pack_venv
def test_a_remote_component_whose_plugin_creates_its_resources_is_refused(
    tmp_path: Path,
) -> None:
    """awsx's load balancer opens port 80 to the internet; under mocks its plugin never runs,
    so the plan showed the component and nothing it creates (and passed)."""
    code, line, _ = refused(
        tmp_path,
        "class Alb(pulumi.ComponentResource):\n"
        "    def __init__(self, name, props, opts=None):\n"
        "        super().__init__('awsx:lb:ApplicationLoadBalancer', name, props, opts, "
        "remote=True)\n"
        "Alb('web', {'subnetIds': ['subnet-1']})",
    )
    assert (code, line) == (
        1,
        "error: the program registers the remote component awsx:lb:ApplicationLoadBalancer "
        "'web': its provider plugin creates its resources during `pulumi up`, the offline plan "
        "cannot run it, so nothing it creates would be checked; declare the resources "
        "themselves (pulumi_aws, pulumi_kubernetes)",
    )


@needs_pack_venv
def test_unknown_resource_type_in_a_program_is_reported(tmp_path: Path) -> None:
    code, _, doc = refused(
        tmp_path,
        'aws.sqs.Queue("jobs", policy=json.dumps({"Statement": [{"Effect": "Allow", '
        '"Principal": "*", "Action": "sqs:*", "Resource": "*"}]}), opts=on_aws)',
    )
    assert code == 1
    assert {(v["policy"], v["urn"].rsplit("::", 1)[-1]) for v in doc["violations"]} >= {
        ("resource-type-known", "jobs")
    }


def test_malformed_plan_from_the_program_process_is_refused() -> None:
    from mlops.engine.isolated import recorded_resources
    from mlops.errors import PlanError

    good = {
        "urn": "urn:pulumi:dev::team::pulumi:pulumi:Stack$aws:kms/key:Key::k",
        "type": "aws:kms/key:Key",
        "name": "k",
        "parent": None,
        "custom": True,
        "inputs": {},
        "dependencies": [],
        "propertyDependencies": {},
        "protect": False,
        "provider": None,
    }

    def check(doc: Any) -> list[dict[str, Any]]:
        data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        return recorded_resources(data, 0, stack="dev", project="team")

    assert check({"version": 1, "plan": {"resources": [good]}}) == [good]
    for bad in (
        b"",
        b"{not json",
        b'{"version": 1, "plan": {"resources": [{"x": NaN}]}}',
        {"version": 2, "plan": {"resources": []}},
        {"version": 1, "plan": {"resources": [good], "extra": 1}},
        {"version": 1, "plan": {"resources": [{**good, "inputs": "[secret]"}]}},
        {"version": 1, "plan": {"resources": [{**good, "name": "other"}]}},
        {"version": 1, "plan": {"resources": [{**good, "urn": good["urn"].replace("dev", "x")}]}},
        {"version": 1, "plan": {"resources": [{**good, "dependencies": [7]}]}},
        {"version": 1, "plan": {"resources": [good, good]}},
        {"version": 1, "error": {"exit": 0, "message": "fine"}},
    ):
        with pytest.raises(PlanError):
            check(bad)
    with pytest.raises(PlanError, match="plan was recorded"):
        recorded_resources(
            json.dumps({"version": 1, "plan": {"resources": []}}).encode(),
            3,
            stack="dev",
            project="team",
        )
    with pytest.raises(UsageError, match=r"^bad config$"):
        check({"version": 1, "error": {"exit": 2, "message": "bad config\nmore"}})


@needs_pack_venv
def test_payload_out_is_what_the_base_branch_pack_evaluates(tmp_path: Path) -> None:
    """CI evaluates the pull request's plan with the base branch's pack from this file."""
    import subprocess

    out = tmp_path / "payload.json"
    result = invoke(
        "policy", "check", "--program", str(PROGRAM), "--json", "--payload-out", str(out)
    )
    assert result.exit_code == 1
    payload = json.loads(out.read_text())
    assert set(payload) == {"environment", "config", "resources"}
    runner = subprocess.run(
        [str(policy_python(ROOT)), str(ROOT / "policies" / "offline.py")],
        input=out.read_text(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(runner.stdout) == json.loads(result.stdout)


# issue 18's corrected twins stand on the platform's foundation (network, cluster and its
# add-ons, the in-VPC deployer: tests/fixtures/programs/foundation.py), configured as the
# blueprint's prod stack, so each is a whole program the entire pack passes, not only the
# rule its refused twin breaks
PROD = ROOT / "environments" / "Pulumi.prod.yaml"


def _whole_pack(program: str) -> tuple[int, list[str]]:
    """(exit code, every violation, mandatory or advisory) of checking a twin."""
    path = ROOT / "tests" / "fixtures" / "programs" / program
    result = invoke("policy", "check", "--program", str(path), "--config", str(PROD), "--json")
    violations = json.loads(result.stdout)["violations"] if result.stdout.strip() else []
    return result.exit_code, [f"{v['policy']}: {v['message']}" for v in violations]


# issue 18 defect 5: admission refuses the storage-initializer KServe injects into a model
# pod in a `restricted` namespace; the twin sets the pod's seccomp profile
ADMISSION_REFUSAL = (
    "Namespace 'team-risk' enforces restricted: InferenceService 'scorer' predictor on "
    "ClusterServingRuntime 'team-server', Container 'storage-initializer' (injected by KServe "
    "v0.20.0, ClusterStorageContainer 'default') violates Seccomp: seccompProfile.type is not "
    "set to RuntimeDefault or Localhost (container or pod securityContext)."
)


def _admission(program: str) -> list[str]:
    path = ROOT / "tests" / "fixtures" / "programs" / program
    result = invoke("policy", "check", "--program", str(path), "--json")
    assert result.exit_code in (0, 1), result.output
    return [
        v["message"]
        for v in json.loads(result.stdout)["violations"]
        if v["policy"] == "k8s-pod-security-admission" and v["enforcement"] == "mandatory"
    ]


@needs_pack_venv
def test_check_program_refuses_a_model_pod_admission_would_reject() -> None:
    assert _admission("gate_admission") == [ADMISSION_REFUSAL]


@needs_pack_venv
# make test-all: a corrected twin (its refused program stays in make test)
@pytest.mark.long
def test_check_program_admits_the_same_model_pod_with_a_seccomp_profile() -> None:
    assert _whole_pack("gate_admission_ok") == (0, [])


# issue 18's scrape targets: monitors whose targets never answer, and their corrected twin
# (tests/fixtures/programs/gate_scrape/shapes.py builds both)
GATE_SCRAPE_MISSES = [
    ("model-servers", "endpoint port '8082' is declared by none of the pods it selects"),
    ("mlflow", "MLflow's host check answers 403 to the Host header Prometheus sends"),
    ("mlflow", "Prometheus would hold the account that manages every user and permission"),
]


def _gate_scrape(program: str) -> list[dict[str, Any]]:
    path = ROOT / "tests" / "fixtures" / "programs" / program
    result = invoke("policy", "check", "--program", str(path), "--json")
    assert result.exit_code in (0, 1), result.output
    return [v for v in json.loads(result.stdout)["violations"] if v["enforcement"] == "mandatory"]


@needs_pack_venv
def test_check_program_refuses_monitors_whose_targets_never_answer() -> None:
    found = [
        (v["urn"].rsplit("::", 1)[-1], v["message"])
        for v in _gate_scrape("gate_scrape")
        if v["policy"] == "k8s-scrape-target-answers"
    ]
    for name, fragment in GATE_SCRAPE_MISSES:
        assert any(n == name and fragment in m for n, m in found), (name, fragment, found)


@needs_pack_venv
# make test-all: a corrected twin (its refused program stays in make test)
@pytest.mark.long
def test_check_program_passes_the_same_monitors_on_targets_that_answer() -> None:
    assert _whole_pack("gate_scrape_ok") == (0, [])


# issue 18's cluster capabilities: one consumer of each class with nothing that provides it,
# and its corrected twin (tests/fixtures/programs/gate_capabilities/shapes.py builds both)
GATE_CAPABILITIES = {
    ("web-hpa", "needs the Metrics API"),
    ("data", "names no StorageClass and the plan has no default one"),
    ("web-ingress", "needs the AWS Load Balancer Controller"),
    ("gpu-quota", "needs an NVIDIA device plugin"),
    ("default-deny", "needs NetworkPolicy enforcement in the CNI"),
    ("workers", "needs a node autoscaler"),
}


def _capability_misses(program: str) -> set[tuple[str, str]]:
    path = ROOT / "tests" / "fixtures" / "programs" / program
    result = invoke("policy", "check", "--program", str(path), "--json")
    assert result.exit_code in (0, 1), result.output
    found = [
        v
        for v in json.loads(result.stdout)["violations"]
        if v["policy"] == "cluster-capabilities" and v["enforcement"] == "mandatory"
    ]
    return {
        (name, fragment)
        for name, fragment in GATE_CAPABILITIES
        for v in found
        if v["urn"].rsplit("::", 1)[-1] == name and fragment in v["message"]
    }


@needs_pack_venv
def test_check_program_refuses_objects_whose_capability_nothing_provides() -> None:
    assert _capability_misses("gate_capabilities") == GATE_CAPABILITIES


@needs_pack_venv
# make test-all: a corrected twin (its refused program stays in make test)
@pytest.mark.long
def test_check_program_passes_them_on_a_cluster_that_provides_each_capability() -> None:
    # the foundation's cluster: EKS add-ons, a StorageClass and Helm releases (inventoried)
    assert _whole_pack("gate_capabilities_ok") == (0, [])


# issue 18's webhook ordering: a Service and an Ingress racing the load balancer
# controller's fail-closed webhooks, and their twin on a provider that waits for it
# (tests/fixtures/programs/gate_webhooks/shapes.py builds both)
def _webhook_refusals(program: str) -> list[str]:
    path = ROOT / "tests" / "fixtures" / "programs" / program
    result = invoke("policy", "check", "--program", str(path), "--json")
    assert result.exit_code in (0, 1), result.output
    return sorted(
        v["message"].split(" is admitted")[0]
        for v in json.loads(result.stdout)["violations"]
        if v["policy"] == "k8s-admitted-after-webhook"
    )


@needs_pack_venv
def test_check_program_refuses_objects_racing_a_fail_closed_webhook() -> None:
    assert _webhook_refusals("gate_webhooks") == ["Ingress 'web'", "Service 'web'"]


@needs_pack_venv
# make test-all: a corrected twin (its refused program stays in make test)
@pytest.mark.long
def test_check_program_passes_them_written_after_the_webhook_answers() -> None:
    assert _whole_pack("gate_webhooks_ok") == (0, [])


# issue 18's served kinds: custom resources whose kind no CRD serves, in a version their
# CRD does not serve, or racing what installs their CRD; and their twin, each after its CRD
# (tests/fixtures/programs/gate_crds/shapes.py builds both)
def _served_kind_refusals(program: str) -> list[str]:
    path = ROOT / "tests" / "fixtures" / "programs" / program
    result = invoke("policy", "check", "--program", str(path), "--json")
    assert result.exit_code in (0, 1), result.output
    return sorted(
        v["message"].split(" (")[0]
        for v in json.loads(result.stdout)["violations"]
        if v["policy"] == "k8s-kind-served"
    )


@needs_pack_venv
def test_check_program_refuses_custom_resources_no_crd_serves_first() -> None:
    assert _served_kind_refusals("gate_crds") == [
        "Certificate 'web'",  # a version its CRD no longer serves
        "ClusterIssuer 'apps-internal'",  # races the chart that installs its CRD
        "PodMonitor 'web'",  # races its CustomResourceDefinition
        "ServiceMonitor 'web'",  # no CRD at all
    ]


@needs_pack_venv
# make test-all: a corrected twin (its refused program stays in make test)
@pytest.mark.long
def test_check_program_passes_custom_resources_written_after_their_crds() -> None:
    assert _whole_pack("gate_crds_ok") == (0, [])
