"""Each component's `.python_func`, in this process, against real servers where it needs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from kfp.dsl import HTML, Artifact, Dataset, Metrics

from mlops_runtime import teams
from pipelines import kfp_components as c
from pipelines import settings, storage
from pipelines.data import feature_columns, load_dataset, model_frame, split_holdout
from pipelines.quality import DataValidationError


def _art(cls: type[Any], tmp_path: Path, name: str) -> Any:
    return cls(name=name, uri=str(tmp_path / name), metadata={})


def _dataset(tmp_path: Path, name: str, frame: pd.DataFrame) -> Dataset:
    out = _art(Dataset, tmp_path, name)
    frame.to_parquet(out.path, index=False)
    return out


def test_validate_data_passes_good_data_and_names_every_failure(tmp_path: Path) -> None:
    good = load_dataset()
    report = _art(Metrics, tmp_path, "report")
    evaluated = c.validate_data.python_func(
        data=_dataset(tmp_path, "good", good), require_label=True, report=report
    )
    assert evaluated > 100 and report.metadata["failed"] == 0

    bad = good.copy()
    bad.loc[3, "mean_radius"] = None  # null
    bad.loc[5, "worst_area"] = 1e9  # out of range
    bad.loc[7, settings.LABEL] = 2  # not a class
    bad = bad.drop(columns=["mean_texture"])  # schema
    with pytest.raises(DataValidationError) as failure:
        c.validate_data.python_func(
            data=_dataset(tmp_path, "bad", bad),
            require_label=True,
            report=_art(Metrics, tmp_path, "report2"),
        )
    message = str(failure.value)
    for expected in (
        "expect_column_values_to_not_be_null(column=mean_radius)",
        "expect_column_values_to_be_between(column=worst_area",
        "expect_column_values_to_be_in_set(column=target",
        "expect_column_to_exist(column=mean_texture)",
    ):
        assert expected in message


def test_split_dataset_is_disjoint_stratified_and_reproducible(tmp_path: Path) -> None:
    frame = load_dataset()
    shuffled = frame.sample(frac=1.0, random_state=3)
    outs = []
    for i, source in enumerate((frame, shuffled)):
        train, holdout = _art(Dataset, tmp_path, f"train{i}"), _art(Dataset, tmp_path, f"h{i}")
        c.split_dataset.python_func(
            dataset=_dataset(tmp_path, f"all{i}", source),
            holdout_fraction=0.25,
            seed=7,
            train=train,
            holdout=holdout,
        )
        outs.append((pd.read_parquet(train.path), pd.read_parquet(holdout.path)))
    (train, holdout), (_, holdout_shuffled) = outs
    assert len(train) + len(holdout) == len(frame)
    assert list(holdout.columns) == [*feature_columns(), settings.LABEL]
    # Same rows held out whatever order the rows came in: the CLI rebuilds this set.
    pd.testing.assert_frame_equal(holdout, holdout_shuffled)
    assert abs(holdout[settings.LABEL].mean() - frame[settings.LABEL].mean()) < 0.02


def test_ingest_apply_and_build_training_set(env_sqlite: dict[str, str], tmp_path: Path) -> None:
    features, labels = _art(Dataset, tmp_path, "features"), _art(Dataset, tmp_path, "labels")
    out = c.ingest_features.python_func(features=features, labels=labels)
    assert out.rows == 569 and out.features_uri == settings.features_uri()
    published = storage.read_parquet(out.features_uri)
    assert settings.LABEL not in published.columns and len(published) == 569

    repo = c.apply_feature_store.python_func(features=features, features_uri=out.features_uri)
    assert Path(repo, "feature_store.yaml").is_file()
    from pipelines import feast_repo

    online = feast_repo.online_features(Path(repo), [1, 569])
    assert (
        online["mean_radius"]
        == published.set_index(settings.ENTITY).loc[[1, 569], "mean_radius"].tolist()
    )

    dataset = _art(Dataset, tmp_path, "dataset")
    rows = c.build_training_set.python_func(labels_uri=out.labels_uri, dataset=dataset)
    frame = pd.read_parquet(dataset.path)
    assert rows == 569 and frame[feature_columns()].notna().all().all()
    assert set(frame[settings.LABEL]) == {0, 1}


def test_train_register_promote_deploy(env_sqlite: dict[str, str], tmp_path: Path) -> None:
    import uuid

    from mlops_runtime import model_ops

    name = f"bc-{uuid.uuid4().hex[:6]}"
    train_frame, holdout_frame = split_holdout(load_dataset(), 0.25, 7)
    train = _dataset(tmp_path, "train", model_frame(train_frame))
    holdout = _dataset(tmp_path, "holdout", model_frame(holdout_frame))
    results = [
        c.train_model.python_func(train=train, params=p, experiment=name, seed=1)
        for p in (
            {"n_estimators": 1.0, "max_depth": 1.0},  # floats, as KFP sends them
            {"n_estimators": 20, "max_depth": 4},
        )
    ]
    scores = [json.loads(r)["score"] for r in results]
    best = _art(Metrics, tmp_path, "best")
    version = c.register_best.python_func(results=results, model_name=name, best=best)
    assert best.metadata["val_roc_auc"] == max(scores)
    client = model_ops.client_from_env()
    registered = client.get_model_version(name, version)
    assert registered.run_id == json.loads(results[scores.index(max(scores))])["run_id"]
    assert model_ops.alias_version(client, name, model_ops.CHALLENGER) == version

    evaluation = _art(Metrics, tmp_path, "evaluation")
    outcome = c.evaluate_and_promote.python_func(
        holdout=holdout,
        model_name=name,
        version="",
        metric="roc_auc",
        min_improvement=0.0,
        approver="pytest",
        reason="",
        evaluation=evaluation,
    )
    assert (outcome.action, outcome.champion) == ("promote", version)
    assert 0.9 < evaluation.metadata["challenger_roc_auc"] <= 1.0

    manifest = _art(Artifact, tmp_path, "isvc")
    uri = c.deploy_champion.python_func(
        model_name=name,
        team="a",
        min_replicas=1,
        champion=outcome.champion,
        manifest=manifest,
    )
    service = yaml.safe_load(Path(manifest.path).read_text())
    predictor = service["spec"]["predictor"]
    assert predictor["model"]["storageUri"] == uri
    assert service["metadata"]["annotations"]["mlops.platform/model-version"] == version
    # In the team's namespace, as the team's serving account, from the team's published
    # models (all its IRSA role reads; MLflow's `mlflow/` prefix and the team's data are not)
    assert service["metadata"]["namespace"] == "team-a"
    assert predictor["serviceAccountName"] == teams.SERVING_ACCOUNT == "model-server"
    bucket = env_sqlite["MLOPS_ARTIFACT_BUCKET"]
    assert uri == f"s3://{bucket}/teams/a/models/{name}/{version}"
    # KServe would find the model there: the published copy carries MLmodel
    assert b"flavors" in storage.get_bytes(uri + "/MLmodel")
    stored = storage.get_bytes(f"s3://{settings.bucket()}/deployments/{name}/inferenceservice.yaml")
    assert yaml.safe_load(stored) == service


def test_detect_drift_flags_shifted_inputs_only(env_sqlite: dict[str, str], tmp_path: Path) -> None:
    import mlflow

    frame = load_dataset()
    storage.write_parquet(frame.drop(columns=[settings.LABEL]), settings.features_uri())
    recent = frame[feature_columns()].sample(150, random_state=4)
    calm_uri = storage.write_parquet(recent, f"s3://{settings.bucket()}/inference/t/calm.parquet")
    shifted = recent * 1.6  # a unit change upstream: every column moves
    drift_uri = storage.write_parquet(
        shifted, f"s3://{settings.bucket()}/inference/t/shift.parquet"
    )

    calm = c.detect_drift.python_func(
        model_name="t",
        current_uri=calm_uri,
        threshold=0.3,
        report=_art(HTML, tmp_path, "calm.html"),
        drift=_art(Metrics, tmp_path, "calm"),
    )
    report, metrics = _art(HTML, tmp_path, "shift.html"), _art(Metrics, tmp_path, "shift")
    drifted = c.detect_drift.python_func(
        model_name="t", current_uri=drift_uri, threshold=0.3, report=report, drift=metrics
    )
    assert (calm, drifted) == (False, True)
    assert metrics.metadata["drift_share"] > 0.3
    assert b"<html" in storage.get_bytes(report.metadata["uri"]).lower()
    json_report = json.loads(storage.get_bytes(report.metadata["uri"].replace(".html", ".json")))
    assert json_report["metrics"]
    runs = mlflow.search_runs(
        experiment_names=[settings.DRIFT_EXPERIMENT], filter_string="tags.model_name = 't'"
    )
    assert sorted(runs["metrics.drift_detected"].tolist()) == [0.0, 1.0]
