"""What a plan derives from an installed file, kept in the venv for the next process.

A plan process spends much of its start deriving the same things from files that do
not change between runs: provider modules compiled with postponed annotations
(`lazy_providers`), and the JSON documents botocore and moto parse (service models,
instance types; `internals`). Each entry here is a pure function of one file, keyed
by that file's size and mtime and by the Python that wrote it, and rebuilt when any
of them changes. The cache lives in the venv (`make venv` made it, `make clean`
removes it); outside a venv, or where the venv is read-only, nothing is cached and
callers load the file as usual.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def root() -> Path | None:
    """The venv's cache directory; none outside a venv (not ours to write)."""
    if sys.prefix == sys.base_prefix:
        return None
    return Path(sys.prefix) / ".mlops-cache"


class FileCache:
    """One kind of derived data: ``build`` makes it from the file, ``dumps``/``loads``
    store it."""

    def __init__(
        self,
        kind: str,
        dumps: Callable[[Any], bytes],
        loads: Callable[[bytes], Any],
        *,
        version: int = 1,
    ) -> None:
        base = root()
        self.dir = base / kind if base is not None else None
        self._dumps = dumps
        self._loads = loads
        self._tag = importlib.util.MAGIC_NUMBER + f"{kind}-{version}".encode()
        self.writable = self.dir is not None

    def get(self, source: str, build: Callable[[], T]) -> T | None:
        """What ``build`` makes of ``source``, from the cache when it is current;
        None when the cache cannot be used (the caller loads the file as usual)."""
        if self.dir is None:
            return None
        try:
            stat = os.stat(source)
        except OSError:
            return None
        header = b"".join(
            [self._tag, stat.st_mtime_ns.to_bytes(8, "little"), stat.st_size.to_bytes(8, "little")]
        )
        name = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
        entry = self.dir / f"{Path(source).name}.{name[:16]}"
        with contextlib.suppress(Exception):  # missing, stale or torn: rebuild it
            data = entry.read_bytes()
            if data.startswith(header):
                value: T = self._loads(data[len(header) :])
                return value
        if not self.writable:
            return None
        value = build()
        partial = entry.with_name(f"{entry.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(header + self._dumps(value))
            os.replace(partial, entry)  # readers see the whole entry or none
        except OSError:
            self.writable = False  # built this once; later files load as usual
            with contextlib.suppress(OSError):
                partial.unlink()
        return value
