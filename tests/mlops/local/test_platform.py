"""The default local platform (SQLite everywhere) on real servers, in test order:
S3, status, idempotence, Feast, serving, down/up, SIGKILL of MLflow.

The tests that only read, or work under names of their own, run on the session's platform
(`platform_sqlite`); the ones that stop, kill and restart servers on this module's own
(`platform`), and prepare there what they check afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from local_helpers import (
    MODEL,
    check_feast_online_store,
    dataset,
    infer,
    train_and_register,
    use_env,
)

from mlops.local.platform import LocalPlatform
from mlops.local.process import http_ok

pytestmark = pytest.mark.slow


def test_s3_versioned_bucket_roundtrip(platform_sqlite: LocalPlatform) -> None:
    s3 = platform_sqlite.s3_client()
    bucket = platform_sqlite.config.bucket
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    first = s3.put_object(Bucket=bucket, Key="t/object.txt", Body=b"one")["VersionId"]
    s3.put_object(Bucket=bucket, Key="t/object.txt", Body=b"two")
    assert s3.get_object(Bucket=bucket, Key="t/object.txt")["Body"].read() == b"two"
    old = s3.get_object(Bucket=bucket, Key="t/object.txt", VersionId=first)
    assert old["Body"].read() == b"one"
    versions = s3.list_object_versions(Bucket=bucket, Prefix="t/object.txt")["Versions"]
    assert len(versions) == 2


def test_s3_refuses_other_credentials(platform_sqlite: LocalPlatform) -> None:
    import boto3
    from botocore.exceptions import ClientError

    stranger = boto3.client(
        "s3",
        endpoint_url=platform_sqlite.s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="someone",
        aws_secret_access_key="else",
    )
    with pytest.raises(ClientError):
        stranger.list_objects_v2(Bucket=platform_sqlite.config.bucket)


def test_status_endpoints_health_and_lean_mlflow(platform_sqlite: LocalPlatform) -> None:
    status = platform_sqlite.status()
    assert status["healthy"] is True
    for server in status["servers"].values():
        assert server["endpoint"].startswith("http://127.0.0.1:")
        assert Path(server["log"]).is_file()
    # The budget for the tracking server's whole process tree (600 MB), plus what
    # the basic-auth app of teams costs: `mlflow server` imports it in its launcher process
    # too (measured 499 MB without it, 601 MB with it).
    assert status["servers"]["mlflow"]["rss_mb"] <= 650
    assert status["servers"]["mlflow"]["backend"] == "sqlite"
    # what the local platform does not use is off: the job runner and telemetry
    environ = Path(f"/proc/{status['servers']['mlflow']['pid']}/environ").read_bytes()
    assert {b"MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false", b"MLFLOW_DISABLE_TELEMETRY=true"} <= set(
        environ.split(b"\0")
    )
    assert status["servers"]["model"]["state"] == "no model"
    assert status["feast"]["online_store"] == "sqlite"
    env = platform_sqlite.env()
    assert env["MLFLOW_TRACKING_URI"] == platform_sqlite.mlflow_uri
    assert env["AWS_ENDPOINT_URL"] == env["MLFLOW_S3_ENDPOINT_URL"] == platform_sqlite.s3_endpoint


def test_every_listener_is_on_loopback(platform_sqlite: LocalPlatform) -> None:
    import psutil

    pids = set()
    for server in platform_sqlite.servers.values():
        pid = server.pid()
        assert pid is not None
        root = psutil.Process(pid)
        pids |= {root.pid, *(c.pid for c in root.children(recursive=True))}
    listeners = [
        c
        for c in psutil.net_connections("inet")
        if c.pid in pids and c.status == psutil.CONN_LISTEN
    ]
    assert len(listeners) >= 5  # S3, its master/volume/filer, MLflow, MLServer
    assert {c.laddr.ip for c in listeners} <= {"127.0.0.1", "::ffff:127.0.0.1"}


def test_up_again_is_a_noop(platform_sqlite: LocalPlatform) -> None:
    before = {name: s.pid() for name, s in platform_sqlite.servers.items()}
    messages: list[str] = []
    started = time.monotonic()
    platform_sqlite.up(progress=messages.append)
    assert time.monotonic() - started < 10
    assert {name: s.pid() for name, s in platform_sqlite.servers.items()} == before
    assert any("already running" in m for m in messages)


def test_feast_online_store_sqlite(
    platform_sqlite: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_feast_online_store(platform_sqlite, monkeypatch)
    assert (platform_sqlite.feast_repo_path / "data" / "online.db").is_file()


def serve_champions(p: LocalPlatform, name: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Register two versions of ``name``, serve each as champion in turn; the last one's
    version."""
    from mlflow import MlflowClient

    use_env(p, monkeypatch)
    client = MlflowClient(p.mlflow_uri)
    _, first = train_and_register(name, c=1.0)
    client.set_registered_model_alias(name, "champion", first)
    assert p.reload_model(name) == first
    x, _ = dataset()
    answer = infer(p.model_server_url, name, x.head(3))
    assert answer["model_version"] == first
    assert answer["outputs"][0]["shape"][0] == 3
    assert set(answer["outputs"][0]["data"]) <= {0, 1}

    _, second = train_and_register(name, c=0.1)
    client.set_registered_model_alias(name, "champion", second)
    assert p.reload_model(name) == second
    assert infer(p.model_server_url, name, x.head(1))["model_version"] == second
    return second


