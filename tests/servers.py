"""Real servers for tests: the local platform (`mlops.local.platform`) on free ports.

tests/conftest.py starts one pair per session, shared by the local platform's, the
pipelines' and the runtime library's tests: MLflow on SQLite with Feast online on SQLite
(`platform_sqlite`), and MLflow on this machine's PostgreSQL with Feast online on its Redis
(`platform_postgres`); SeaweedFS and the model server are the same in both. Tests on them
only read, or work under names of their own (model and experiment names, object keys,
feature repositories). A test that stops, kills or restarts a server starts a platform of
its own with `running(make_platform(...))`.

Every platform started here is stopped by `down()` when its context exits, whatever the
tests did; `down()` signals only the process groups this platform started (by pid files).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service_helpers import free_port, postgres_database, require_service

if TYPE_CHECKING:
    from mlops.local.platform import LocalPlatform

__all__ = [
    "MlflowServer",
    "Server",
    "component_env",
    "free_port",
    "make_platform",
    "mlflow_server",
    "postgres_database",
    "postgres_platform",
    "require_service",
    "running",
    "sqlite_platform",
]


@dataclass(frozen=True)
class Server:
    """An endpoint of the local platform a test talks to."""

    url: str


def make_platform(state_dir: Path, **settings: Any) -> LocalPlatform:
    """A platform (not started) on free ports with its state in `state_dir`."""
    from mlops.local.platform import LocalPlatform, LocalSettings

    return LocalPlatform(
        LocalSettings(
            state_dir=state_dir,
            s3_port=free_port(),
            mlflow_port=free_port(),
            model_port=free_port(),
            **settings,
        )
    )


@contextmanager
def running(platform: LocalPlatform) -> Iterator[LocalPlatform]:
    """The platform started, and stopped on exit (also when `up` failed half way)."""
    try:
        platform.up()
        yield platform
    finally:
        platform.down()


@contextmanager
def sqlite_platform(state_dir: Path, **settings: Any) -> Iterator[LocalPlatform]:
    """MLflow on SQLite, Feast online on SQLite."""
    with running(make_platform(state_dir, **settings)) as platform:
        yield platform


@contextmanager
def postgres_platform(
    state_dir: Path, prefix: str = "mlops_test", **settings: Any
) -> Iterator[LocalPlatform]:
    """MLflow in a PostgreSQL database of its own (dropped afterwards), Feast online on
    this machine's Redis (database 0 unless `redis_url` says otherwise)."""
    require_service("Redis", 6379)
    settings.setdefault("redis_url", "redis://127.0.0.1:6379/0")
    with postgres_database(prefix) as name:
        db_url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        with running(make_platform(state_dir, db_url=db_url, **settings)) as platform:
            yield platform


def component_env(platform: Any, work: Path) -> dict[str, str]:
    """`platform.env()` with a feature repo and registry of this test's own, so tests that
    apply the feature repo do not share registry state."""
    env: dict[str, str] = platform.env()
    bucket = env["MLOPS_ARTIFACT_BUCKET"]
    env["MLOPS_FEAST_REPO"] = str(work / "feast")
    env["MLOPS_FEAST_REGISTRY"] = f"s3://{bucket}/feast/{work.name}/registry.db"
    return env


@dataclass(frozen=True)
class MlflowServer:
    """A tracking server started as the MLflow component renders it (basic-auth,
    workspaces, ``default_permission`` from the component) on SQLite."""

    url: str
    admin: tuple[str, str]
    backend_store_uri: str
    artifacts: Path

    def admin_env(self) -> dict[str, str]:
        """What the provisioning Job runs with: the admin's credentials."""
        return {
            "MLFLOW_TRACKING_URI": self.url,
            "MLFLOW_TRACKING_USERNAME": self.admin[0],
            "MLFLOW_TRACKING_PASSWORD": self.admin[1],
        }


@contextmanager
def mlflow_server(work: Path, timeout: float = 120) -> Iterator[MlflowServer]:
    """`mlflow server` with the component's rendered settings, on a free port, stopped
    (its process group) on exit."""
    import requests

    from infra.services.mlflow.component import render_auth_ini, render_server_settings
    from mlops.local import tether

    work.mkdir(parents=True, exist_ok=True)
    backend = f"sqlite:///{work / 'mlflow.db'}"
    ini = work / "basic_auth.ini"
    ini.write_text(render_auth_ini(database_uri=f"sqlite:///{work / 'auth.db'}"))
    port = free_port()
    settings = render_server_settings(
        artifacts_destination=str(work / "artifacts"),
        basic_auth=True,
        auth_config_path=str(ini),
        host="127.0.0.1",
        port=port,
        prometheus_dir=str(work / "prometheus"),
    )
    password = uuid.uuid4().hex
    env = {
        **os.environ,
        **settings.env,
        "MLFLOW_BACKEND_STORE_URI": backend,
        "MLFLOW_AUTH_ADMIN_PASSWORD": password,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": uuid.uuid4().hex,
    }
    args = [str(Path(sys.executable).parent / "mlflow"), *settings.args[1:]]
    url = f"http://127.0.0.1:{port}"
    with (work / "server.log").open("w") as log:
        proc = subprocess.Popen(
            args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        # stopped with the test run however it ends (a SIGKILL included)
        tether.watch(proc.pid)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError((work / "server.log").read_text()[-3000:])
                try:
                    if requests.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"MLflow did not become healthy in {timeout:.0f} s")
                time.sleep(0.2)
            yield MlflowServer(
                url=url,
                admin=("admin", password),
                backend_store_uri=backend,
                artifacts=work / "artifacts",
            )
        finally:
            try:
                os.killpg(proc.pid, 15)
                proc.wait(timeout=20)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
