"""Local services for tests: reachability, free ports, throwaway PostgreSQL databases.

A plain module (not a conftest) so every test directory imports it by name: pytest puts
`tests/` on sys.path when it loads the root conftest.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def service_reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str, port: int, host: str = "127.0.0.1") -> None:
    """Skip (or fail under MLOPS_REQUIRE_SERVICES=1) when a local service is down."""
    if service_reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if os.environ.get("MLOPS_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} and MLOPS_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_database(prefix: str = "mlops_test") -> Iterator[str]:
    """A PostgreSQL database of the caller's own on 127.0.0.1:5432, dropped afterwards."""
    require_service("PostgreSQL", 5432)
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
