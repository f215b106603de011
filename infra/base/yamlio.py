"""YAML parsing with libyaml's parser when PyYAML was built with it, for the data the
project ships (inventories, manifests, tables, workflows); files people edit (stack config)
keep PyYAML's own parser, whose error marks point at the line that opened the problem.

The same safe constructors as ``yaml.safe_load`` (PyYAML's ``CSafeLoader`` swaps only the
scanner and parser for libyaml's), about ten times faster on the inventories and manifests
every plan reads; PyYAML's pure-Python loader where libyaml is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    """``yaml.safe_load``, faster."""
    return yaml.load(text, Loader=_LOADER)


def load_all(text: str) -> Iterator[Any]:
    """``yaml.safe_load_all``, faster."""
    return yaml.load_all(text, Loader=_LOADER)
