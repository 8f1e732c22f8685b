"""The thresholds that decide a text, per category: where reduced-precision scores are checked at fp32."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from moderation.policy import Policy

# category -> the score levels at which the policy's decision changes
Boundaries = Mapping[str, Sequence[float]]


def policy_boundaries(policy: Policy) -> dict[str, tuple[float, ...]]:
    """Each category's review and reject levels (those set) under `policy`."""
    return {
        category: levels
        for category, threshold in policy.thresholds.items()
        if (levels := tuple(level for level in (threshold.review, threshold.reject) if level is not None))
    }
