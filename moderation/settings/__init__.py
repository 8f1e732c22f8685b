"""The editors' policy workspace: the policy page, preview, agreement with moderators, charts, rescoring."""
