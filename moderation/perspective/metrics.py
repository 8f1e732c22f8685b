"""Prometheus counters of each API key's use, read from the database at scrape time."""
from __future__ import annotations

import sqlalchemy as sa
from prometheus_client.core import CounterMetricFamily

from ..extensions import db
from ..models import ApiKey, Site


class ApiKeyCollector:
    """moderation_perspective_requests_total by key id and prefix (never the key), site and state."""

    def collect(self):
        family = CounterMetricFamily(
            "moderation_perspective_requests", "Perspective-compatible API requests answered, per API key",
            labels=["key_id", "key_prefix", "site", "revoked"],
        )
        rows = db.session.execute(
            sa.select(ApiKey.id, ApiKey.prefix, Site.slug, ApiKey.revoked_at, ApiKey.use_count)
            .join(Site, Site.id == ApiKey.site_id).order_by(ApiKey.id)
        )
        for key_id, prefix, slug, revoked_at, count in rows:
            family.add_metric([str(key_id), prefix, slug, "true" if revoked_at else "false"], count or 0)
        yield family
