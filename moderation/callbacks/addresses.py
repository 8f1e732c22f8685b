"""Which IP addresses a callback may reach: public ones, unless private ones are allowed."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata and credential services: refused even when private addresses are allowed.
METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack
    "169.254.170.2",    # AWS ECS task credentials
    "169.254.170.23",   # AWS EKS Pod Identity agent
    "fd00:ec2::23",     # AWS EKS Pod Identity agent over IPv6
    "100.100.100.200",  # Alibaba Cloud
    "fd00:ec2::254",    # AWS over IPv6
    "168.63.129.16",    # Azure WireServer (VM agent, extension settings; a public address)
))

# Never a unicast peer, whatever the setting: multicast, "this host", broadcast, reserved.
_NEVER = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
    "::/128", "ff00::/8",
)]

# Not on the public internet; reachable only when CALLBACK_ALLOW_PRIVATE is on. Written out
# rather than taken from ipaddress.is_global, whose answers changed across Python releases.
_PRIVATE = [(ipaddress.ip_network(n), label) for n, label in (
    ("127.0.0.0/8", "loopback"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("169.254.0.0/16", "link-local"),
    ("100.64.0.0/10", "carrier-grade NAT"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("198.18.0.0/15", "benchmarking"),
    ("::1/128", "loopback"),
    ("fc00::/7", "unique local"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("2001:db8::/32", "documentation"),
    ("100::/64", "discard-only"),
)]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Local-use NAT64 (RFC 8215): the IPv4 address sits in the last 32 bits (a /96 prefix inside it
# is the usual choice) and the translator is on the operator's own network.
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
# IPv4-compatible IPv6 (::a.b.c.d, deprecated by RFC 4291): some stacks still route it to a.b.c.d.
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class BlockedAddress(Exception):
    """A callback URL resolves to an address it may not reach; the message says which and why."""


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False

    def check(self, host: str, address: str) -> None:
        """Raise BlockedAddress unless `address` (what `host` resolved to) may be connected to."""
        reason = refusal(ipaddress.ip_address(address.split("%", 1)[0]), self.allow_private)
        if reason:
            hint = "" if self.allow_private or reason in ("cloud metadata", "multicast or reserved") else (
                "; set MODERATION_CALLBACK_ALLOW_PRIVATE=true to allow private addresses")
            raise BlockedAddress(f"{host} resolves to {address} ({reason}), which callbacks may not reach{hint}")


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, Teredo, NAT64), if any."""
    if ip.version != 6:
        return None
    assert isinstance(ip, ipaddress.IPv6Address)
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64 or ip in _LOCAL_NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are IPv6's own unspecified and loopback
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(ip: IPAddress, allow_private: bool) -> str | None:
    """Why a callback may not connect to `ip`, or None when it may."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        # ::ffff:127.0.0.1 reaches 127.0.0.1: judge the address the packets really go to.
        reason = refusal(inner, allow_private)
        if reason is None and ip in _LOCAL_NAT64:
            # Whatever IPv4 address it carries, the translator is inside the operator's network.
            return None if allow_private else "local-use NAT64"
        return reason
    if ip in METADATA:
        return "cloud metadata"
    if any(ip in network for network in _NEVER):
        return "multicast or reserved"
    for network, label in _PRIVATE:
        if ip in network:
            return None if allow_private else label
    return None
