"""One signed callback POST: Standard Webhooks headers, no redirects, a short error on failure."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from standardwebhooks.webhooks import Webhook

from .addresses import BlockedAddress

USER_AGENT = "moderation-callbacks/1"
_EXCERPT = 300  # characters of a failing response kept in last_error


@dataclass(frozen=True)
class DeliveryResult:
    """What one attempt came to."""

    delivered: bool
    status_code: int | None = None
    error: str | None = None
    retry_after: str | None = None  # the raw header; the outbox turns it into a time

    @property
    def gone(self) -> bool:
        """410: the receiver says this endpoint is gone for good (Standard Webhooks: disable it)."""
        return self.status_code == 410


def serialise(payload: dict[str, Any]) -> str:
    """The exact body that is signed and sent (compact JSON, UTF-8)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def signed_headers(secrets: Sequence[str], webhook_id: str, body: str, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers, made by the reference library.

    While a site rotates its secret, the callback carries one signature per live secret
    (space-separated, as the spec allows), so receivers verify with either the old or new one.
    """
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(Webhook(secret).sign(webhook_id, now, body) for secret in secrets),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def send(session: requests.Session, url: str, secrets: Sequence[str], webhook_id: str,
         payload: dict[str, Any], *, now: datetime, timeout: float) -> DeliveryResult:
    """POST the payload once; any answer but 2xx (redirects included) is a failure."""
    body = serialise(payload)
    headers = signed_headers(secrets, webhook_id, body, now)
    try:
        response = session.post(url, data=body.encode("utf-8"), headers=headers, timeout=timeout,
                                allow_redirects=False, stream=True)
    except BlockedAddress as error:
        return DeliveryResult(False, error=f"refused: {error}")
    except requests.exceptions.ConnectTimeout:
        return DeliveryResult(False, error=f"connection timed out after {timeout:g} s")
    except requests.exceptions.ReadTimeout:
        return DeliveryResult(False, error=f"no answer within {timeout:g} s")
    except requests.exceptions.ConnectionError as error:
        return DeliveryResult(False, error=f"connection to {urlsplit(url).netloc} failed: {_root_cause(error)}")
    except requests.exceptions.RequestException as error:
        return DeliveryResult(False, error=f"request failed: {_root_cause(error)}")
    try:
        if 200 <= response.status_code < 300:
            return DeliveryResult(True, response.status_code)
        return DeliveryResult(False, response.status_code, _describe(response),
                       response.headers.get("Retry-After"))
    finally:
        response.close()


def _describe(response: requests.Response) -> str:
    status = f"HTTP {response.status_code}"
    if response.is_redirect or 300 <= response.status_code < 400:
        location = response.headers.get("Location", "?")
        return f"{status} redirect to {location[:200]} (redirects are not followed)"
    try:
        # Read a little of the body only: a hostile receiver could stream forever.
        excerpt = response.raw.read(_EXCERPT * 4, decode_content=True).decode("utf-8", "replace")
    except Exception:  # the excerpt is a courtesy; the status code is what counts
        excerpt = ""
    excerpt = " ".join(excerpt.split())[:_EXCERPT]
    return f"{status}: {excerpt}" if excerpt else status


def _root_cause(error: BaseException) -> str:
    """The innermost message (requests wraps urllib3 wraps OSError), without object reprs."""
    seen = error
    while seen.__cause__ is not None or seen.__context__ is not None:
        seen = seen.__cause__ or seen.__context__  # type: ignore[assignment]
    text = str(seen) or type(seen).__name__
    if "object at 0x" in text and ":" in text:
        text = text.split(":", 1)[1].strip()
    return text[:300]
