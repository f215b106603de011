"""The sample pipelines: features, training (validation, sweep, promotion, deployment), drift."""

from kfp import dsl, kubernetes

from mlops_runtime.pipelines_env import PLATFORM_ENV, PLATFORM_ENV_KEYS, PLATFORM_SECRET_KEYS
from pipelines import kfp_components as c
from pipelines import settings
from pipelines.training import DEFAULT_SWEEP


def _platform(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """Wire the platform environment (`mlops_runtime.pipelines_env`) and turn caching off.

    Caching is off because these tasks have side effects outside KFP (registry, feature
    store, object store): a cache hit would skip them while reporting success.
    """
    kubernetes.use_config_map_as_env(task, PLATFORM_ENV, {key: key for key in PLATFORM_ENV_KEYS})
    kubernetes.use_secret_as_env(
        task, PLATFORM_ENV, {key: key for key in PLATFORM_SECRET_KEYS}, optional=True
    )
    return task.set_caching_options(False)


@dsl.pipeline(
    name="features",
    description="Load the packaged dataset, validate it, publish it to the object store, "
    "feast apply and materialize.",
)
def features_pipeline() -> None:
    """Features: ingest -> validate (GE) -> feast apply + materialize."""
    ingest = _platform(c.ingest_features())
    check = _platform(c.validate_data(data=ingest.outputs["features"], require_label=False))
    _platform(
        c.apply_feature_store(
            features=ingest.outputs["features"], features_uri=ingest.outputs["features_uri"]
        ).after(check)
    )


@dsl.pipeline(
    name="training",
    description="Historical features from Feast, validation gate, hyperparameter sweep, "
    "registration as challenger, champion/challenger promotion, deployment.",
)
def training_pipeline(
    model_name: str = settings.MODEL_NAME,
    experiment: str = settings.EXPERIMENT,
    sweep: list = DEFAULT_SWEEP,
    holdout_fraction: float = 0.25,
    seed: int = 7,
    metric: str = "roc_auc",
    min_improvement: float = 0.0,
    approver: str = "training-pipeline",
    reason: str = "",
    team: str = "data-science",
    min_replicas: int = 1,
) -> None:
    """Training: features -> training set -> validate -> split -> sweep -> register ->
    evaluate and promote -> deploy.

    Args:
        model_name: Registered model name.
        experiment: MLflow experiment of the sweep runs.
        sweep: Hyperparameter sets, one training task each (parallel-for).
        holdout_fraction: Share of rows held out for evaluation.
        seed: Seed of the split and the models.
        metric: Promotion metric.
        min_improvement: Improvement over the champion required to promote.
        approver: Recorded with the decision.
        reason: Recorded with the decision (default: the measured improvement).
        team: Team that serves the model: its namespace ``team-<team>``, its prefix of the
            artifact store (where the model is published) and its serving account
            (``model-server``, read-only on the team's models; not a parameter).
        min_replicas: Lowest replica count of the InferenceService.
    """
    ingest = _platform(c.ingest_features())
    raw_check = _platform(c.validate_data(data=ingest.outputs["features"], require_label=False))
    applied = _platform(
        c.apply_feature_store(
            features=ingest.outputs["features"], features_uri=ingest.outputs["features_uri"]
        ).after(raw_check)
    )
    training_set = _platform(
        c.build_training_set(labels_uri=ingest.outputs["labels_uri"]).after(applied)
    )
    gate = _platform(c.validate_data(data=training_set.outputs["dataset"], require_label=True))
    split = _platform(
        c.split_dataset(
            dataset=training_set.outputs["dataset"], holdout_fraction=holdout_fraction, seed=seed
        ).after(gate)
    )
    with dsl.ParallelFor(items=sweep) as params:
        trained = _platform(
            c.train_model(
                train=split.outputs["train"], params=params, experiment=experiment, seed=seed
            )
        )
    registered = _platform(
        c.register_best(results=dsl.Collected(trained.output), model_name=model_name)
    )
    promotion = _platform(
        c.evaluate_and_promote(
            holdout=split.outputs["holdout"],
            model_name=model_name,
            version=registered.outputs["Output"],
            metric=metric,
            min_improvement=min_improvement,
            approver=approver,
            reason=reason,
        )
    )
    _platform(
        c.deploy_champion(
            model_name=model_name,
            team=team,
            min_replicas=min_replicas,
            champion=promotion.outputs["champion"],
        )
    )


@dsl.pipeline(
    name="drift",
    description="Evidently drift report of recent inference inputs against the training "
    "features; report to the object store, metrics to MLflow, a drift flag.",
)
def drift_pipeline(
    model_name: str = settings.MODEL_NAME,
    current_uri: str = "",
    threshold: float = 0.3,
) -> None:
    """Drift: recent inputs vs training features.

    Args:
        model_name: Model whose inputs are checked.
        current_uri: Parquet of recent inference inputs; default
            `s3://<bucket>/inference/<model>/recent.parquet`.
        threshold: Share of drifted columns above which drift is flagged.
    """
    _platform(c.detect_drift(model_name=model_name, current_uri=current_uri, threshold=threshold))


PIPELINES = {
    "features": features_pipeline,
    "training": training_pipeline,
    "drift": drift_pipeline,
}
