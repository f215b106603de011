"""The pipelines under the environment the cluster gives them (`mlops-pipelines-env`).

What `components.kfp` writes into the ConfigMap — a data prefix, a TLS/password Redis or
DynamoDB online store, the Redis token's Secrets Manager ARN, the Pushgateway — is fed to
the components here against real servers: a password-protected redis-server, an HTTP
receiver standing in for the Pushgateway, moto for Secrets Manager.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from kfp.dsl import HTML, Dataset, Metrics
from servers import free_port

from pipelines import feast_repo, settings, storage
from pipelines import kfp_components as c
from pipelines.data import feature_columns, load_dataset


def _art(cls: type[Any], tmp_path: Path, name: str) -> Any:
    return cls(name=name, uri=str(tmp_path / name), metadata={})


def test_data_prefix_moves_everything_the_pipelines_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(settings.BUCKET_ENV, "b")
    monkeypatch.delenv(settings.DATA_PREFIX_ENV, raising=False)
    assert settings.features_uri() == "s3://b/features/breast_cancer.parquet"
    monkeypatch.setenv(settings.DATA_PREFIX_ENV, "/pipelines/")
    assert settings.features_uri() == "s3://b/pipelines/features/breast_cancer.parquet"
    assert settings.inference_uri("m") == "s3://b/pipelines/inference/m/recent.parquet"
    from pipelines.drift import report_prefix

    assert report_prefix("m").startswith("s3://b/pipelines/drift/m/")


def test_online_store_blocks_for_the_cloud_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(feast_repo.REDIS_PASSWORD_ENV, raising=False)
    plain = yaml.safe_load(feast_repo.online_store_yaml("rediss://cache.example:6379/0", tmp_path))
    assert plain == {"type": "redis", "connection_string": "cache.example:6379,db=0,ssl=true"}
    monkeypatch.setenv(feast_repo.REDIS_PASSWORD_ENV, "s3cr3t")
    block = feast_repo.online_store_yaml("rediss://cache.example:6379/0", tmp_path)
    # a reference Feast expands when it reads the file: the token is never written
    assert "s3cr3t" not in block
    assert yaml.safe_load(block)["connection_string"].endswith(
        ",ssl=true,password=${REDIS_PASSWORD}"
    )
    assert yaml.safe_load(feast_repo.online_store_yaml("dynamodb://eu-west-1", tmp_path)) == {
        "type": "dynamodb",
        "region": "eu-west-1",
        "table_name_template": "{project}.{table_name}",
    }
    with pytest.raises(feast_repo.FeastError, match="dynamodb://region"):
        feast_repo.online_store_yaml("dynamodb://", tmp_path)


def test_the_redis_token_comes_from_secrets_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from moto import mock_aws

    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    # set (empty) through monkeypatch, so the token written below is undone after the test
    monkeypatch.setenv(feast_repo.REDIS_PASSWORD_ENV, "")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(
            Name="mlops-dev/feast/redis-auth",
            SecretString=json.dumps({"host": "h", "port": 6379, "auth_token": "tok-en"}),
        )["ARN"]
        monkeypatch.setenv(settings.REDIS_AUTH_SECRET_ENV, arn)
        feast_repo.load_redis_password()
        assert os.environ[feast_repo.REDIS_PASSWORD_ENV] == "tok-en"
        monkeypatch.setenv(feast_repo.REDIS_PASSWORD_ENV, "")
        monkeypatch.setenv(settings.REDIS_AUTH_SECRET_ENV, arn.replace("redis-auth", "nope"))
        with pytest.raises(feast_repo.FeastError) as err:
            feast_repo.load_redis_password()
        assert "cannot read the Redis AUTH token" in str(err.value)
        assert "\n" not in str(err.value)


@pytest.fixture
def protected_redis(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """A redis-server of this test's own that requires a password; stopped afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("MLOPS_REQUIRE_SERVICES") == "1":
            pytest.fail("redis-server is not installed and MLOPS_REQUIRE_SERVICES=1")
        pytest.skip("redis-server is not installed")
    port, password = free_port(), uuid.uuid4().hex
    server = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--requirepass",
            password,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port, password=password)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
        yield port, password
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_features_reach_a_password_protected_redis_under_the_data_prefix(
    env_sqlite: dict[str, str],
    protected_redis: tuple[int, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import redis

    port, password = protected_redis
    monkeypatch.setenv(settings.DATA_PREFIX_ENV, "pipelines")
    monkeypatch.setenv(settings.FEAST_PROJECT_ENV, "platform")
    monkeypatch.setenv(settings.FEAST_ONLINE_STORE_ENV, f"redis://127.0.0.1:{port}/0")
    monkeypatch.setenv(feast_repo.REDIS_PASSWORD_ENV, password)

    features, labels = _art(Dataset, tmp_path, "features"), _art(Dataset, tmp_path, "labels")
    out = c.ingest_features.python_func(features=features, labels=labels)
    bucket = env_sqlite["MLOPS_ARTIFACT_BUCKET"]
    assert out.features_uri == f"s3://{bucket}/pipelines/features/breast_cancer.parquet"
    assert out.labels_uri.startswith(f"s3://{bucket}/pipelines/features/")

    repo = Path(c.apply_feature_store.python_func(features=features, features_uri=out.features_uri))
    text = (repo / "feature_store.yaml").read_text()
    assert password not in text and "password=${REDIS_PASSWORD}" in text
    assert yaml.safe_load(text)["project"] == "platform"
    online = feast_repo.online_features(repo, [1, 569])
    published = storage.read_parquet(out.features_uri).set_index(settings.ENTITY)
    assert online["mean_radius"] == published.loc[[1, 569], "mean_radius"].tolist()
    # the rows are in that server, which refuses clients without the password
    assert redis.Redis(host="127.0.0.1", port=port, password=password).dbsize() > 0
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=port).dbsize()


class _Receiver(BaseHTTPRequestHandler):
    """Records what a Pushgateway would receive."""

    received: list[tuple[str, str, bytes]] = []

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append((self.command, self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", _Receiver.received
    finally:
        server.shutdown()
        server.server_close()


def test_drift_share_is_pushed_for_the_alert(
    env_sqlite: dict[str, str],
    gateway: tuple[str, list[tuple[str, str, bytes]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infra.services.monitoring.component import DRIFT_SHARE, MonitoringArgs, alert_rules
    from infra.services.monitoring.config import MonitoringConfig

    url, received = gateway
    monkeypatch.setenv(settings.PUSHGATEWAY_ENV, url)
    monkeypatch.setenv(settings.DATA_PREFIX_ENV, "pipelines")
    frame = load_dataset()
    storage.write_parquet(frame.drop(columns=[settings.LABEL]), settings.features_uri())
    shifted = frame[feature_columns()].sample(150, random_state=4) * 1.6
    current = storage.write_parquet(shifted, settings.inference_uri("push-test"))
    report = _art(HTML, tmp_path, "report.html")
    drifted = c.detect_drift.python_func(
        model_name="push-test",
        current_uri=current,
        threshold=0.3,
        report=report,
        drift=_art(Metrics, tmp_path, "drift"),
    )
    assert drifted is True
    bucket = env_sqlite["MLOPS_ARTIFACT_BUCKET"]
    assert report.metadata["uri"].startswith(f"s3://{bucket}/pipelines/drift/push-test/")

    ((method, path, body),) = received
    # one group per model: a new check replaces that model's value and no other's
    assert (method, path) == ("PUT", "/metrics/job/mlops-drift/model/push-test")
    samples = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in body.decode().splitlines()
        if line and not line.startswith("#")
    }
    assert samples[DRIFT_SHARE] > 0.3 and samples["mlops_drift_detected"] == 1.0
    # ...which is the series the monitoring component's alert watches
    rules = json.dumps(alert_rules(MonitoringArgs(config=MonitoringConfig(), model_servers=True)))
    assert f"max by (model) ({DRIFT_SHARE})" in rules
