"""The Perspective-compatible API through the WSGI app: shapes, scores, spans, errors, storage, keys."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from perspective_support import analyze, new_key, request_body
from support import comment_payload

ALL = ("TOXICITY", "SEVERE_TOXICITY", "IDENTITY_ATTACK", "INSULT", "PROFANITY", "THREAT", "SEXUALLY_EXPLICIT")
CLASSES = ("toxicity", "severe_toxicity", "identity_attack", "insult", "obscene", "threat", "sexual_explicit")


@pytest.fixture
def key(app, site):
    return new_key(app)


def _error(response, code: int, status: str) -> dict:
    assert response.status_code == code, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "status", "details"}
    assert error["code"] == code and error["status"] == status and error["message"]
    return error


def test_summary_scores_are_the_webhooks_scores(client, key, post_comment):
    text = "You are an idiot & a fool, <b>scum</b>"
    webhook = post_comment(comment_payload("c-same", body=text)).get_json()
    response = analyze(client, key, request_body(text, *ALL, clientToken="tok-1"))
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()
    assert list(data["attributeScores"]) == list(ALL)
    for name, category in zip(ALL, CLASSES):
        summary = data["attributeScores"][name]["summaryScore"]
        assert summary == {"value": webhook["scores"][category], "type": "PROBABILITY"}
        assert "spanScores" not in data["attributeScores"][name]
    assert data["attributeScores"]["TOXICITY"]["summaryScore"]["value"] > 0.5
    assert data["clientToken"] == "tok-1"
    assert set(data) == {"attributeScores", "languages", "detectedLanguages", "clientToken"}


def test_key_in_header_and_experimental_alias(client, key):
    response = analyze(client, key, request_body("You idiot", "TOXICITY_EXPERIMENTAL"), header=True)
    assert response.status_code == 200
    assert list(response.get_json()["attributeScores"]) == ["TOXICITY_EXPERIMENTAL"]


def test_span_scores_are_sentences_in_utf16_offsets(client, key):
    text = "😀 What a lovely day it is.  You are an idiot! The weather is fine."
    response = analyze(client, key, request_body(text, "TOXICITY", spanAnnotations=True))
    spans = response.get_json()["attributeScores"]["TOXICITY"]["spanScores"]
    utf16 = text.encode("utf-16-le")
    pieces = [utf16[s["begin"] * 2:s["end"] * 2].decode("utf-16-le") for s in spans]
    assert pieces == ["😀 What a lovely day it is.", "You are an idiot!", "The weather is fine."]
    values = [s["score"]["value"] for s in spans]
    assert values[1] > 0.5 and values[0] < values[1] and values[2] < values[1]
    assert all(s["score"]["type"] == "PROBABILITY" for s in spans)


def test_sentences_come_from_a_real_segmenter():
    from moderation.perspective.segment import sentences

    text = "Dr. Smith met Mr. Jones at 3 p.m. yesterday. They talked."
    assert [s.text for s in sentences(text, "en")] == ["Dr. Smith met Mr. Jones at 3 p.m. yesterday.", "They talked."]
    repeated = "Stop it. Stop it."
    assert [(s.start, s.end) for s in sentences(repeated, "en")] == [(0, 8), (9, 17)]


def test_score_threshold_leaves_out_low_scores(client, key):
    body = request_body("You are an idiot. The weather is fine.", spanAnnotations=True)
    body["requestedAttributes"] = {"TOXICITY": {"scoreThreshold": 0.5}, "THREAT": {"scoreThreshold": 0.99}}
    data = analyze(client, key, body).get_json()
    assert "THREAT" not in data["attributeScores"]
    spans = data["attributeScores"]["TOXICITY"]["spanScores"]
    assert len(spans) == 1 and spans[0]["begin"] == 0 and spans[0]["score"]["value"] >= 0.5


def test_only_probability_scores(client, key):
    body = request_body("hello there")
    body["requestedAttributes"] = {"TOXICITY": {"scoreType": "STD_DEV_SCORE"}}
    _error(analyze(client, key, body), 400, "INVALID_ARGUMENT")
    body["requestedAttributes"] = {"TOXICITY": {"scoreThreshold": 1.5}}
    _error(analyze(client, key, body), 400, "INVALID_ARGUMENT")


def test_missing_bad_and_revoked_keys(app, client, key):
    body = request_body("hello there")
    error = _error(analyze(client, None, body), 403, "PERMISSION_DENIED")
    error = _error(analyze(client, "pk_not-a-key", body), 400, "INVALID_ARGUMENT")
    assert error["details"][0]["reason"] == "API_KEY_INVALID"
    result = app.test_cli_runner().invoke(args=["apikey", "revoke", key])
    assert result.exit_code == 0 and key not in result.output
    error = _error(analyze(client, key, body), 400, "INVALID_ARGUMENT")
    assert error["details"][0]["reason"] == "API_KEY_INVALID"
    again = app.test_cli_runner().invoke(args=["apikey", "revoke", "pk_unknown"])
    assert again.exit_code != 0 and "no such API key" in again.output


def test_keys_are_stored_hashed(app, key):
    from moderation.models import ApiKey

    with app.app_context():
        [row] = db.session.scalars(sa.select(ApiKey)).all()
        assert row.key_hash != key and key not in row.key_hash
        assert key.startswith(row.prefix) and len(row.prefix) < len(key) // 3


def test_unknown_and_unserved_attributes(client, key):
    error = _error(analyze(client, key, request_body("hello there", "TOXICITY", "NICENESS")), 400, "INVALID_ARGUMENT")
    assert "NICENESS" in error["message"]
    # Perspective has SPAM, no model here scores it: refused, or left out on request.
    _error(analyze(client, key, request_body("hello there", "TOXICITY", "SPAM")), 400, "INVALID_ARGUMENT")
    dropped = analyze(client, key, request_body("hello there", "TOXICITY", "SPAM", dropUnsupportedAttributes=True))
    assert list(dropped.get_json()["attributeScores"]) == ["TOXICITY"]
    # An unknown name is never silently dropped: it is most likely a typo.
    _error(analyze(client, key, request_body("hello", "TOXICTY", dropUnsupportedAttributes=True)), 400,
           "INVALID_ARGUMENT")


def test_attribute_the_loaded_model_lacks(make_app, tmp_path_factory):
    from moderation.sites import create_site
    from tiny_detoxify import make_tiny_checkpoint

    checkpoint, config_dir = make_tiny_checkpoint(tmp_path_factory.mktemp("original"), "original")
    app = make_app(DETOXIFY_MODEL="original", DETOXIFY_CHECKPOINT=str(checkpoint),
                   DETOXIFY_CONFIG_DIR=str(config_dir))
    with app.app_context():
        create_site("orig")
        db.session.commit()
    key, client = new_key(app, "orig"), app.test_client()
    error = _error(analyze(client, key, request_body("you idiot", "TOXICITY", "SEXUALLY_EXPLICIT")), 400,
                   "INVALID_ARGUMENT")
    assert "SEXUALLY_EXPLICIT" in error["message"]
    data = analyze(client, key, request_body("you idiot", "TOXICITY", "SEXUALLY_EXPLICIT",
                                             dropUnsupportedAttributes=True)).get_json()
    assert list(data["attributeScores"]) == ["TOXICITY"]


def test_unsupported_language(client, key):
    error = _error(analyze(client, key, request_body("Du bist ein Idiot", languages=["de"])), 400, "INVALID_ARGUMENT")
    [detail] = error["details"]
    assert detail["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert detail["languageNotSupportedByAttributeError"]["attribute"] == "TOXICITY"
    dropped = analyze(client, key, request_body("Du bist ein Idiot", languages=["de"], dropUnsupportedAttributes=True))
    assert dropped.status_code == 200 and dropped.get_json()["attributeScores"] == {}
    # A BCP 47 tag names its language by the primary subtag, as Coral sends "en-US" as "en".
    assert analyze(client, key, request_body("you idiot", languages=["en-US"])).status_code == 200


def test_detected_language_is_checked_too(client, key):
    german = "Das ist wirklich eine sehr schlechte Idee und ich halte gar nichts davon, ehrlich gesagt."
    error = _error(analyze(client, key, request_body(german)), 400, "INVALID_ARGUMENT")
    assert error["details"][0]["languageNotSupportedByAttributeError"]["detectedLanguages"] == ["de"]


@pytest.mark.parametrize("body, fragment", [
    ({"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}, "non-empty"),
    ({"comment": {"text": "   "}, "requestedAttributes": {"TOXICITY": {}}}, "non-empty"),
    ({"comment": {"text": "é" * 10_241}, "requestedAttributes": {"TOXICITY": {}}}, "20480"),
    ({"comment": {"text": "hi"}}, "Requested attributes"),
    ({"comment": {"text": "hi"}, "requestedAttributes": []}, "requested_attributes"),
    ({"comment": "hi", "requestedAttributes": {"TOXICITY": {}}}, "comment"),
    ({"comment": {"text": 5}, "requestedAttributes": {"TOXICITY": {}}}, "comment.text"),
    ({"comment": {"text": "hi", "type": "XML"}, "requestedAttributes": {"TOXICITY": {}}}, "comment.type"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": "en"}, "languages"),
    ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "doNotStore": "yes"}, "doNotStore"),
    ([1, 2], "object"),
])
def test_invalid_requests(client, key, body, fragment):
    error = _error(analyze(client, key, body), 400, "INVALID_ARGUMENT")
    assert fragment in error["message"]


def test_text_of_exactly_the_limit_is_accepted(client, key):
    assert analyze(client, key, request_body("é" * 10_240)).status_code == 200


def test_malformed_json_and_odd_bodies_never_500(client, key):
    _error(analyze(client, key, None, raw=b'{"comment": '), 400, "INVALID_ARGUMENT")
    _error(analyze(client, key, None, raw=b"\xff\xfe"), 400, "INVALID_ARGUMENT")
    odd = [b"null", b"1", b'"x"', b'{"comment": null, "requestedAttributes": null}',
           b'{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": null}}',
           b'{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": 3}}',
           b'{"comment": {"text": "\\ud800"}, "requestedAttributes": {"TOXICITY": {}}}',
           b'{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": [null]}',
           b'{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": true}}}',
           b'{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "clientToken": {}}']
    for raw in odd:
        response = analyze(client, key, None, raw=raw)
        assert response.status_code < 500, (raw, response.get_data(as_text=True))
        if response.status_code != 200:
            assert "error" in response.get_json()
    for raw in odd:
        response = client.post(f"/v1alpha1/comments:suggestscore?key={key}", data=raw, content_type="application/json")
        assert response.status_code < 500, (raw, response.get_data(as_text=True))


def test_unknown_paths_and_methods_answer_in_googles_shape(client, key):
    _error(client.get(f"/v1alpha1/comments:analyze?key={key}"), 405, "INVALID_ARGUMENT")
    _error(client.post(f"/v1alpha1/comments:nothing?key={key}"), 404, "NOT_FOUND")


def test_scorer_outage_is_503_and_stores_nothing(make_app):
    from moderation.models import ScoredText
    from moderation.sites import create_site

    app = make_app(scorer=False)
    with app.app_context():
        create_site("news")
        db.session.commit()
    key, client = new_key(app), app.test_client()
    error = _error(analyze(client, key, request_body("You idiot", spanAnnotations=True)), 503, "UNAVAILABLE")
    assert "value" not in json.dumps(error)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoredText)) == 0


def test_quota_per_key(make_app):
    from moderation.sites import create_site

    app = make_app(PERSPECTIVE_QPS=1)
    with app.app_context():
        create_site("news")
        db.session.commit()
    first, second, client = new_key(app), new_key(app), app.test_client()
    statuses = [analyze(client, first, None, raw=b"{").status_code for _ in range(5)]
    assert 429 in statuses
    response = analyze(client, first, None, raw=b"{")
    error = _error(response, 429, "RESOURCE_EXHAUSTED")
    assert error["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"
    assert response.headers.get("Retry-After")
    # Another key has its own quota.
    assert analyze(client, second, None, raw=b"{").status_code == 400


def test_no_csrf_on_the_api(make_app):
    from moderation.sites import create_site

    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        create_site("news")
        db.session.commit()
    response = analyze(app.test_client(), new_key(app), request_body("hello there"))
    assert response.status_code == 200


def test_stored_analyses_are_scored_texts_not_comments(app, client, key):
    from moderation.models import Comment, ScoredText

    analyze(client, key, request_body("You are an idiot", "INSULT", doNotStore=False, communityId="forum-1"))
    with app.app_context():
        [row] = db.session.scalars(sa.select(ScoredText)).all()
        assert row.text == "You are an idiot" and row.community_id == "forum-1"
        # What the site's default policy would have done with it (toxicity 0.99: over the reject line).
        assert row.scores["toxicity"] > 0.9 and row.status == "rejected"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0


def test_stored_analyses_are_decided_with_the_sites_own_lexicon_terms(app, client, key):
    """A key belongs to a site: its policy and its lexicon (the terms editors added for it), as its webhook."""
    from moderation.lexicon.store import add_terms
    from moderation.models import ScoredText, Site
    from moderation.scoring.terms import Term

    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.slug == "news"))
        add_terms([Term("blorpface", "slur", "en", 3)], site_id=site.id, actor_type="cli", actor_id="test")
        db.session.commit()
    analyze(client, key, request_body("What a blorpface he is", "TOXICITY", doNotStore=False))
    with app.app_context():
        [row] = db.session.scalars(sa.select(ScoredText)).all()
        assert row.status == "queued", "the site's own term holds it for review, as its webhook would"


def test_purge_keeps_texts_for_the_retention_period(app, client, key):
    from datetime import timedelta

    from moderation.models import ScoredText, utcnow

    analyze(client, key, request_body("old text here"))
    analyze(client, key, request_body("new text here"))
    with app.app_context():
        old = db.session.scalar(sa.select(ScoredText).where(ScoredText.text == "old text here"))
        old.created_at = utcnow() - timedelta(days=31)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["perspective", "purge"])
    assert result.exit_code == 0 and "Deleted 1" in result.output
    with app.app_context():
        assert [t.text for t in db.session.scalars(sa.select(ScoredText))] == ["new text here"]


def test_suggestscore_stores_a_label_for_agreement(app, client, key):
    from moderation.perspective.labels import human_labels

    body = {"comment": {"text": "You are an idiot"}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
            "clientToken": "comment:c9", "communityId": "Coral:https://news.example", "languages": ["en"]}
    response = client.post(f"/v1alpha1/comments:suggestscore?key={key}", json=body)
    assert response.status_code == 200 and response.get_json() == {"clientToken": "comment:c9"}
    body["attributeScores"] = {"INSULT": {"summaryScore": {"value": 0.5}}}
    _error(client.post(f"/v1alpha1/comments:suggestscore?key={key}", json=body), 400, "INVALID_ARGUMENT")
    with app.app_context():
        from moderation.sites import require

        [label] = human_labels(require("news").id)
        assert label.attribute == "toxicity" and label.label == 1 and label.model_score > 0.5


def test_suggestscore_labels_count_in_the_editors_agreement_figures(app, client, key):
    from moderation.policy_versions import current_policy
    from moderation.settings.insights import build
    from moderation.sites import require

    for text, value in (("You are an idiot", 1), ("What a lovely park", 0)):
        body = {"comment": {"text": text}, "attributeScores": {"INSULT": {"summaryScore": {"value": value}}}}
        assert client.post(f"/v1alpha1/comments:suggestscore?key={key}", json=body).status_code == 200
    with app.app_context():
        site = require("news")
        _, policy = current_policy(site)
        insights = build(site, policy, policy, window="24h")
        assert insights.agreement.by_source.get("suggestscore") == 2
        insult = next(c for c in insights.agreement.categories if c.category == "insult")
        assert insult.labels == 2


def test_metrics_count_each_keys_use_without_the_key(client, key):
    for _ in range(3):
        analyze(client, key, request_body("hello there"))
    text = client.get("/metrics").get_data(as_text=True)
    assert key not in text
    [line] = [line for line in text.splitlines() if line.startswith("moderation_perspective_requests_total{")]
    assert f'key_prefix="{key[:11]}"' in line and 'site="news"' in line and line.endswith(" 3.0")


def test_discovery_document_points_at_this_service(client):
    response = client.get("/$discovery/rest?version=v1alpha1", base_url="https://moderation.example:8443")
    data = response.get_json()
    assert data["rootUrl"] == "https://moderation.example:8443/"
    assert data["resources"]["comments"]["methods"]["analyze"]["path"] == "v1alpha1/comments:analyze"
    _error(client.get("/$discovery/rest?version=v2"), 404, "NOT_FOUND")


def test_text_that_sanitises_to_nothing_is_scored_as_the_webhook_scores_it(client, key, post_comment):
    text = "<script>you idiot</script>"
    webhook = post_comment(comment_payload("c-empty", body=text)).get_json()
    response = analyze(client, key, request_body(text, languages=["en"], spanAnnotations=True))
    assert response.status_code == 200, response.get_data(as_text=True)
    toxicity = response.get_json()["attributeScores"]["TOXICITY"]
    assert toxicity["summaryScore"]["value"] == webhook["scores"]["toxicity"] and toxicity["spanScores"] == []


def test_discovery_root_follows_the_proxy_when_proxyfix_wraps_the_app(app, client):
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)
    response = client.get("/$discovery/rest?version=v1alpha1",
                          headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "comments.news.example"})
    assert response.get_json()["rootUrl"] == "https://comments.news.example/"


def test_detected_languages_are_reported_beside_the_requested_ones(client, key):
    text = "This is a perfectly ordinary English sentence about the weather and the news today."
    data = analyze(client, key, request_body(text, languages=["en"])).get_json()
    assert data["languages"] == ["en"] and data["detectedLanguages"] == ["en"]
    short = analyze(client, key, request_body("ok then")).get_json()
    assert short["languages"] == [] and short["detectedLanguages"] == []  # too short to tell
