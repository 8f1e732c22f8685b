"""Live answers of the webhook, GET and Coral against the served OpenAPI document, and its headers."""
from __future__ import annotations

import json

import jsonschema
import pytest

from support import comment_payload, sign
from test_coral import CORAL_SECRET, coral_post, coral_request
from support import make_site, signed_post

OPERATIONS = {
    "webhook": ("/api/v1/sites/{site}/comments", "post"),
    "get": ("/api/v1/sites/{site}/comments/{id}", "get"),
    "coral": ("/api/v1/sites/{site}/integrations/coral", "post"),
}


class Contract:
    """The served document, and every live answer checked against it."""

    def __init__(self, document: dict):
        self.document = document
        self.seen: dict[str, set[str]] = {name: set() for name in OPERATIONS}

    def responses(self, operation: str) -> dict:
        path, method = OPERATIONS[operation]
        return self.document["paths"][path][method]["responses"]

    def check(self, operation: str, response) -> None:
        documented = self.responses(operation).get(str(response.status_code))
        assert documented, f"{operation} answered {response.status_code}, which the document does not list"
        [(media_type, content)] = documented["content"].items()
        assert response.mimetype == media_type
        schema = {**content["schema"], "components": self.document["components"]}
        jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
            response.get_json(force=True))
        if "Retry-After" in response.headers:
            assert "Retry-After" in documented.get("headers", {}), (operation, response.status_code)
        self.seen[operation].add(str(response.status_code))


