"""Lightweight KFP components of the sample pipelines.

Each body imports what it needs (KFP ships only the function's source to the pod) and
delegates to the `pipelines.*` / `mlops.*` modules the component image carries, so no
component installs anything at run time: `install_kfp_package=False` and no
`packages_to_install`. Everything beyond parameters (endpoints, bucket) comes from the
environment, see `pipelines.settings`.
"""

# No `from __future__ import annotations`: KFP reads the real annotation objects.
from typing import NamedTuple

from kfp import dsl
from kfp.dsl import HTML, Artifact, Dataset, Input, Metrics, Output

from pipelines.settings import DEFAULT_IMAGE

# Decoration-time image; `mlops.pipeline_runner.compile_pipeline(image=...)` swaps in the ECR
# repository for the cloud, so the checked-in YAML stays environment-neutral.
component = dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)


@component
def ingest_features(features: Output[Dataset], labels: Output[Dataset]) -> NamedTuple(  # type: ignore[valid-type]
    "IngestOutputs", [("features_uri", str), ("labels_uri", str), ("rows", int)]
):
    """Load the packaged dataset and publish it to the object store.

    Adds an entity id and an event timestamp per row, writes the features (without the
    label) to `s3://<bucket>/features/breast_cancer.parquet` for the Feast source, and the
    labels (entity id, timestamp, label) next to it for building training sets.

    Args:
        features: The features written, also kept as a pipeline artifact.
        labels: Entity ids, timestamps and labels.

    Returns:
        features_uri: Object-store URI of the features parquet.
        labels_uri: Object-store URI of the labels parquet.
        rows: Number of rows.
    """
    from collections import namedtuple

    from pipelines import data, settings, storage

    frame = data.load_dataset()
    feature_frame = frame.drop(columns=[settings.LABEL])
    label_frame = frame[[settings.ENTITY, settings.TIMESTAMP, settings.LABEL]]
    features_uri = storage.write_parquet(feature_frame, settings.features_uri())
    labels_uri = storage.write_parquet(
        label_frame, settings.data_uri(f"features/{settings.DATASET}_labels.parquet")
    )
    feature_frame.to_parquet(features.path, index=False)
    label_frame.to_parquet(labels.path, index=False)
    features.metadata["uri"] = features_uri
    labels.metadata["uri"] = labels_uri
    IngestOutputs = namedtuple("IngestOutputs", ["features_uri", "labels_uri", "rows"])
    return IngestOutputs(features_uri, labels_uri, len(frame))


@component
def validate_data(data: Input[Dataset], require_label: bool, report: Output[Metrics]) -> int:
    """Gate the run on the Great Expectations suite (schema, ranges, nulls).

    Args:
        data: Parquet to validate.
        require_label: Whether the label column must be present (training sets) or not
            (raw features).
        report: Number of expectations evaluated and failed.

    Returns:
        The number of expectations evaluated.

    Raises:
        DataValidationError: Naming every failed expectation; the run stops here.
    """
    import pandas as pd

    from pipelines.quality import DataValidationError, failure_message, validate_frame

    result = validate_frame(pd.read_parquet(data.path), require_label)
    report.log_metric("expectations", result.evaluated)
    report.log_metric("failed", len(result.failed))
    if not result.success:
        raise DataValidationError(failure_message(result))
    return result.evaluated


@component
def apply_feature_store(features: Input[Dataset], features_uri: str) -> str:
    """`feast apply` the feature repo and materialize the new rows online.

    Args:
        features: The features just written (their timestamps bound materialization).
        features_uri: Object-store URI of the parquet the Feast source reads.

    Returns:
        The rendered repo's path (useful in local runs).
    """
    import pandas as pd

    from pipelines import feast_repo, settings

    frame = pd.read_parquet(features.path, columns=[settings.TIMESTAMP])
    repo = feast_repo.repo_from_env()
    feast_repo.apply(repo, features_uri)
    stamps = frame[settings.TIMESTAMP]
    feast_repo.materialize(repo, stamps.min().to_pydatetime(), stamps.max().to_pydatetime())
    return str(repo)


@component
def build_training_set(labels_uri: str, dataset: Output[Dataset]) -> int:
    """Point-in-time join of the feature service onto the labelled entities.

    Args:
        labels_uri: Object-store URI of the labels (entity id, timestamp, label).
        dataset: Entity id, timestamp, features and label.

    Returns:
        Number of rows.
    """
    from pipelines import feast_repo, storage

    entity_df = storage.read_parquet(labels_uri)
    frame = feast_repo.historical_features(feast_repo.repo_from_env(), entity_df)
    frame.to_parquet(dataset.path, index=False)
    return len(frame)


