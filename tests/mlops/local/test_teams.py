"""Teams on the local platform: the dev stack's teams, each with its MLflow workspace, pipeline
user and prefix; `--team` on `mlops local env`, `mlops pipeline run` and `mlops model`.

The real-server tests work on the session's platform under model names of their own, as a
team would: what one team makes lands in its workspace and under its prefix, and the other
team's credentials are refused by MLflow (asserted, not only the successes).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from local_helpers import dataset, train_and_register
from typer.testing import CliRunner

from mlops.cli import app
from mlops.errors import UsageError
from mlops.local.platform import LocalPlatform, LocalSettings
from mlops.local.teams import SECRETS_FILE, declared_teams

ROOT = Path(__file__).resolve().parents[3]
MLOPS = str(Path(sys.executable).parent / "mlops")
WS = "X-MLFLOW-WORKSPACE"


def _exports(output: str) -> dict[str, str]:
    import shlex

    values = {}
    for line in output.splitlines():
        assert line.startswith("export "), line
        key, _, value = line.removeprefix("export ").partition("=")
        values[key] = shlex.split(value)[0] if value else ""
    return values


# ------------------------------------------------------------------ no servers


def test_the_teams_are_the_dev_stacks() -> None:
    raw = yaml.safe_load((ROOT / "environments" / "Pulumi.dev.yaml").read_text())
    declared = [t["name"] for t in raw["config"]["mlops-platform:platform"]["teams"]]
    assert declared_teams() == tuple(declared)
    assert len(declared) >= 2  # the demo shows two teams


def test_env_team_exports_the_teams_identity_and_keeps_its_password(tmp_path: Path) -> None:
    runner = CliRunner()
    fraud = runner.invoke(app, ["local", "env", "--team", "fraud", "--state-dir", str(tmp_path)])
    assert fraud.exit_code == 0, fraud.output
    values = _exports(fraud.stdout)
    assert values["MLFLOW_TRACKING_USERNAME"] == "fraud-pipelines"
    assert values["MLFLOW_WORKSPACE"] == "fraud"
    assert values["MLOPS_DATA_PREFIX"] == "teams/fraud"
    kept = json.loads((tmp_path / SECRETS_FILE).read_text())
    assert values["MLFLOW_TRACKING_PASSWORD"] == kept["users"]["fraud-pipelines"]
    # generated once, readable by this user alone, never the admin's in any output
    assert stat.S_IMODE((tmp_path / SECRETS_FILE).stat().st_mode) == 0o600
    assert kept["admin"] not in fraud.output
    again = runner.invoke(app, ["local", "env", "--team", "fraud", "--state-dir", str(tmp_path)])
    assert _exports(again.stdout) == values
    recsys = _exports(
        runner.invoke(
            app, ["local", "env", "--team", "recsys", "--state-dir", str(tmp_path)]
        ).stdout
    )
    assert recsys["MLFLOW_TRACKING_PASSWORD"] != values["MLFLOW_TRACKING_PASSWORD"]


def test_env_without_team_is_the_shared_account_in_the_default_workspace(
    tmp_path: Path,
) -> None:
    done = CliRunner().invoke(app, ["local", "env", "--state-dir", str(tmp_path)])
    values = _exports(done.stdout)
    assert values["MLFLOW_TRACKING_USERNAME"] == "pipelines"
    # empty, so they clear what an earlier `eval "$(mlops local env --team ...)"` exported
    assert values["MLFLOW_WORKSPACE"] == "" and values["MLOPS_DATA_PREFIX"] == ""


@pytest.mark.parametrize(
    "args",
    [
        ["local", "env", "--team", "nope"],
        ["pipeline", "run", "features", "--local", "--team", "nope"],
        ["model", "show", "m", "--team", "nope"],
        ["model", "list", "--team", "nope"],
        ["model", "serve", "m", "--team", "nope"],
        ["model", "promote", "m", "--team", "nope"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_an_unknown_team_is_one_line_naming_the_known_ones(args: list[str], tmp_path: Path) -> None:
    done = CliRunner().invoke(app, args, env={"MLOPS_LOCAL_STATE_DIR": str(tmp_path)})
    assert done.exit_code == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "error: --team: unknown team 'nope'; the teams of Pulumi.dev.yaml are fraud, recsys"
    ]


def test_a_team_run_serves_from_its_own_namespace() -> None:
    done = CliRunner().invoke(
        app,
        ["pipeline", "run", "training", "--local", "--team", "fraud", "-p", "team=recsys"],
    )
    assert done.exit_code == 2
    assert "--team fraud and --param team=recsys disagree" in done.stderr


def test_lost_secrets_beside_mlflows_users_say_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "mlflow").mkdir()
    (tmp_path / "mlflow" / "auth.db").write_bytes(b"")
    with pytest.raises(UsageError, match=r"restore it, or remove .*auth\.db"):
        LocalPlatform(LocalSettings(state_dir=tmp_path)).env("fraud")


# ------------------------------------------------------------------ on real servers


def _api(
    p: LocalPlatform, team: str | None, workspace: str | None = None
) -> tuple[Any, dict[str, str]]:
    """(auth, headers) of `team`'s pipeline user asking for `workspace` (default its own)."""
    env = p.env(team)
    ws = workspace if workspace is not None else env["MLFLOW_WORKSPACE"]
    return (env["MLFLOW_TRACKING_USERNAME"], env["MLFLOW_TRACKING_PASSWORD"]), (
        {WS: ws} if ws else {}
    )


