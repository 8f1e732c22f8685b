"""The editors' policy workspace: per-site thresholds and word lists, a preview of their effect, versions."""
