"""Every vector of the shared XSS corpus, posted as a comment, rendered in the queue and on its card:
no dialog opens, no injected code runs, and nothing the sanitiser forbids reaches the DOM."""
from __future__ import annotations

import json

import pytest

from support import comment_payload
from moderation.extensions import db
from moderation.sanitise import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
from review_support import PASSWORD, make_user
from xss_corpus import load_xss_vectors

from .conftest import new_page, serve, sign_in

pytestmark = pytest.mark.browser

# Runs before any page script: record every call of the usual payload sinks, then let the
# real function run (so a real alert would still open a dialog and be caught by page.on).
HOOKS = """
window.__xssCalls = [];
for (const name of ["alert", "confirm", "prompt", "print", "open"]) {
  const original = window[name];
  window[name] = function (...args) { window.__xssCalls.push(name + ":" + String(args[0])); return original.apply(this, args); };
}
"""

# Checks the rendered DOM: comment bodies hold only allow-listed elements and attributes, and
# the whole page holds no handler attribute, style attribute, script of its own, frame or
# javascript:/data: link, whatever the comment did.
AUDIT_DOM = """
([tags, attributes]) => {
  const problems = [];
  const ids = [];
  for (const item of document.querySelectorAll("[data-comment]")) ids.push(item.dataset.id);
  for (const body of document.querySelectorAll("[data-comment-body]")) {
    const where = body.closest("[data-comment]")?.dataset.id || "?";
    for (const el of body.querySelectorAll("*")) {
      const tag = el.localName;
      if (!tags.includes(tag)) problems.push(`#${where}: element <${tag}>`);
      for (const attr of el.attributes) {
        const allowed = (attributes[tag] || []).concat(tag === "a" ? ["rel"] : []);
        if (!allowed.includes(attr.name)) problems.push(`#${where}: attribute ${tag}[${attr.name}]`);
      }
    }
  }
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      if (/^on/i.test(attr.name)) problems.push(`handler ${el.localName}[${attr.name}]`);
      if (attr.name === "style" && !(el.localName === "input" && attr.value === "")) problems.push(`style on <${el.localName}>`);
      if (["href", "src", "action", "formaction", "xlink:href", "data"].includes(attr.name)
          && /^\\s*(javascript|vbscript|data):/i.test(attr.value)) problems.push(`${attr.name}=${attr.value.slice(0, 60)}`);
    }
  }
  for (const script of document.querySelectorAll("script")) {
    if (!script.src || new URL(script.src).origin !== location.origin) problems.push("script " + script.outerHTML.slice(0, 80));
  }
  // The app's own links in <head>: its stylesheet and its favicon; any other <link> was injected.
  for (const el of document.querySelectorAll("iframe, frame, object, embed, applet, base, svg, math, style, meta[http-equiv], link:not([rel=stylesheet]):not(head > link[rel=icon][href='/static/favicon.svg'])")) {
    problems.push("element <" + el.localName + "> in the page");
  }
  for (const form of document.querySelectorAll("form")) {
    if (form.closest("[data-comment-body]")) problems.push("form inside a comment");
  }
  return { problems, ids, calls: window.__xssCalls || [] };
}
"""


def post_vectors(app, post_comment) -> dict[int, str]:
    """Post every vector through the signed webhook; returns comment id -> vector id."""
    from moderation.models import Comment
    from moderation.policy_versions import save_policy
    from moderation.sanitise import sanitise
    from moderation.sites import require

    with app.app_context():
        # Pre-moderation holds every comment for a human, so every vector lands in a list to review.
        save_policy(require("news"), {"premoderation": True}, actor_type="cli")
        db.session.commit()
    stored: dict[int, str] = {}
    for n, vector in enumerate(load_xss_vectors()):
        response = post_comment(comment_payload(f"x{n}", vector["payload"], parent_id=f"x{n - 1}" if n else None))
        if response.status_code in (200, 202):
            stored[response.json["id"]] = vector["id"]
            continue
        # Refused by the webhook (e.g. blank after trimming): store the sanitiser's output directly,
        # so the vector is still rendered.
        assert response.status_code == 422, (vector["id"], response.status_code, response.get_data(as_text=True))
        with app.app_context():
            cleaned = sanitise(vector["payload"])
            comment = Comment(site_id=require("news").id, external_id=f"x{n}", status="queued", html=cleaned.html,
                              text=cleaned.text, harm=0.0, reasons=[], matches=[], revision_count=1)
            db.session.add(comment)
            db.session.commit()
            stored[comment.id] = vector["id"]
    return stored


def audit(page, path: str, base_url: str) -> dict:
    page.goto(base_url + path)
    page.wait_for_load_state("load")
    return page.evaluate(AUDIT_DOM, [sorted(ALLOWED_TAGS), ALLOWED_ATTRIBUTES])


def test_xss_corpus_executes_nothing_in_the_queue_and_cards(make_app, site, browser, page_errors, post_comment):
    app = make_app(REVIEW_PAGE_SIZE=100)  # a few long pages keep the run short
    make_user(app, "mod@news.example")
    # post_comment is bound to the default app; both apps share the test database.
    stored = post_vectors(app, post_comment)
    server = serve(app)
    try:
        context, page = new_page(browser, page_errors)
        page.add_init_script(HOOKS)
        sign_in(page, server.url, "mod@news.example", PASSWORD)
        problems: list[str] = []
        calls: list[str] = []
        seen: set[str] = set()
        for status in ("queued", "pending", "approved", "rejected"):
            path = f"/review/?status={status}"
            while path:
                result = audit(page, path, server.url)
                problems += [f"{path}: {p}" for p in result["problems"]]
                calls += result["calls"]
                seen.update(result["ids"])
                link = page.query_selector("[data-next-page]")
                path = link.get_attribute("href") if link else None
        assert seen >= {str(i) for i in stored}, "some vectors were not rendered in any list"
        for comment_id in stored:
            # A card also renders the parent comment (the previous vector) and the author's history.
            result = audit(page, f"/review/comments/{comment_id}", server.url)
            problems += [f"card {comment_id} ({stored[comment_id]}): {p}" for p in result["problems"]]
            calls += result["calls"]
        context.close()
    finally:
        server.stop()
    assert page_errors["dialogs"] == [], page_errors["dialogs"]
    assert calls == [], calls
    assert problems == [], json.dumps(problems[:20], indent=1)
