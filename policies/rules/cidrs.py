"""What "open to the internet" means, in one place: address coverage, not strings.

Used by the pack (security groups in both directions, the EKS endpoint, LoadBalancer
source ranges, Ingress inbound CIDRs) and by the stack config's validators
(`infra.base.config`), so that the rule and the config refuse the same thing. SDK-free,
so it imports in every environment.

A set of ranges is *open* when, together, it reaches at least as many **public**
addresses as a /8 (IPv4, 16.8 million) or a /32 (IPv6: a whole ISP's allocation). No
single organisation's range is larger, so more than that is "the internet at large"
however it is spelled: ``0.0.0.0/0``; ``0.0.0.0/1`` + ``128.0.0.0/1``; ``::/1`` +
``8000::/1``; every public /8 listed one by one; ``1.2.3.4/0`` (host bits are ignored,
as a packet filter does). Private and other non-public space (IANA's special-purpose
registry: RFC 1918, CGNAT, loopback, link-local, documentation, multicast, reserved;
for IPv6 everything outside global unicast 2000::/3, and its documentation ranges) does
not count: ``10.0.0.0/8`` reaches no one on the internet.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# IANA IPv4 special-purpose ranges that are not globally reachable, plus multicast
# and the reserved 240/4 (neither is a unicast source or destination on the internet).
NON_PUBLIC_V4 = tuple(
    ipaddress.collapse_addresses(
        ipaddress.IPv4Network(n)
        for n in (
            "0.0.0.0/8",
            "10.0.0.0/8",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "172.16.0.0/12",
            "192.0.0.0/24",
            "192.0.2.0/24",
            "192.168.0.0/16",
            "198.18.0.0/15",
            "198.51.100.0/24",
            "203.0.113.0/24",
            "224.0.0.0/4",
            "240.0.0.0/4",
        )
    )
)
# IPv6: only global unicast is the internet, less its documentation ranges.
GLOBAL_V6 = ipaddress.IPv6Network("2000::/3")
NON_PUBLIC_V6_IN_GLOBAL = (
    ipaddress.IPv6Network("2001:db8::/32"),
    ipaddress.IPv6Network("3fff::/20"),
)
# the threshold: as many public addresses as a /8 (IPv4) or a /32 (IPv6)
OPEN_V4 = 2 ** (32 - 8)
OPEN_V6 = 2 ** (128 - 32)
PUBLIC_V4_TOTAL = 2**32 - sum(n.num_addresses for n in NON_PUBLIC_V4)
PUBLIC_V6_TOTAL = GLOBAL_V6.num_addresses - sum(n.num_addresses for n in NON_PUBLIC_V6_IN_GLOBAL)


def parse(value: Any) -> Network | None:
    """A network from a CIDR (or a bare address), host bits ignored; None if unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


def _overlap(net: Network, other: Network) -> int:
    """Addresses two CIDRs share (CIDRs are nested or disjoint)."""
    if net.version != other.version:
        return 0
    if net.subnet_of(other):  # type: ignore[arg-type]
        return net.num_addresses
    if other.subnet_of(net):  # type: ignore[arg-type]
        return other.num_addresses
    return 0


def _public_v4(net: ipaddress.IPv4Network) -> int:
    return net.num_addresses - sum(_overlap(net, n) for n in NON_PUBLIC_V4)


def _public_v6(net: ipaddress.IPv6Network) -> int:
    inside = _overlap(net, GLOBAL_V6)
    if inside == 0:
        return 0
    part = net if net.subnet_of(GLOBAL_V6) else GLOBAL_V6
    return inside - sum(_overlap(part, n) for n in NON_PUBLIC_V6_IN_GLOBAL)


