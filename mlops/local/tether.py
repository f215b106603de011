"""Servers that end with the process they are tethered to, however that process ends.

`mlops local up` leaves its servers running on purpose. A test run must not: when it is
killed (SIGTERM from a CI timeout, SIGKILL), the servers its tests started would keep
their ports and memory after their state folders are gone. With ``MLOPS_TETHER_PID``
set to a pid (the test runner sets its own), every server started is watched by a small
process of its own that waits for that pid to exit — through a pidfd, so a SIGKILL counts
too — and then stops the server's whole process group, workers included.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

ENV = "MLOPS_TETHER_PID"

# Run as `python -c WATCHDOG <pidfd> <pgid>`, in a session of its own so that whatever
# kills the tethered process's group does not take the watchdog along.
WATCHDOG = r"""
import os, select, signal, sys, time

pidfd, pgid = int(sys.argv[1]), int(sys.argv[2])
poll = select.poll()
poll.register(pidfd, select.POLLIN)


def group_alive():
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


# Leave as soon as the server is stopped the usual way; act when the tethered pid ends.
while group_alive():
    if not poll.poll(1000):
        continue
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while group_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
    break
"""


def tethered_pid() -> int | None:
    raw = os.environ.get(ENV, "").strip()
    return int(raw) if raw.isdigit() else None


def watch(pgid: int) -> None:
    """Stop process group ``pgid`` once the tethered process ends (no-op when untethered)."""
    pid = tethered_pid()
    if pid is None:
        return
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        # the tethered process is already gone: nothing is left to wait for
        os.killpg(pgid, signal.SIGTERM)
        return
    try:
        subprocess.Popen(
            [sys.executable, "-c", WATCHDOG, str(pidfd), str(pgid)],
            pass_fds=(pidfd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        os.close(pidfd)
