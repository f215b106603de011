"""Config of the in-cluster components: pinned versions, auth and exposure rules,
each mistake reported with its field path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from plans import ROOT, stack_values

from infra.config import ConfigError, parse_config
from mlops.engine.plan import plan_stack
from mlops.engine.stack_config import load_project, load_stack_config


def dev_platform() -> dict[str, Any]:
    return copy.deepcopy(stack_values("dev")["config"]["mlops-platform:platform"])


def with_components(**components: Any) -> dict[str, Any]:
    raw = dev_platform()
    raw.setdefault("components", {}).update(components)
    return raw


def test_defaults_are_pinned_secure_and_authenticated() -> None:
    cfg = parse_config(dev_platform()).components
    assert cfg.auth.mode == "basic-auth"
    assert cfg.kserve.version == "v0.20.0" and cfg.kserve.deployment_mode == "Standard"
    assert cfg.mlflow.job_execution is False
    assert cfg.ingress.domain is None  # nothing public unless asked for
    for image in (cfg.mlflow.image, cfg.feast.image, cfg.kserve.mlserver_image):
        assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest")


@pytest.mark.parametrize(
    ("components", "message"),
    [
        (
            {"mlflow": {"image": "ghcr.io/mlflow/mlflow:latest"}},
            "platform.components.mlflow.image: image 'ghcr.io/mlflow/mlflow:latest' uses the "
            "'latest' tag",
        ),
        (
            {"feast": {"image": "feastdev/feature-server"}},
            "platform.components.feast.image: 'feastdev/feature-server' is not an image",
        ),
        ({"feast": {"repo_image_tag": "latest"}}, "platform.components.feast.repo_image_tag:"),
        ({"auth": {"mode": "oidc"}}, "platform.components.auth.oidc: is required"),
        (
            {"ingress": {"domain": "ml.example.com"}},
            "platform.components.cert_manager.acme_email: is required when ingress.domain",
        ),
        (
            {"kserve": {"sklearn_image": "docker.io/kserve/sklearnserver:v0.19.0"}},
            "platform.components.kserve.sklearn_image: tag v0.19.0 does not match",
        ),
        (
            {"mlflow": {"autoscaling": {"enabled": True, "min_replicas": 3, "max_replicas": 2}}},
            "platform.components.mlflow.autoscaling.max_replicas:",
        ),
        ({"kserve": {"deployment_mode": "Serverless"}}, "platform.components.kserve."),
        ({"monitoring": {"chart_version": "latest"}}, "platform.components.monitoring."),
    ],
)
def test_mistakes_name_the_field(components: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(with_components(**components))
    assert str(err.value).startswith(message), str(err.value)


def test_served_models_belong_to_a_team() -> None:
    raw = dev_platform()
    raw["components"]["kserve"]["models"][0]["team"] = "nobody"
    with pytest.raises(ConfigError, match=r"components\.kserve\.models\.0\.team: 'nobody'"):
        parse_config(raw)


def test_kfp_ui_is_never_exposed_with_basic_auth() -> None:
    from infra.services.kfp.component import KubeflowPipelinesArgs
    from infra.services.kfp.config import KfpConfig

    with pytest.raises(ValueError, match="only behind oauth2-proxy"):
        KubeflowPipelinesArgs(
            config=KfpConfig(),
            artifact_bucket="b",
            region="us-east-1",
            api_role_arn="a",
            ui_role_arn="u",
            runner_role_arn="r",
            db_host="h",
            db_port=3306,
            db_username="u",
            db_password="p",
            domain="kfp.example.com",
        )
    with pytest.raises(ValueError, match="differs from the overlay"):
        KubeflowPipelinesArgs(
            config=KfpConfig(version="1.0.0"),
            artifact_bucket="b",
            region="us-east-1",
            api_role_arn="a",
            ui_role_arn="u",
            runner_role_arn="r",
            db_host="h",
            db_port=3306,
            db_username="u",
            db_password="p",
        )


@pytest.mark.parametrize("key", ["database_name", "metadata_database_name", "cache_database_name"])
def test_kfp_database_names_the_manifests_hard_code_are_refused(key: str) -> None:
    with pytest.raises(ConfigError, match=rf"platform\.components\.kfp\.{key}: unknown key"):
        parse_config(with_components(kfp={key: "other"}))


def test_the_namespaces_and_database_name_a_fork_sets_take_effect(tmp_path: Path) -> None:
    """Keys that were validated but never read: each now changes what is deployed."""
    values = stack_values("dev")
    platform = values["config"]["mlops-platform:platform"]
    platform["components"]["mlflow"].update(namespace="tracking", database_name="tracking")
    platform["components"]["feast"]["namespace"] = "features"
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(values))
    planned = plan_stack(load_stack_config(load_project(ROOT), "dev", path), use_moto=False)
    namespaces = {
        r["inputs"]["metadata"]["name"]
        for r in planned["resources"]
        if r["type"] == "kubernetes:core/v1:Namespace"
    }
    assert {"tracking", "features"} <= namespaces and not {"mlflow", "feast"} & namespaces
    trusts = json.dumps(
        [
            r["inputs"]["assumeRolePolicy"]
            for r in planned["resources"]
            if r["type"] == "aws:iam/role:Role" and r["name"] in ("mlflow", "feast")
        ]
    )
    assert "system:serviceaccount:tracking:mlflow" in trusts
    assert "system:serviceaccount:features:feast" in trusts
    (db,) = [
        r
        for r in planned["resources"]
        if r["type"] == "aws:rds/instance:Instance" and r["name"] == "mlflow-db"
    ]
    assert db["inputs"]["dbName"] == "tracking"
    # a team may still reach them, in their new namespaces
    egress = json.dumps(
        [
            r["inputs"]["spec"]
            for r in planned["resources"]
            if r["type"] == "kubernetes:networking.k8s.io/v1:NetworkPolicy"
            and r["inputs"]["metadata"]["namespace"] == "team-fraud"
        ]
    )
    assert '"tracking"' in egress and '"features"' in egress


@pytest.mark.parametrize(
    ("image", "why"),
    [
        ("ghcr.io/mlflow/mlflow:stable", "has the floating tag 'stable'"),
        ("ghcr.io/mlflow/mlflow:main", "has the floating tag 'main'"),
        ("ghcr.io/mlflow/mlflow@sha256:", "is not an image reference with a tag or digest"),
        ("ghcr.io/mlflow/mlflow:v3.17.2@sha256:", "is not an image reference with a tag or digest"),
    ],
    ids=["stable", "main", "empty-digest", "tag-and-empty-digest"],
)
def test_moving_tags_and_empty_digests_are_not_pinned_images(image: str, why: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(with_components(mlflow={"image": image}))
    assert str(err.value).startswith("platform.components.mlflow.image: "), str(err.value)
    assert why in str(err.value)
