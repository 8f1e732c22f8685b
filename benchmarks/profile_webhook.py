"""Profile of the webhook path with the tiny model: where a comment's milliseconds go, inside the app.

One publisher, signed webhooks of the sample comments, through the real WSGI app (Flask's
test client: no network, so what is left is the service's own work) on a SQLite file.
Prints the median per comment and pyinstrument's call tree.

    python benchmarks/profile_webhook.py [--comments 200] [--env KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=200)
    parser.add_argument("--env", action="append", default=[], help="extra configuration KEY=VALUE")
    parser.add_argument("--no-profile", action="store_true", help="time only (no profiler overhead)")
    args = parser.parse_args(argv)
    from pyinstrument import Profiler

    from scoring import make_comments, sample_texts
    from support import sign
    from tiny_detoxify import make_tiny_checkpoint

    from moderation import create_app
    from moderation.extensions import db
    from moderation.sites import create_site

    work = Path(tempfile.mkdtemp(prefix="moderation-profile-"))
    checkpoint, config_dir = make_tiny_checkpoint(work / "model", "unbiased", toxic_words=("idiot", "scum"))
    config = {"DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}", "SECRET_KEY": "profile",
              "DETOXIFY_CHECKPOINT": str(checkpoint), "DETOXIFY_CONFIG_DIR": str(config_dir),
              "RATELIMIT_WEBHOOK": "100000 per minute",
              # The default kind of counter store (a SQLite file per machine), in this run's folder.
              "RATELIMIT_STORAGE_URI": f"sqlite://{work / 'ratelimits.sqlite3'}"}
    config.update(dict(item.split("=", 1) for item in args.env))
    app = create_app(config)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(ROOT / "migrations"))
        site = create_site("profile").to_dict()
        db.session.commit()
    client = app.test_client()
    texts = make_comments(sample_texts(), args.comments + 20)

    def post(n: int, text: str) -> float:
        body = json.dumps({"id": f"p{n}", "article": {"id": "a", "url": "https://news.example/a", "title": "A"},
                           "author": {"id": "r", "name": "R"}, "body": f"<p>{text}</p>",
                           "created_at": "2021-04-16T12:00:00Z", "parent_id": None, "language": "en"}).encode()
        headers = sign(site["secret"], body) | {"Content-Type": "application/json"}
        started = time.perf_counter()
        response = client.post("/api/v1/sites/profile/comments", data=body, headers=headers)
        elapsed = time.perf_counter() - started
        assert response.status_code in (200, 202), response.get_data(as_text=True)
        return elapsed

    for n in range(20):  # warm-up: model load, language identifier, lexicon
        post(n, texts[n])
    profiler = Profiler(interval=0.0005)
    times = []
    cpu, own = time.process_time(), time.thread_time()
    if args.no_profile:
        for n in range(20, 20 + args.comments):
            times.append(post(n, texts[n]))
    else:
        with profiler:
            for n in range(20, 20 + args.comments):
                times.append(post(n, texts[n]))
    print(f"median per comment: {statistics.median(times) * 1000:.1f} ms over {len(times)} comments "
          f"(p90 {sorted(times)[int(len(times) * 0.9)] * 1000:.1f} ms); CPU per comment: "
          f"{(time.thread_time() - own) / len(times) * 1000:.1f} ms in the request thread, "
          f"{(time.process_time() - cpu) / len(times) * 1000:.1f} ms in the process (with the scoring thread)")
    if not args.no_profile:
        print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
