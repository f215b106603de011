"""The serving venv is built once, even when two platforms start at the same time."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from mlops.local import serving_venv


def fake_build(calls: list[str]):
    def build(venv: Path, log: Path) -> None:
        calls.append(str(venv))
        time.sleep(0.2)  # long enough for the other caller to arrive while pip would run
        (venv / "bin").mkdir(parents=True, exist_ok=True)
        (venv / "bin" / "mlserver").touch()
        (venv / serving_venv.STAMP).write_text(serving_venv.fingerprint())

    return build


def test_two_concurrent_creates_build_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(serving_venv, "_build", fake_build(calls))
    venv, log = tmp_path / ".venv-serving", tmp_path / "logs" / "serving-venv.log"
    workers = [threading.Thread(target=serving_venv.create, args=(venv, log)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert calls == [str(venv)]
    assert serving_venv.ready(venv)


def test_changed_requirements_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(serving_venv, "_build", fake_build(calls))
    venv, log = tmp_path / ".venv-serving", tmp_path / "serving-venv.log"
    serving_venv.create(venv, log)
    serving_venv.create(venv, log)
    assert len(calls) == 1
    (venv / serving_venv.STAMP).write_text("mlserver==0.0\n")  # built from older requirements
    assert not serving_venv.ready(venv)
    serving_venv.create(venv, log)
    assert len(calls) == 2
