"""The pipelines end to end with KFP's local SubprocessRunner, on the local platform.

Two platforms cover every backend the issue names: MLflow on SQLite with Feast online on
SQLite, and MLflow on PostgreSQL with Feast online on Redis; SeaweedFS and the MLServer
model server in both. The deployment step reloads the platform's model server, and the
test then asks it for predictions over the Open Inference Protocol.
"""

# No `from __future__ import annotations`: KFP reads the component annotations.
import contextlib
import re
import time
import uuid
from pathlib import Path

import pytest
from kfp import dsl
from rich.console import Console
from servers import component_env

from mlops.local.platform import LocalPlatform
from mlops.pipeline_runner import (
    ConsoleProgress,
    PipelineRunError,
    TaskEvent,
    run_local,
    run_pipeline_func,
    warm_tasks,
)
from mlops_runtime import model_ops
from pipelines import feast_repo, serving, settings, storage
from pipelines.data import default_holdout, feature_columns, load_dataset


@pytest.mark.long
@pytest.mark.slow
@pytest.mark.services
@pytest.mark.parametrize(
    "server",
    ["sqlite", "postgres"],
    ids=["mlflow-sqlite+feast-sqlite", "mlflow-postgres+feast-redis"],
    indirect=True,
)
def test_training_and_drift_end_to_end(
    server: LocalPlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = server
    on_postgres = platform.config.redis_url != "sqlite"  # the PostgreSQL + Redis platform
    env = component_env(platform, tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # A model of this test's own on the session's platform (its first version becomes the
    # champion); the deployment step loads it into the platform's model server.
    name = f"{platform.config.model_name}-{uuid.uuid4().hex[:6]}"

    # The tasks run as forks of a warm task server on one backend, as cold processes on
    # the other; every task is reported as it starts and ends either way.
    stack = contextlib.ExitStack()
    tasks = None if on_postgres else stack.enter_context(warm_tasks())
    events: list[TaskEvent] = []
    with stack:
        assert tasks is None or tasks.ready(wait=600)
        run = run_local(
            "training",
            {"model_name": name},
            env=env,
            pipeline_root=tmp_path / "kfp",
            echo=False,
            progress=events.append,
            tasks=tasks,
        )
        assert tasks is None or tasks.served == 14
    started = [e.task for e in events if not e.ended]
    # the sweep's iterations run side by side: they may end in another order
    assert sorted(started) == sorted(e.task for e in events if e.ended and e.ok)
    assert started[0] == "ingest-features" and started[-1] == "deploy-champion"
    assert "train-model #5" in started and len(started) == 14
    client = model_ops.client_from_env()
    champion = model_ops.alias_version(client, name, model_ops.CHAMPION)
    assert champion == "1" and run.seconds > 0
    experiment = client.get_experiment_by_name(settings.EXPERIMENT)
    assert experiment is not None
    # the sweep: one finished run per hyperparameter set (polled briefly: once, under load,
    # a search right after the run saw 4; the statuses are shown if it stays short)
    deadline = time.monotonic() + 15
    while True:
        runs = client.search_runs([experiment.experiment_id])
        finished = [r for r in runs if r.info.status == "FINISHED"]
        if len(finished) >= 5 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(finished) >= 5, [(r.info.run_name, r.info.status) for r in runs]
    trail = model_ops.audit_trail(client, name)
    assert [(e["action"], e["approver"]) for e in trail] == [("promote", "training-pipeline")]
    manifest = storage.get_bytes(
        f"s3://{settings.bucket()}/deployments/{name}/inferenceservice.yaml"
    ).decode()
    assert f"mlops.platform/model-version: '{champion}'" in manifest

    # Materialization reached the configured online store (Redis or SQLite).
    repo = Path(env["MLOPS_FEAST_REPO"])
    assert ("redis" in (repo / "feature_store.yaml").read_text()) == on_postgres
    served = feast_repo.online_features(repo, [1, 2])
    assert all(v is not None for v in served["mean_radius"])

    # The deployment step loaded the champion into the model server: it predicts.
    holdout = default_holdout().head(20)
    predictions = serving.infer(
        platform.model_server_url, name, holdout.drop(columns=[settings.LABEL])
    )
    assert len(predictions) == 20 and set(predictions) <= {0, 1}
    accuracy = (
        sum(int(p == y) for p, y in zip(predictions, holdout[settings.LABEL], strict=True)) / 20
    )
    assert accuracy >= 0.8

    if on_postgres:
        return  # drift reads only S3 and writes one MLflow run: once is enough
    # Recent inputs with every feature shifted: the drift pipeline must flag them.
    recent = load_dataset()[feature_columns()].sample(120, random_state=1) * 1.7
    serving.record_inference_inputs(name, recent)
    drift = run_local(
        "drift", {"model_name": name}, env=env, pipeline_root=tmp_path / "kfp", echo=False
    )
    assert drift.seconds > 0
    reports = storage.s3_client().list_objects_v2(Bucket=settings.bucket(), Prefix=f"drift/{name}/")
    assert {Path(o["Key"]).name for o in reports.get("Contents", [])} == {
        "report.html",
        "report.json",
    }


@dsl.component(base_image=settings.DEFAULT_IMAGE, install_kfp_package=False)
def corrupt_features(data: dsl.Output[dsl.Dataset]) -> None:
    """Test-only source of bad data: nulls and an impossible value."""
    from pipelines.data import load_dataset

    frame = load_dataset()
    frame.loc[0, "mean_radius"] = None
    frame.loc[1, "worst_area"] = -5.0
    frame.to_parquet(data.path, index=False)


@dsl.pipeline(name="bad-data")
def bad_data_pipeline() -> None:
    from pipelines import kfp_components as c

    bad = corrupt_features()
    c.validate_data(data=bad.outputs["data"], require_label=True)


def test_bad_data_stops_the_run_naming_failed_expectations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a console on stdout, as the demo's: the run's own redirection of stdout must not eat it
    progress = ConsoleProgress(Console(width=400), live=False)
    with pytest.raises(PipelineRunError) as failure:
        run_pipeline_func(
            "bad-data",
            bad_data_pipeline,
            {},
            env={},
            pipeline_root=tmp_path,
            echo=False,
            progress=progress,
        )
    message = str(failure.value)
    assert "DataValidationError" in message
    assert "expect_column_values_to_not_be_null(column=mean_radius)" in message
    assert "expect_column_values_to_be_between(column=worst_area" in message
    assert "validate-data" in message
    # each task as it starts and ends; the failed one with its failed expectations
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "  > corrupt-features started"
    assert re.fullmatch(r"  ✓ corrupt-features  \d+\.\d s", lines[1])
    assert lines[2] == "  > validate-data started"
    assert re.match(
        r"  ✗ validate-data failed after \d+\.\d s: DataValidationError: data "
        r"validation failed: 2 of \d+ expectations failed: "
        r"expect_column_values_to_not_be_null\(column=mean_radius\)",
        lines[3],
    )
    assert len(lines) == 4


@dsl.component(base_image=settings.DEFAULT_IMAGE, install_kfp_package=False)
def leave_traces() -> int:
    """Changes what a task could leak into the next one: environment, modules, cwd."""
    import json
    import os

    os.environ["MLOPS_TEST_LEAKED"] = "1"
    json.leaked = True  # type: ignore[attr-defined]
    os.chdir("/")
    print(f"task pid {os.getpid()}")
    return os.getpid()


@dsl.component(base_image=settings.DEFAULT_IMAGE, install_kfp_package=False)
def find_no_traces(previous: int) -> None:
    import json
    import os

    print(f"task pid {os.getpid()}")
    assert os.getpid() != previous
    assert "MLOPS_TEST_LEAKED" not in os.environ
    assert not hasattr(json, "leaked")
    assert os.environ["MLOPS_TEST_GIVEN"] == "given"  # the run's environment arrives
    raise ValueError("boom from a warm task")


@dsl.pipeline(name="traces")
def traces_pipeline() -> None:
    first = leave_traces()
    find_no_traces(previous=first.output)


def test_warm_tasks_are_processes_of_their_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events: list[TaskEvent] = []
    with warm_tasks(["kfp.dsl.executor_main"]) as tasks:
        assert tasks.ready(wait=120)
        with pytest.raises(PipelineRunError) as failure:
            run_pipeline_func(
                "traces",
                traces_pipeline,
                {},
                env={"MLOPS_TEST_GIVEN": "given"},
                pipeline_root=tmp_path,
                echo=True,
                progress=events.append,
                tasks=tasks,
            )
        assert tasks.served == 2
        server = tasks.process.pid
        # a server that is gone: the next task runs as a cold process, as KFP would run it
        tasks.process.kill()
        tasks.process.wait()
        run_pipeline_func(
            "alone", leave_traces, {}, env={}, pipeline_root=tmp_path, echo=True, tasks=tasks
        )
        assert tasks.served == 2
    assert tasks.process.returncode is not None  # the server ends with the block
    # the failed task's own error, through the warm server's output
    assert "ValueError: boom from a warm task" in str(failure.value)
    assert [(e.task, e.ended, e.ok) for e in events] == [
        ("leave-traces", False, True),
        ("leave-traces", True, True),
        ("find-no-traces", False, True),
        ("find-no-traces", True, False),
    ]
    assert events[-1].error == "ValueError: boom from a warm task"
    pids = [int(p) for p in re.findall(r"task pid (\d+)", capsys.readouterr().out)]
    assert len(set(pids)) == 3 and server not in pids
