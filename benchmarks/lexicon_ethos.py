"""Measures the slur lexicon on the ETHOS comments: `python benchmarks/lexicon_ethos.py [CSV]`.

The CSV is read from the shared data folder beside the checkout (never copied into the repository).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from moderation.scoring import Lexicon

# The shared data folder beside a checkout (never copied into the repository).
DEFAULT_CSV = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ethos" / "Ethos_Dataset_Binary.csv"


@dataclass(frozen=True)
class GroupResult:
    name: str
    comments: int
    hit: int
    examples: tuple[str, ...]

    @property
    def rate(self) -> float:
        return self.hit / self.comments if self.comments else 0.0


def read_ethos(path: Path) -> list[tuple[str, float]]:
    """(comment, share of annotators who judged it hate speech); `;`-separated, split on the last `;`."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        comment, _, share = line.rpartition(";")
        if comment:
            rows.append((comment, float(share)))
    return rows


def evaluate(path: Path, lexicon: Lexicon | None = None) -> list[GroupResult]:
    lexicon = lexicon or Lexicon.default()
    rows = read_ethos(path)
    groups = {
        "not hateful (isHate = 0)": [c for c, share in rows if share == 0],
        "below 0.5 (isHate < 0.5)": [c for c, share in rows if share < 0.5],
        "hateful (isHate >= 0.5)": [c for c, share in rows if share >= 0.5],
    }
    results = []
    for name, comments in groups.items():
        hits = [(c, lexicon.find(c)) for c in comments]
        hits = [(c, m) for c, m in hits if m]
        examples = tuple(", ".join(c[x.start:x.end] for x in m) for c, m in hits)
        results.append(GroupResult(name, len(comments), len(hits), examples))
    return results


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT_CSV
    if not path.is_file():
        print(f"no ETHOS file at {path}", file=sys.stderr)
        return 1
    for result in evaluate(path):
        print(f"{result.name}: {result.hit}/{result.comments} comments hit ({result.rate:.1%})")
        if result.hit and not result.name.startswith("hateful"):
            print("   matched:", "; ".join(result.examples))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
