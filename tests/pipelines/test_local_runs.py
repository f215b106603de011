"""The pipelines end to end with KFP's local SubprocessRunner, on the local platform.

Two platforms cover every backend the issue names: MLflow on SQLite with Feast online on
SQLite, and MLflow on PostgreSQL with Feast online on Redis; SeaweedFS and the MLServer
model server in both. The deployment step reloads the platform's model server, and the
test then asks it for predictions over the Open Inference Protocol.
"""

# No `from __future__ import annotations`: KFP reads the component annotations.
import uuid
from pathlib import Path

import pytest
from kfp import dsl
from servers import component_env

from mlops.local.platform import LocalPlatform
from mlops.pipeline_runner import PipelineRunError, run_local, run_pipeline_func
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

    run = run_local(
        "training", {"model_name": name}, env=env, pipeline_root=tmp_path / "kfp", echo=False
    )
    client = model_ops.client_from_env()
    champion = model_ops.alias_version(client, name, model_ops.CHAMPION)
    assert champion == "1" and run.seconds > 0
    experiment = client.get_experiment_by_name(settings.EXPERIMENT)
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], filter_string="attributes.status = 'FINISHED'"
    )
    assert len(runs) >= 5  # the sweep: one finished run per hyperparameter set
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


def test_bad_data_stops_the_run_naming_failed_expectations(tmp_path: Path) -> None:
    with pytest.raises(PipelineRunError) as failure:
        run_pipeline_func(
            "bad-data", bad_data_pipeline, {}, env={}, pipeline_root=tmp_path, echo=False
        )
    message = str(failure.value)
    assert "DataValidationError" in message
    assert "expect_column_values_to_not_be_null(column=mean_radius)" in message
    assert "expect_column_values_to_be_between(column=worst_area" in message
    assert "validate-data" in message
