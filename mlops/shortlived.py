"""Commands whose process only computes and prints (plan, policy check) end fast.

Cyclic GC would rescan moto's and botocore's large tables, and tearing them down at
exit costs ~2 s of a 3 s plan; such a process holds no servers, locks or open files,
so `mlops.cli.main` ends it with os._exit once its output is flushed (unless the
plan's speed-ups are switched off: mlops/engine/internals.py).
"""

from __future__ import annotations

skip_teardown = False
# Only the `mlops` process itself (set by mlops.cli.main), never a test runner that
# invokes the commands in-process.
own_process = False


def mark() -> None:
    """Declare the running command short-lived: GC off, no teardown at exit."""
    global skip_teardown
    if own_process:
        from mlops.engine import internals

        skip_teardown = internals.short_lived_process()
