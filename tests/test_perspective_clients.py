"""Clients no one here wrote, over real HTTP: Google's own Python client and Coral's request shapes."""
from __future__ import annotations

import json
import threading

import pytest
import requests

from perspective_support import new_key
from support import comment_payload


@pytest.fixture
def live(app, site):
    """The app on a free port of 127.0.0.1, werkzeug's threaded server."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="perspective-live", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _google_client(base_url: str, key: str):
    from googleapiclient import discovery

    return discovery.build("commentanalyzer", "v1alpha1", developerKey=key,
                           discoveryServiceUrl=f"{base_url}/$discovery/rest?version=v1alpha1",
                           static_discovery=False, cache_discovery=False)


def test_googles_python_client_gets_the_webhooks_score_with_spans(app, live, post_comment):
    key = new_key(app)
    text = "The article was informative. You are an idiot!"
    webhook = post_comment(comment_payload("c-google", body=text)).get_json()
    client = _google_client(live, key)
    result = client.comments().analyze(body={
        "comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}, "INSULT": {}},
        "spanAnnotations": True, "languages": ["en"], "doNotStore": True, "clientToken": "g-1",
    }).execute()
    assert result["attributeScores"]["TOXICITY"]["summaryScore"]["value"] == webhook["scores"]["toxicity"]
    assert result["attributeScores"]["INSULT"]["summaryScore"]["value"] == webhook["scores"]["insult"]
    spans = result["attributeScores"]["TOXICITY"]["spanScores"]
    assert [(s["begin"], s["end"]) for s in spans] == [(0, 28), (29, 46)]
    assert spans[1]["score"]["value"] > spans[0]["score"]["value"]
    assert result["clientToken"] == "g-1" and result["languages"] == ["en"]

    suggestion = client.comments().suggestscore(body={
        "comment": {"text": text}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
        "clientToken": "g-2"}).execute()
    assert suggestion == {"clientToken": "g-2"}


def test_googles_client_sees_googles_errors(app, live):
    from googleapiclient.errors import HttpError

    client = _google_client(live, "pk_wrong")
    with pytest.raises(HttpError) as raised:
        client.comments().analyze(body={"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}}).execute()
    assert raised.value.resp.status == 400
    assert raised.value.reason == "API key not valid. Please pass a valid API key."
    assert raised.value.error_details[0]["reason"] == "API_KEY_INVALID"


def test_coral_toxicity_phase_request(app, live, post_comment):
    """Exactly what Coral's toxicity phase sends: coralproject/talk,
    server/src/core/server/services/perspective/perspective.ts (sendToPerspective and formatBody):
    the endpoint with `/comments:analyze` joined to its path, `?key=`, a JSON body of
    comment.text, doNotStore, requestedAttributes {MODEL: {}} and languages from the tenant locale.
    Coral reads attributeScores[MODEL].summaryScore.value and compares it with its threshold.
    """
    key = new_key(app)
    endpoint = f"{live}/v1alpha1"  # what the operator types into Coral's "API endpoint" field
    text = "Go away, scum."
    webhook = post_comment(comment_payload("c-coral", body=text)).get_json()
    for model, category in (("TOXICITY", "toxicity"), ("SEVERE_TOXICITY", "severe_toxicity")):
        body = json.dumps({"comment": {"text": text}, "doNotStore": True,
                           "requestedAttributes": {model: {}}, "languages": ["en"]})
        response = requests.post(f"{endpoint}/comments:analyze?key={key}", data=body,
                                 headers={"Content-Type": "application/json"}, timeout=30)
        assert response.status_code == 200, response.text
        score = response.json()["attributeScores"][model]["summaryScore"]["value"]
        assert score == webhook["scores"][category]


def test_coral_suggestscore_feedback(app, live):
    """Coral's feedback when a moderator decides (same file, formatBody for comments:suggestscore)."""
    from moderation.extensions import db
    from moderation.models import HumanLabel

    key = new_key(app)
    body = {
        "comment": {"text": "You are an idiot"},
        "context": {"entries": [{"text": json.dumps({
            "url": "https://news.example/a-1?commentID=c-77", "reply_to_id_Coral_comment_id": None,
            "Coral_comment_id": "c-77"})}]},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
        "languages": ["en"],
        "communityId": "Coral:news.example",
        "clientToken": "comment:c-77",
    }
    response = requests.post(f"{live}/v1alpha1/comments:suggestscore?key={key}", data=json.dumps(body),
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 200 and response.json() == {"clientToken": "comment:c-77"}
    with app.app_context():
        [label] = db.session.query(HumanLabel).all()
        assert (label.attribute, label.label, label.client_token, label.community_id, label.text) == (
            "toxicity", 1, "comment:c-77", "Coral:news.example", "You are an idiot")
