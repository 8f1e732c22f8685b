"""Reads lexicon files: the packaged TSV, plain word lists and Hurtlex TSV files."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from .terms import Term

_SEVERITY_WORDS = {"low": 1, "medium": 2, "high": 3}
# Hurtlex categories (Bassignana et al. 2018) mapped to ours. Demonyms and locations ("rci")
# and everyday words (plants, animals, professions...) are left out: naming a people or
# calling someone a "pig" is not a slur the lexicon should flag on its own.
HURTLEX_CATEGORIES = {
    "ps": "ethnic_slur",    # negative stereotypes, ethnic slurs
    "om": "slur",           # homosexuality
    "ddp": "slur",          # cognitive disabilities
    "asf": "profanity",     # female genitalia
    "asm": "profanity",     # male genitalia
    "pr": "profanity",      # prostitution
    "cds": "insult",        # derogatory words
}
_HURTLEX_LEVELS = {"conservative": 2, "inclusive": 1}


class LexiconFormatError(ValueError):
    """A lexicon file line cannot be read; the message names the file and line."""


def parse_severity(value: str | int, where: str = "severity") -> int:
    """1-3, or low / medium / high."""
    text = str(value).strip().lower()
    severity = _SEVERITY_WORDS.get(text)
    if severity is None and text.isdigit():
        severity = int(text)
    if severity not in (1, 2, 3):
        raise LexiconFormatError(f"{where}: expected 1, 2, 3, low, medium or high, got {value!r}")
    return severity


def read_lexicon_tsv(path: str | Path) -> list[Term]:
    """Reads ``term<TAB>category<TAB>language<TAB>severity`` lines; '#' starts a comment line."""
    terms = []
    with open(path, encoding="utf-8", newline="") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = line.split("\t")
            if fields[0] == "term":
                continue  # header
            if len(fields) != 4 or not all(f.strip() for f in fields):
                raise LexiconFormatError(f"{path}:{number}: expected term, category, language, severity "
                                         f"separated by tabs, got {line!r}")
            term, category, language, severity = (f.strip() for f in fields)
            terms.append(Term(term, category, language, parse_severity(severity, f"{path}:{number}")))
    return terms


def import_wordlist(path: str | Path, category: str, language: str, severity: int | str) -> list[Term]:
    """A plain word list: one term per line; blank lines and '#' comments skipped."""
    level = parse_severity(severity)
    words = Path(path).read_text(encoding="utf-8").splitlines()
    terms = [w.strip() for w in words if w.strip() and not w.lstrip().startswith("#")]
    return [Term(t, category, language, level) for t in dict.fromkeys(terms)]


def import_hurtlex(path: str | Path, language: str | None = None) -> list[Term]:
    """A Hurtlex TSV (id, pos, category, stereotype, lemma, level); language from the file name if not given."""
    path = Path(path)
    if language is None:
        found = re.search(r"hurtlex_([A-Za-z]{2,3})", path.name)
        language = found.group(1).lower() if found else "und"
    terms: dict[str, Term] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = {"category", "lemma"} - set(reader.fieldnames or ())
        if missing:
            raise LexiconFormatError(f"{path}: not a Hurtlex file, missing columns {sorted(missing)}")
        for row in reader:
            category = HURTLEX_CATEGORIES.get((row.get("category") or "").strip().lower())
            lemma = (row.get("lemma") or "").strip()
            if category is None or not lemma:
                continue
            severity = _HURTLEX_LEVELS.get((row.get("level") or "").strip().lower(), 1)
            previous = terms.get(lemma)
            if previous is None or previous.severity < severity:
                terms[lemma] = Term(lemma, category, language, severity)
    return list(terms.values())
