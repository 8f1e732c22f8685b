"""The time windows the policy page looks back over (preview, charts, rescoring): one list, one reader (pure)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Window:
    length: timedelta
    label: str
    hourly: bool  # the queue charts sample by the hour (else by the day)


WINDOWS: dict[str, Window] = {
    "24h": Window(timedelta(hours=24), "last 24 hours", hourly=True),
    "7d": Window(timedelta(days=7), "last 7 days", hourly=False),
    "30d": Window(timedelta(days=30), "last 30 days", hourly=False),
}
DEFAULT_WINDOW = "7d"


class BadWindow(ValueError):
    """A window the page does not offer."""


def chosen(value: str | None) -> str:
    """The window a request names; the default for a missing or unknown one (a page, not an error)."""
    return value if value in WINDOWS else DEFAULT_WINDOW


def window_start(window: str, now: datetime) -> datetime:
    """When the window begins, counted back from now; BadWindow for a name the page does not offer."""
    if window not in WINDOWS:
        raise BadWindow(f"expected one of {', '.join(WINDOWS)}, got {window!r}")
    return now - WINDOWS[window].length
