"""Errors the CLI turns into one line on stderr, each with its exit code."""


class MlopsError(Exception):
    """A failure the user can act on; never shown as a traceback."""

    exit_code = 1


class UsageError(MlopsError):
    """Bad input: unknown environment, missing or invalid config file."""

    exit_code = 2


class PlanError(MlopsError):
    """The program cannot be deployed as written: AWS (moto) or the program rejected it."""

    exit_code = 1
