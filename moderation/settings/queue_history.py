"""The review queue over time: its size and the age of its oldest comment at the end of each bucket (pure)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class QueueEvent:
    at: datetime
    comment_id: int
    entered: bool  # True: the comment became queued; False: it left the queue


@dataclass(frozen=True)
class QueuePoint:
    at: datetime              # the end of the bucket
    size: int                 # comments queued at that moment
    oldest_seconds: float | None  # how long the oldest of them had been waiting (None: empty queue)


def queue_series(initial: Mapping[int, datetime], events: Iterable[QueueEvent],
                 edges: Sequence[datetime]) -> list[QueuePoint]:
    """Replay queue entries and exits from the state at the start, sampling at each edge."""
    waiting = dict(initial)
    ordered = sorted(events, key=lambda e: (e.at, e.comment_id))
    points: list[QueuePoint] = []
    index = 0
    for edge in edges:
        while index < len(ordered) and ordered[index].at <= edge:
            event = ordered[index]
            if event.entered:
                waiting.setdefault(event.comment_id, event.at)
            else:
                waiting.pop(event.comment_id, None)
            index += 1
        oldest = min(waiting.values(), default=None)
        points.append(QueuePoint(edge, len(waiting), (edge - oldest).total_seconds() if oldest else None))
    return points
