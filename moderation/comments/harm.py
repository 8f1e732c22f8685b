"""How harmful a comment looks, as one number the review queue sorts by (pure)."""
from __future__ import annotations

import math
from typing import Any


def harm_of(reasons: list[dict[str, Any]], scores: dict[str, float] | None) -> float:
    """The highest reason score (word hits count as 1); only finite numbers count."""
    values = [float(r["score"]) for r in reasons
              if isinstance(r.get("score"), (int, float)) and math.isfinite(r["score"])]
    if any("term" in r for r in reasons):
        values.append(1.0)
    if not values and scores:
        values.extend(float(v) for v in scores.values() if isinstance(v, (int, float)) and math.isfinite(v))
    return max(values, default=0.0)
