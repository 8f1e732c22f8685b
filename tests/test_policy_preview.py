"""The preview: counts under the current and the proposed policy from stored scores, equal to what rescoring then does."""
from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, utcnow
from review_support import Reviewer, make_user
from support import comment_payload
from test_policy_page import form_values

TEXTS = {
    "calm": "A calm remark about the park.",               # approved
    "stupid": "The government made a stupid decision.",    # toxicity ~0.84: queued
    "idiot": "Only an idiot would build this.",            # rejected
    "angry": "Armenians are rightfully angry.",            # suspect word under v2: queued; approved under v3
    "trophy": "The trophypark is a disgrace.",             # approved; banned under the proposal
    "both": "What a stupid trophypark.",                   # queued; banned under the proposal
    "baku": "I visited Baku last year and liked it.",      # approved; suspect under the proposal
    "french": "Ce parc est une honte pour tous et pour toujours, vraiment.",  # a language the model lacks
    "slur": "They called him a shitskin on the bus.",     # a lexicon slur: queued, whatever the scores
}
# Raise toxicity review above the "stupid" scores, ban one word, hold another.
PROPOSED = {"thresholds.toxicity.review": "0.9", "banned_words": "trophypark", "suspect_words": "baku"}


def save(app, document: dict, note: str) -> None:
    from moderation.policy_versions import save_policy
    from moderation.sites import require

    with app.app_context():
        save_policy(require("news"), document, actor_type="cli", note=note)
        db.session.commit()


def statuses(app, *, since=None) -> dict[str, tuple[str, str | None]]:
    with app.app_context():
        query = sa.select(Comment.external_id, Comment.status, Comment.decided_by)
        if since is not None:
            query = query.where(Comment.received_at >= since)
        return {row.external_id: (row.status, row.decided_by) for row in db.session.execute(query)}


@pytest.fixture
def scored(app, site, post_comment):
    """Comments scored under version 2 (suspect word "angry"); version 3 drops that word again."""
    save(app, {"suspect_words": ["angry"]}, "hold angry comments")
    for key, text in TEXTS.items():
        response = post_comment(comment_payload(key, f"<p>{text}</p>"))
        assert response.status_code == 200, response.json
    for key, text in (("human", "Only an idiot would say so."), ("old", "The government made a stupid plan.")):
        post_comment(comment_payload(key, f"<p>{text}</p>"))
    with app.app_context():
        comments = {c.external_id: c for c in db.session.scalars(sa.select(Comment))}
        comments["human"].status, comments["human"].decided_by = "approved", "human"  # a moderator's call
        comments["old"].received_at = utcnow() - timedelta(days=10)  # outside the 7-day window
        # accepted while the scorer was down: no scores to preview
        db.session.add(Comment(site_id=comments["calm"].site_id, external_id="unscored", status="pending",
                               html="<p>x</p>", text="x", scores=None, reasons=[], matches=[]))
        db.session.commit()
    save(app, {"suspect_words": []}, "angry is fine")
    states = statuses(app)
    assert states["stupid"][0] == "queued" and states["idiot"][0] == "rejected" and states["calm"][0] == "approved"
    assert states["angry"][0] == "queued" and states["french"][0] == "queued" and states["slur"][0] == "queued"
    return app


def rescore(app, *extra: str) -> None:
    result = app.test_cli_runner().invoke(args=["rescore", "--site", "news", "--status", "approved,queued,rejected",
                                                *extra])
    assert result.exit_code == 0, result.output


@pytest.fixture
def editor(scored):
    make_user(scored, "ed@news.example", role="editor")
    return Reviewer(scored.test_client(), "ed@news.example")


def run_preview(app, changes: dict, window: str = "7d"):
    from moderation.settings.form import read_form, values_of
    from moderation.settings.page import preview_for
    from moderation.policy_versions import current_policy
    from moderation.sites import require

    with app.app_context():
        site = require("news")
        values = values_of(current_policy(site)[1])
        values.update(changes)
        form = read_form(values)
        assert form.valid, form.errors
        return preview_for(site, form.policy(), window), form


