"""Errors the CLI turns into one line on stderr, each with its exit code."""

from mlops_runtime.errors import MlopsError, UsageError

__all__ = ["MlopsError", "PlanError", "UsageError"]


class PlanError(MlopsError):
    """The program cannot be deployed as written: AWS (moto) or the program rejected it."""

    exit_code = 1
