"""The configuration the components render works for real, on this machine's servers.

``feature_store.yaml`` (rendered by components.feast) drives Feast apply, materialize
and online reads against Redis on 127.0.0.1:6379; the MLflow settings (rendered by
components.mlflow_server) start a real tracking server, with its basic-auth app, against
PostgreSQL on 127.0.0.1:5432 in a throwaway database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from cluster_plans import free_port, postgres_database, require_service

from infra.services.feast.component import redis_online_store, render_feature_store_yaml
from infra.services.mlflow.component import (
    USER_BOOTSTRAP,
    backend_store_uri,
    render_auth_ini,
    render_server_settings,
)

pytestmark = [pytest.mark.services, pytest.mark.slow]
BIN = Path(sys.executable).parent


def test_rendered_redis_password_reference_is_expanded_by_feast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feast.repo_config import load_repo_config

    text = render_feature_store_yaml(
        project="expand",
        registry_path="s3://bucket/feast/registry.db",
        online_store=redis_online_store("cache.example.com", 6379),
    )
    (tmp_path / "feature_store.yaml").write_text(text)
    assert "s3cr3t" not in text
    monkeypatch.setenv("REDIS_PASSWORD", "s3cr3t")
    config = load_repo_config(tmp_path, tmp_path / "feature_store.yaml")
    assert config.online_store.connection_string == (
        "cache.example.com:6379,ssl=true,password=s3cr3t"
    )
    assert config.registry.path == "s3://bucket/feast/registry.db"


FEATURES = textwrap.dedent(
    """
    from datetime import timedelta

    from feast import Entity, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64

    driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
    source = FileSource(path={path!r}, timestamp_field="event_timestamp")
    stats = FeatureView(
        name="driver_stats",
        entities=[driver],
        ttl=timedelta(days=30),
        schema=[Field(name="conv_rate", dtype=Float64)],
        source=source,
        online=True,
    )
    """
)


def test_feast_apply_materialize_and_read_online_from_redis(tmp_path: Path) -> None:
    require_service("Redis", 6379)
    import pandas as pd
    from feast import FeatureStore

    now = datetime.now(UTC).replace(microsecond=0)
    data = tmp_path / "driver_stats.parquet"
    pd.DataFrame(
        {
            "driver_id": [1, 2, 1],
            "conv_rate": [0.25, 0.5, 0.75],
            "event_timestamp": [now - timedelta(hours=3), now - timedelta(hours=2), now],
        }
    ).to_parquet(data)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "features.py").write_text(FEATURES.format(path=str(data)))
    project = f"t{uuid.uuid4().hex[:10]}"  # the shared Redis is keyed by project
    (repo / "feature_store.yaml").write_text(
        render_feature_store_yaml(
            project=project,
            registry_path=str(tmp_path / "registry.db"),
            online_store=redis_online_store("127.0.0.1", 6379, ssl=False, password_env=None),
            provider="local",
        )
    )
    result = subprocess.run(
        [str(BIN / "feast"), "-c", str(repo), "apply"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    store = FeatureStore(repo_path=str(repo))
    try:
        store.materialize(now - timedelta(days=1), now + timedelta(minutes=1))
        online = store.get_online_features(
            features=["driver_stats:conv_rate"],
            entity_rows=[{"driver_id": 1}, {"driver_id": 2}, {"driver_id": 3}],
        ).to_dict()
        assert online["driver_id"] == [1, 2, 3]
        assert online["conv_rate"] == [0.75, 0.5, None]  # the latest value per entity
    finally:
        store.teardown()  # removes the project's keys from the shared Redis


@pytest.fixture
def throwaway_database() -> Iterator[str]:
    with postgres_database() as name:
        yield name


def test_mlflow_server_runs_with_the_rendered_settings(
    tmp_path: Path, throwaway_database: str
) -> None:
    import psycopg

    uri = backend_store_uri(
        host="127.0.0.1",
        port=5432,
        database=throwaway_database,
        username="postgres",
        password="p@ss/w:rd",  # trust auth ignores it; it must survive URL encoding
        sslmode="disable",
    )
    ini = tmp_path / "basic_auth.ini"
    ini.write_text(render_auth_ini(database_uri=uri))
    port = free_port()
    artifacts = tmp_path / "artifacts"
    settings = render_server_settings(
        artifacts_destination=str(artifacts),
        basic_auth=True,
        auth_config_path=str(ini),
        host="127.0.0.1",
        port=port,
        prometheus_dir=str(tmp_path / "prometheus"),
    )
    assert set(settings.secret_env) == {
        "MLFLOW_BACKEND_STORE_URI",
        "MLFLOW_AUTH_ADMIN_PASSWORD",
        "MLFLOW_FLASK_SERVER_SECRET_KEY",
    }
    password = uuid.uuid4().hex
    env = {
        **os.environ,
        **settings.env,
        "MLFLOW_BACKEND_STORE_URI": uri,
        "MLFLOW_AUTH_ADMIN_PASSWORD": password,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": uuid.uuid4().hex,
    }
    args = [str(BIN / "mlflow"), *settings.args[1:]]
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            try:
                if requests.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "MLflow did not become healthy"
            time.sleep(0.5)
        # /metrics sits behind the auth app too: the ServiceMonitor sends credentials
        assert requests.get(f"{base}/metrics", timeout=10).status_code == 401
        metrics = requests.get(f"{base}/metrics", auth=("admin", password), timeout=10)
        assert metrics.status_code == 200 and "mlflow_exporter_info" in metrics.text
        search = f"{base}/api/2.0/mlflow/experiments/search"
        assert requests.get(search, params={"max_results": 1}, timeout=10).status_code == 401
        auth = ("admin", password)

        def create_experiment(name: str, auth: tuple[str, str]) -> requests.Response:
            return requests.post(
                f"{base}/api/2.0/mlflow/experiments/create",
                json={"name": name},
                auth=auth,
                timeout=10,
            )

        created = create_experiment("rendered", auth)
        assert created.status_code == 200, created.text
        experiment_id = created.json()["experiment_id"]
        run = requests.post(
            f"{base}/api/2.0/mlflow/runs/create",
            json={"experiment_id": experiment_id},
            auth=auth,
            timeout=10,
        ).json()["run"]["info"]
        uploaded = requests.put(
            f"{base}/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run['run_id']}"
            "/artifacts/model.txt",
            data=b"weights",
            auth=auth,
            timeout=10,
        )
        assert uploaded.status_code == 200, uploaded.text
        # proxied artifacts land under the configured destination
        assert (
            artifacts / experiment_id / run["run_id"] / "artifacts" / "model.txt"
        ).read_bytes() == b"weights"
        # the users Job's script, as the Job runs it: admin credentials, one file per user
        users_dir = tmp_path / "users"
        users_dir.mkdir()
        (users_dir / "..data").mkdir()  # what a mounted Secret volume also holds
        pipelines_password = uuid.uuid4().hex
        (users_dir / "pipelines").write_text(pipelines_password)
        job_env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": base,
            "MLFLOW_TRACKING_USERNAME": "admin",
            "MLFLOW_TRACKING_PASSWORD": password,
            "MLOPS_USERS_DIR": str(users_dir),
        }

        def bootstrap(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [str(BIN / "python"), "-c", USER_BOOTSTRAP],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )

        first = bootstrap(job_env)
        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == "created MLflow user pipelines"
        # the pipelines' identity works, and is not an admin
        as_pipelines = ("pipelines", pipelines_password)
        mine = create_experiment("from-a-pipeline", as_pipelines)
        assert mine.status_code == 200, mine.text
        denied = requests.post(
            f"{base}/api/2.0/mlflow/users/create",
            json={"username": "x", "password": "y" * 12},
            auth=as_pipelines,
            timeout=10,
        )
        assert denied.status_code == 403
        # idempotent: a re-run (or a rotated password) updates the account
        pipelines_password = uuid.uuid4().hex
        (users_dir / "pipelines").write_text(pipelines_password)
        again = bootstrap(job_env)
        assert again.returncode == 0 and again.stdout.strip() == "updated MLflow user pipelines"
        search_as = requests.get(
            search, params={"max_results": 1}, auth=("pipelines", pipelines_password), timeout=10
        )
        assert search_as.status_code == 200
        # a wrong admin password fails the Job (Pulumi then reports the failed Job)
        refused = bootstrap({**job_env, "MLFLOW_TRACKING_PASSWORD": "wrong"})
        assert refused.returncode != 0 and "401" in refused.stderr

        with psycopg.connect(
            f"host=127.0.0.1 port=5432 user=postgres dbname={throwaway_database}"
        ) as conn:
            names = {row[0] for row in conn.execute("SELECT name FROM experiments")}
            users = {row[0] for row in conn.execute("SELECT username FROM users")}
        assert {"rendered", "from-a-pipeline"} <= names and {"admin", "pipelines"} <= users
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
