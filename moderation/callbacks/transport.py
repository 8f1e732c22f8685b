"""An HTTP session for callbacks that connects only to allowed addresses (SSRF protection).

The check is made on the socket actually connected, not on a separate DNS lookup, so DNS
rebinding (public on the check, private on the connect) cannot slip through: the connection
resolves the host once, refuses the whole host if any address is not allowed, connects to
one of those exact addresses, and checks `getpeername()` before a byte is sent. TLS still
verifies the certificate against the host name (SNI and hostname checks are untouched).
"""
from __future__ import annotations

import socket
import sys

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from .addresses import AddressPolicy, BlockedAddress

__all__ = ["BlockedAddress", "pinned_session"]


def _connect_checked(conn: HTTPConnection, policy: AddressPolicy) -> socket.socket:
    """Resolve, check every address, connect to one, check the peer; mirrors urllib3's _new_conn."""
    host = conn._dns_host  # noqa: SLF001 - the name urllib3 itself resolves
    try:
        infos = socket.getaddrinfo(host, conn.port, 0, socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise NameResolutionError(conn.host, conn, error) from error
    # Every address must pass: a host that also resolves to 10.0.0.1 is refused outright,
    # rather than hoping the public address is the one the connection picks.
    for *_, sockaddr in infos:
        policy.check(conn.host, sockaddr[0])
    last_error: OSError | None = None
    for family, socktype, proto, _, sockaddr in infos:
        sock = socket.socket(family, socktype, proto)
        try:
            for level, option, value in conn.socket_options or ():
                sock.setsockopt(level, option, value)
            sock.settimeout(conn.timeout)  # type: ignore[arg-type]
            sock.connect(sockaddr)
            policy.check(conn.host, sock.getpeername()[0])
        except socket.timeout as error:
            sock.close()
            raise ConnectTimeoutError(
                conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})") from error
        except OSError as error:
            sock.close()
            last_error = error
            continue
        except BaseException:
            sock.close()
            raise
        sys.audit("http.client.connect", conn, conn.host, conn.port)
        return sock
    raise NewConnectionError(conn, f"Failed to establish a new connection: {last_error}") from last_error


def _connection_classes(policy: AddressPolicy) -> tuple[type, type]:
    class CheckedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _connect_checked(self, policy)

    class CheckedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return _connect_checked(self, policy)

    class CheckedHTTPPool(HTTPConnectionPool):
        ConnectionCls = CheckedHTTPConnection

    class CheckedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = CheckedHTTPSConnection

    return CheckedHTTPPool, CheckedHTTPSPool


class CheckedAdapter(HTTPAdapter):
    """A requests adapter whose connections go only where the address policy allows."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        super().__init__(max_retries=0)  # retries are the outbox's job, on its schedule

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        http_pool, https_pool = _connection_classes(self.policy)
        self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}


def pinned_session(*, allow_private: bool) -> requests.Session:
    """A session for callbacks: checked connections, no proxies from the environment."""
    session = requests.Session()
    # A proxy from HTTP(S)_PROXY would be the address connected to, hiding the real target.
    session.trust_env = False
    adapter = CheckedAdapter(AddressPolicy(allow_private=allow_private))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
