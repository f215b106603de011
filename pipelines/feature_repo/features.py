"""Feast definitions of the sample: one entity, its parquet source, a view and a service.

The source path is read at `feast apply` time from MLOPS_FEATURES_URI, or else from the
platform's environment as the pipelines read it (`settings.features_uri()`: what the
features pipeline writes, s3://<bucket>/<data prefix>/features/breast_cancer.parquet);
AWS_ENDPOINT_URL points the offline store at the local object store and is unset in the
cloud.
"""

import os
from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
from feast.types import Float64
from sklearn.datasets import load_breast_cancer

from pipelines import settings
from pipelines.data import column_name

patient = Entity(
    name="patient",
    join_keys=["patient_id"],
    value_type=ValueType.INT64,
    description="One diagnosed patient (row of the sample dataset).",
)

source = FileSource(
    name="breast_cancer_source",
    path=os.environ.get("MLOPS_FEATURES_URI") or settings.features_uri(),
    timestamp_field="event_timestamp",
    s3_endpoint_override=os.environ.get("AWS_ENDPOINT_URL") or None,
)

breast_cancer_features = FeatureView(
    name="breast_cancer_features",
    entities=[patient],
    # Long enough that the sample's rows stay servable online; real data sets a real TTL.
    ttl=timedelta(days=3650),
    schema=[Field(name=column_name(c), dtype=Float64) for c in load_breast_cancer().feature_names],
    source=source,
    online=True,
    tags={"owner": "data-science", "dataset": "sklearn-breast-cancer"},
)

breast_cancer_model = FeatureService(
    name="breast_cancer_model",
    features=[breast_cancer_features],
    description="Every feature the classifier reads, offline for training and online for serving.",
)
