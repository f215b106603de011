"""Cron schedules of Kubernetes CronJobs, checked the way the API server checks them.

The API server parses ``spec.schedule`` with robfig/cron v3's standard parser (five
fields: minute, hour, day of month, month, day of week; or one of the ``@`` macros) and
refuses a ``TZ=``/``CRON_TZ=`` prefix (``spec.timeZone`` sets the zone). The grammar below
is that parser's: a field is a comma-separated list of ranges, a range is ``*``, ``?``, a
value or ``a-b``, optionally ``/step``; ``a/step`` means ``a-<max>/step``; months and
weekdays may be named (``jan``, ``mon``, any case). On top of what the API server refuses,
a schedule that can never fire (``0 0 30 2 *``: February has no 30th) is refused: the
CronJob would be accepted and never run. ``@every`` is not supported: Kubernetes
documents only the macros below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# the longest each month can be (February in a leap year)
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day of month", 1, 31, {}),
    _Field("month", 1, 12, {m: i for i, m in enumerate(_MONTHS, start=1)}),
    _Field("day of week", 0, 6, {d: i for i, d in enumerate(_DAYS)}),
)


class CronError(ValueError):
    pass


def _number(text: str, spec: _Field) -> int:
    if text.lower() in spec.names:
        return spec.names[text.lower()]
    if not re.fullmatch(r"\d+", text):
        raise CronError(f"{spec.name} {text!r} is not a number")
    return int(text)


def _values(expr: str, spec: _Field) -> tuple[set[int], bool]:
    """The values one field selects, and whether it holds ``*``/``?`` (robfig's star bit:
    with it on either day field, a day must match both day fields, else either)."""
    selected: set[int] = set()
    star = False
    for part in filter(None, expr.split(",")):  # robfig skips empty list items
        bounds, slash, step_text = part.partition("/")
        low_text, dash, high_text = bounds.partition("-")
        if bounds in ("*", "?"):
            low, high = spec.low, spec.high
            star = True  # robfig sets its star bit for `*/step` too
        else:
            if "-" in high_text:
                raise CronError(f"{spec.name} {part!r} has too many hyphens")
            low = _number(low_text, spec)
            high = _number(high_text, spec) if dash else low
            if slash and not dash:
                high = spec.high  # `a/step` is `a-max/step`
        step = 1
        if slash:
            if not re.fullmatch(r"\d+", step_text) or int(step_text) == 0:
                raise CronError(f"{spec.name} step {step_text!r} is not a positive number")
            step = int(step_text)
        if low < spec.low or high > spec.high:
            raise CronError(f"{spec.name} {part!r} is outside {spec.low}-{spec.high}")
        if low > high:
            raise CronError(f"{spec.name} {part!r} begins after it ends")
        selected.update(range(low, high + 1, step))
    if not selected:
        raise CronError(f"{spec.name} {expr!r} selects no value")
    return selected, star


def cron_problem(schedule: str) -> str | None:
    """Why Kubernetes would refuse ``schedule`` (or it could never fire), or None."""
    text = schedule.strip()
    if re.match(r"(CRON_)?TZ=", text):
        return "sets a time zone in the schedule, which Kubernetes refuses (use spec.timeZone)"
    if text.startswith("@"):
        if text not in MACROS:
            return f"{text!r} is not one of {', '.join(MACROS)}"
        return None
    fields = text.split()
    if len(fields) != len(_FIELDS):
        return (
            f"has {len(fields)} fields; a cron schedule has 5 (minute hour day-of-month "
            "month day-of-week) or is one of the @ macros"
        )
    try:
        parsed = [_values(expr, spec) for expr, spec in zip(fields, _FIELDS, strict=True)]
    except CronError as exc:
        return f"is not a valid cron schedule: {exc}"
    (days, _), (months, _), (_, any_weekday) = parsed[2], parsed[3], parsed[4]
    # with a restricted day of week the days of month and of week are OR-ed: it fires;
    # else some chosen day must exist in some chosen month
    if any_weekday and not any(day <= _MONTH_DAYS[month - 1] for day in days for month in months):
        return "never fires: no chosen month has the chosen day of month"
    return None
