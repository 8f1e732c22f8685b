"""Encryption at rest of the secrets a site holds: Fernet tokens, several keys for rotation (pure).

Webhook and Coral secrets are HMAC keys: verifying a signature needs the secret itself, so it
cannot be hashed like the API token. It is kept encrypted with `cryptography`'s MultiFernet
(AES-128-CBC with HMAC-SHA256, a well-kept library rather than our own construction): the first
key encrypts, every key decrypts, so keys rotate without downtime. Stored values carry a prefix
so that plaintext rows (written before a key was set) are still read, and re-encrypted later.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PREFIX = "fernet:"
SETTING = "MODERATION_SECRET_ENCRYPTION_KEYS"

logger = logging.getLogger(__name__)


class SecretKeyError(ValueError):
    """Keys that are malformed, missing for an encrypted value, or that decrypt nothing."""


def parse_keys(raw: str | Sequence[str] | None) -> list[str]:
    """The keys of the setting: comma- or space-separated, newest first."""
    if not raw:
        return []
    items = raw.replace(",", " ").split() if isinstance(raw, str) else [str(k).strip() for k in raw]
    return [item for item in items if item]


def new_key() -> str:
    """A fresh key for the setting (32 random bytes, URL-safe base64)."""
    return Fernet.generate_key().decode()


class SecretBox:
    """Seals secrets for storage and opens them again; without keys it stores them as they are."""

    def __init__(self, keys: Sequence[str] = ()) -> None:
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError):
                raise SecretKeyError(
                    f"{SETTING}: key {position} is not a Fernet key (32 bytes in URL-safe base64, "
                    "44 characters); make one with `moderation site encryption-key`") from None
        self._fernet = MultiFernet(fernets) if fernets else None
        self._warned = False

    def _warn_plaintext(self) -> None:
        # Once per process, at the first secret written or read in the clear: loud, not noisy.
        if self._warned:
            return
        self._warned = True
        if self._fernet is None:
            logger.warning("SECURITY: webhook and Coral secrets are stored unencrypted in the database; "
                           "set %s (see README, Configuration) and run `moderation site reencrypt-secrets`",
                           SETTING)
        else:
            logger.warning("SECURITY: a site secret stored before %s was set is still in plaintext; "
                           "run `moderation site reencrypt-secrets`", SETTING)

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    @staticmethod
    def is_sealed(stored: str) -> bool:
        return stored.startswith(PREFIX)

    def seal(self, secret: str) -> str:
        """What to store for `secret`: a Fernet token under the first key, or the secret without keys."""
        if self._fernet is None:
            self._warn_plaintext()
            return secret
        return PREFIX + self._fernet.encrypt(secret.encode()).decode()

    def open(self, stored: str) -> str:
        """The secret a stored value holds (plaintext rows are returned as they are)."""
        if not self.is_sealed(stored):
            self._warn_plaintext()
            return stored
        if self._fernet is None:
            raise SecretKeyError(f"site secrets are stored encrypted but {SETTING} is not set")
        try:
            return self._fernet.decrypt(stored[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                f"no key in {SETTING} decrypts a stored site secret; keep the old key in the list "
                "(after the new one) until `moderation site reencrypt-secrets` has run") from None

    def reseal(self, stored: str) -> str:
        """The value re-encrypted under the first key (plaintext rows get encrypted)."""
        if self._fernet is None:
            raise SecretKeyError(f"{SETTING} is not set: there is no key to encrypt with")
        if not self.is_sealed(stored):
            return self.seal(stored)
        try:
            return PREFIX + self._fernet.rotate(stored[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise SecretKeyError(f"no key in {SETTING} decrypts a stored site secret") from None
