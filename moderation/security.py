"""Security wiring: headers, HTTPS behind a proxy, bounded ids, operator checks, the key for stored secrets."""
from __future__ import annotations

import hmac
import ipaddress

from flask import Flask, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from .bounds import BoundedIntConverter
from .encryption import SecretBox, parse_keys

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])
# Two years, no includeSubDomains: the service does not own its parent domain's other hosts.
HSTS = "max-age=63072000"


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (or the setting says so)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def trusted_proxies(app: Flask) -> int:
    """How many reverse proxies in front of the app may set X-Forwarded-* (0: none, trust nothing)."""
    value = int(app.config.get("TRUSTED_PROXIES") or 0)
    if value < 0:
        raise ValueError(f"MODERATION_TRUSTED_PROXIES: expected 0 or more proxies, got {value}")
    return value


def _operator_networks(app: Flask) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    raw = app.config.get("OPERATOR_ADDRESSES") or ""
    items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
    try:
        return [ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip()]
    except ValueError as error:
        raise ValueError(f"MODERATION_OPERATOR_ADDRESSES: {error}") from None


def is_operator() -> bool:
    """True when the current request may see operational details (reasons in /readyz).

    Loopback callers (a probe on the machine itself), addresses in MODERATION_OPERATOR_ADDRESSES,
    and requests carrying `Authorization: Bearer <MODERATION_OPERATOR_TOKEN>`. Behind a proxy the
    client address is the proxy's unless MODERATION_TRUSTED_PROXIES is set, so set it there.
    """
    token = current_app.config.get("OPERATOR_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        if given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), str(token).encode()):
            return True
    try:
        address = ipaddress.ip_address((request.remote_addr or "").split("%", 1)[0])
    except ValueError:
        return False
    if address.is_loopback or (address.version == 6 and address.ipv4_mapped and address.ipv4_mapped.is_loopback):
        return True
    return any(address in network for network in current_app.extensions["operator_networks"])


def init_app(app: Flask) -> None:
    # Site secrets are sealed with these keys (none: plaintext, with a warning at first use).
    app.extensions["secret_box"] = SecretBox(parse_keys(app.config.get("SECRET_ENCRYPTION_KEYS")))
    # Registered before the blueprints: converters are looked up when a route is added. Every
    # `<int:...>` in a URL is then bounded to what an id column holds (an out-of-range id is 404).
    app.url_map.converters["int"] = BoundedIntConverter
    app.session_interface = HttpsAwareSessionInterface()
    app.extensions["operator_networks"] = _operator_networks(app)
    proxies = trusted_proxies(app)
    if proxies:
        # The client address, scheme, host and port as the outermost trusted proxy saw them: rate
        # limits count real clients, and HTTPS is recognised for HSTS and Secure cookies.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,  # type: ignore[method-assign]
                                x_host=proxies, x_port=proxies)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if (session.accessed and request.endpoint != "static") or "Authorization" in request.headers:
            # A page built from the session (a signed-in page, or a form with its CSRF token) or
            # an answer to a bearer token must not be kept by the browser or a shared cache:
            # signing out would not remove it.
            response.headers["Cache-Control"] = "no-store"
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