@pytest.fixture
def contract(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    jsonschema.Draft202012Validator.check_schema({"components": document["components"]})
    return Contract(document)


def test_every_documented_answer_is_sent_and_matches_its_schema(make_app, contract):
    app = make_app(RATELIMIT_WEBHOOK="8 per minute", MAX_BODY_BYTES=4096, CORAL_TIMEOUT=5.0)
    client = app.test_client()
    credentials = make_site(app, "contract")
    make_site(app, slug="coralsite", coral_secret=CORAL_SECRET)
    from moderation import runtime
    from moderation.ingest.coral_scoring import warm_up
    with app.app_context():
        warm_up(runtime.scorer())

    def post(data, **kwargs):
        response = signed_post(client, "contract", credentials.secret, data)
        contract.check("webhook", response)
        return response

    decided = post(comment_payload("k1", "<p>Armenians are rightfully angry.</p>"))
    assert decided.status_code == 200 and set(decided.get_json()) >= {
        "text", "language", "revision", "decided_by", "reason_code", "decided_at"}
    assert post(comment_payload("k1", "<p>Armenians are rightfully angry.</p>")).headers["Idempotent-Replayed"]
    post(comment_payload("k2", body=12, created_at="soon"))                                    # 422
    contract.check("webhook", client.post("/api/v1/sites/contract/comments", data=b"{",
                                          headers=sign(credentials.secret, b"{") | {
                                              "Content-Type": "application/json"}))              # 400
    forged = json.dumps(comment_payload("k3")).encode()
    contract.check("webhook", client.post("/api/v1/sites/contract/comments", data=forged,
                                          headers={"Content-Type": "application/json"}))         # 401
    contract.check("webhook", signed_post(client, "nowhere", credentials.secret, comment_payload("k4")))  # 404
    post(comment_payload("k5", "<p>" + "long " * 2000 + "</p>"))                                # 413
    contract.check("webhook", client.post("/api/v1/sites/contract/comments", data=forged,
                                          headers={"Content-Type": "text/plain"}))               # 415
    for n in range(8):
        if post(comment_payload(f"r{n}")).status_code == 429:
            break
    assert "429" in contract.seen["webhook"]

    down = make_app(scorer=False)
    down_site = make_site(down, "down")
    pending = signed_post(down.test_client(), "down", down_site.secret, comment_payload("p1"))
    assert pending.status_code == 202
    contract.check("webhook", pending)

    token = {"Authorization": f"Bearer {credentials.api_token}"}
    contract.check("get", client.get("/api/v1/sites/contract/comments/k1", headers=token))
    contract.check("get", client.get("/api/v1/sites/contract/comments/k1"))
    contract.check("get", client.get("/api/v1/sites/contract/comments/none", headers=token))

    coral = make_app(CORAL_TIMEOUT=5.0, RATELIMIT_WEBHOOK="6 per minute", RATELIMIT_WEBHOOK_UNSIGNED="8 per minute",
                     MAX_BODY_BYTES=4096).test_client()
    for text in ("Fine words about the park.", "you idiot scum idiot scum"):
        answer = coral_post(coral, coral_request(text), slug="coralsite")
        assert answer.status_code == 200
        contract.check("coral", answer)
    bad = coral_request("")
    del bad["story"]
    # Signed but unreadable: held (a 4xx would make Coral publish the comment), never 422 or 400.
    for unreadable in (coral_post(coral, bad, slug="coralsite"), coral_post(coral, {}, raw=b"[", slug="coralsite")):
        contract.check("coral", unreadable)
        assert unreadable.get_json()["status"] == "SYSTEM_WITHHELD"
    contract.check("coral", coral_post(coral, {}, raw=b'{"x": "\xff"}', slug="coralsite"))       # 400 (not UTF-8)
    contract.check("coral", coral_post(coral, coral_request("x"), slug="nowhere"))               # 404
    contract.check("coral", coral.post("/api/v1/sites/coralsite/integrations/coral", data=b"{}",
                                       headers={"Content-Type": "text/plain"}))                  # 415
    contract.check("coral", coral_post(coral, coral_request("y" * 5000), slug="coralsite"))      # 413
    for n in range(6):  # signed, over the site's quota: held, not 429 (Coral would publish)
        answer = coral_post(coral, coral_request(f"More words, {n}."), slug="coralsite")
        contract.check("coral", answer)
        assert answer.status_code == 200
    assert answer.get_json()["status"] == "SYSTEM_WITHHELD"
    for n in range(10):  # unsigned refusals use up the client address's budget: 429
        answer = coral_post(coral, coral_request("x"), secrets=("empsec_wrong",), slug="coralsite")
        contract.check("coral", answer)
        if answer.status_code == 429:
            break
    assert answer.status_code == 429

    for operation in OPERATIONS:
        # Nothing advertised that is never sent (Coral's 204 was), nothing sent that is not advertised.
        assert contract.seen[operation] == set(contract.responses(operation)), operation


def test_comment_schema_lists_every_answered_field(contract):
    schema = contract.document["components"]["schemas"]["Comment"]
    for field in ("id", "external_id", "status", "scores", "reasons", "matches", "html", "text", "model",
                  "policy_version", "language", "revision", "decided_by", "reason_code", "decided_at"):
        assert field in schema["properties"] and field in schema["required"]
    assert "204" not in contract.responses("coral") and "429" in contract.responses("coral")


def test_retry_after_only_on_pending_and_rate_limited(make_app):
    app = make_app(RATELIMIT_WEBHOOK="3 per minute")
    client = app.test_client()
    credentials = make_site(app, "ra")
    decided = signed_post(client, "ra", credentials.secret, comment_payload("a1"))
    invalid = signed_post(client, "ra", credentials.secret, comment_payload("", body=""))
    forged = client.post("/api/v1/sites/ra/comments", data=b"{}", headers={"Content-Type": "application/json"})
    token = client.get("/api/v1/sites/ra/comments/a1", headers={"Authorization": "Bearer x"})
    assert [r.status_code for r in (decided, invalid, forged, token)] == [200, 422, 401, 401]
    for response in (decided, invalid, forged, token):
        assert "Retry-After" not in response.headers, response.status_code
    signed_post(client, "ra", credentials.secret, comment_payload("a2"))
    limited = signed_post(client, "ra", credentials.secret, comment_payload("a3"))
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1

    down = make_app(scorer=False)
    down_site = make_site(down, "ra-down")
    pending = signed_post(down.test_client(), "ra-down", down_site.secret, comment_payload("p1"))
    assert pending.status_code == 202 and int(pending.headers["Retry-After"]) >= 1


def test_token_errors_are_titled_as_token_errors(client, site):
    missing = client.get(f"/api/v1/sites/{site.slug}/comments/x")
    wrong = client.get(f"/api/v1/sites/{site.slug}/comments/x", headers={"Authorization": "Bearer nope"})
    for response in (missing, wrong):
        assert response.status_code == 401
        title = response.get_json()["title"]
        assert "token" in title.lower() and "signature" not in title.lower()
    forged = client.post(f"/api/v1/sites/{site.slug}/comments", data=b"{}",
                         headers={"Content-Type": "application/json"})
    assert forged.get_json()["title"] == "Signature verification failed"


def test_validation_errors_name_each_field_clearly(post_comment):
    data = comment_payload(True, body=["x"], created_at=1700000000, language="english!!")
    data["article"] = {"id": "a", "url": "ftp://x", "title": 3}
    data["author"] = "someone"
    problem = post_comment(data).get_json()
    errors = {error["field"]: error["message"] for error in problem["errors"]}
    assert set(errors) == {"id", "body", "created_at", "language", "article.url", "article.title", "author"}
    assert errors["id"].endswith("got boolean")
    assert errors["body"].endswith("got array")
    assert "http or https URL" in errors["article.url"]
    assert "language code" in errors["language"]
    missing = post_comment({"body": "<p>x</p>"}).get_json()
    assert missing["errors"] == [{"field": "id", "message": "is required"}]
