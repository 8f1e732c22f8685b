"""SSRF protection: which addresses callbacks may reach, checked on the connection actually made."""
from __future__ import annotations

import ipaddress
import socket

import pytest

from moderation.callbacks import addresses
from moderation.callbacks.addresses import AddressPolicy, BlockedAddress, refusal
from moderation.callbacks.delivery import send
from moderation.callbacks.transport import pinned_session
from moderation.worker import Worker
from test_callbacks_support import Clock, outbox, post, receiver  # noqa: F401 (fixture)
from support import make_site

REFUSED = [
    ("127.0.0.1", "loopback"), ("127.1.2.3", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
    ("169.254.1.1", "link-local"), ("fe80::1", "link-local"), ("fd12:3456::1", "unique local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),     # IPv4-mapped
    ("2002:7f00:1::1", "loopback"),                                         # 6to4 of 127.0.0.1
    ("64:ff9b::a00:1", "private"),                                          # NAT64 of 10.0.0.1
    ("169.254.169.254", "cloud metadata"), ("fd00:ec2::254", "cloud metadata"),
    ("::ffff:169.254.169.254", "cloud metadata"),
    ("0.0.0.0", "multicast or reserved"), ("::", "multicast or reserved"),
    ("224.0.0.1", "multicast or reserved"), ("ff02::1", "multicast or reserved"),
    ("240.0.0.1", "multicast or reserved"), ("255.255.255.255", "multicast or reserved"),
]


@pytest.mark.parametrize(("address", "label"), REFUSED)
def test_non_public_addresses_are_refused(address, label):
    assert refusal(ipaddress.ip_address(address), allow_private=False) == label


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert refusal(ipaddress.ip_address(address), allow_private=False) is None


def test_allow_private_opens_private_ranges_but_never_metadata_or_multicast():
    for address in ("127.0.0.1", "10.0.0.1", "fd12::1", "100.64.0.1", "::ffff:192.168.0.1"):
        assert refusal(ipaddress.ip_address(address), allow_private=True) is None
    for address in ("169.254.169.254", "fd00:ec2::254", "224.0.0.1", "0.0.0.0"):
        assert refusal(ipaddress.ip_address(address), allow_private=True) is not None


def test_loopback_receiver_is_refused_before_any_byte_is_sent(receiver):
    session = pinned_session(allow_private=False)
    for host in ("127.0.0.1", "localhost"):
        outcome = send(session, f"http://{host}:{receiver.port}/hooks", ["whsec_" + "A" * 44], "msg_1",
                       {"type": "x"}, now=Clock().now, timeout=2)
        assert not outcome.delivered
        assert outcome.error.startswith(f"refused: {host} resolves to ")
        assert "loopback" in outcome.error and "MODERATION_CALLBACK_ALLOW_PRIVATE" in outcome.error
    assert receiver.requests == []


def test_a_host_with_any_private_address_is_refused(monkeypatch, receiver):
    real = socket.getaddrinfo

    def mixed(host, port, *args, **kwargs):
        if host == "mixed.example":  # a public and a private record: the connection could pick either
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", mixed)
    with pytest.raises(BlockedAddress, match="127.0.0.1"):
        pinned_session(allow_private=False).post(f"http://mixed.example:{receiver.port}/", timeout=2)
    assert receiver.requests == []


def test_the_peer_address_is_checked_after_connecting(monkeypatch, receiver):
    """The address connected to is checked again (getpeername), not only the DNS answer."""
    checked: list[str] = []
    original = AddressPolicy.check

    def spy(self, host, address):
        checked.append(address)
        if len(checked) > 1:  # the resolution passed; refuse what the socket reports
            raise BlockedAddress(f"{host} connected to {address}")
        return original(self, host, address)

    monkeypatch.setattr(AddressPolicy, "check", spy)
    with pytest.raises(BlockedAddress, match="connected to 127.0.0.1"):
        pinned_session(allow_private=True).post(f"http://127.0.0.1:{receiver.port}/", timeout=2)
    assert checked == ["127.0.0.1", "127.0.0.1"]
    assert receiver.requests == []


def test_environment_proxies_are_ignored(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://10.0.0.1:3128")
    assert pinned_session(allow_private=False).trust_env is False


def test_worker_without_allow_private_keeps_the_message_with_a_clear_error(make_app, receiver):
    intake = make_app(scorer=False)
    credentials = make_site(intake, callback_url=receiver.url)
    post(intake, credentials, "c1", "<p>Fine words.</p>")
    app = make_app(CALLBACK_ALLOW_PRIVATE=False)
    Worker(app, clock=Clock()).run_once()
    [message] = outbox(app)
    assert message.status == "pending" and message.attempts == 1, "not lost: retried on the schedule"
    assert message.last_error.startswith("refused: 127.0.0.1 resolves to 127.0.0.1 (loopback)")
    assert receiver.requests == []


def test_metadata_set_is_what_the_docs_promise():
    assert ipaddress.ip_address("169.254.169.254") in addresses.METADATA
    assert ipaddress.ip_address("fd00:ec2::254") in addresses.METADATA


# Found by the outside probe (issue 8, item 17): credential services that are not 169.254.169.254,
# and IPv6 spellings of IPv4 addresses that were taken for public ones.
@pytest.mark.parametrize(("address", "label"), [
    ("168.63.129.16", "cloud metadata"),          # Azure WireServer, a public address
    ("169.254.170.23", "cloud metadata"),         # EKS Pod Identity
    ("fd00:ec2::23", "cloud metadata"),
    ("::ffff:168.63.129.16", "cloud metadata"),
    ("::127.0.0.1", "loopback"),                  # IPv4-compatible
    ("::7f00:1", "loopback"),
    ("::10.0.0.1", "private"),
    ("::169.254.169.254", "cloud metadata"),
    ("64:ff9b:1::7f00:1", "loopback"),            # local-use NAT64 of 127.0.0.1
    ("64:ff9b:1::808:808", "local-use NAT64"),    # of 8.8.8.8, but translated inside the network
    ("64:ff9b:1:ffff::808:808", "local-use NAT64"),
])
def test_more_non_public_addresses_are_refused(address, label):
    assert refusal(ipaddress.ip_address(address), allow_private=False) == label


@pytest.mark.parametrize("address", [
    "168.63.129.16", "169.254.170.23", "fd00:ec2::23", "::169.254.170.23", "64:ff9b:1::a9fe:a9fe",
])
def test_credential_services_stay_refused_when_private_addresses_are_allowed(address):
    assert refusal(ipaddress.ip_address(address), allow_private=True) == "cloud metadata"


def test_allow_private_opens_local_nat64_and_ipv4_compatible_private_addresses():
    for address in ("64:ff9b:1::808:808", "64:ff9b:1::a00:1", "::10.0.0.1", "::127.0.0.1"):
        assert refusal(ipaddress.ip_address(address), allow_private=True) is None
    for address in ("::", "::1"):  # IPv6's own unspecified and loopback addresses, not IPv4
        assert refusal(ipaddress.ip_address(address), allow_private=False) in ("multicast or reserved", "loopback")


def test_public_ipv6_and_well_known_nat64_of_public_addresses_still_pass():
    for address in ("64:ff9b::808:808", "2606:4700:4700::1111", "2001:4860:4860::8888"):
        assert refusal(ipaddress.ip_address(address), allow_private=False) is None
