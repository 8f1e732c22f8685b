"""`moderation lexicon`: a deployment's own terms reach the webhook's matcher."""
from __future__ import annotations

from support import comment_payload


def test_imported_word_list_is_matched_through_obfuscation(app, runner, tmp_path, post_comment):
    words = tmp_path / "words.txt"
    words.write_text("# our own list\nzorblax\n", encoding="utf-8")
    result = runner.invoke(args=["lexicon", "import", str(words), "--category", "ethnic_slur",
                                 "--language", "en", "--severity", "high"])
    assert result.exit_code == 0, result.output
    assert "Added 1 term(s)" in result.output
    again = runner.invoke(args=["lexicon", "import", str(words), "--category", "ethnic_slur"])
    assert "Added 0 term(s)" in again.output

    check = runner.invoke(args=["lexicon", "check", "what a Z0RB.L4X he is"])
    assert "'Z0RB.L4X' -> zorblax (ethnic_slur" in check.output

    body = "<p>You are a z-o-r-b-l-a-x.</p>"
    response = post_comment(comment_payload("lx1", body))
    data = response.get_json()
    assert data["status"] == "queued", data
    [match] = [m for m in data["matches"] if m["term"] == "zorblax"]
    assert match["category"] == "ethnic_slur"
    assert data["text"][match["start"]:match["end"]] == "z-o-r-b-l-a-x"


def test_import_reports_unreadable_files(runner, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("word\n", encoding="utf-8")
    result = runner.invoke(args=["lexicon", "import", str(bad), "--severity", "extreme"])
    assert result.exit_code != 0 and "cannot read" in result.output


def test_stats_counts_the_packaged_terms(runner):
    result = runner.invoke(args=["lexicon", "stats"])
    assert result.exit_code == 0 and "ethnic_slur" in result.output