@dataclass(frozen=True)
class Coverage:
    """Public addresses a set of ranges reaches, by family (overlaps counted once)."""

    v4: int
    v6: int

    @property
    def open(self) -> bool:
        return self.v4 >= OPEN_V4 or self.v6 >= OPEN_V6

    def share(self) -> str:
        """E.g. '100% of the public IPv4 internet'."""
        parts = []
        if self.v4 >= OPEN_V4:
            parts.append(f"{_percent(self.v4, PUBLIC_V4_TOTAL)} of the public IPv4 internet")
        if self.v6 >= OPEN_V6:
            if self.v6 * 100 >= PUBLIC_V6_TOTAL:
                parts.append(f"{_percent(self.v6, PUBLIC_V6_TOTAL)} of the public IPv6 internet")
            else:
                parts.append("a /32 or more of public IPv6 space")
        return " and ".join(parts) or "no more than a /8 (IPv4) or /32 (IPv6) of public space"


def _percent(part: int, whole: int) -> str:
    value = 100 * part / whole
    return f"{value:.0f}%" if value >= 1 else f"{value:.2g}%"


def coverage(networks: Iterable[Network]) -> Coverage:
    """Public addresses the union of ``networks`` reaches."""
    networks = list(networks)
    v4 = [n for n in networks if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in networks if isinstance(n, ipaddress.IPv6Network)]
    return Coverage(
        v4=sum(_public_v4(n) for n in ipaddress.collapse_addresses(v4)),
        v6=sum(_public_v6(n) for n in ipaddress.collapse_addresses(v6)),
    )


def is_public(cidr: Any) -> bool:
    """True when the range reaches any public address."""
    net = parse(cidr)
    return net is not None and _public_size(net) > 0


def is_open(cidrs: Iterable[Any]) -> bool:
    """True when the ranges (strings) together are open to the internet (see module)."""
    return coverage(n for n in (parse(c) for c in cidrs) if n is not None).open


def opening(cidrs: Iterable[Any]) -> list[str]:
    """The ranges that make ``cidrs`` open: in each open family, the largest until they
    hold 90% of what the family's ranges reach (listed in their given order); [] when
    the set is not open. Unreadable entries are the caller's to refuse."""
    readable = [(str(c), n) for c in cidrs if (n := parse(c)) is not None]
    needed: list[Network] = []
    for version, threshold in ((4, OPEN_V4), (6, OPEN_V6)):
        family = [n for _, n in readable if n.version == version]
        # one family at a time, which the stubs cannot see through a union
        total = sum(_public_size(n) for n in ipaddress.collapse_addresses(cast(Any, family)))
        if total < threshold:
            continue
        # largest blocks first: a later block is inside an earlier one or disjoint from all
        reached = 0
        chosen: list[Network] = []
        for net in sorted(family, key=lambda n: -n.num_addresses):
            if any(net.subnet_of(n) for n in chosen):  # type: ignore[arg-type]
                continue
            chosen.append(net)
            reached += _public_size(net)
            if reached >= threshold and 10 * reached >= 9 * total:
                break
        needed += chosen
    return [text for text, net in readable if net in needed]


def open_problem(cidrs: Iterable[Any]) -> str | None:
    """Why these ranges are open to the internet, or None: '0.0.0.0/1, 128.0.0.0/1 together
    reach 100% of the public IPv4 internet' (naming the ranges that make it open, with
    the share the whole set reaches)."""
    cidrs = list(cidrs)
    listed = opening(cidrs)
    if not listed:
        return None
    cover = coverage(n for n in (parse(c) for c in cidrs) if n is not None)
    one = "reaches" if len(listed) == 1 else "together reach"
    return f"{shown(listed)} {one} {cover.share()}"


def _public_size(net: Network) -> int:
    cover = coverage([net])
    return cover.v4 + cover.v6


def shown(values: list[str], limit: int = 6) -> str:
    """A list for a message, cut after ``limit`` entries."""
    if len(values) <= limit:
        return ", ".join(values)
    return f"{', '.join(values[:limit])} and {len(values) - limit} more"
