"""Settings resolution: what another process (a pipeline component, the runner) relies on
to find the running platform from the state dir alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops.errors import UsageError
from mlops.local.platform import DEFAULT_MLFLOW_PORT, LocalPlatform, LocalSettings


def test_defaults_are_fixed_and_loopback(tmp_path: Path) -> None:
    p = LocalPlatform(LocalSettings(state_dir=tmp_path))
    assert p.mlflow_uri == f"http://127.0.0.1:{DEFAULT_MLFLOW_PORT}"
    assert p.backend_store_uri == f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    assert p.feast_registry == "s3://mlops-local-artifacts/feast/registry.db"
    assert p.env()["MLOPS_FEAST_ONLINE_STORE"] == ""


def test_state_dir_alone_finds_the_settings_of_the_last_up(tmp_path: Path) -> None:
    chosen = LocalPlatform(
        LocalSettings(
            state_dir=tmp_path,
            s3_port=19001,
            mlflow_port=19002,
            model_port=19003,
            db_url="postgresql://u:secret@127.0.0.1:5432/db",
            redis_url="redis://127.0.0.1:6379/2",
        )
    )
    # What `up` records before it starts anything.
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "platform.json").write_text(json.dumps(chosen.config.__dict__))
    found = LocalPlatform(LocalSettings(state_dir=tmp_path))
    assert found.config == chosen.config
    env = found.env()
    assert env["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:19002"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:19001"
    assert env["MLOPS_MODEL_SERVER_URL"] == "http://127.0.0.1:19003"
    assert env["MLOPS_FEAST_ONLINE_STORE"] == "redis://127.0.0.1:6379/2"
    assert env["MLOPS_LOCAL_STATE_DIR"] == str(tmp_path.resolve())
    # An explicit choice wins over the record; `sqlite` switches the backend back.
    back = LocalPlatform(LocalSettings(state_dir=tmp_path, db_url="sqlite", mlflow_port=19010))
    assert back.backend_store_uri.startswith("sqlite:///")
    assert back.mlflow_uri == "http://127.0.0.1:19010"
    # The password never reaches status output.
    assert "secret" not in json.dumps(found.status())


@pytest.mark.parametrize(
    "overrides",
    [
        {"db_url": "oracle://x"},
        {"redis_url": "http://x"},
        {"model_port": 70000},
    ],
)
def test_bad_settings_are_usage_errors(tmp_path: Path, overrides: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        LocalPlatform(LocalSettings(state_dir=tmp_path, **overrides))  # type: ignore[arg-type]


def test_env_command_prints_exports(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mlops.cli import app

    result = CliRunner().invoke(app, ["local", "env", "--state-dir", str(tmp_path)])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "export MLFLOW_TRACKING_URI=http://127.0.0.1:5000" in lines
    assert all(line.startswith("export ") for line in lines)
