"""Load the shared XSS corpus from ../shared/security beside the repository, or skip when absent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

# The corpus is shared between projects and must not be copied into this repository.
CORPUS_PATH = Path(__file__).resolve().parents[2] / "shared" / "security" / "xss-vectors.json"
MISSING_REASON = (
    f"XSS corpus not found at {CORPUS_PATH}: it lives in the shared checkout next to the "
    "repository (../shared/security/xss-vectors.json) and is deliberately not copied into it"
)


def load_xss_vectors() -> list[dict[str, Any]]:
    """Return the corpus items (id, payload, category, labels, ...); skip the test if absent."""
    if not CORPUS_PATH.is_file():
        pytest.skip(MISSING_REASON)
    return json.loads(CORPUS_PATH.read_text(encoding="utf-8"))


def xss_vector_params() -> list[Any]:
    """Parametrize values, one per vector and named by its id; a single skipped one if absent.

    Collection cannot call pytest.skip without skipping the whole module, so an absent corpus
    becomes one visibly skipped parameter instead.
    """
    if not CORPUS_PATH.is_file():
        return [pytest.param(None, id="corpus-missing", marks=pytest.mark.skip(reason=MISSING_REASON))]
    return [pytest.param(item, id=item["id"]) for item in load_xss_vectors()]
