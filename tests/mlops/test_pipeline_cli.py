"""`mlops pipeline` and `mlops model`: outputs, compiled files, one-line errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from servers import component_env, free_port

from mlops_runtime.pipelines_env import PLATFORM_ENV, PLATFORM_ENV_KEYS, PLATFORM_SECRET_KEYS

if TYPE_CHECKING:
    from mlops.local.platform import LocalPlatform

ROOT = Path(__file__).resolve().parents[2]
MLOPS = str(Path(sys.executable).parent / "mlops")


def mlops(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MLOPS, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def _docs(path: Path) -> list[dict[str, Any]]:
    """A compiled pipeline: the pipeline spec, then the Kubernetes platform spec."""
    return list(yaml.safe_load_all(path.read_text()))


def assert_one_line_error(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for needle in needles:
        assert needle in lines[0]


def test_compiled_pipelines_are_up_to_date(tmp_path: Path) -> None:
    done = mlops("pipeline", "compile", "--out", str(tmp_path), env={"MLOPS_PIPELINE_IMAGE": ""})
    assert done.returncode == 0, done.stderr
    fresh = sorted(p.name for p in tmp_path.glob("*.yaml"))
    assert fresh == ["drift.yaml", "features.yaml", "training.yaml"]
    for name in fresh:
        checked_in = ROOT / "pipelines" / "compiled" / name
        assert _docs(tmp_path / name) == _docs(checked_in), (
            f"{checked_in} is stale: run `mlops pipeline compile`"
        )


def test_training_spec_has_the_sweep_as_a_parallel_for() -> None:
    spec, platform = _docs(ROOT / "pipelines" / "compiled" / "training.yaml")
    loops = [
        t
        for t in spec["root"]["dag"]["tasks"].values()
        if "parameterIterator" in t or "artifactIterator" in t
    ]
    assert len(loops) == 1
    default_sweep = spec["root"]["inputDefinitions"]["parameters"]["sweep"]["defaultValue"]
    assert len(default_sweep) >= 5
    # In Kubeflow every task gets the platform's endpoints from the ConfigMap and the
    # MLflow credentials from the (optional: none behind OIDC) Secret the KFP component writes.
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert len(executors) == len(spec["deploymentSpec"]["executors"])
    for executor in executors.values():
        (config_map,) = executor["configMapAsEnv"]
        assert config_map["configMapName"] == PLATFORM_ENV == "mlops-pipelines-env"
        assert {k["envVar"] for k in config_map["keyToEnv"]} == set(PLATFORM_ENV_KEYS)
        (secret,) = executor["secretAsEnv"]
        assert secret["secretName"] == PLATFORM_ENV and secret["optional"] is True
        assert {k["envVar"] for k in secret["keyToEnv"]} == set(PLATFORM_SECRET_KEYS)


def test_compile_with_the_cloud_image(tmp_path: Path) -> None:
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-pipelines:0.1.0"
    done = mlops("pipeline", "compile", "drift", "--out", str(tmp_path), "--image", image)
    assert done.returncode == 0, done.stderr
    executors = _docs(tmp_path / "drift.yaml")[0]["deploymentSpec"]["executors"]
    assert {e["container"]["image"] for e in executors.values()} == {image}


def test_list_names_every_pipeline() -> None:
    done = mlops("pipeline", "list")
    assert done.returncode == 0
    assert [line.split()[0] for line in done.stdout.splitlines() if not line.startswith(" ")] == [
        "drift",
        "features",
        "training",
    ]


def test_unknown_pipeline() -> None:
    assert_one_line_error(
        mlops("pipeline", "run", "trainnig", "--local"), "unknown pipeline 'trainnig'", "training"
    )
    assert_one_line_error(mlops("pipeline", "compile", "nope"), "unknown pipeline")


@pytest.mark.parametrize(
    ("param", "needle"),
    [
        ("seed=seven", "expects Integer"),
        ("holdout_fraction=a-quarter", "expects Float"),
        ('sweep={"not": "a list"}', "expects List"),
        ("colour=blue", "no parameter 'colour'"),
        ("seed", "key=value"),
    ],
)
def test_parameter_of_the_wrong_type(param: str, needle: str) -> None:
    assert_one_line_error(mlops("pipeline", "run", "training", "--local", "--param", param), needle)


def test_unreachable_kubeflow_host() -> None:
    host = f"http://127.0.0.1:{free_port()}"
    done = mlops("pipeline", "submit", "training", "--host", host)
    assert_one_line_error(done, "unreachable", host)


@pytest.mark.parametrize(
    "verb",
    [
        "show",
        # make test-all: the same lookup through the other verbs (each command spends
        # seconds importing MLflow)
        pytest.param("promote", marks=pytest.mark.long),
        pytest.param("rollback", marks=pytest.mark.long),
    ],
)
def test_missing_model(platform_sqlite: LocalPlatform, verb: str) -> None:
    # the local platform's shared account (what `mlops local env` exports), in the default
    # workspace: MLflow's auth app refuses a name that does not exist there, the command
    # says "not found"
    env = {**os.environ, **platform_sqlite.env()}
    done = subprocess.run(
        [MLOPS, "model", verb, "no-such-model"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert_one_line_error(done, "'no-such-model' not found")


def test_unreachable_mlflow() -> None:
    done = mlops("model", "show", "m", "--tracking-uri", f"http://127.0.0.1:{free_port()}")
    assert_one_line_error(done)


@pytest.mark.long
@pytest.mark.slow
def test_run_shows_each_task_and_the_failed_ones_error(
    platform_sqlite: LocalPlatform, tmp_path: Path
) -> None:
    # No inference inputs were ever recorded for this model: the drift task fails reading them.
    env = component_env(platform_sqlite, tmp_path)
    done = mlops(
        "pipeline",
        "run",
        "drift",
        "--local",
        "--quiet",
        "--param",
        "model_name=never-served",
        env=env,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    # first as whom it runs: the shared account, as `mlops local env` exported it
    assert lines.pop(0).startswith("pipeline drift as pipelines in MLflow workspace default")
    assert lines[0].strip() == "> detect-drift started"
    # the task's own exception, even one not named ...Error (botocore's NoSuchKey)
    assert re.match(r"✗ detect-drift failed after \d+\.\d s: NoSuchKey: ", lines[1].strip())
    assert lines[-1].startswith("error: pipeline 'drift' failed: NoSuchKey: ")
    assert "Traceback" not in done.stderr + done.stdout


def test_a_team_submission_runs_as_the_teams_runner_with_its_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kfp
    import yaml

    import mlops.pipeline_runner as runner

    seen: dict[str, Any] = {}

    class Client:
        def __init__(self, host: str, namespace: str | None = None) -> None:
            seen["host"] = host

        def create_run_from_pipeline_package(self, package: str, **kwargs: Any) -> Any:
            documents = list(yaml.safe_load_all(Path(package).read_text()))
            executors = documents[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
            seen["sources"] = {
                s["configMapName"] for e in executors.values() for s in e["configMapAsEnv"]
            } | {s["secretName"] for e in executors.values() for s in e["secretAsEnv"]}
            seen.update(kwargs)
            return type("Run", (), {"run_id": "run-1"})()

    monkeypatch.setattr(kfp, "Client", Client)
    monkeypatch.setattr(runner, "_check_reachable", lambda host, timeout: None)
    from typer.testing import CliRunner

    from mlops.cli import app

    # in this process, so the Kubeflow client above answers
    args = ["pipeline", "submit", "training", "--host", "http://kfp", "--team", "fraud"]
    args += ["--env", "dev"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "run run-1 as team fraud" in done.output
    # the team's runner (its IAM role reaches teams/fraud/), its workspace and credentials
    assert seen["service_account"] == "pipeline-runner-fraud"
    assert seen["sources"] == {"mlops-pipelines-env-fraud"}
    assert seen["arguments"]["team"] == "fraud"


def test_a_submission_for_a_team_the_stack_does_not_declare_is_refused() -> None:
    done = mlops(
        "pipeline", "submit", "training", "--host", "http://kfp", "--team", "risk", "--env", "dev"
    )
    assert_one_line_error(done, "unknown team 'risk'", "fraud, recsys")
    # which stack's teams: the cluster's, said explicitly
    done = mlops("pipeline", "submit", "training", "--host", "http://kfp", "--team", "fraud")
    assert_one_line_error(done, "--team needs --env")
