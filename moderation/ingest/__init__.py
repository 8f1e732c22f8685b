"""The publisher-facing API: comment webhook, status, integrations."""
