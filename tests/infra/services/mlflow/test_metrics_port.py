"""Prometheus scrapes MLflow for real: a tracking server started with the rendered settings
(its host check and auth app included) and the metrics sidecar's script, run as the pod
runs them.

Prometheus sends the target address as the Host header (``<pod IP>:<port>``) and must not
hold the admin password. MLflow's own /metrics refuses both ways in (measured here, MLflow
3.17); the sidecar answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from service_helpers import free_port

from infra.services.mlflow.component import (
    METRICS_EXPORTER,
    render_auth_ini,
    render_server_settings,
    service_hosts,
)

pytestmark = [pytest.mark.services, pytest.mark.slow]
BIN = Path(sys.executable).parent
POD_IP = "10.0.3.17"
# Feast, imported by the suite, points prometheus_client at a directory of its own; the
# pod's processes have no such variable
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.upper().startswith("PROMETHEUS_")}


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path, **kw: object) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if requests.get(url, timeout=2, **kw).status_code == 200:  # type: ignore[arg-type]
                return
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.5)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int, str, Path]]:
    """A basic-auth tracking server (SQLite) with the component's host list; yields its
    base URL, port, admin password and metrics directory."""
    ini = tmp_path / "basic_auth.ini"
    ini.write_text(render_auth_ini(database_uri=f"sqlite:///{tmp_path / 'auth.db'}"))
    port = free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()  # the pod's emptyDir
    settings = render_server_settings(
        artifacts_destination=str(tmp_path / "artifacts"),
        auth_config_path=str(ini),
        host="127.0.0.1",
        port=port,
        prometheus_dir=str(metrics_dir),
        allowed_hosts=service_hosts("mlflow", "mlflow", "mlflow.example.org"),
    )
    password = uuid.uuid4().hex
    env = {
        **CLEAN_ENV,
        **settings.env,
        "MLFLOW_BACKEND_STORE_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "MLFLOW_AUTH_ADMIN_PASSWORD": password,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": uuid.uuid4().hex,
    }
    log = tmp_path / "server.log"
    proc = subprocess.Popen(
        [str(BIN / "mlflow"), *settings.args[1:]],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/health", proc, log)
        yield f"http://127.0.0.1:{port}", port, password, metrics_dir
    finally:
        _stop(proc)


def test_prometheus_is_answered_by_the_sidecar_not_by_mlflow(
    server: tuple[str, int, str, Path], tmp_path: Path
) -> None:
    base, port, password, metrics_dir = server
    admin = ("admin", password)
    service = {"Host": "mlflow.mlflow.svc.cluster.local"}
    created = requests.post(
        f"{base}/api/2.0/mlflow/users/create",
        json={"username": "prometheus", "password": "p" * 16},
        auth=admin,
        headers=service,
        timeout=10,
    )
    assert created.status_code == 200, created.text
    # MLflow's own /metrics: the target address is not an allowed host ...
    as_target = {"Host": f"{POD_IP}:{port}"}
    refused = requests.get(f"{base}/metrics", auth=admin, headers=as_target, timeout=10)
    assert refused.status_code == 403 and "Invalid Host header" in refused.text
    # ... and through a Service name, only the admin may read it (fail-closed authorization)
    other = requests.get(
        f"{base}/metrics", auth=("prometheus", "p" * 16), headers=service, timeout=10
    )
    assert other.status_code == 403
    assert requests.get(f"{base}/metrics", auth=admin, headers=service, timeout=10).ok

    # the sidecar, as the pod runs it, over the same multiprocess directory
    metrics_port = free_port()
    log = tmp_path / "sidecar.log"
    sidecar = subprocess.Popen(
        [str(BIN / "python"), "-c", METRICS_EXPORTER],
        env={
            **CLEAN_ENV,
            "MLOPS_METRICS_DIR": str(metrics_dir),
            "MLOPS_METRICS_PORT": str(metrics_port),
        },
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        # no credentials, the pod IP as Host: what Prometheus sends
        _wait(url, sidecar, log, headers={"Host": f"{POD_IP}:{metrics_port}"})
        text = requests.get(url, headers={"Host": f"{POD_IP}:{metrics_port}"}, timeout=10).text
        # the server's request series, written by its workers, aggregated by the sidecar
        assert "mlflow_exporter_info" in text
        assert "mlflow_http_request_total" in text
        assert 'status="403"' in text
    finally:
        _stop(sidecar)