# make test-all: a second serving scenario (test_feast_online_store_sqlite serves and infers)
@pytest.mark.long
def test_serves_champion_and_reloads(
    platform_sqlite: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a model of this test's own on the shared server: its status model stays untouched
    name = f"serving-test-{uuid.uuid4().hex[:8]}"
    serve_champions(platform_sqlite, name, monkeypatch)
    assert http_ok(f"{platform_sqlite.model_server_url}/v2/models/{name}/ready")


@pytest.mark.long
def test_down_then_up_keeps_runs_models_objects_features(
    platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient

    # what the restart must keep: a feature registry, a served champion, a run, an object
    check_feast_online_store(platform, monkeypatch)
    serve_champions(platform, MODEL, monkeypatch)
    model = platform.status()["servers"]["model"]
    assert model["state"] == "serving"
    use_env(platform, monkeypatch)
    run_id, version = train_and_register(MODEL, c=0.5)
    s3 = platform.s3_client()
    s3.put_object(Bucket=platform.config.bucket, Key="keep/me.txt", Body=b"kept")

    assert set(platform.down()) == {"s3", "mlflow", "model"}
    assert not http_ok(f"{platform.mlflow_uri}/health")
    assert not any(s.alive() for s in platform.servers.values())
    platform.up()

    client = MlflowClient(platform.mlflow_uri)
    assert client.get_run(run_id).info.status == "FINISHED"
    assert client.get_model_version(MODEL, version).status == "READY"
    body = s3.get_object(Bucket=platform.config.bucket, Key="keep/me.txt")["Body"].read()
    assert body == b"kept"
    status = platform.status()
    assert status["feast"]["registry_exists"] is True
    # The champion survives too and is served again after the restart.
    champion = client.get_model_version_by_alias(MODEL, "champion").version
    assert status["servers"]["model"]["version"] == str(champion)
    # Artifacts come back through the proxy from the restarted S3.
    import mlflow

    mlmodel = mlflow.artifacts.load_text(f"runs:/{run_id}/model/MLmodel")
    assert "sklearn" in mlmodel


TRAINER = """
import sys, time, mlflow
mlflow.set_experiment("sigkill")
with mlflow.start_run() as run:
    print(run.info.run_id, flush=True)
    for step in range(100000):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
"""


@pytest.mark.long
def test_sigkill_mlflow_during_training_loses_nothing_finished(
    platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    use_env(platform, monkeypatch)
    finished_run, version = train_and_register(MODEL, c=2.0, experiment="sigkill")
    client = MlflowClient(platform.mlflow_uri)
    client.set_registered_model_alias(MODEL, "challenger", version)

    # A training run writing to the server while it is killed.
    # No client retries: the trainer should fail when the server dies, not wait ~2 min.
    env = {**os.environ, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}
    trainer = subprocess.Popen(
        [sys.executable, "-c", TRAINER],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert trainer.stdout is not None
        live_run = trainer.stdout.readline().strip()
        time.sleep(1.0)
        pid = platform.servers["mlflow"].pid()
        assert pid is not None
        # kill -9 the server: its leader and its uvicorn worker, mid-write.
        os.killpg(pid, signal.SIGKILL)
        assert trainer.wait(timeout=30) != 0
    finally:
        if trainer.poll() is None:
            trainer.kill()
            trainer.wait()
    assert not http_ok(f"{platform.mlflow_uri}/health")

    platform.up()
    assert platform.status()["servers"]["mlflow"]["healthy"] is True
    run = client.get_run(finished_run)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"C": "2.0"}
    assert client.get_model_version(MODEL, version).status == "READY"
    assert client.get_model_version_by_alias(MODEL, "challenger").version == version
    versions = {int(v.version) for v in client.search_model_versions(f"name='{MODEL}'")}
    assert versions == set(range(1, int(version) + 1))
    # The interrupted run is still there with the metrics it managed to log.
    assert client.get_metric_history(live_run, "loss")
