"""Configuration: defaults, then MODERATION_* environment variables (an unknown one stops the start)."""
from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

PREFIX = "MODERATION_"

DEFAULTS: dict[str, Any] = {
    # None means: SQLite in the instance folder (set in create_app).
    "DATABASE_URL": None,
    # SQLite only: NORMAL (commits not fsynced one by one; see database.py) or FULL.
    "SQLITE_SYNCHRONOUS": "NORMAL",
    "SECRET_KEY": None,
    # Webhook intake
    "MAX_BODY_BYTES": 256 * 1024,
    "RATELIMIT_WEBHOOK": "600 per minute",
    # Requests refused before their signature verified, per client address (ingest/quota.py).
    "RATELIMIT_WEBHOOK_UNSIGNED": "60 per minute",
    # None: a SQLite file in the instance folder, shared by this machine's processes (ratelimits.py).
    "RATELIMIT_STORAGE_URI": None,
    "RATELIMIT_KEY_PREFIX": "",  # several services sharing one Redis keep their counters apart
    "PREVIOUS_SECRET_GRACE_HOURS": 72,
    # Scoring (read by moderation.scoring.ScorerSettings.from_mapping)
    "DETOXIFY_MODEL": "unbiased",
    "DETOXIFY_CHECKPOINT": None,
    "DETOXIFY_CONFIG_DIR": None,
    "DETOXIFY_DEVICE": "cpu",
    # auto: bf16 on CPUs with native bf16 (AMX, AVX512-BF16), else fp32 (scoring/settings.py).
    "SCORING_PRECISION": "auto",
    # Reduced-precision scores this close to a policy threshold are computed again at fp32.
    "SCORING_CONFIRM_MARGIN": 0.02,
    "SCORING_KERNEL": "auto",
    "SCORING_THREADS": None,
    # `moderation serve`: a pass borrows the cores of processes idle this long (0: never, the default).
    "SCORING_LEND_IDLE_MS": 0.0,
    "SCORING_MAX_LENGTH": 512,
    "SCORING_BATCH_SIZE": 16,
    "BATCH_WINDOW_MS": 0.0,
    "BATCH_MAX": 16,
    # How long a forward pass waits for webhooks announced on their way to it (none: no wait).
    "BATCH_COMPANY_MS": 20.0,
    "SCORER_RETRY_AFTER": 60.0,
    # The old file of extra lexicon terms (still read until imported); None: instance/lexicon.tsv.
    "LEXICON_PATH": None,
    # How often each process checks the lexicon_terms table for edits (seconds).
    "LEXICON_CHECK_SECONDS": 5.0,
    # Coral waits this long for an answer (seconds).
    "CORAL_TIMEOUT": 0.2,
    # Callbacks
    "CALLBACK_ALLOW_PRIVATE": False,
    "CALLBACK_TIMEOUT": 10.0,
    # A claimed callback is another worker's to retry after this long; keep it well above
    # the timeout (connect and read each get CALLBACK_TIMEOUT).
    "CALLBACK_LEASE_SECONDS": 120.0,
    # Worker
    "WORKER_POLL_SECONDS": 1.0,
    "WORKER_BATCH_SIZE": 16,
    # A pending comment with no failed attempt is left this long to the webhook scoring it, so
    # the model does not run twice for it (jobs/pending.py). A webhook scores in under a second
    # idle and in seconds under load; half gunicorn's 60 s timeout is far beyond that, and a
    # comment whose request died is still decided within about half a minute.
    "WORKER_GRACE_SECONDS": 30.0,
    "RESCORE_LEASE_SECONDS": 300.0,
    # Coral: time kept back from CORAL_TIMEOUT for storing the decision and answering.
    "CORAL_MARGIN_SECONDS": 0.03,
    # Perspective-compatible API: requests per second per key; days scored texts are kept.
    "PERSPECTIVE_QPS": 10,
    "PERSPECTIVE_RETENTION_DAYS": 30.0,
    # Review queue
    "REVIEW_CLAIM_SECONDS": 300,
    "REVIEW_UNDO_SECONDS": 120,
    "REVIEW_PAGE_SIZE": 25,
    "RATELIMIT_LOGIN_EMAIL": "10 per 15 minutes",
    "RATELIMIT_LOGIN_ADDRESS": "30 per 15 minutes",
    # Sessions
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_COOKIE_SECURE": False,
    # Behind reverse proxies: how many set X-Forwarded-For/-Proto/-Host/-Port (0: trust none).
    "TRUSTED_PROXIES": 0,
    # Who sees /readyz's reasons besides loopback: addresses or networks (comma-separated), a token.
    "OPERATOR_ADDRESSES": "",
    "OPERATOR_TOKEN": None,
    # Fernet keys (comma-separated, newest first) that encrypt webhook and Coral secrets at rest.
    "SECRET_ENCRYPTION_KEYS": None,
    "LOG_LEVEL": "INFO",
}

# MODERATION_* names read outside the app's configuration: not settings, but not mistakes either.
OTHER_VARIABLES = {
    "BIND": "the address `moderation serve` listens on",
    "TEST_DATABASE_URL": "the PostgreSQL server the test suite runs on",
    "SCREENSHOTS_DIR": "where the browser tests write the README screenshots",
    "SCREENSHOTS_FULL": "with SCREENSHOTS_DIR: the policy page's screenshot covers the whole page",
}


class ConfigError(ValueError):
    """A MODERATION_* variable that is unknown or cannot be read; the message says which and why."""


_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off", ""}


def _coerce(name: str, raw: str, default: Any) -> Any:
    """Turn an environment string into the type of the default, with a clear error."""
    if isinstance(default, bool):
        value = raw.strip().lower()
        if value in _BOOL_TRUE:
            return True
        if value in _BOOL_FALSE:
            return False
        raise ConfigError(f"{PREFIX}{name}: expected true or false, got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{PREFIX}{name}: expected a whole number, got {raw!r}") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{PREFIX}{name}: expected a number, got {raw!r}") from None
    return raw


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the defaults overridden by MODERATION_* variables.

    An unknown name is an error, not a warning: a misspelt setting (DATABASE_URI for
    DATABASE_URL) would otherwise run the service on its default, here a private SQLite file
    instead of the shared PostgreSQL, and a warning in a server log is easily missed where a
    refused start is not.
    """
    environ = dict(os.environ if environ is None else environ)
    config = dict(DEFAULTS)
    for key, raw in sorted(environ.items()):
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX):]
        if name in OTHER_VARIABLES:
            continue
        if name not in DEFAULTS:
            raise ConfigError(unknown_variable_message(name))
        config[name] = _coerce(name, raw, DEFAULTS[name])
    return config


def unknown_variable_message(name: str) -> str:
    """What to say about MODERATION_<name>, which is no setting: the closest known name, if one is close."""
    known = [*DEFAULTS, *OTHER_VARIABLES]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean {PREFIX}{close[0]}?" if close else "the settings are listed in README.md (Configuration)"
    return f"{PREFIX}{name} is not a setting; {hint}"


def database_uri(config: dict[str, Any], instance_path: str) -> str:
    """The SQLAlchemy URL: MODERATION_DATABASE_URL, or SQLite in the instance folder."""
    url = config.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "moderation.sqlite3")
    # Heroku-style URLs name the driver "postgres"; SQLAlchemy wants psycopg 3 explicitly.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
