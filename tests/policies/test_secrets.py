"""Secret values are checked, not skipped, and never printed.

Under CrossGuard the analyzer hands rules a secret's plaintext; the plan hands the runner
the same (a secret envelope), so a Secret-wrapped pod spec or a secret-valued policy is
judged by every rule. No violation message shows a secret value.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness import res, secret
from test_workloads import POD_SPEC

from policies.offline import evaluate, masker

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
IMAGE = "registry.internal.example/very-secret-app:latest"


def _violations(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(evaluate({"environment": "prod", "resources": resources})["violations"])


def _privileged_spec() -> dict[str, Any]:
    pod = json.loads(json.dumps(POD_SPEC))
    pod["containers"][0].update(name="hidden-name", image=IMAGE)
    pod["containers"][0]["securityContext"]["privileged"] = True
    return {
        "selector": {"matchLabels": {"app": "x"}},
        "template": {"metadata": {"labels": {"app": "x"}}, "spec": pod},
    }


def test_secret_wrapped_pod_spec_does_not_skip_workload_rules() -> None:
    found = _violations([res(DEPLOYMENT, "d", {"spec": secret(_privileged_spec())})])
    policies = {v["policy"] for v in found}
    assert {"k8s-no-privileged", "k8s-image-pinned"} <= policies
    text = json.dumps(found)
    assert "hidden-name" not in text and "very-secret-app" not in text
    assert "Container '[secret]' is privileged." in {v["message"] for v in found}


def test_secret_valued_field_is_checked() -> None:
    spec = _privileged_spec()
    spec["template"]["spec"]["containers"][0]["securityContext"] = secret({"privileged": True})
    found = _violations([res(DEPLOYMENT, "d", {"spec": spec})])
    assert "k8s-no-privileged" in {v["policy"] for v in found}


def test_secret_policy_document_is_checked_and_not_printed() -> None:
    doc = json.dumps(
        {
            "Statement": [
                {
                    "Sid": "SecretSid",
                    "Effect": "Allow",
                    "Action": "*",
                    "Resource": "arn:aws:s3:::confidential-bucket-name/*",
                }
            ]
        }
    )
    found = _violations([res("aws:iam/policy:Policy", "p", {"policy": secret(doc)})])
    wildcard = [v for v in found if v["policy"] == "iam-no-wildcard-actions"]
    assert wildcard and all(v["enforcement"] == "mandatory" for v in wildcard)
    text = json.dumps(found)
    assert "SecretSid" not in text and "confidential-bucket-name" not in text


def test_the_runner_never_prints_a_secret_value() -> None:
    payload = {"resources": [res(DEPLOYMENT, "d", {"spec": secret(_privileged_spec())})]}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "policies" / "offline.py")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert json.loads(proc.stdout)["violations"]
    assert "hidden-name" not in proc.stdout + proc.stderr
    assert "very-secret-app" not in proc.stdout + proc.stderr


def test_a_secret_json_document_masks_its_credentials_not_its_structure() -> None:
    # a kubeconfig or database credentials held as a secret: "aws", "v1", "mysql" and a
    # port are its structure, and every message would lose them if they were masked
    kubeconfig = json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "users": [{"exec": {"command": "aws"}}],
            "token": "k8s-aws-v1.c2VjcmV0LXRva2Vu",
        }
    )
    credentials = json.dumps({"engine": "mysql", "port": 3306, "password": "Zq8-long-pw"})
    mask = masker(
        [
            res("pulumi:providers:kubernetes", "k", {"kubeconfig": secret(kubeconfig)}),
            res(
                "aws:secretsmanager/secretVersion:SecretVersion",
                "c",
                {"secretString": secret(credentials)},
            ),
        ]
    )
    assert mask("aws:sqs/queue:Queue uses mysql on 3306 (v1)") == (
        "aws:sqs/queue:Queue uses mysql on 3306 (v1)"
    )
    assert mask("token k8s-aws-v1.c2VjcmV0LXRva2Vu, password Zq8-long-pw") == (
        "token [secret], password [secret]"
    )
    assert mask(f"document {credentials}") == "document [secret]"


def test_a_secret_value_the_plan_shows_in_the_clear_is_not_masked() -> None:
    kubeconfig = json.dumps(
        {
            "args": ["--region", "eu-west-1", "--cluster-name", "acme-dev"],
            "token": "k8s-aws-v1.c2VjcmV0LXRva2Vu",
        }
    )
    mask = masker(
        [
            res("pulumi:providers:kubernetes", "k", {"kubeconfig": secret(kubeconfig)}),
            res("aws:eks/cluster:Cluster", "c", {"name": "acme-dev"}),
            res("aws:ec2/vpc:Vpc", "v", {"tags": {"region": "eu-west-1"}}),
        ]
    )
    assert mask("arn:aws:eks:eu-west-1:1:cluster/acme-dev k8s-aws-v1.c2VjcmV0LXRva2Vu") == (
        "arn:aws:eks:eu-west-1:1:cluster/acme-dev [secret]"
    )
