"""The process's slur lexicon: the packaged list plus the deployment's own terms (a TSV file)."""
from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask, current_app

from ..scoring import Lexicon, Term
from ..scoring.lexicon_files import read_lexicon_tsv

EXTENSION_KEY = "moderation.lexicon"
HEADER = "term\tcategory\tlanguage\tseverity\n"


def extra_path(app: Flask) -> Path:
    """MODERATION_LEXICON_PATH, or lexicon.tsv in the instance folder."""
    configured = app.config.get("LEXICON_PATH")
    return Path(configured) if configured else Path(app.instance_path) / "lexicon.tsv"


class LexiconHolder:
    """Builds the combined lexicon on first use (the automaton is built once per process)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._lexicon: Lexicon | None = None

    def get(self) -> Lexicon:
        if self._lexicon is None:
            with self._lock:
                if self._lexicon is None:
                    extra = read_lexicon_tsv(self.path) if self.path.is_file() else []
                    self._lexicon = Lexicon.from_terms([*Lexicon.default(), *extra])
        return self._lexicon


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = LexiconHolder(extra_path(app))


def lexicon() -> Lexicon:
    return current_app.extensions[EXTENSION_KEY].get()


def append_terms(path: Path, terms: list[Term]) -> tuple[int, int]:
    """Add terms to a deployment lexicon file; returns (added, already there)."""
    existing = read_lexicon_tsv(path) if path.is_file() else []
    known = {(t.term.casefold(), t.category, t.language) for t in [*Lexicon.default(), *existing]}
    new = []
    for term in terms:
        key = (term.term.casefold(), term.category, term.language)
        if key not in known and "\t" not in term.term:
            known.add(key)
            new.append(term)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        if not existing and handle.tell() == 0:
            handle.write(HEADER)
        for term in new:
            handle.write(f"{term.term}\t{term.category}\t{term.language}\t{term.severity}\n")
    return len(new), len(terms) - len(new)
