"""Perspective attribute names and the Detoxify classes behind them (pure)."""
from __future__ import annotations

# Perspective's production attributes this service answers, and the Detoxify class each reads.
ATTRIBUTES: dict[str, str] = {
    "TOXICITY": "toxicity",
    "SEVERE_TOXICITY": "severe_toxicity",
    "IDENTITY_ATTACK": "identity_attack",
    "INSULT": "insult",
    "PROFANITY": "obscene",
    "THREAT": "threat",
    "SEXUALLY_EXPLICIT": "sexual_explicit",
}
EXPERIMENTAL_SUFFIX = "_EXPERIMENTAL"

# Perspective attributes that exist there but that no Detoxify model scores: known names, so
# dropUnsupportedAttributes may drop them; any other name is refused as unknown.
PERSPECTIVE_ONLY = frozenset({
    "FLIRTATION", "ATTACK_ON_AUTHOR", "ATTACK_ON_COMMENTER", "INCOHERENT", "INFLAMMATORY",
    "LIKELY_TO_REJECT", "OBSCENE", "SPAM", "UNSUBSTANTIAL", "AFFINITY", "COMPASSION", "CURIOSITY",
    "NUANCE", "PERSONAL_STORY", "REASONING", "RESPECT", "TOXICITY_FAST", "SEVERE_TOXICITY_FAST",
    "BRIDGING", "BRIDGING_EXPERIMENTAL",
})


def category_for(name: str) -> str | None:
    """The Detoxify class behind a requested attribute name (its _EXPERIMENTAL alias too)."""
    if name in ATTRIBUTES:
        return ATTRIBUTES[name]
    if name.endswith(EXPERIMENTAL_SUFFIX):
        return ATTRIBUTES.get(name[: -len(EXPERIMENTAL_SUFFIX)])
    return None


def is_known(name: str) -> bool:
    """True for a name Perspective defines, whether or not this service scores it."""
    return category_for(name) is not None or name in PERSPECTIVE_ONLY or (
        name.endswith(EXPERIMENTAL_SUFFIX) and name[: -len(EXPERIMENTAL_SUFFIX)] in PERSPECTIVE_ONLY)


def attribute_for(category: str) -> str | None:
    """The Perspective name of a Detoxify class (for showing span scores under Perspective's names)."""
    for name, mapped in ATTRIBUTES.items():
        if mapped == category:
            return name
    return None
