"""A killed test run leaves no server behind; `mlops local up` leaves them running.

A stand-in for the test runner starts a server the way the local platform does
(`Managed.start`, in a session of its own) whose command forks a worker — as MLflow's
uvicorn workers and MLServer's do — and then dies. Tethered to the runner
(MLOPS_TETHER_PID, as tests/conftest.py sets it), the server and its worker end within
seconds, however the runner died; untethered, they keep running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mlops.local import tether

# The server: a leader that forks one worker; both write their pid and sleep.
SERVER = textwrap.dedent(
    """
    import os, sys, time
    if os.fork() == 0:
        open("worker.pid", "w").write(str(os.getpid()))
    else:
        open("leader.pid", "w").write(str(os.getpid()))
    time.sleep(600)
    """
)

# The stand-in runner: starts the server through Managed, reports, then waits to be killed.
RUNNER = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from mlops.local import tether
    from mlops.local.process import Managed

    home = Path(sys.argv[1])
    if sys.argv[3] == "tethered":  # as tests/conftest.py does for the test session
        os.environ[tether.ENV] = str(os.getpid())
    server = Managed("toy", home / "toy.pid", home / "toy.log", home)
    pgid = server.start([sys.executable, "-c", sys.argv[2]], {})
    while not ((home / "leader.pid").exists() and (home / "worker.pid").exists()):
        time.sleep(0.05)
    print(json.dumps({"pgid": pgid}), flush=True)
    time.sleep(600)
    """
)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start_runner(home: Path, tethered: bool) -> tuple[subprocess.Popen[str], list[int]]:
    env = {k: v for k, v in os.environ.items() if k != tether.ENV}
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(home), SERVER, "tethered" if tethered else "free"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    line = runner.stdout.readline() if runner.stdout else ""
    assert line, "the runner did not start its server"
    pids = [int((home / f"{role}.pid").read_text()) for role in ("leader", "worker")]
    assert all(alive(p) for p in pids)
    return runner, pids


def wait_gone(pids: list[int], seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def kill_group(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_servers_end_with_a_killed_test_run(tmp_path: Path, how: signal.Signals) -> None:
    runner, pids = start_runner(tmp_path, tethered=True)
    try:
        runner.send_signal(how)
        runner.wait(timeout=10)
        assert wait_gone(pids), f"server {pids[0]} or worker {pids[1]} outlived the run"
    finally:
        kill_group(pids)


def test_servers_started_by_the_cli_outlive_it(tmp_path: Path) -> None:
    runner, pids = start_runner(tmp_path, tethered=False)
    try:
        runner.kill()
        runner.wait(timeout=10)
        time.sleep(2)  # longer than a watchdog would need to act
        assert all(alive(p) for p in pids)
    finally:
        kill_group(pids)
        assert wait_gone(pids)


def test_a_tethered_server_stopped_as_usual_leaves_no_watchdog(tmp_path: Path) -> None:
    from mlops.local.process import Managed

    server = Managed("toy", tmp_path / "toy.pid", tmp_path / "toy.log", tmp_path)
    pgid = server.start([sys.executable, "-c", SERVER], os.environ)
    while not (tmp_path / "worker.pid").exists():
        time.sleep(0.05)
    assert os.environ.get(tether.ENV) == str(os.getpid()), "tests/conftest.py tethers"
    watchdogs = [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit()
        and _cmdline(p).startswith(sys.executable)
        and f"\x00{pgid}" in _cmdline(p)
        and "killpg" in _cmdline(p)
    ]
    assert len(watchdogs) == 1, "one watchdog per server"
    assert server.stop()
    assert wait_gone(watchdogs, 5.0), "the watchdog leaves once its server is stopped"


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_text()
    except OSError:
        return ""
