"""The deployment's lexicon lives in the database: per site or global, audited, seen by every process without a restart."""
from __future__ import annotations

import sqlalchemy as sa

from moderation.extensions import db
from support import make_site
from support import comment_payload


def _terms(app, site_id):
    from moderation.lexicon.store import lexicon

    with app.app_context():
        return {t.term for t in lexicon(site_id)}


def test_a_term_added_by_one_process_is_used_by_another_without_restart(make_app, site, post_comment):
    from moderation.lexicon.store import add_terms, remove_term, table_version, validate
    from moderation.models import AuditEntry, LexiconTerm

    other_node = make_app(LEXICON_CHECK_SECONDS=0)  # a second web node or worker, already running
    assert "zorblax" not in _terms(other_node, None)
    with other_node.app_context():
        before = table_version()

    editor_node = make_app()
    with editor_node.app_context():
        result = add_terms([validate("zorblax", "ethnic_slur", "en", 3)], site_id=None,
                           actor_type="user", actor_id="editor@example.org")
        db.session.commit()
        term_id = result.added[0].id
        assert table_version() != before
    assert "zorblax" in _terms(other_node, None)
    assert "zorblax" in _terms(other_node, 12345)  # global terms reach every site

    with editor_node.app_context():
        removed_at = table_version()
        remove_term(db.session.get(LexiconTerm, term_id), actor_type="user", actor_id="admin@example.org")
        db.session.commit()
        assert table_version() != removed_at
        row = db.session.get(LexiconTerm, term_id)
        assert row.deleted_by == "admin@example.org"  # kept, marked removed
        actions = list(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.action.like("lexicon.%"))
                                          .order_by(AuditEntry.id)))
        assert actions == ["lexicon.terms_added", "lexicon.term_removed"]
    assert "zorblax" not in _terms(other_node, None)


def test_a_process_checks_no_more_often_than_configured(make_app, site):
    from moderation.lexicon.store import add_terms, validate

    slow = make_app(LEXICON_CHECK_SECONDS=3600)
    assert "quoblin" not in _terms(slow, None)
    with make_app().app_context():
        add_terms([validate("quoblin", "slur", "en", 2)], site_id=None, actor_type="cli", actor_id="cli:test")
        db.session.commit()
    assert "quoblin" not in _terms(slow, None)  # the cached matcher stands until the next check
    assert "quoblin" in _terms(make_app(LEXICON_CHECK_SECONDS=0), None)


def test_site_terms_apply_to_that_site_only(app, runner, tmp_path, site, post_comment):
    make_site(app, "other")
    words = tmp_path / "words.txt"
    words.write_text("vexnork\n", encoding="utf-8")
    result = runner.invoke(args=["lexicon", "import", str(words), "--site", site.slug, "--category", "ethnic_slur",
                                 "--actor", "ops@example.org"])
    assert result.exit_code == 0, result.output
    assert "Added 1 term(s) for site news" in result.output

    data = post_comment(comment_payload("s1", "<p>what a v3xn0rk</p>")).get_json()
    assert data["status"] == "queued" and [m["term"] for m in data["matches"]] == ["vexnork"]
    with app.app_context():
        from moderation.lexicon.store import lexicon
        from moderation.sites import require

        assert not lexicon(require("other").id).find("what a vexnork")
        assert lexicon(require("news").id).find("what a vexnork")
    stats = runner.invoke(args=["lexicon", "stats", "--site", site.slug])
    assert "1 for site news" in stats.output, stats.output
    check = runner.invoke(args=["lexicon", "check", "a vexnork", "--site", "other"])
    assert check.output.strip() == "no match"
    unknown = runner.invoke(args=["lexicon", "import", str(words), "--site", "nope"])
    assert unknown.exit_code != 0 and "nope" in unknown.output


def test_the_old_file_keeps_working_until_imported(make_app, tmp_path, site):
    legacy = tmp_path / "old-lexicon.tsv"
    legacy.write_text("term\tcategory\tlanguage\tseverity\nglimbert\tethnic_slur\ten\t3\n", encoding="utf-8")
    app = make_app(LEXICON_PATH=str(legacy))
    assert "glimbert" in _terms(app, None)
    runner = app.test_cli_runner()
    stats = runner.invoke(args=["lexicon", "stats"])
    assert "1 from the old file" in stats.output
    result = runner.invoke(args=["lexicon", "import", "--format", "tsv", str(legacy)])
    assert "Added 1 term(s) for every site" in result.output, result.output
    legacy.unlink()
    assert "glimbert" in _terms(make_app(LEXICON_PATH=str(legacy)), None)


def test_bad_terms_are_refused_with_the_field():
    import pytest

    from moderation.lexicon.store import LexiconEditError, validate

    with pytest.raises(LexiconEditError) as caught:
        validate("  ", "Ethnic Slur", "english", "9")
    assert set(caught.value.errors) == {"term", "category", "language", "severity"}
    assert validate(" x-word ", "slur", "any", "high").severity == 3


def test_import_skips_invalid_terms_and_says_so(runner, tmp_path, app):
    words = tmp_path / "words.txt"
    words.write_text("glorbnik\n12345\n", encoding="utf-8")
    result = runner.invoke(args=["lexicon", "import", str(words)])
    assert result.exit_code == 0, result.output
    assert "Skipped 1 invalid term(s), e.g. '12345'" in result.output
    assert "Added 1 term(s) for every site" in result.output
