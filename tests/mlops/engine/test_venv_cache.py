"""Data derived from installed files and kept in the venv between processes: reused
while the file is unchanged, rebuilt when it changes, and never in the way."""

from __future__ import annotations

import gzip
import json
import os
import pickle
from pathlib import Path

import pytest

from mlops.engine import venv_cache


@pytest.fixture
def cache_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setattr(venv_cache, "root", lambda: root)
    return root


def _cache() -> venv_cache.FileCache:
    return venv_cache.FileCache("parsed", pickle.dumps, pickle.loads)


def _counting(source: Path, builds: list[str]):  # type: ignore[no-untyped-def]
    def build() -> dict:
        builds.append(source.name)
        return dict(json.loads(source.read_text()))

    return build


def test_an_unchanged_file_is_built_once_across_processes(tmp_path: Path, cache_root: Path) -> None:
    source = tmp_path / "model.json"
    source.write_text('{"a": [1, 2]}')
    builds: list[str] = []
    first = _cache().get(str(source), _counting(source, builds))
    again = _cache().get(str(source), _counting(source, builds))  # a new process's cache
    assert first == again == {"a": [1, 2]}
    assert builds == ["model.json"]
    assert len(list(cache_root.glob("parsed/*"))) == 1


def test_a_changed_file_is_built_again(tmp_path: Path, cache_root: Path) -> None:
    source = tmp_path / "model.json"
    source.write_text('{"v": 1}')
    builds: list[str] = []
    assert _cache().get(str(source), _counting(source, builds)) == {"v": 1}
    source.write_text('{"v": 22}')
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert _cache().get(str(source), _counting(source, builds)) == {"v": 22}
    assert builds == ["model.json", "model.json"]


def test_a_torn_entry_is_rebuilt(tmp_path: Path, cache_root: Path) -> None:
    source = tmp_path / "model.json"
    source.write_text('{"v": 1}')
    _cache().get(str(source), _counting(source, []))
    [entry] = cache_root.glob("parsed/*")
    entry.write_bytes(entry.read_bytes()[:-3])
    builds: list[str] = []
    assert _cache().get(str(source), _counting(source, builds)) == {"v": 1}
    assert builds == ["model.json"]


def test_an_unwritable_cache_falls_back_to_loading_as_usual(
    tmp_path: Path, cache_root: Path
) -> None:
    cache_root.write_text("a file where the cache directory should be")
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    one.write_text("[1]")
    two.write_text("[2]")
    cache = _cache()
    assert cache.get(str(one), lambda: [1]) == [1]  # built once, not kept
    assert cache.get(str(two), lambda: [2]) is None  # the caller loads it itself


def test_nothing_is_cached_outside_a_venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(venv_cache.sys, "base_prefix", venv_cache.sys.prefix)
    source = tmp_path / "model.json"
    source.write_text("{}")
    assert venv_cache.root() is None
    assert _cache().get(str(source), lambda: pytest.fail("built outside a venv")) is None


def test_botocore_and_moto_documents_from_the_cache_equal_a_fresh_parse() -> None:
    import botocore.loaders
    from moto.utilities import utils

    from mlops.engine import internals

    internals.speed_up_moto()  # botocore's shared loader and moto read through the cache
    loader = internals.moto_session()._session.get_component("data_loader")
    fresh = botocore.loaders.create_loader()
    for _ in range(2):  # parsed, then from the cache
        loader._cache.clear()  # botocore's own per-loader memo
        assert loader.load_service_model("kms", "service-2") == fresh.load_service_model(
            "kms", "service-2"
        )
        assert utils.load_resource("ec2/resources/instance_types.json") == json.loads(
            gzip.decompress(utils.load_resource_as_bytes("ec2/resources/instance_types.json.gz"))
        )
