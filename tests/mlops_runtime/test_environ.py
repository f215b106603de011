"""environment(): what a block sets or removes in os.environ is as before after it."""

from __future__ import annotations

import os

import pytest

from mlops_runtime.environ import environment


def test_values_set_and_unset_in_the_block_are_restored_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLOPS_T_KEPT", "before")
    monkeypatch.setenv("MLOPS_T_GONE", "there")
    monkeypatch.delenv("MLOPS_T_NEW", raising=False)
    inside = {"MLOPS_T_KEPT": "inside", "MLOPS_T_NEW": "x"}
    with pytest.raises(RuntimeError), environment(inside, unset=["MLOPS_T_GONE"]):
        assert os.environ["MLOPS_T_KEPT"] == "inside" and os.environ["MLOPS_T_NEW"] == "x"
        assert "MLOPS_T_GONE" not in os.environ
        raise RuntimeError  # restored however the block ends
    assert os.environ["MLOPS_T_KEPT"] == "before" and os.environ["MLOPS_T_GONE"] == "there"
    assert "MLOPS_T_NEW" not in os.environ


def test_a_key_both_set_and_unset_is_set() -> None:
    with environment({"MLOPS_T_BOTH": "1"}, unset=["MLOPS_T_BOTH"]):
        assert os.environ["MLOPS_T_BOTH"] == "1"
    assert "MLOPS_T_BOTH" not in os.environ
