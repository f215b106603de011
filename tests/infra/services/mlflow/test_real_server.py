"""The MLflow settings the MLflow component renders work for real: they start a tracking
server, with its basic-auth app, against PostgreSQL on 127.0.0.1:5432 in a throwaway
database, and the users Job's script configures it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from unittest import mock

import pytest
import requests
from service_helpers import free_port, postgres_database

from infra.services.mlflow.component import (
    TEAMS_SCRIPT,
    backend_store_uri,
    render_auth_ini,
    render_server_settings,
)
from mlops_runtime import mlflow_teams

pytestmark = [pytest.mark.services, pytest.mark.slow]
BIN = Path(sys.executable).parent


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
        # MLflow's own /metrics sits behind the auth app (admins only): Prometheus scrapes
        # the metrics sidecar instead (test_metrics_port.py)
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
        # the teams Job's script, as the Job runs it: admin credentials, one file per user
        users_dir = tmp_path / "users"
        users_dir.mkdir()
        (users_dir / "..data").mkdir()  # what a mounted Secret volume also holds
        pipelines_password = uuid.uuid4().hex
        (users_dir / "pipelines").write_text(pipelines_password)
        spec = tmp_path / "spec.json"
        spec.write_text(
            mlflow_teams.Spec(
                workspaces=(mlflow_teams.Workspace("default", None, ("pipelines",)),)
            ).to_json()
        )
        job_env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": base,
            "MLFLOW_TRACKING_USERNAME": "admin",
            "MLFLOW_TRACKING_PASSWORD": password,
        }
        argv = ["reconcile", "--spec", str(spec), "--passwords", str(users_dir)]

        def bootstrap(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
            """The Job's command: the runtime library's file alone, in the MLflow image."""
            return subprocess.run(
                [str(BIN / "python"), str(TEAMS_SCRIPT), *argv],
                env={**env, "PYTHONPATH": ""},
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )

        def bootstrap_here(env: dict[str, str]) -> str:
            """The same script in this process (a fresh Python pays seconds of imports)."""
            out = io.StringIO()
            with mock.patch.dict(os.environ, env, clear=True), redirect_stdout(out):
                assert mlflow_teams.main(argv) == 0
            return out.getvalue()

        first = bootstrap(job_env)
        assert first.returncode == 0, first.stderr
        assert "created user pipelines" in first.stdout.splitlines()
        # the pipelines' identity works in its workspace, and is not an admin
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
        # idempotent: a re-run (or a rotated password) updates the account, nothing else
        pipelines_password = uuid.uuid4().hex
        (users_dir / "pipelines").write_text(pipelines_password)
        assert bootstrap_here(job_env) == ""
        search_as = requests.get(
            search, params={"max_results": 1}, auth=("pipelines", pipelines_password), timeout=10
        )
        assert search_as.status_code == 200
        # a wrong admin password fails the Job (Pulumi then reports the failed Job)
        from mlflow.exceptions import MlflowException

        with pytest.raises(MlflowException, match="error code 401"):
            bootstrap_here({**job_env, "MLFLOW_TRACKING_PASSWORD": "wrong"})

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
