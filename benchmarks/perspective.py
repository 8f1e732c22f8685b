"""Perspective-compatible analyze against the signed webhook: requests per second through the same app.

Both go through the WSGI app (Flask's test client, no network) on a SQLite database built by
the migrations, with the same LazyScorer. The webhook stores and decides each comment; analyze
scores it (doNotStore: true, so nothing is written but the key's use count) and, with
--spans, scores each sentence too. Rounds interleave the two so a busy machine slows both alike.

    python benchmarks/perspective.py [--model tiny|unbiased|...] [--requests 48] [--rounds 2] [--spans]

`tiny` (default) is the tests' tiny checkpoint: it measures the request path around the
model. A model name builds that full-size architecture with random weights, as
benchmarks/scoring.py does. The last line is ``ratio: <analyze req/s over webhook req/s>``.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]


def build_app(tmp: Path, model: str, samples: list[str]):
    from flask_migrate import upgrade

    from moderation import create_app
    from moderation.extensions import db
    from moderation.perspective.keys import create_key
    from moderation.sites import create_site, require

    if model == "tiny":
        from tiny_detoxify import make_tiny_checkpoint

        checkpoint, config_dir = make_tiny_checkpoint(tmp / "model", "unbiased")
        model_type = "unbiased"
    else:
        from scoring import build_checkpoint

        (tmp / "model").mkdir()
        checkpoint, config_dir = build_checkpoint(model, tmp / "model", samples)
        model_type = model
    app = create_app({
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}", "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING",
        "DETOXIFY_MODEL": model_type, "DETOXIFY_CHECKPOINT": str(checkpoint), "DETOXIFY_CONFIG_DIR": str(config_dir),
        "LEXICON_PATH": str(tmp / "lexicon.tsv"), "RATELIMIT_WEBHOOK": "1000000 per second",
        "PERSPECTIVE_QPS": 1_000_000,
    })
    app.instance_path = str(tmp)
    with app.app_context():
        upgrade()
        credentials = create_site("bench")
        key = create_key(require("bench"))
        db.session.commit()
    return app, credentials.secret, key.key


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--requests", type=int, default=48, help="requests per measurement (default 48)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--spans", action="store_true", help="analyze with spanAnnotations: true")
    args = parser.parse_args(argv)

    from scoring import make_comments, sample_texts
    from support import comment_payload, sign

    samples = sample_texts()
    texts = make_comments(samples, args.requests)
    with tempfile.TemporaryDirectory() as tmp:
        app, secret, key = build_app(Path(tmp), args.model, samples)
        client = app.test_client()
        counter = iter(range(10**9))

        def webhook(text: str) -> int:
            n = next(counter)
            body = json.dumps(comment_payload(f"c{n}", body=text)).encode()
            headers = sign(secret, body, message_id=f"msg_{n}")
            return client.post("/api/v1/sites/bench/comments", data=body, headers=headers,
                               content_type="application/json").status_code

        def analyze(text: str) -> int:
            body = {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}, "INSULT": {}},
                    "languages": ["en"], "doNotStore": True, "spanAnnotations": args.spans}
            return client.post(f"/v1alpha1/comments:analyze?key={key}", json=body).status_code

        for fn in (webhook, analyze):  # load the model and warm up both paths
            assert fn(texts[0]) in (200, 202), fn.__name__
        rates: dict[str, list[float]] = {"webhook": [], "analyze": []}
        for _ in range(args.rounds):
            for name, fn in (("webhook", webhook), ("analyze", analyze)):
                start = time.perf_counter()
                statuses = {fn(text) for text in texts}
                rates[name].append(len(texts) / (time.perf_counter() - start))
                assert statuses <= {200, 202}, (name, statuses)
    best = {name: max(values) for name, values in rates.items()}
    print(f"model: {args.model}, {len(texts)} requests per round, {args.rounds} rounds, "
          f"spans: {'on' if args.spans else 'off'}")
    print("| path | requests/s (best round) |")
    print("|---|---|")
    for name, rate in best.items():
        print(f"| {name} | {rate:.1f} |")
    print(f"ratio: {best['analyze'] / best['webhook']:.2f}")


if __name__ == "__main__":
    main()
