"""Plan a program in a process of its own: `mlops policy check --program`.

The program is code under review, so it never runs in the evaluator's process. A child
process (``python -m mlops.engine.isolated``) plans it as `plan_program` would and sends
back one JSON document, the recorded plan, on a pipe of its own; that document is the
program's only channel to the evaluator. Everything else the child writes (the
program's ``print``s, warnings, a traceback) reaches the caller's stderr, never its
stdout, so ``--json`` output stays parseable.

The evaluator trusts nothing in the document: `recorded_resources` checks its shape and
fails closed. No document (the program ended the process: ``os._exit``, a signal), a
malformed one, or two resources with one URN is a refusal. A program can still make
the document say whatever it likes (it runs with the recorder in its process); what
the evaluator guarantees is that the rules, their config and the verdict are out of
its reach. docs/policy-gate.md states the whole boundary.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from mlops.errors import MlopsError, PlanError, UsageError
from mlops.paths import PACKAGE_DIR

VERSION = 1
RESOURCE_KEYS: dict[str, type | tuple[type, ...]] = {
    "urn": str,
    "type": str,
    "name": str,
    "parent": (str, type(None)),
    "custom": bool,
    "inputs": dict,
    "dependencies": list,
    "propertyDependencies": dict,
    "protect": bool,
    "provider": (str, type(None)),
}
_GRACE_SECONDS = 5  # for a grandchild that keeps the pipes open after the child ended
# A program that never finishes would hang the gate; `pulumi preview` of the platform
# plans in seconds, so ten minutes means the program itself is stuck.
TIMEOUT_SECONDS = 600


def _first_line(text: object, limit: int = 500) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    line = lines[0].strip() if lines else ""
    return line[:limit]


# ----------------------------------------------------------------- the child


def _record(program_dir: Path, stack: str, config_file: Path | None) -> dict[str, Any]:
    from mlops.engine import aws_worker
    from mlops.engine.plan import _region_of, plan_stack, program_config
    from mlops.policy_check import pack_resources

    config = program_config(program_dir, stack=stack, config_file=config_file)
    aws_worker.start(_region_of(config.values))  # moto loads while the program imports
    plan = plan_stack(config)
    resources = [{key: r.get(key) for key in RESOURCE_KEYS} for r in pack_resources(plan)]
    return {"version": VERSION, "plan": {"resources": resources}}


def main(argv: list[str] | None = None) -> None:
    """Plan the program and write the document to ``--out-fd``; never returns."""
    parser = argparse.ArgumentParser(prog="python -m mlops.engine.isolated")
    parser.add_argument("program", type=Path)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--out-fd", type=int, required=True)
    args = parser.parse_args(argv)
    out = os.fdopen(args.out_fd, "w", encoding="utf-8")
    try:
        doc = _record(args.program, args.stack, args.config)
    except MlopsError as exc:
        doc = {"version": VERSION, "error": {"exit": exc.exit_code, "message": str(exc)}}
    except BaseException as exc:  # whatever ends the plan is reported, never lost
        what = ": ".join(filter(None, (type(exc).__name__, _first_line(exc))))
        doc = {
            "version": VERSION,
            "error": {"exit": 1, "message": f"the planning process failed: {what}"},
        }
    try:
        out.write(json.dumps(doc))
        out.close()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # no interpreter teardown: moto's and botocore's tables cost seconds to free
        os._exit(0)


# ---------------------------------------------------------------- the parent


def _drain(stream: IO[bytes], sink: list[bytes]) -> None:
    while chunk := stream.read(65536):
        sink.append(chunk)


def _forward(stream: IO[bytes]) -> None:
    """Copy the child's output to this process's stderr as it comes."""
    read = getattr(stream, "read1", stream.read)
    while chunk := read(65536):
        sys.stderr.write(chunk.decode("utf-8", errors="replace"))
        sys.stderr.flush()


def plan_in_own_process(
    program_dir: Path, *, stack: str, config_file: Path | None = None
) -> list[dict[str, Any]]:
    """Plan ``program_dir`` in a child process; the validated resources of its plan."""
    from mlops.engine.stack_config import load_project

    if not (program_dir / "Pulumi.yaml").is_file():
        raise UsageError(f"{program_dir}: not a Pulumi project (no Pulumi.yaml)")
    project = load_project(program_dir.resolve()).name
    read_fd, write_fd = os.pipe()
    command = [
        sys.executable,
        "-m",
        "mlops.engine.isolated",
        "--out-fd",
        str(write_fd),
        "--stack",
        stack,
        str(program_dir.resolve()),
    ]
    if config_file is not None:
        command[-1:-1] = ["--config", str(config_file.resolve())]
    try:
        # cwd: `-m` imports this checkout's mlops, as the aws_worker helper does; a session
        # of its own, so that whatever the program starts ends with it
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
            cwd=PACKAGE_DIR.parent,
            start_new_session=True,
        )
    finally:
        os.close(write_fd)
    assert child.stdout is not None
    received: list[bytes] = []
    with os.fdopen(read_fd, "rb") as channel:
        threads = [
            threading.Thread(target=_drain, args=(channel, received), daemon=True),
            threading.Thread(target=_forward, args=(child.stdout,), daemon=True),
        ]
        for thread in threads:
            thread.start()
        try:
            code = child.wait(TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise PlanError(
                f"the program did not finish planning within {TIMEOUT_SECONDS} s"
            ) from None
        finally:
            _end_session(child)
            for thread in threads:
                thread.join(_GRACE_SECONDS)
    child.stdout.close()
    return recorded_resources(b"".join(received), code, stack=stack, project=project)


def _end_session(child: subprocess.Popen[bytes]) -> None:
    """Kill what is left of the child's session (the child, if it still runs, and
    anything the program started)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


