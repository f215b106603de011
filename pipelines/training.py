"""Train, log to MLflow and register: the logic behind the training components."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pipelines.settings import LABEL

if TYPE_CHECKING:
    import pandas as pd

# The sweep the training pipeline runs by default: small forests, so a local run on two
# cores stays within seconds, yet different enough to produce a real winner.
DEFAULT_SWEEP: list[dict[str, int]] = [
    {"n_estimators": 10, "max_depth": 2, "min_samples_leaf": 8},
    {"n_estimators": 20, "max_depth": 3, "min_samples_leaf": 4},
    {"n_estimators": 20, "max_depth": 5, "min_samples_leaf": 2},
    {"n_estimators": 30, "max_depth": 8, "min_samples_leaf": 1},
    {"n_estimators": 40, "max_depth": 4, "min_samples_leaf": 1},
]
ALLOWED_PARAMS = {"n_estimators", "max_depth", "min_samples_leaf", "max_features"}


def pip_requirements() -> list[str]:
    """Exact pins of what loading the model needs: explicit, so log_model skips its
    ~3 s dependency inference and the serving runtime installs exactly these."""
    import mlflow
    import numpy
    import pandas
    import sklearn
    import skops

    return [
        f"mlflow=={mlflow.__version__}",
        f"scikit-learn=={sklearn.__version__}",
        f"skops=={skops.__version__}",
        f"numpy=={numpy.__version__}",
        f"pandas=={pandas.__version__}",
    ]


def fit(train: pd.DataFrame, params: dict[str, Any], seed: int = 0) -> tuple[Any, float]:
    """Fit a random forest on 80 % of `train`, return it and its ROC AUC on the other 20 %.

    Args:
        train: Features plus the label column.
        params: RandomForestClassifier hyperparameters (a subset of `ALLOWED_PARAMS`).
        seed: Seed of the split and the forest.

    Raises:
        ValueError: On a hyperparameter outside `ALLOWED_PARAMS`.
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    unknown = set(params) - ALLOWED_PARAMS
    if unknown:
        raise ValueError(f"unknown hyperparameter(s): {', '.join(sorted(unknown))}")
    params = normalize(params)
    x = train.drop(columns=[LABEL])
    y = train[LABEL]
    x_fit, x_val, y_fit, y_val = train_test_split(
        x, y, test_size=0.2, random_state=seed, stratify=y
    )
    model = RandomForestClassifier(random_state=seed, n_jobs=1, **params)
    model.fit(x_fit, y_fit)
    return model, float(roc_auc_score(y_val, model.predict_proba(x_val)[:, 1]))


def normalize(params: dict[str, Any]) -> dict[str, Any]:
    """Whole floats back to ints: KFP passes dict parameters through a protobuf Struct,
    which has only doubles, so `{"max_depth": 3}` arrives as `3.0`."""
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in params.items()}


def trusted_types(model: Any) -> list[str]:
    """The types skops will not load by default from this very model (tree internals)."""
    import skops.io

    return list(skops.io.get_untrusted_types(data=skops.io.dumps(model)))


def train_and_log(
    train: pd.DataFrame, params: dict[str, Any], experiment: str, seed: int = 0
) -> dict[str, Any]:
    """Fit one hyperparameter set and log params, metric and model to MLflow.

    Returns:
        `{"run_id", "model_uri", "score", "params"}` (JSON-serialisable).
    """
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    params = normalize(params)
    model, score = fit(train, params, seed)
    x = train.drop(columns=[LABEL])
    ensure_experiment(experiment)
    with mlflow.start_run(
        run_name="sweep-" + "-".join(f"{k}{v}" for k, v in sorted(params.items()))
    ) as run:
        mlflow.log_params({**params, "seed": seed, "rows": len(train)})
        mlflow.log_metric("val_roc_auc", score)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            pip_requirements=pip_requirements(),
            signature=infer_signature(x, model.predict(x)),
            input_example=x.head(3),
            skops_trusted_types=trusted_types(model),
        )
    return {
        "run_id": run.info.run_id,
        "model_uri": info.model_uri,
        "score": score,
        "params": params,
    }


def ensure_experiment(name: str) -> Any:
    """`mlflow.set_experiment`, safe when parallel sweep tasks create it at the same time.

    set_experiment reads, then creates when missing; two tasks starting together both see
    "missing" and the second create fails with RESOURCE_ALREADY_EXISTS. Then it exists.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return mlflow.set_experiment(name)
    except MlflowException as exc:
        if "RESOURCE_ALREADY_EXISTS" not in str(exc.error_code):
            raise
        return mlflow.set_experiment(name)


def pick_best(results: list[str]) -> dict[str, Any]:
    """The sweep result with the highest validation score (ties: the first)."""
    if not results:
        raise ValueError("the sweep produced no results")
    parsed = [json.loads(r) if isinstance(r, str) else r for r in results]
    return max(parsed, key=lambda r: float(r["score"]))


def register_challenger(model_name: str, best: dict[str, Any]) -> str:
    """Register the best model as a new version of `model_name` aliased `challenger`."""
    import mlflow
    from mlflow import MlflowClient

    from mlops_runtime.model_ops import CHALLENGER

    version = mlflow.register_model(
        best["model_uri"],
        model_name,
        tags={
            "mlops.sweep.val_roc_auc": f"{best['score']:.6g}",
            "mlops.sweep.params": json.dumps(best["params"], sort_keys=True),
        },
    )
    MlflowClient().set_registered_model_alias(model_name, CHALLENGER, version.version)
    return str(version.version)
