"""Background jobs the worker runs: pending scoring and rescoring (callbacks live in moderation.callbacks)."""
