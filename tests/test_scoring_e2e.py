"""The sample comments end to end: real scores from a generated checkpoint, an imported policy."""
from __future__ import annotations

import json

import pytest

from moderation.demo import sample_comments
from support import comment_payload


@pytest.fixture
def strict_policy(runner, site, tmp_path):
    policy = {
        "thresholds": {"toxicity": {"review": 0.5, "reject": 0.95},
                       "identity_attack": {"review": 0.5, "reject": 0.9}},
        "banned_words": ["psycho ruler"],
        "suspect_words": ["barbaric"],
        "premoderation": False,
    }
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    result = runner.invoke(args=["policy", "import", site.slug, str(path)])
    assert result.exit_code == 0, result.output
    return policy


def test_samples_get_real_scores_and_follow_the_imported_policy(post_comment, strict_policy):
    answers = {}
    for comment in sample_comments():
        response = post_comment(comment)
        assert response.status_code == 200, response.get_json()
        answers[comment["id"]] = response.get_json()

    classes = {"toxicity", "severe_toxicity", "obscene", "identity_attack", "insult", "threat",
               "sexual_explicit"}
    for answer in answers.values():
        assert set(answer["scores"]) == classes  # the unbiased checkpoint's own class names
        assert answer["model"] == "detoxify-unbiased"
        assert answer["policy_version"] == 2

    # "psycho ruler" is banned: c3 is rejected, with the matched span on the scored text.
    c3 = answers["c3"]
    assert c3["status"] == "rejected"
    [banned] = [r for r in c3["reasons"] if r["code"] == "banned_word"]
    [match] = [m for m in c3["matches"] if m["category"] == "banned_word"]
    assert c3["text"][match["start"]:match["end"]] == "psycho ruler"
    assert banned["term"] == "psycho ruler"
    # "barbaric" is suspect: c2 waits for a human.
    assert answers["c2"]["status"] == "queued"
    assert {r["code"] for r in answers["c2"]["reasons"]} == {"suspect_word"}
    # Naming a people is not an attack: these pass.
    for comment_id in ("c1", "c1r", "c4", "c5"):
        assert answers[comment_id]["status"] == "approved", answers[comment_id]
        assert answers[comment_id]["matches"] == []


def test_model_scores_drive_review_and_reject_thresholds(post_comment, strict_policy):
    queued = post_comment(comment_payload("b1", "<p>That is a stupid idea.</p>")).get_json()
    assert queued["status"] == "queued"
    [reason] = [r for r in queued["reasons"] if r["code"] == "toxicity"]
    assert reason["threshold"] == 0.5 and 0.5 <= reason["score"] < 0.95
    rejected = post_comment(comment_payload("b2", "<p>You idiot.</p>")).get_json()
    assert rejected["status"] == "rejected"
    assert any(r["code"] == "toxicity" and r["threshold"] == 0.95 for r in rejected["reasons"])


def test_obfuscated_banned_word_is_caught_with_its_span(post_comment, strict_policy):
    body = "<p>Their PSYCH0  R.U.L.E.R again.</p>"
    answer = post_comment(comment_payload("o1", body)).get_json()
    assert answer["status"] == "rejected"
    [match] = [m for m in answer["matches"] if m["category"] == "banned_word"]
    # Spans are on the scored text, where the sanitiser has folded the double space.
    assert answer["text"][match["start"]:match["end"]] == "PSYCH0 R.U.L.E.R"
