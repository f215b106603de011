"""Issue 18, defect 10, docs drift: what the platform names and writes says what it is.

The ClusterIssuer is named for its kind (self-signed, or ACME with an account); KServe's
model URLs use the platform's domain, never the chart's `example.com`; the pipeline root
has one name; team Kubernetes groups are mapped to people by EKS access entries."""

from __future__ import annotations

import copy
import json
from typing import Any

import pulumi
import pytest
from alone import ACCOUNT, build
from plans import find, plan, releases, stack_values

from infra.config import CONFIG_KEY, ConfigError, parse_config
from infra.services.artifact_store import layout
from infra.services.kfp.component import KubeflowPipelinesArgs, pipeline_root
from infra.services.kserve.component import KServeArgs, controller_values
from infra.services.kserve.config import KServeConfig
from infra.services.tenancy.config import TeamConfig
from infra.services.tenancy.teams import Teams, TeamsArgs

ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/ABC"


def raw(env: str = "dev") -> dict[str, Any]:
    return copy.deepcopy(stack_values(env)["config"][CONFIG_KEY])


# ------------------------------------------------------------------ the ClusterIssuer


def test_the_issuer_is_named_for_what_it_is() -> None:
    assert parse_config(raw(), stack="dev").components.cluster_issuer == "self-signed"
    with_acme = raw()
    with_acme.setdefault("components", {})["cert_manager"] = {"acme_email": "ops@example.org"}
    assert parse_config(with_acme, stack="dev").components.cluster_issuer == "acme"
    named = raw()
    named.setdefault("components", {})["ingress"] = {"cluster_issuer": "corp-ca"}
    assert parse_config(named, stack="dev").components.cluster_issuer == "corp-ca"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_planned_issuer_without_acme_is_self_signed_by_name(env: str) -> None:
    issuer = find(plan(env), "ClusterIssuer", "self-signed")
    assert issuer["spec"] == {"selfSigned": {}}
    with pytest.raises(AssertionError):
        find(plan(env), "ClusterIssuer", "letsencrypt")


# ------------------------------------------------------------------ KServe's domain


def test_kserve_without_a_domain_names_the_in_cluster_service() -> None:
    gateway = controller_values(KServeArgs(config=KServeConfig()))["kserve"]["controller"][
        "gateway"
    ]
    assert gateway["domain"] == "svc.cluster.local"
    assert (
        gateway["domainTemplate"] == "{{ .Name }}-predictor.{{ .Namespace }}.{{ .IngressDomain }}"
    )
    assert gateway["disableIngressCreation"] is True


def test_kserve_takes_the_platforms_domain() -> None:
    gateway = controller_values(KServeArgs(config=KServeConfig(), domain="ml.corp.example"))[
        "kserve"
    ]["controller"]["gateway"]
    assert gateway["domain"] == "ml.corp.example"
    assert gateway["urlScheme"] == "https" and gateway["disableIngressCreation"] is False


def test_no_planned_release_keeps_example_com() -> None:
    for env in ("dev", "prod"):
        (kserve,) = [
            r for name, r in releases(plan(env)).items() if "kserve" in name and "crd" not in name
        ]
        assert "example.com" not in json.dumps(kserve), env


# ------------------------------------------------------------------ the pipeline root


def test_the_pipeline_root_has_one_name() -> None:
    with pytest.raises(TypeError):
        pipeline_root("b")  # type: ignore[call-arg]  # no default prefix to drift from
    assert KubeflowPipelinesArgs.__dataclass_fields__["artifact_prefix"].default == layout.PIPELINES
    launcher = find(plan("dev"), "ConfigMap", "kfp-launcher", "kubeflow")
    assert launcher["data"]["defaultPipelineRoot"].endswith(f"/{layout.PIPELINES}")


# ------------------------------------------------------------------ team groups


def _read_prefix(prefix: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::b/{prefix}/*",
                }
            ],
        }
    )


def test_team_members_sign_in_to_the_teams_group_only() -> None:
    member = f"arn:aws:iam::{ACCOUNT}:role/fraud-scientists"

    def make(opts: pulumi.ResourceOptions) -> None:
        Teams(
            "teams",
            TeamsArgs(
                role_prefix="t-dev",
                teams=[TeamConfig(name="fraud", members=[member]), TeamConfig(name="recsys")],
                prefix_policy=_read_prefix,
                read_policy=_read_prefix,
                bucket_uri=lambda p: f"s3://b/{p}",
                oidc_provider_arn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}",
                oidc_issuer=ISSUER,
                cluster_name="t-dev",
            ),
            opts=opts,
        )

    built = build(make)
    built.assert_parented("mlops:tenancy:Teams")
    (entry,) = built.of_type("aws:eks/accessEntry:AccessEntry")
    assert entry["inputs"]["principalArn"] == member
    assert entry["inputs"]["kubernetesGroups"] == ["team-fraud"]
    assert not built.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")


def test_the_teams_rolebinding_grants_the_group_the_entries_map() -> None:
    binding = find(plan("dev"), "RoleBinding", "team-member", "team-fraud")
    groups = [s["name"] for s in binding["subjects"] if s["kind"] == "Group"]
    assert groups == [TeamConfig(name="fraud").group]


@pytest.mark.parametrize(
    ("members", "words"),
    [
        (["arn:aws:iam::111111111111:user/alice"], "members.0"),
        (["arn:aws:iam::111111111111:role/a", "arn:aws:iam::111111111111:role/a"], "twice"),
    ],
)
def test_members_must_be_distinct_roles(members: list[str], words: str) -> None:
    config = raw()
    config["teams"][0]["members"] = members
    with pytest.raises(ConfigError, match=words):
        parse_config(config, stack="dev")
