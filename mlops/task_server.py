"""A warm process that runs a local pipeline's tasks as forks of itself.

KFP's SubprocessRunner starts every task as a cold `python -m kfp.dsl.executor_main`,
which imports pandas, scikit-learn, MLflow, Great Expectations, Feast or Evidently again
(seconds each on two cores; the training pipeline has 14 tasks). This server imports them
once. Each task is still a process of its own — a fork, with its own memory, environment,
working directory, output and exit code — running the very source, arguments and
environment KFP gave it, through the same `kfp.dsl.executor_main`.

Run as `python -m mlops.task_server SOCKET [MODULE ...]` (default `PRELOAD`): it prints a
`ready` line on stdout once the imports are done, serves one task at a time (KFP's local
runner runs tasks one after another) and exits when its stdin closes, i.e. when the
process that started it ends, however it ends.
The socket lives in a folder only its owner can enter, so nobody else can run code in it.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import socket
import sys
import tempfile
import traceback
from typing import Any

# What the sample pipelines' tasks import (pipelines/, mlops_runtime/): heavy third-party
# modules only; the project's own modules are cheap and read their settings at run time.
PRELOAD = (
    "kfp.dsl.executor_main",
    "pandas",
    "pyarrow.parquet",
    "boto3",
    "sklearn.ensemble",
    "sklearn.metrics",
    "sklearn.model_selection",
    "skops.io",
    "mlflow",
    "mlflow.artifacts",
    "mlflow.sklearn",
    "great_expectations",
    "great_expectations.expectations",
    "feast",
    "feast.cli.cli",
    "evidently",
    "evidently.presets",
)

# Ends a task's output: the task's exit code follows it on the same line.
TRAILER = b"\x00mlops-task-exit "


def _preload(modules: tuple[str, ...]) -> list[str]:
    """Import what the tasks need; returns those that failed (the task then imports them
    itself, and fails there with its own error if it truly needs them)."""
    import importlib
    import warnings

    # Import-time chatter (deprecations, GX's analytics) belongs to no task.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    failed = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:
                failed.append(name)
    return failed


def _run_task(request: dict[str, Any]) -> int:
    """In the forked child: what the component's `sh -ec` script does, in this process."""
    import runpy

    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ["_KFP_RUNTIME"] = "true"
    program = tempfile.mkdtemp()
    module_path = os.path.join(program, "ephemeral_component.py")
    with open(module_path, "w") as handle:
        handle.write(request["source"])
    sys.argv = ["executor_main", "--component_module_path", module_path, *request["args"]]
    try:
        runpy.run_module("kfp.dsl.executor_main", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def _serve_one(listener: socket.socket, conn: socket.socket) -> None:
    with conn, conn.makefile("rb") as reader:
        request = json.loads(reader.readline())
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                listener.close()
                # the task's stdout and stderr go to the caller, line by line
                for fd in (1, 2):
                    os.dup2(conn.fileno(), fd)
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
                sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
                code = _run_task(request)
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        with contextlib.suppress(OSError):
            conn.sendall(TRAILER + str(os.waitstatus_to_exitcode(status)).encode() + b"\n")


def serve(path: str, preload: tuple[str, ...] = PRELOAD) -> None:
    failed = _preload(preload)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    sys.stdout.write(json.dumps({"ready": True, "not_preloaded": failed}) + "\n")
    sys.stdout.flush()
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "task")
    selector.register(sys.stdin, selectors.EVENT_READ, "parent")
    while True:
        for key, _ in selector.select():
            if key.data == "parent":
                # stdin closed: whoever started us is gone
                listener.close()
                return
            conn, _ = listener.accept()
            _serve_one(listener, conn)


if __name__ == "__main__":
    serve(sys.argv[1], tuple(sys.argv[2:]) or PRELOAD)
