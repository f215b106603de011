"""The platform on this machine's PostgreSQL (MLflow) and Redis (Feast online store).

The restart runs on this module's own platform (`services_platform`); the Feast check, which
works under entity ids of its own, on the session's (`platform_postgres`)."""

from __future__ import annotations

import pytest
from local_helpers import MODEL, check_feast_online_store, train_and_register, use_env

from mlops.local.platform import LocalPlatform

pytestmark = [pytest.mark.slow, pytest.mark.services]


@pytest.mark.long
def test_mlflow_on_postgresql_keeps_runs_across_server_restart(
    services_platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient

    p = services_platform
    status = p.status()
    assert status["healthy"] is True
    assert status["servers"]["mlflow"]["backend"].startswith("postgresql://")
    use_env(p, monkeypatch)
    run_id, version = train_and_register(MODEL)

    # Only the tracking server restarts: what it wrote must be in PostgreSQL.
    p.servers["mlflow"].stop()
    p.up()
    client = MlflowClient(p.mlflow_uri)
    assert client.get_run(run_id).info.status == "FINISHED"
    assert client.get_model_version(MODEL, version).status == "READY"


def test_feast_online_store_redis(
    platform_postgres: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert platform_postgres.status()["feast"]["online_store"] == "redis://127.0.0.1:6379/0"
    text = (platform_postgres.feast_repo_path / "feature_store.yaml").read_text()
    assert "type: redis" in text
    check_feast_online_store(platform_postgres, monkeypatch)
