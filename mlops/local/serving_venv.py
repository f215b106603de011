"""The isolated environment of the local model server (`.venv-serving`).

MLServer 1.7 pins FastAPI/Starlette below what MLflow's server needs, so it cannot share
the main environment without breaking `pip check`. The ML libraries a model is unpickled
with are pinned to the main environment's versions: a model must load with the library
versions it was trained with.

Run `python -m mlops.local.serving_venv [VENV]` (what `make venv-serving` does) to create
or update it; `mlops local up` creates it on first use.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from mlops.errors import MlopsError

REQUIREMENTS = Path(__file__).resolve().parent / "serving-requirements.txt"
PINNED_FROM_MAIN = ("mlflow", "scikit-learn", "skops", "numpy", "pandas", "scipy")
STAMP = ".installed"


class ServingVenvError(MlopsError):
    exit_code = 1


def pins() -> list[str]:
    found = []
    for package in PINNED_FROM_MAIN:
        try:
            found.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return found


def fingerprint() -> str:
    """What the venv was built from: a changed requirement or main-venv pin rebuilds it."""
    return REQUIREMENTS.read_text() + "\n".join(pins()) + "\n"


def ready(venv: Path) -> bool:
    stamp = venv / STAMP
    return (
        stamp.is_file()
        and stamp.read_text() == fingerprint()
        and (venv / "bin" / "mlserver").is_file()
    )


def create(venv: Path, log: Path) -> None:
    """Create or update `venv`; output goes to `log`, the stamp is written last.

    Two processes that start a local platform at once (two test workers, two shells) would
    run pip into the same folder and break each other; the second waits for the first and
    then finds the venv ready.

    Raises:
        ServingVenvError: A step failed; the message names the log.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready(venv):
            _build(venv, log)


def _build(venv: Path, log: Path) -> None:
    python = venv / "bin" / "python"
    base = getattr(sys, "_base_executable", sys.executable)
    steps = []
    if not python.exists():
        steps.append([base, "-m", "venv", str(venv)])
    steps += [
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS), *pins()],
        [str(python), "-m", "pip", "check"],
    ]
    (venv / STAMP).unlink(missing_ok=True)
    with log.open("ab") as out:
        for step in steps:
            done = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, check=False)
            if done.returncode != 0:
                raise ServingVenvError(
                    f"model: creating {venv} failed at `{' '.join(step[1:4])}"
                    f" ...` (exit {done.returncode}); see {log}"
                )
    (venv / STAMP).write_text(fingerprint())


def main() -> None:
    from mlops.paths import project_root

    venv = Path(sys.argv[1]) if len(sys.argv) > 1 else project_root() / ".venv-serving"
    log = venv.parent / ".mlops" / "logs" / "serving-venv.log"
    try:
        create(venv, log)
    except MlopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    print(f"{venv}: MLServer ready ({', '.join(pins())})")


if __name__ == "__main__":
    main()
