"""Kubernetes quantities and Prometheus durations, parsed the way their consumers do.

Kubernetes keeps CPU as an int64 of millicores and memory as an int64 of bytes, and
refuses CPU finer than 1m; Prometheus keeps a duration as an int64 of nanoseconds. A
value outside those is refused here rather than overflowing there.
"""

from __future__ import annotations

import re
from decimal import Decimal

INT64_MAX = 2**63 - 1

_CPU = re.compile(r"^(?P<number>\d+(\.\d+)?)(?P<milli>m?)$")
_MEMORY = re.compile(r"^(?P<number>\d+)(?P<unit>Ki|Mi|Gi|Ti)$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def cpu_millis(quantity: str) -> int:
    """``quantity`` (``250m``, ``1``, ``1.5``) in millicores; ValueError if Kubernetes
    would refuse it."""
    found = _CPU.match(quantity)
    if found is None:
        raise ValueError(f"{quantity!r} is not a CPU quantity (e.g. 250m, 1, 1.5)")
    millis = Decimal(found["number"]) * (1 if found["milli"] else 1000)
    if millis != millis.to_integral_value():
        raise ValueError(f"{quantity!r} is finer than 1m, which Kubernetes does not allow")
    if millis > INT64_MAX:
        raise ValueError(f"{quantity!r} is beyond what Kubernetes can hold (int64 millicores)")
    return int(millis)


def memory_bytes(quantity: str) -> int:
    """``quantity`` (``512Mi``, ``2Gi``) in bytes; ValueError if Kubernetes would refuse it."""
    found = _MEMORY.match(quantity)
    if found is None:
        raise ValueError(f"{quantity!r} is not a memory quantity (e.g. 512Mi, 2Gi)")
    size = int(found["number"]) * _BINARY[found["unit"]]
    if size > INT64_MAX:
        raise ValueError(f"{quantity!r} is beyond what Kubernetes can hold (int64 bytes)")
    return size


_DURATION = re.compile(
    r"^((?P<y>\d+)y)?((?P<w>\d+)w)?((?P<d>\d+)d)?((?P<h>\d+)h)?((?P<m>\d+)m)?"
    r"((?P<s>\d+)s)?((?P<ms>\d+)ms)?$"
)
_NANOS = {
    "y": 365 * 86400 * 10**9,
    "w": 7 * 86400 * 10**9,
    "d": 86400 * 10**9,
    "h": 3600 * 10**9,
    "m": 60 * 10**9,
    "s": 10**9,
    "ms": 10**6,
}


def prometheus_duration_nanos(duration: str) -> int:
    """A positive Prometheus duration (``15d``, ``1w2d``) in nanoseconds; ValueError if
    Prometheus would refuse it or it is zero."""
    found = _DURATION.match(duration)
    if not duration or found is None:
        raise ValueError(f"{duration!r} is not a Prometheus duration (e.g. 15d, 2w, 12h)")
    nanos = sum(int(v) * _NANOS[unit] for unit, v in found.groupdict().items() if v)
    if nanos == 0:
        raise ValueError(f"{duration!r} is zero")
    if nanos > INT64_MAX:
        raise ValueError(f"{duration!r} is beyond what Prometheus can hold (about 292 years)")
    return nanos
