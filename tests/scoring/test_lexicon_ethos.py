"""On real ETHOS comments the slur lexicon, and the same terms as a site word list, hit almost none judged not hateful."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from lexicon_ethos import evaluate  # noqa: E402  (the measurement script, run by the tests too)

from moderation.scoring import Lexicon  # noqa: E402

# The shared folder beside the repository; ETHOS_CSV points elsewhere (a worktree in another folder).
ETHOS = Path(os.environ.get("ETHOS_CSV") or
             Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ethos" / "Ethos_Dataset_Binary.csv")


def _results(lexicon: Lexicon) -> dict:
    if not ETHOS.is_file():
        pytest.skip(f"ETHOS data not found at {ETHOS.resolve()} (the shared folder beside the repository)")
    return {r.name: r for r in evaluate(ETHOS, lexicon)}


@pytest.fixture(scope="module")
def results():
    return _results(Lexicon.default())


def test_almost_no_not_hateful_comment_is_hit(results):
    not_hateful = results["not hateful (isHate = 0)"]
    assert not_hateful.comments == 354
    assert not_hateful.hit <= 2, not_hateful.examples  # 0 when written, before and after spaced letters


def test_hateful_comments_with_explicit_slurs_are_hit(results):
    hateful = results["hateful (isHate >= 0.5)"]
    assert hateful.comments == 433
    print(f"\nETHOS: lexicon hits {hateful.hit}/433 hateful comments")
    assert hateful.hit >= 20  # 32 when written; a drop means the matcher lost something


def test_the_terms_as_a_site_word_list_are_as_precise():
    site = Lexicon.from_words([term.term for term in Lexicon.default()], "banned_word")
    not_hateful = _results(site)["not hateful (isHate = 0)"]
    assert not_hateful.hit <= 2, not_hateful.examples