def test_preview_equals_what_the_saved_policy_then_does(scored, editor):
    since = utcnow() - timedelta(days=7)
    preview, _ = run_preview(scored, PROPOSED)
    assert preview.current_version == 3
    # the current counts are version 3 applied to the stored scores: "angry" is approved there
    assert preview.current == Counter({"approved": 4, "queued": 4, "rejected": 1})
    assert preview.human == Counter({"approved": 1}) and preview.unscored == 1
    assert preview.rematched == 9 and preview.grouped == 0  # scored under version 2's word lists: matched again
    expected_changes = {"angry": ("approved", "approved"), "stupid": ("queued", "approved"),
                        "trophy": ("approved", "rejected"), "both": ("queued", "rejected"),
                        "baku": ("approved", "queued")}
    changed = {item.external_id: (item.before.status, item.after.status) for item in preview.changed}
    assert changed == {k: v for k, v in expected_changes.items() if v[0] != v[1]}

    # Save the proposal from the page, rescore the window (the path `moderation rescore` takes) and compare.
    values = form_values(editor.client.get("/sites/news/policy").get_data(as_text=True))
    assert editor.post("/sites/news/policy", {**values, **PROPOSED, "action": "save"}, fetch=False).status_code == 303
    rescore(scored, "--since", "7d")
    after = statuses(scored, since=since)
    real = Counter(status for key, (status, by) in after.items() if by != "human" and key != "unscored")
    assert real == preview.proposed
    for key, (_, expected) in expected_changes.items():
        assert after[key][0] == expected, key
    assert after["human"] == ("approved", "human")
    assert statuses(scored)["old"][0] == "queued"  # outside the window: not rescored, not counted


def test_the_page_shows_counts_changes_and_queue_load(scored, editor):
    values = form_values(editor.client.get("/sites/news/policy").get_data(as_text=True))
    response = editor.post("/sites/news/policy", {**values, **PROPOSED, "action": "preview", "window": "7d"},
                           fetch=False)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    preview = " ".join(page[page.index('id="preview"'):].split())

    def counts(status):
        row = re.search(rf'<tr data-outcome="{status}">(.*?)</tr>', preview).group(1)
        return [int(n) for n in re.findall(r'data-count="\w+">(\d+)<', row)]

    assert counts("approved") == [4, 3] and counts("queued") == [4, 3] and counts("rejected") == [1, 3]
    assert "4 comments would be decided differently" in preview
    # queued per day over 7 days: 3/7 proposed, 4/7 now
    assert "about <strong>0.4</strong> comments a day for moderators (now 0.6)" in preview
    assert "1 comment decided by moderators" in preview and "1 approved" in preview
    assert "1 comment without a score yet" in preview
    with scored.app_context():
        trophy = db.session.scalar(sa.select(Comment.id).where(Comment.external_id == "trophy"))
    item = re.search(rf'<li data-changed-comment="{trophy}">(.*?)</li>', preview).group(1)
    assert f'href="/review/comments/{trophy}"' in item and "The trophypark is a disgrace." in item
    assert "Would be rejected for: Banned word “trophypark”" in item
    # the form keeps the proposal and marks what differs from the current version; nothing was saved
    assert 'value="0.9"' in page and page.count('class="level changed') == 1
    assert "Version 3, saved by" in page
    assert counts("approved") and "Saved policy version" not in page


def test_windows_choose_which_comments_count(scored):
    week, _ = run_preview(scored, {})
    month, _ = run_preview(scored, {}, "30d")
    day, _ = run_preview(scored, {}, "24h")
    assert week.compared == 9 and day.compared == 9 and month.compared == 10  # "old" is 10 days old
    assert week.changed_total == 0 and month.current["queued"] == 5
    with pytest.raises(ValueError):
        run_preview(scored, {}, "1y")


def test_preview_runs_no_model(scored, monkeypatch):
    from moderation.scoring import LazyScorer

    def refuse(self, texts, boundaries=None):
        raise AssertionError("the preview must not score")

    monkeypatch.setattr(LazyScorer, "score", refuse)
    preview, _ = run_preview(scored, {"thresholds.identity_attack.review": "0.5"})
    assert preview.compared == 9


