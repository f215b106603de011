"""Config of the in-cluster components: pinned versions, auth and exposure rules,
each mistake reported with its field path."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from plans import stack_values

from infra.config import ConfigError, parse_config


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
            "platform.components.mlflow.image: 'ghcr.io/mlflow/mlflow:latest' uses 'latest'",
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