def _mlops(p: LocalPlatform, *args: str) -> subprocess.CompletedProcess[str]:
    # nothing of the test's own MLflow identity leaks into the command
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_DATA"))}
    env["MLOPS_LOCAL_STATE_DIR"] = str(p.state_dir)
    return subprocess.run(
        [MLOPS, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=180
    )


# make test-all: the model commands as a team, end to end (make test keeps the demo's
# isolation check below, and the isolation matrix on a real server)
@pytest.mark.long
@pytest.mark.slow
def test_a_teams_model_lands_in_its_workspace_and_prefix_and_the_other_team_is_refused(
    platform_sqlite: LocalPlatform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import mlflow

    p = platform_sqlite
    name = f"team-model-{uuid.uuid4().hex[:8]}"
    # train and register as team fraud (what its pipeline steps get from `--team fraud`)
    for key, value in p.env("fraud").items():
        monkeypatch.setenv(key, value)
    mlflow.set_tracking_uri(p.mlflow_uri)
    run_id, version = train_and_register(name, experiment=f"exp-{name}")

    # the model's artifacts are under the team's prefix of the bucket (the workspace's root)
    where = mlflow.MlflowClient().get_model_version_download_uri(name, version)
    prefix = f"s3://{p.config.bucket}/teams/fraud/mlflow/"
    assert where.startswith(prefix), where
    key = f"{where.removeprefix(f's3://{p.config.bucket}/')}/MLmodel"
    p.s3_client().head_object(Bucket=p.config.bucket, Key=key)
    assert mlflow.get_run(run_id).info.experiment_id

    holdout = tmp_path / "holdout.csv"
    features, labels = dataset()
    features.assign(target=labels).to_csv(holdout, index=False)
    done = _mlops(
        p, "model", "promote", name, "--version", version, "--holdout", str(holdout),
        "--team", "fraud",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "as fraud-pipelines in MLflow workspace fraud" in done.stdout

    # in fraud's workspace, with fraud's credentials: found, champion set
    auth, headers = _api(p, "fraud")
    url = f"{p.mlflow_uri}/api/2.0/mlflow"
    got = requests.get(
        f"{url}/registered-models/alias",
        params={"name": name, "alias": "champion"},
        auth=auth,
        headers=headers,
        timeout=20,
    )
    assert got.status_code == 200 and got.json()["model_version"]["version"] == version

    # recsys, asking for fraud's workspace: refused to read and to promote
    auth, headers = _api(p, "recsys", workspace="fraud")
    read = requests.get(
        f"{url}/registered-models/get", params={"name": name}, auth=auth, headers=headers
    )
    assert read.status_code == 403
    alias = requests.post(
        f"{url}/registered-models/alias",
        json={"name": name, "alias": "champion", "version": version},
        auth=auth,
        headers=headers,
    )
    assert alias.status_code == 403
    # the shared account (no team) is refused in fraud's workspace too
    auth, headers = _api(p, None, workspace="fraud")
    assert (
        requests.get(
            f"{url}/registered-models/get", params={"name": name}, auth=auth, headers=headers
        ).status_code
        == 403
    )
    # in their own workspaces the model does not exist: the commands say so
    listed = _mlops(p, "model", "list", "--json", "--team", "recsys")
    assert listed.returncode == 0, listed.stderr
    assert name not in {m["name"] for m in json.loads(listed.stdout)}
    shown = _mlops(p, "model", "show", name, "--team", "recsys")
    assert shown.returncode == 1
    assert shown.stderr.strip() == (
        f"error: registered model {name!r} not found in MLflow workspace recsys"
    )
    assert _mlops(p, "model", "list", "--json", "--team", "fraud").stdout.count(name) == 1


# make test-all: a pipeline run as a team
@pytest.mark.long
@pytest.mark.slow
def test_a_team_pipeline_run_writes_under_its_prefix_and_logs_in_its_workspace(
    platform_sqlite: LocalPlatform, tmp_path: Path
) -> None:
    """The cheapest pipeline that logs to MLflow (drift), run as team recsys."""
    import pandas as pd

    from pipelines import settings
    from pipelines.data import feature_columns, load_dataset

    p = platform_sqlite
    model = f"drift-{uuid.uuid4().hex[:8]}"
    s3 = p.s3_client()
    frame = load_dataset()
    # what the team's features pipeline and model server would have written, at its prefix
    for key, rows in (
        (f"teams/recsys/features/{settings.DATASET}.parquet", frame),
        (f"teams/recsys/inference/{model}/recent.parquet", frame[feature_columns()].head(60)),
    ):
        path = tmp_path / "f.parquet"
        pd.DataFrame(rows).to_parquet(path)
        s3.upload_file(str(path), p.config.bucket, key)
    done = _mlops(
        p, "pipeline", "run", "drift", "--local", "--quiet", "--team", "recsys",
        "-p", f"model_name={model}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0].startswith(
        "pipeline drift as recsys-pipelines in MLflow workspace recsys, data under "
        f"s3://{p.config.bucket}/teams/recsys/"
    )
    reports = s3.list_objects_v2(Bucket=p.config.bucket, Prefix=f"teams/recsys/drift/{model}/")
    assert reports.get("KeyCount", 0) >= 2  # the HTML and JSON report
    # the drift run is in recsys's workspace, and nowhere fraud can see
    body = {"experiment_ids": [], "filter": f"tags.model_name = '{model}'"}
    url = f"{p.mlflow_uri}/api/2.0/mlflow"

    def runs(team: str, workspace: str) -> Any:
        auth, headers = _api(p, team, workspace)
        found = requests.get(
            f"{url}/experiments/get-by-name",
            params={"experiment_name": settings.DRIFT_EXPERIMENT},
            auth=auth,
            headers=headers,
        )
        if found.status_code != 200:
            return found.status_code
        body["experiment_ids"] = [found.json()["experiment"]["experiment_id"]]
        return (
            requests.post(f"{url}/runs/search", json=body, auth=auth, headers=headers)
            .json()
            .get("runs", [])
        )

    assert len(runs("recsys", "recsys")) == 1
    assert runs("fraud", "recsys") == 403
    fraud_own = runs("fraud", "fraud")
    assert fraud_own in (403, 404) or fraud_own == []


@pytest.mark.long
@pytest.mark.slow
def test_the_model_server_serves_a_teams_champion_and_again_after_a_restart(
    platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    name = f"served-{uuid.uuid4().hex[:8]}"
    for key, value in platform.env("fraud").items():
        monkeypatch.setenv(key, value)
    mlflow.set_tracking_uri(platform.mlflow_uri)
    _, version = train_and_register(name, experiment=f"exp-{name}")
    mlflow.MlflowClient().set_registered_model_alias(name, "champion", version)
    # recsys has no such model: nothing to serve, one line
    refused = _mlops(platform, "model", "serve", name, "--team", "recsys")
    assert refused.returncode == 1
    assert refused.stderr.strip() == f"error: '{name}' of team recsys has no champion to serve"
    served = _mlops(platform, "model", "serve", name, "--team", "fraud")
    assert served.returncode == 0, served.stderr
    assert f"serving {name} v{version} of team fraud" in served.stdout
    model = platform.status()["servers"]["model"]
    assert (model["model"], model["team"], model["version"]) == (name, "fraud", version)
    platform.down()
    platform.up()
    model = platform.status()["servers"]["model"]
    assert (model["model"], model["team"], model["version"]) == (name, "fraud", version)
    assert model["state"] == "serving"


@pytest.mark.long
@pytest.mark.slow
def test_a_state_dir_from_before_teams_keeps_its_runs(tmp_path: Path) -> None:
    """MLflow's database written without auth or workspaces: its experiments are in the
    default workspace, which the shared account reads once the platform runs with teams."""
    from local_helpers import make_platform
    from mlflow import MlflowClient
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
    from servers import running

    p = make_platform(tmp_path / "state")
    (p.state_dir / "mlflow").mkdir(parents=True)
    before = SqlAlchemyStore(p.backend_store_uri, str(tmp_path / "artifacts"))
    experiment_id = before.create_experiment("from-before-teams")
    before.engine.dispose()
    assert not (p.state_dir / "secrets.json").exists()
    with running(p):
        env = p.env()
        with pytest.MonkeyPatch.context() as patch:
            for key, value in env.items():
                patch.setenv(key, value)
            found = MlflowClient(p.mlflow_uri).get_experiment_by_name("from-before-teams")
    assert found is not None and found.experiment_id == experiment_id


@pytest.mark.slow
def test_the_demos_isolation_check_shows_refusals_and_fails_without_them(
    platform_sqlite: LocalPlatform,
) -> None:
    import io

    from rich.console import Console

    from mlops.demo import check_isolation
    from mlops.errors import MlopsError

    p = platform_sqlite
    name = f"demo-check-{uuid.uuid4().hex[:8]}"
    auth, headers = _api(p, "fraud")
    made = requests.post(
        f"{p.mlflow_uri}/api/2.0/mlflow/registered-models/create",
        json={"name": name},
        auth=auth,
        headers=headers,
        timeout=20,
    )
    assert made.status_code == 200, made.text
    out = io.StringIO()
    lines = check_isolation(
        Console(file=out, width=200), p.mlflow_uri, p.state_dir, "fraud", "recsys", name
    )
    assert lines[:2] == [
        "team recsys cannot read fraud's model: refused by MLflow (403 Permission denied)",
        "team recsys cannot promote fraud's model (set its champion alias): refused by "
        "MLflow (403 Permission denied)",
    ]
    assert "✓ team recsys cannot read fraud's model" in out.getvalue()
    # a team that may read the model (its own): the check fails instead of showing a ✓
    with pytest.raises(MlopsError, match="team fraud could read fraud's model"):
        check_isolation(
            Console(file=io.StringIO()), p.mlflow_uri, p.state_dir, "fraud", "fraud", name
        )
