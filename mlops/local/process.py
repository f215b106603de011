"""Detached server processes tracked by pid files, and loopback port checks.

Every server runs in a session of its own, so stopping it signals exactly the process
group it started (workers included) and nothing else on the machine. Servers outlive the
command that started them (`mlops local up`), unless tethered (`mlops.local.tether`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlops.local import tether

HOST = "127.0.0.1"


def port_free(port: int, host: str = HOST) -> bool:
    """True when nothing listens on host:port (a bind succeeds)."""
    with socket.socket() as s:
        # As servers do: connections of a stopped server in TIME_WAIT do not block it.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def free_port_pair(offset: int = 10000, host: str = HOST) -> int:
    """A free port p with p + offset also free: SeaweedFS derives gRPC ports that way."""
    for _ in range(200):
        port = free_port(host)
        if port + offset < 65536 and port_free(port + offset, host):
            return port
    raise OSError("no free port pair on 127.0.0.1")


def http_ok(
    url: str,
    timeout: float = 2.0,
    any_status: bool = False,
    headers: dict[str, str] | None = None,
) -> bool:
    """True when `url` answers 2xx (or any HTTP status with `any_status`)."""
    try:
        request = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= int(response.status) < 300
    except urllib.error.HTTPError:
        return any_status
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class Managed:
    """One server: its pid file, log file and working directory under the state dir."""

    name: str
    pid_file: Path
    log_file: Path
    home: Path

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def alive(self) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        try:
            # A zombie (exited, not yet reaped by its parent) is not alive.
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return False
            # A recycled pid belongs to some other program: ours runs in `home`.
            return Path(os.readlink(f"/proc/{pid}/cwd")) == self.home.resolve()
        except (OSError, IndexError):
            return False

    def start(self, command: Sequence[str], env: Mapping[str, str]) -> int:
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%dT%H:%M:%S')} start {self.name}\n".encode())
            log.flush()
            process = subprocess.Popen(
                list(command),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env),
                cwd=self.home,
                start_new_session=True,
                close_fds=True,
            )
        self.pid_file.write_text(f"{process.pid}\n")
        tether.watch(process.pid)  # tests: the server ends with the test run
        return process.pid

    def exit_code(self) -> int | None:
        """Reap our own child if it exited; None while it runs or when not our child."""
        pid = self.pid()
        if pid is None:
            return None
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        return os.waitstatus_to_exitcode(status) if done else None

    def group_alive(self) -> bool:
        """Any process of ours left in the server's group (workers outlive a SIGKILLed
        leader). Members must run in `home`: after a reboot a stale pid file may name an
        unrelated process group, which must never be signalled."""
        pid = self.pid()
        if pid is None:
            return False
        home = str(self.home.resolve())
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getpgid(int(entry.name)) == pid and os.readlink(entry / "cwd") == home:
                    return True
            except OSError:
                continue
        return False

    def stop(self, timeout: float = 15.0) -> bool:
        """SIGTERM the server's process group, SIGKILL after `timeout`; True if it ran."""
        return bool(stop_all([self], timeout))

    def tail(self, lines: int = 3) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def _signal_group(server: Managed, sig: signal.Signals) -> None:
    pid = server.pid()
    if pid is not None and server.group_alive():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)


def stop_all(servers: Sequence[Managed], timeout: float = 15.0) -> list[str]:
    """Stop servers together (SIGTERM, then SIGKILL after `timeout`); names of those that
    ran. Each flushes its own state on SIGTERM, so they need not stop one by one."""
    running = [s for s in servers if s.pid() is not None and (s.alive() or s.group_alive())]
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        pending = [s for s in running if s.group_alive()]
        if not pending:
            break
        for server in pending:
            _signal_group(server, sig)
        deadline = time.monotonic() + wait
        while pending and time.monotonic() < deadline:
            time.sleep(0.1)
            for server in pending:
                server.exit_code()
            pending = [s for s in pending if s.group_alive()]
    for server in servers:
        server.exit_code()
        with contextlib.suppress(FileNotFoundError):
            server.pid_file.unlink()
    return [s.name for s in running]