@component
def split_dataset(
    dataset: Input[Dataset],
    holdout_fraction: float,
    seed: int,
    train: Output[Dataset],
    holdout: Output[Dataset],
) -> None:
    """Stratified split into a training set and a holdout set that training never sees.

    Args:
        dataset: The validated training set.
        holdout_fraction: Share of rows held out for champion/challenger evaluation.
        seed: Split seed.
        train: Features and label for the sweep.
        holdout: Features and label for evaluation.
    """
    import pandas as pd

    from pipelines.data import model_frame, split_holdout

    train_frame, holdout_frame = split_holdout(
        pd.read_parquet(dataset.path), holdout_fraction, seed
    )
    model_frame(train_frame).to_parquet(train.path, index=False)
    model_frame(holdout_frame).to_parquet(holdout.path, index=False)


@component
def train_model(train: Input[Dataset], params: dict, experiment: str, seed: int) -> str:
    """Train one hyperparameter set and log it to MLflow (one sweep iteration).

    Args:
        train: Features and label.
        params: RandomForestClassifier hyperparameters.
        experiment: MLflow experiment name.
        seed: Seed of the validation split and the forest.

    Returns:
        JSON `{"run_id", "model_uri", "score", "params"}`.
    """
    import json

    import pandas as pd

    from pipelines.training import train_and_log

    result = train_and_log(pd.read_parquet(train.path), params, experiment, seed)
    return json.dumps(result, sort_keys=True)


@component
def register_best(results: list, model_name: str, best: Output[Metrics]) -> str:
    """Register the sweep's best model as a new version aliased `challenger`.

    Args:
        results: JSON results of every sweep iteration (`dsl.Collected`).
        model_name: Registered model name.
        best: The winner's validation score.

    Returns:
        The new model version.
    """
    from pipelines.training import pick_best, register_challenger

    winner = pick_best(results)
    best.log_metric("val_roc_auc", float(winner["score"]))
    best.log_metric("candidates", len(results))
    return register_challenger(model_name, winner)


@component
def evaluate_and_promote(
    holdout: Input[Dataset],
    model_name: str,
    version: str,
    metric: str,
    min_improvement: float,
    approver: str,
    reason: str,
    evaluation: Output[Metrics],
) -> NamedTuple(  # type: ignore[valid-type]
    "PromotionOutputs", [("action", str), ("reason", str), ("champion", str)]
):
    """Challenger against champion on the holdout set; promote or reject.

    Args:
        holdout: Features and label never used in training.
        model_name: Registered model name.
        version: Challenger version (empty: the `challenger` alias).
        metric: Metric to compare (see `mlops_runtime.model_ops.METRICS`).
        min_improvement: Required improvement over the champion.
        approver: Recorded on the version and in the audit trail.
        reason: Recorded likewise.
        evaluation: Both scores.

    Returns:
        action: "promote" or "reject".
        reason: Why.
        champion: The champion version after the decision.
    """
    from collections import namedtuple

    import pandas as pd

    from mlops_runtime import model_ops
    from pipelines.settings import LABEL

    client = model_ops.client_from_env()
    frame = pd.read_parquet(holdout.path)
    evaluate = model_ops.holdout_evaluator(client, model_name, frame, LABEL, metric)
    decision = model_ops.promote(
        client,
        model_name,
        evaluate,
        version=version or None,
        metric=metric,
        min_improvement=min_improvement,
        approver=approver,
        reason=reason,
    )
    if decision.score is not None:
        evaluation.log_metric(f"challenger_{metric}", decision.score)
    if decision.champion_score is not None:
        evaluation.log_metric(f"champion_{metric}", decision.champion_score)
    evaluation.metadata["decision"] = decision.action
    champion = model_ops.alias_version(client, model_name, model_ops.CHAMPION) or ""
    print(f"{decision.action}: {decision.reason}")
    PromotionOutputs = namedtuple("PromotionOutputs", ["action", "reason", "champion"])
    return PromotionOutputs(decision.action, decision.reason, champion)


