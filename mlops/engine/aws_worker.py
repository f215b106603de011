"""moto in a helper process: AWS's own checks run beside the plan, not inside it.

Pulumi's mock runtime and moto are both single-threaded Python; in one process a prod
plan spent ~45% of its time in moto (imports, botocore clients, requests). Here the plan
streams each resource to a long-lived helper on the other core and asks for the verdict
once the program has finished. The handlers never feed anything back into the plan
(ids and ARNs come from `fakes`), so the result is the same; only a rejection is
reported when the program ends rather than when the resource is registered.

One helper serves every plan of a process in turn, each in a fresh moto account, and
leaves when its parent closes the pipe (the parent ending included).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import IO, Any

from mlops.engine import internals
from mlops.engine.aws_backend import HANDLERS
from mlops.engine.fakes import Ctx
from mlops.errors import PlanError
from mlops.paths import PACKAGE_DIR

DEFAULT_REGION = "us-east-1"  # a stack's region when its config names none


class Session:
    """One plan's conversation with the helper: same calls as `Backend`, verdict at the end."""

    def __init__(self, worker: _Worker, ctx: Ctx) -> None:
        self._worker = worker
        self._ended: int | None = None
        # `memo` holds the plan's own look-ups; the handlers need none of it
        worker.send(
            (
                "begin",
                Ctx(
                    stack=ctx.stack, region=ctx.region, account=ctx.account, partition=ctx.partition
                ),
            )
        )

    def apply(self, typ: str, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> bool:
        """Queue the resource for moto; False when moto does not model this type."""
        if typ not in HANDLERS:
            return False
        self._worker.send(("apply", typ, name, inputs, state))
        return True

    def adopt(self, token: str, args: dict[str, Any], result: dict[str, Any]) -> None:
        self._worker.send(("adopt", token, args, result))

    def end(self) -> Callable[[], list[str]]:
        """Close the plan's stream; the returned call waits for moto's verdict (the
        rejections, at most one), so the next plan can start before it is known."""
        if self._ended is None:
            self._ended = self._worker.end()
        ticket = self._ended
        return lambda: self._worker.verdict(ticket)


class _Worker:
    def __init__(self, region: str) -> None:
        # none of the caller's AWS settings (a profile, an endpoint); the fake credentials
        # moto's own mock sets, here from the start so clients can be built before it
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID="FOOBARKEY",
            AWS_SECRET_ACCESS_KEY="FOOBARSECRET",
            MOTO_EC2_LOAD_DEFAULT_AMIS="false",
        )
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the helper
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "mlops.engine.aws_worker", region],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=PACKAGE_DIR.parent,
            env=env,
        )
        self._tickets = 0
        self._verdicts: dict[int, list[str]] = {}
        # Puts never block the plan's threads; one thread writes, in the order sent.
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write, name="aws-worker-writer", daemon=True)
        self._writer.start()

    def alive(self) -> bool:
        return self._proc.poll() is None

    def send(self, message: tuple[Any, ...]) -> None:
        # pickled now, so later changes to the plan's dicts cannot reach the helper
        self._outbox.put(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def end(self) -> int:
        """End the current plan; the ticket of its verdict."""
        self._tickets += 1
        self.send(("end", self._tickets))
        return self._tickets

    def verdict(self, ticket: int) -> list[str]:
        """Replies come in the order plans ended; one left unread (a plan that failed
        in this process first) is skipped over."""
        while ticket not in self._verdicts:
            try:
                assert self._proc.stdout is not None
                number, errors = pickle.load(self._proc.stdout)
            except (EOFError, pickle.UnpicklingError, OSError):
                raise PlanError(f"the AWS checks (moto) stopped: {self._last_error()}") from None
            self._verdicts[number] = list(errors)
        return self._verdicts.pop(ticket)

    def close(self) -> None:
        self._outbox.put(None)
        self._writer.join(timeout=5)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._stderr.close()

    def _write(self) -> None:
        pipe = self._proc.stdin
        assert pipe is not None
        try:
            while (message := self._outbox.get()) is not None:
                pipe.write(message)
                pipe.flush()
        except OSError:
            pass  # the helper died; `request` reports it
        finally:
            with contextlib.suppress(OSError):
                pipe.close()

    def _last_error(self) -> str:
        self._stderr.seek(0)
        lines = [
            ln for ln in self._stderr.read().decode(errors="replace").splitlines() if ln.strip()
        ]
        return lines[-1] if lines else "it exited without a message"


_WORKER: list[_Worker] = []
_LOCK = threading.Lock()


def start(region: str) -> None:
    """Start the helper now (it warms up for ``region``) unless one is running, or the
    speed-ups are off (moto then runs in the plan's own process)."""
    if not internals.speedups_on():
        return
    with _LOCK:
        if _WORKER and not _WORKER[0].alive():
            _WORKER.pop().close()
        if not _WORKER:
            _WORKER.append(_Worker(region))


def session(ctx: Ctx) -> Session:
    start(ctx.region)
    return Session(_WORKER[0], ctx)


@atexit.register
def stop() -> None:
    """End the helper (it also ends by itself when this process's end closes the pipe)."""
    with _LOCK:
        workers, _WORKER[:] = list(_WORKER), []
    for worker in workers:
        worker.close()


# ---------------------------------------------------------------- the helper itself


def _serve(region: str, requests: IO[bytes], replies: IO[bytes]) -> None:
    from mlops.engine.aws_backend import AwsRejected, Backend, warm_up

    # A plan allocates ~0.5M objects here, and each automatic collection rescanned
    # the warm-up's large, long-lived tables (botocore's models, moto's data): ~1/5 of
    # the helper's time. The warm-up is frozen out of collection, automatic collection
    # is off, and what earlier plans left is collected when a plan begins (the helper
    # waits for the plan's first resource then).
    internals.helper_gc_off()
    warm_up(region)
    internals.helper_warmed_up()
    backend: Backend | None = None
    errors: list[str] = []
    while True:
        try:
            message = pickle.load(requests)
        except EOFError:
            break
        kind = message[0]
        if kind == "begin":
            if backend is not None:  # a plan that never finished (interrupted)
                backend.__exit__(None, None, None)
            internals.helper_plan_begins()
            backend = Backend(message[1]).__enter__()
            errors = []
        elif backend is None:
            raise RuntimeError(f"{kind} before begin")
        elif kind == "end":
            backend.__exit__(None, None, None)
            backend = None
            pickle.dump((message[1], errors), replies)
            replies.flush()
        elif errors:
            continue  # AWS stops at the first refusal, and so does the plan
        elif kind == "apply":
            typ, name, inputs, state = message[1:]
            try:
                backend.apply(typ, name, inputs, state)
            except AwsRejected as exc:
                errors.append(f"{typ} '{name}': {exc}")
        elif kind == "adopt":
            token, args, result = message[1:]
            try:
                backend.adopt(token, args, result)
            except Exception as exc:
                errors.append(f"invoke {token}: {exc}")


if __name__ == "__main__":
    # replies get the real stdout; anything a library prints goes to stderr instead
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _serve(sys.argv[1], sys.stdin.buffer, replies)