def _ended(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"exit code {code}"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def recorded_resources(data: bytes, code: int, *, stack: str, project: str) -> list[dict[str, Any]]:
    """The resources of the child's document, checked; PlanError/UsageError otherwise."""
    if not data or code != 0:
        # the child exits 0 right after writing; anything else was the program's doing
        raise PlanError(
            f"the program ended its planning process ({_ended(code)}) before "
            "its plan was recorded: a Pulumi program must not exit (sys.exit, "
            "os._exit) or end the process"
        )
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise PlanError(
            f"the program's planning process sent a malformed plan "
            f"(not JSON: {_first_line(exc, 120)})"
        ) from None
    try:
        return _checked(doc, stack, project)
    except _Malformed as exc:
        raise PlanError(f"the program's planning process sent a malformed plan ({exc})") from None


class _Malformed(ValueError):
    pass


def _checked(doc: Any, stack: str, project: str) -> list[dict[str, Any]]:
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        raise _Malformed(f"expected an object with version {VERSION}")
    if set(doc) == {"version", "error"}:
        error = doc["error"]
        if not (
            isinstance(error, dict)
            and error.get("exit") in (1, 2)
            and isinstance(error.get("message"), str)
        ):
            raise _Malformed("error: expected {exit: 1|2, message}")
        message = _first_line(error["message"]) or "the program could not be planned"
        raise UsageError(message) if error["exit"] == 2 else PlanError(message)
    if (
        set(doc) != {"version", "plan"}
        or not isinstance(doc["plan"], dict)
        or set(doc["plan"]) != {"resources"}
        or not isinstance(doc["plan"]["resources"], list)
    ):
        raise _Malformed("expected {version, plan: {resources: [...]}}")
    prefix = f"urn:pulumi:{stack}::{project}::"
    seen: set[str] = set()
    resources = doc["plan"]["resources"]
    for i, r in enumerate(resources):
        where = f"resources[{i}]"
        if not isinstance(r, dict) or set(r) != set(RESOURCE_KEYS):
            raise _Malformed(f"{where}: expected the keys {', '.join(sorted(RESOURCE_KEYS))}")
        for key, kind in RESOURCE_KEYS.items():
            if not isinstance(r[key], kind):
                raise _Malformed(f"{where}.{key}: wrong type")
        urn = r["urn"]
        # urn:pulumi:<stack>::<project>::<parent types$>type::<name>
        qualified, _, name = urn.removeprefix(prefix).partition("::")
        if (
            not urn.startswith(prefix)
            or name != r["name"]
            or qualified.rsplit("$", 1)[-1] != r["type"]
        ):
            raise _Malformed(
                f"{where}.urn: not the URN of {r['type']} '{r['name']}' in "
                f"stack {stack} of project {project}"
            )
        if urn in seen:
            raise PlanError(f"Duplicate resource URN '{urn}'; try giving it a unique name")
        seen.add(urn)
        if not _urns(r["dependencies"]) or not all(
            isinstance(v, list) and _urns(v) for v in r["propertyDependencies"].values()
        ):
            raise _Malformed(f"{where}: dependencies must be lists of URNs")
        if r["parent"] is not None and not r["parent"].startswith(f"urn:pulumi:{stack}::"):
            raise _Malformed(f"{where}.parent: not a URN of stack {stack}")
    return resources


def _urns(values: list[Any]) -> bool:
    return all(isinstance(v, str) and v.startswith("urn:pulumi:") for v in values)


if __name__ == "__main__":
    main()
