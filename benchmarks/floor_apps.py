"""Two servers that do no work, for the floor under `load.py --model tiny`'s overhead.

`bare`: a WSGI callable that reads the request body and answers a small JSON document.
`flask`: one Flask route that parses the JSON body and answers with `jsonify`.

`load.py` serves each under gunicorn with `moderation serve`'s worker class, processes and
threads, and posts the same signed webhook bodies with the same client: what is left is what
any Python service on gunicorn and Flask pays per request on this machine before its own work.
"""
from __future__ import annotations

import json

from flask import Flask, jsonify, request

_ANSWER = json.dumps({"status": "approved"}).encode()


def bare(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(_ANSWER)))])
    return [_ANSWER]


flask = Flask(__name__)


@flask.get("/readyz")
def ready():
    return "ok"


@flask.post("/api/v1/sites/<site>/comments")
def receive(site: str):
    comment = request.get_json()
    return jsonify(status="approved", id=comment.get("id"), site=site)