@component
def deploy_champion(
    model_name: str,
    team: str,
    min_replicas: int,
    champion: str,
    manifest: Output[Artifact],
) -> str:
    """Publish the champion to the team's prefix and render its KServe InferenceService;
    reload the local server.

    The InferenceService runs in the team's namespace as the team's serving account (its
    IRSA role reads only the team's published models, ``teams/<team>/models/``), so the
    model is copied there first. The account is not a run parameter: whoever submits a run
    chooses its parameters, and a model server must not run as the read-write runner.

    Args:
        model_name: Registered model name.
        team: Team that serves it (namespace ``team-<team>``, prefix ``teams/<team>``).
        min_replicas: Lowest replica count.
        champion: Champion version decided upstream (re-read here: the alias wins).
        manifest: The InferenceService YAML.

    Returns:
        The storage URI the InferenceService reads.
    """
    import os
    from pathlib import Path

    import yaml

    from mlops_runtime import inference_service as kserve
    from mlops_runtime import model_ops, teams
    from pipelines import serving, settings, storage

    client = model_ops.client_from_env()
    version = model_ops.alias_version(client, model_name, model_ops.CHAMPION) or champion
    if not version:
        raise RuntimeError(f"model {model_name!r} has no champion to deploy")
    uri = serving.publish_model(
        client.get_model_version_download_uri(model_name, version), team, model_name, version
    )
    service = kserve.render_inference_service(
        name=model_name,
        namespace=teams.namespace(team),
        storage_uri=uri,
        model_name=model_name,
        model_version=version,
        min_replicas=min_replicas,
        service_account=teams.SERVING_ACCOUNT,
    )
    text = yaml.safe_dump(service, sort_keys=False)
    Path(manifest.path).write_text(text)
    manifest.metadata.update({"model_version": version, "storage_uri": uri})
    storage.put_bytes(
        settings.data_uri(f"deployments/{model_name}/inferenceservice.yaml"),
        text.encode(),
        "application/yaml",
    )
    state_dir = os.environ.get(settings.LOCAL_STATE_ENV)
    if state_dir:
        # Local platform: its model server serves the champion alias, as KServe would.
        from mlops_runtime.local_serving import ModelRepository, serve_champion

        serve_champion(
            ModelRepository(Path(state_dir)),
            model_name,
            mlflow_uri=os.environ[settings.TRACKING_URI_ENV],
            model_server_url=os.environ.get(settings.MODEL_SERVER_ENV),
        )
    return uri


@component
def detect_drift(
    model_name: str,
    current_uri: str,
    threshold: float,
    report: Output[HTML],
    drift: Output[Metrics],
) -> bool:
    """Evidently drift report of recent inference inputs against the training features.

    Stores the HTML and JSON report under `s3://<bucket>/drift/<model>/<time>/`, logs the
    drift metrics to the MLflow experiment `breast-cancer-drift`, pushes `mlops_drift_share`
    to the Pushgateway when `MLOPS_PUSHGATEWAY_URL` is set, and flags drift above the
    threshold.

    Args:
        model_name: Model whose inputs are checked.
        current_uri: Object-store URI of the recent inference inputs (parquet); empty for
            `settings.inference_uri(model_name)`.
        threshold: Share of drifted feature columns above which drift is flagged.
        report: The HTML report.
        drift: Drift share and count.

    Returns:
        Whether drift was detected.
    """
    import os
    from pathlib import Path

    import mlflow

    from pipelines import settings, storage
    from pipelines.data import feature_columns
    from pipelines.drift import drift_report, push_drift_share, report_prefix
    from pipelines.training import ensure_experiment

    columns = feature_columns()
    reference = storage.read_parquet(settings.features_uri())[columns]
    current_uri = current_uri or settings.inference_uri(model_name)
    current = storage.read_parquet(current_uri)
    result = drift_report(reference, current, threshold)
    prefix = report_prefix(model_name)
    storage.put_bytes(f"{prefix}/report.html", result.html.encode(), "text/html")
    storage.put_bytes(f"{prefix}/report.json", result.json.encode(), "application/json")
    Path(report.path).write_text(result.html)
    report.metadata["uri"] = f"{prefix}/report.html"
    drift.log_metric("drift_share", result.share)
    drift.log_metric("drifted_columns", result.drifted_columns)
    ensure_experiment(settings.DRIFT_EXPERIMENT)
    with mlflow.start_run(run_name=f"drift-{model_name}"):
        mlflow.set_tags(
            {
                "model_name": model_name,
                "report_uri": f"{prefix}/report.html",
                "current_uri": current_uri,
            }
        )
        mlflow.log_params({"threshold": threshold, "rows": len(current)})
        mlflow.log_metrics(
            {
                "drift_share": result.share,
                "drifted_columns": float(result.drifted_columns),
                "drift_detected": float(result.drift_detected),
            }
        )
    gateway = os.environ.get(settings.PUSHGATEWAY_ENV)
    if gateway:
        push_drift_share(gateway, model_name, result)
    print(
        f"drift share {result.share:.3f} (threshold {threshold}): "
        f"{'DRIFT' if result.drift_detected else 'no drift'}; report {prefix}/report.html"
    )
    return result.drift_detected
