"""The deployment's slur lexicon: the packaged terms plus its own (`store`), and `moderation lexicon` (`cli`).

Matching itself is pure and lives in `moderation.scoring.lexicon`.
"""
