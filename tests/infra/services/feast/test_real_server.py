"""The feature_store.yaml the Feast component renders works for real: Feast expands its
Redis password reference, and apply, materialize and online reads run against Redis on
127.0.0.1:6379."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from service_helpers import require_service

from infra.services.feast.component import redis_online_store, render_feature_store_yaml

pytestmark = [pytest.mark.services, pytest.mark.slow]
BIN = Path(sys.executable).parent


def test_rendered_redis_password_reference_is_expanded_by_feast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feast.repo_config import load_repo_config

    text = render_feature_store_yaml(
        project="expand",
        registry_path="s3://bucket/feast/registry.db",
        online_store=redis_online_store("cache.example.com", 6379),
    )
    (tmp_path / "feature_store.yaml").write_text(text)
    assert "s3cr3t" not in text
    monkeypatch.setenv("REDIS_PASSWORD", "s3cr3t")
    config = load_repo_config(tmp_path, tmp_path / "feature_store.yaml")
    assert config.online_store.connection_string == (
        "cache.example.com:6379,ssl=true,password=s3cr3t"
    )
    assert config.registry.path == "s3://bucket/feast/registry.db"


FEATURES = textwrap.dedent(
    """
    from datetime import timedelta

    from feast import Entity, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64

    driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
    source = FileSource(path={path!r}, timestamp_field="event_timestamp")
    stats = FeatureView(
        name="driver_stats",
        entities=[driver],
        ttl=timedelta(days=30),
        schema=[Field(name="conv_rate", dtype=Float64)],
        source=source,
        online=True,
    )
    """
)


def test_feast_apply_materialize_and_read_online_from_redis(tmp_path: Path) -> None:
    require_service("Redis", 6379)
    import pandas as pd
    from feast import FeatureStore

    now = datetime.now(UTC).replace(microsecond=0)
    data = tmp_path / "driver_stats.parquet"
    pd.DataFrame(
        {
            "driver_id": [1, 2, 1],
            "conv_rate": [0.25, 0.5, 0.75],
            "event_timestamp": [now - timedelta(hours=3), now - timedelta(hours=2), now],
        }
    ).to_parquet(data)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "features.py").write_text(FEATURES.format(path=str(data)))
    project = f"t{uuid.uuid4().hex[:10]}"  # the shared Redis is keyed by project
    (repo / "feature_store.yaml").write_text(
        render_feature_store_yaml(
            project=project,
            registry_path=str(tmp_path / "registry.db"),
            online_store=redis_online_store("127.0.0.1", 6379, ssl=False, password_env=None),
            provider="local",
        )
    )
    result = subprocess.run(
        [str(BIN / "feast"), "-c", str(repo), "apply"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    store = FeatureStore(repo_path=str(repo))
    try:
        store.materialize(now - timedelta(days=1), now + timedelta(minutes=1))
        online = store.get_online_features(
            features=["driver_stats:conv_rate"],
            entity_rows=[{"driver_id": 1}, {"driver_id": 2}, {"driver_id": 3}],
        ).to_dict()
        assert online["driver_id"] == [1, 2, 3]
        assert online["conv_rate"] == [0.75, 0.5, None]  # the latest value per entity
    finally:
        store.teardown()  # removes the project's keys from the shared Redis
