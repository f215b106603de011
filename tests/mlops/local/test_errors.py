"""Failures of `mlops local up`: one line naming the server and its log, no traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from local_helpers import free_port, require_service
from typer.testing import CliRunner

from mlops.cli import app
from mlops.local.platform import LocalPlatform, LocalSettings


def _one_line_error(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[-1]


def test_taken_port_is_one_line_naming_server_and_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _one_line_error(
            [
                "local",
                "up",
                "--state-dir",
                str(tmp_path),
                "--s3-port",
                str(port),
                "--mlflow-port",
                str(free_port()),
                "--model-port",
                str(free_port()),
            ]
        )
    assert f"port {port}" in line and line.startswith("error: s3:")
    assert str(tmp_path / "logs" / "s3.log") in line
    # Nothing was left running.
    assert not list((tmp_path / "run").glob("*.pid"))


@pytest.mark.slow
def test_server_that_exits_is_one_line_naming_its_log(tmp_path: Path) -> None:
    # MLflow exits at once: this machine has no MySQL driver.
    line = _one_line_error(
        [
            "local",
            "up",
            "--state-dir",
            str(tmp_path),
            "--db",
            "mysql://root@127.0.0.1:1/none",
            "--s3-port",
            str(free_port()),
            "--mlflow-port",
            str(free_port()),
            "--model-port",
            str(free_port()),
        ]
    )
    assert line.startswith("error: mlflow: server failed to start")
    assert str(tmp_path / "logs" / "mlflow.log") in line
    LocalPlatform(LocalSettings(state_dir=tmp_path)).down()
    assert not list((tmp_path / "run").glob("*.pid"))


@pytest.mark.services
def test_unreachable_database_fails_fast(tmp_path: Path) -> None:
    require_service("PostgreSQL", 5432)
    p = LocalPlatform(
        LocalSettings(
            state_dir=tmp_path, db_url="postgresql://postgres@127.0.0.1:5432/no_such_db_mlops"
        )
    )
    with pytest.raises(Exception, match=r"^mlflow: cannot use database .*no_such_db_mlops"):
        p._check_database()


def test_bad_urls_are_usage_errors(tmp_path: Path) -> None:
    line = _one_line_error(
        ["local", "up", "--state-dir", str(tmp_path), "--redis", "memcached://x"]
    )
    assert "--redis" in line
    line = _one_line_error(["local", "up", "--state-dir", str(tmp_path), "--s3-port", "0"])
    assert "--s3-port" in line
    line = _one_line_error(
        ["local", "up", "--state-dir", str(tmp_path), "--s3-port", "5000", "--mlflow-port", "5000"]
    )
    assert "must differ" in line


def test_status_of_a_stopped_platform_exits_1_with_json(tmp_path: Path) -> None:
    import json

    result = CliRunner().invoke(app, ["local", "status", "--state-dir", str(tmp_path), "--json"])
    assert result.exit_code == 1
    status = json.loads(result.stdout)
    assert status["healthy"] is False
    assert {s["running"] for s in status["servers"].values()} == {False}
