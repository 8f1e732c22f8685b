"""Webhook signature checks: Standard Webhooks for the comment API, Coral's HMAC for Coral."""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


class SignatureInvalid(Exception):
    """The request is not signed by any of the site's secrets; the message says why."""


def verify_standard(body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> str:
    """Verify a Standard Webhooks signature against each secret; return the webhook-id.

    The library checks the 5-minute timestamp tolerance and compares in constant time.
    """
    wanted = {name: headers.get(name) for name in HEADERS}
    missing = [name for name, value in wanted.items() if not value]
    if missing:
        raise SignatureInvalid(f"missing header(s): {', '.join(missing)}")
    last_error = "no matching signature"
    for secret in secrets:
        try:
            Webhook(secret).verify(body, wanted, json_parse=False)
            return wanted["webhook-id"]  # type: ignore[return-value]
        except WebhookVerificationError as error:
            last_error = str(error)
            if "timestamp" in last_error.lower() or "signature headers" in last_error.lower():
                break  # the timestamp is wrong for every secret alike
        except (ValueError, TypeError) as error:
            # Malformed signature lists ("v1" without a comma, bad base64) are refusals too.
            last_error = f"malformed webhook-signature header ({type(error).__name__})"
            break
    raise SignatureInvalid(last_error)


def verify_coral(body: bytes, header: str | None, secrets: Sequence[str]) -> None:
    """Verify Coral's `X-Coral-Signature: sha256=<hex>[,sha256=<hex>...]` in constant time."""
    if not header:
        raise SignatureInvalid("missing header: X-Coral-Signature")
    if not secrets:
        raise SignatureInvalid("this site has no Coral secret configured")
    offered = []
    for part in header.split(","):
        algorithm, _, digest = part.strip().partition("=")
        if algorithm == "sha256" and digest:
            offered.append(digest.strip().lower())
    if not offered:
        raise SignatureInvalid("X-Coral-Signature holds no sha256=<hex> signature")
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        for digest in offered:
            # Every pair is compared, so timing does not reveal which one matched.
            matched |= hmac.compare_digest(expected, digest)
    if not matched:
        raise SignatureInvalid("no matching signature")
