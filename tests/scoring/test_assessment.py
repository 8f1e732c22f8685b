"""assess() end to end with a tiny Detoxify checkpoint: real scores, decisions, fail-closed."""

import pytest

from moderation.policy import DEFAULT_POLICY, Policy
from moderation.scoring import Assessment, LazyScorer, Lexicon, ScorerSettings, assess, detect_language

ENGLISH = "Thank you for the article, the pictures of the park tell the whole story."


@pytest.fixture
def scorer(tiny_settings):
    return LazyScorer(tiny_settings())


def test_scores_and_decisions(scorer):
    results = assess(["A good article about the park and the peace talks.", "you idiot", "stupid people",
                      "go home k.h.a.c.h"], DEFAULT_POLICY, scorer, languages=["en", "en", "en", "en"])
    assert [r.status for r in results] == ["approved", "rejected", "queued", "queued"]
    approved, rejected, queued, slur = results
    assert approved.model == "detoxify-unbiased" and approved.error is None
    assert set(approved.scores) == set(scorer.classes)
    assert {"code": "toxicity", "score": pytest.approx(rejected.scores["toxicity"], abs=1e-4),
            "threshold": 0.95} in rejected.reasons
    assert queued.reasons == [{"code": "toxicity", "score": pytest.approx(queued.scores["toxicity"], abs=1e-4),
                               "threshold": 0.8}]
    assert slur.matches[0]["term"] == "khach" and slur.matches[0]["start"] == 8
    assert isinstance(slur, Assessment) and slur.to_dict()["status"] == "queued"


def test_scorer_down_is_pending_never_approved(tmp_path):
    down = LazyScorer(ScorerSettings(checkpoint=str(tmp_path / "missing.ckpt")))
    policy = Policy(DEFAULT_POLICY.thresholds, banned_words=("idiot",), suspect_words=("clown",))
    results = assess([ENGLISH, "what an 1d1ot", "a clown", "k h a c h"], policy, down)
    assert [r.status for r in results] == ["pending", "rejected", "queued", "queued"]
    assert all(r.scores is None and r.model is None for r in results)
    assert results[0].error == f"no checkpoint at {tmp_path / 'missing.ckpt'}"
    assert results[1].reasons[0]["code"] == "banned_word"

    (none,) = assess([ENGLISH], DEFAULT_POLICY, None)
    assert (none.status, none.error) == ("pending", "no scorer configured")


def test_inference_failure_is_pending(scorer, monkeypatch):
    scorer.ensure_loaded()
    encoder = getattr(scorer._backend.model, scorer._backend.model.base_model_prefix).encoder
    monkeypatch.setattr(encoder, "forward", lambda *args, **kw: 1 / 0)
    (result,) = assess([ENGLISH], DEFAULT_POLICY, scorer)
    assert result.status == "pending" and "inference failed" in result.error


def test_language_field_wins_and_unsupported_languages_queue(scorer):
    armenian = "Հայերը և ադրբեջանցիները խաղաղություն են ուզում, և պատերազմն ավարտվել է։"
    detected, given = assess([armenian, ENGLISH], DEFAULT_POLICY, scorer, languages=[None, "fr"])
    assert detected.language == "hy" and detected.status == "queued"
    assert detected.reasons == [{"code": "unsupported_language", "language": "hy"}]
    assert given.language == "fr" and given.status == "queued"
    with pytest.raises(ValueError, match="languages: expected 2 entries, got 1"):
        assess([ENGLISH, ENGLISH], DEFAULT_POLICY, scorer, languages=["en"])


def test_custom_lexicon(scorer):
    lexicon = Lexicon.from_words(["parkour"], "suspect_word")
    (result,) = assess(["parkour in the park"], DEFAULT_POLICY, scorer, lexicon=lexicon, languages=["en"])
    assert result.status == "queued" and result.matches[0]["term"] == "parkour"


def test_detect_language():
    assert detect_language(ENGLISH) == "en"
    assert detect_language("Армяне и азербайджанцы жили вместе много лет, теперь нужен мир.") == "ru"
    assert detect_language("ok!") is None


SHORT_FOREIGN_ABUSE = ["hijo de puta", "du bist scheiße", "pezzo di merda", "va te faire foutre",
                       "sen bir aptalsın", "Армяне свиньи", "Հայեր"]
SHORT_ENGLISH = ["you idiot", "lol", "Great article!", "So true", "Well said.", "I agree with you", "Nice"]


@pytest.mark.parametrize("text", SHORT_FOREIGN_ABUSE)
@pytest.mark.parametrize("declared", [None, "en"])
def test_short_text_in_a_language_the_model_does_not_cover_goes_to_a_human(scorer, text, declared):
    (result,) = assess([text], DEFAULT_POLICY, scorer, languages=[declared])
    assert result.status == "queued", (text, result.language, result.reasons)
    assert {"code": "unsupported_language", "language": result.language} in result.reasons
    assert result.language not in (None, "en")


@pytest.mark.parametrize("text", SHORT_ENGLISH)
def test_short_english_is_still_scored_by_the_model(scorer, text):
    (result,) = assess([text], DEFAULT_POLICY, scorer, languages=[None])
    assert all(r["code"] != "unsupported_language" for r in result.reasons), result.reasons
    assert result.scores is not None


def test_a_declared_language_does_not_skip_the_check(scorer):
    russian = "Армяне и азербайджанцы жили вместе много лет, теперь нужен мир."
    (result,) = assess([russian], DEFAULT_POLICY, scorer, languages=["en"])
    assert result.language == "ru" and result.status == "queued"
    (regional,) = assess([ENGLISH], DEFAULT_POLICY, scorer, languages=["en-gb"])
    assert regional.language == "en-gb" and regional.status == "approved"
