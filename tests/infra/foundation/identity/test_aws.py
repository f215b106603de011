"""Workload identity: every IRSA trust pins the provider, the exact sub and aud; policies
are least privilege; moto (AWS) refuses a malformed policy and the plan names the role."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from plans import ROOT, Planned, planned

from infra.foundation.identity.component import (
    KeyScope,
    irsa_trust_policy,
    issuer_from_provider_arn,
    secrets_read_policy,
)
from mlops.engine.plan import plan_program
from mlops.errors import PlanError

ROLE = "aws:iam/role:Role"


def irsa_roles(p: Planned) -> list[dict]:
    roles = []
    for role in p.of_type(ROLE):
        (st, *rest) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
        if "Federated" in st.get("Principal", {}) and "oidc.eks" in st["Principal"]["Federated"]:
            assert not rest, role["name"]
            roles.append(role)
    return roles


def expected_subjects(p: Planned) -> set[str]:
    subjects = {
        "kube-system:aws-node",
        "kube-system:ebs-csi-controller-sa",
        "mlflow:mlflow",
        "kubeflow:ml-pipeline",
        "feast:feast",
    }
    if p.env == "byo":
        subjects -= {"kube-system:aws-node", "kube-system:ebs-csi-controller-sa"}
    subjects |= {f"{t.namespace}:{t.service_account}" for t in p.config.teams}
    return {f"system:serviceaccount:{s}" for s in subjects}


@pytest.mark.parametrize("name", ["dev", "staging", "prod", "byo"])
def test_every_irsa_trust_has_the_exact_sub_and_aud(name: str) -> None:
    p = planned(name)
    provider_arn = p.plan["outputs"]["oidc_provider_arn"]
    issuer = issuer_from_provider_arn(provider_arn)
    subjects = set()
    for role in irsa_roles(p):
        (st,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
        assert st["Effect"] == "Allow"
        assert st["Principal"] == {"Federated": provider_arn}
        assert st["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert set(st["Condition"]) == {"StringEquals"}, "no StringLike wildcards"
        cond = st["Condition"]["StringEquals"]
        assert set(cond) == {f"{issuer}:sub", f"{issuer}:aud"}
        assert cond[f"{issuer}:aud"] == "sts.amazonaws.com"
        assert cond[f"{issuer}:sub"].count(":") == 3
        subjects.add(cond[f"{issuer}:sub"])
        # AWS (moto) holds the very same trust
        held = p.aws["roles"][role["inputs"]["name"]]["AssumeRolePolicyDocument"]
        assert held == json.loads(role["inputs"]["assumeRolePolicy"])
    assert expected_subjects(p) <= subjects


def test_bring_your_own_trusts_the_given_provider(byo: Planned) -> None:
    given = byo.config.cluster.oidc_provider_arn
    assert byo.plan["outputs"]["oidc_provider_arn"] == given
    assert irsa_roles(byo) and all(
        json.loads(r["inputs"]["assumeRolePolicy"])["Statement"][0]["Principal"]["Federated"]
        == given
        for r in irsa_roles(byo)
    )


def test_service_roles_are_least_privilege(env: Planned) -> None:
    bucket = f"arn:aws:s3:::mlops-{env.env}-artifacts-123456789012"
    # service -> {prefix: may write}; Feast reads the parquet the pipelines publish and
    # keeps its registry in a bucket of its own
    teams = [t.name for t in env.config.teams]
    allowed = {
        # MLflow reads the artifacts of every team's workspace (its artifact root); the
        # team writes them with its own role
        "mlflow": {"mlflow": True, **{f"teams/{t}/mlflow": False for t in teams}},
        "kfp": {"pipelines": True},
        "feast": {"pipelines": False},
    }
    registry = f"arn:aws:s3:::mlops-{env.env}-feast-registry-123456789012"
    # the roles whose client calls HeadBucket (KFP's API server, Feast's S3 registry):
    # ListBucket without a prefix condition, on that bucket only
    head = {"kfp": bucket, "feast": registry}
    for service, prefixes in allowed.items():
        policies = env.aws["roles"][f"mlops-{env.env}-{service}"]["inline"]
        statements = [st for doc in policies.values() for st in doc["Statement"]]
        for st in statements:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            assert all(a != "*" and not a.endswith(":*") for a in actions), st
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            for r in resources:
                if r.startswith(f"{registry}/"):
                    assert service == "feast" and r == f"{registry}/feast/*", r
                    continue
                if r == registry:
                    continue
                if r.startswith(f"{bucket}/"):
                    prefix = r.removeprefix(f"{bucket}/").removesuffix("/*")
                    assert prefix in prefixes, r
                    assert ("s3:PutObject" in actions) == prefixes[prefix], (r, actions)
                elif r.startswith("arn:aws:s3"):
                    assert r == bucket, r
                if r.startswith("arn:aws:secretsmanager"):
                    assert f":secret:mlops-{env.env}/" in r and r.endswith("-??????")
        lists = [st for st in statements if st.get("Action") == "s3:ListBucket"]
        unconditioned = [st["Resource"] for st in lists if "Condition" not in st]
        assert unconditioned == ([head[service]] if service in head else []), unconditioned
        listed = sorted(
            st["Condition"]["StringLike"]["s3:prefix"][0]
            for st in lists
            if "Condition" in st and st["Resource"] == bucket
        )
        assert listed == sorted(prefixes)
        assert len({st["Sid"] for st in statements}) == len(statements)  # IAM refuses repeats


def test_trust_policy_document_is_exact() -> None:
    doc = json.loads(
        irsa_trust_policy(
            provider_arn="arn:aws:iam::1:oidc-provider/oidc.eks.r.amazonaws.com/id/X",
            issuer="https://oidc.eks.r.amazonaws.com/id/X",
            namespace="ns",
            service_account="sa",
        )
    )
    assert doc["Statement"][0]["Condition"] == {
        "StringEquals": {
            "oidc.eks.r.amazonaws.com/id/X:sub": "system:serviceaccount:ns:sa",
            "oidc.eks.r.amazonaws.com/id/X:aud": "sts.amazonaws.com",
        }
    }


def test_secret_policy_names_only_its_secret() -> None:
    doc = json.loads(
        secrets_read_policy(
            secret_names=["a/b"],
            key_aliases=["alias/k"],
            scope=KeyScope(region="r", account_id="1"),
        )
    )
    assert doc["Statement"][0]["Resource"] == ["arn:aws:secretsmanager:r:1:secret:a/b-??????"]


def test_aws_refuses_a_malformed_inline_policy_and_the_plan_names_the_role(
    tmp_path: Path,
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: bad-irsa\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(ROOT)!r})
            import json, pulumi, pulumi_aws as aws
            from infra.foundation.identity.component import WorkloadIdentity, WorkloadIdentityArgs
            p = aws.Provider("aws", region="us-east-1")
            WorkloadIdentity("app", WorkloadIdentityArgs(
                role_name="app", namespace="ns", service_account="sa",
                oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1"
                ".amazonaws.com/id/ABC",
                # an action without its service prefix: IAM refuses the document
                inline_policies={{"s3": json.dumps({{"Version": "2012-10-17", "Statement": [
                    {{"Effect": "Allow", "Action": "GetObject", "Resource": "*"}}]}})}},
            ), opts=pulumi.ResourceOptions(provider=p))
            """
        )
    )
    with pytest.raises(PlanError) as err:
        plan_program(tmp_path)
    message = str(err.value)
    assert message.startswith("aws:iam/rolePolicy:RolePolicy 'app-s3': MalformedPolicyDocument")
