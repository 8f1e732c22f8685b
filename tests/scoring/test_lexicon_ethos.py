"""On real ETHOS comments the slur lexicon hits at most 2% of those judged not hateful."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from lexicon_ethos import evaluate  # noqa: E402  (the measurement script, run by the tests too)

ETHOS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ethos" / "Ethos_Dataset_Binary.csv"


@pytest.fixture(scope="module")
def results():
    if not ETHOS.is_file():
        pytest.skip(f"ETHOS data not found at {ETHOS.resolve()} (the shared folder beside the repository)")
    return {r.name: r for r in evaluate(ETHOS)}


def test_at_most_two_percent_of_not_hateful_comments_are_hit(results):
    not_hateful = results["not hateful (isHate = 0)"]
    assert not_hateful.comments == 354
    assert not_hateful.rate <= 0.02, not_hateful.examples


def test_hateful_comments_with_explicit_slurs_are_hit(results):
    hateful = results["hateful (isHate >= 0.5)"]
    assert hateful.comments == 433
    print(f"\nETHOS: lexicon hits {hateful.hit}/433 hateful comments")
    assert hateful.hit >= 20  # 32 when written; a drop means the matcher lost something
