"""Errors that every part of the platform turns into one line on stderr, with an exit code."""


class MlopsError(Exception):
    """A failure the user can act on; never shown as a traceback."""

    exit_code = 1


class UsageError(MlopsError):
    """Bad input: unknown environment, missing or invalid config file, bad parameter."""

    exit_code = 2