def test_threshold_changes_are_counted_by_band_and_equal_the_rescore(scored):
    """Comments matched under the current word lists are counted by the database, band by band."""
    rescore(scored)  # everything now scored under version 3
    unchanged, _ = run_preview(scored, {"thresholds.identity_attack.review": "0.85"})
    assert unchanged.rematched == 0 and unchanged.compared == 9
    assert unchanged.grouped == 8  # all but the comment with a lexicon match, decided on its own
    # "idiot" scores identity_attack 0.98: still rejected (by reject 0.9); nothing else moves
    assert unchanged.changed_total == 0 and unchanged.proposed == unchanged.current

    # Hold every identity attack score above 0.01 (all of them) and reject toxicity from 0.8 ("stupid", 0.84).
    proposal = {"thresholds.identity_attack.review": "0.01", "thresholds.toxicity.reject": "0.8"}
    preview, _ = run_preview(scored, proposal)
    assert preview.grouped == 8 and preview.rematched == 0
    assert preview.moves == Counter({("approved", "queued"): 4, ("queued", "rejected"): 2})
    shown = {item.external_id: item for item in preview.changed}
    assert set(shown) == {"calm", "angry", "trophy", "baku", "stupid", "both"}
    assert [r["code"] for r in shown["stupid"].after.reasons] == ["toxicity", "identity_attack"]
    assert shown["stupid"].after.reasons[0]["score"] > 0.8  # the comment's own score, not its band's edge
    save(scored, {**run_preview(scored, proposal)[1].document}, "stricter")
    rescore(scored, "--since", "7d")
    after = statuses(scored, since=utcnow() - timedelta(days=7))
    real = Counter(status for key, (status, by) in after.items() if by != "human" and key != "unscored")
    assert real == preview.proposed
    assert {key for key, item in shown.items() if after[key][0] == item.after.status} == set(shown)


def test_word_list_changes_match_the_texts_again(scored):
    rescore(scored)
    preview, _ = run_preview(scored, {"banned_words": "baku"})
    assert preview.rematched == 9 and preview.grouped == 0
    assert preview.moves == Counter({("approved", "rejected"): 1})
    assert preview.changed[0].after.reasons[0] == {"code": "banned_word", "term": "baku", "start": 10, "end": 14}


def test_a_word_list_preview_too_large_for_a_page_asks_for_a_shorter_window(scored, editor, monkeypatch):
    import moderation.settings.preview as preview_module

    monkeypatch.setattr(preview_module, "MAX_REMATCH", 5)
    preview, _ = run_preview(scored, {"banned_words": "baku"})
    assert preview.too_many_to_rematch == 9 and preview.compared == 0 and not preview.changed
    values = form_values(editor.client.get("/sites/news/policy").get_data(as_text=True))
    page = editor.post("/sites/news/policy", {**values, "banned_words": "baku", "action": "preview"},
                       fetch=False).get_data(as_text=True)
    assert "Choose a shorter window" in page and 'data-outcome="approved"' not in page


def test_an_unchanged_list_keeps_its_stored_matches_and_only_the_changed_one_is_matched(scored, monkeypatch):
    import moderation.settings.preview as preview_module

    save(scored, {"banned_words": ["trophypark"]}, "ban the park's nickname")
    rescore(scored)
    assert statuses(scored)["trophy"][0] == "rejected"
    matched = []
    real = preview_module._site_lexicon

    def spy(words, category):
        matched.append(category)
        return real(words, category)

    monkeypatch.setattr(preview_module, "_site_lexicon", spy)
    proposal = {"banned_words": "trophypark", "suspect_words": "baku"}
    preview, form = run_preview(scored, proposal)
    assert set(matched) == {"suspect_word"}  # the banned list did not change: its stored matches stand
    assert preview.moves == Counter({("approved", "queued"): 1})
    save(scored, form.document, "hold Baku")
    rescore(scored, "--since", "7d")
    after = statuses(scored, since=utcnow() - timedelta(days=7))
    assert Counter(s for k, (s, by) in after.items() if by != "human" and k != "unscored") == preview.proposed
    assert after["trophy"][0] == "rejected" and after["baku"][0] == "queued"
