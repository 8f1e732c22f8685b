"""Review-queue benchmark: keyset pages against OFFSET pages on a million comments.

Fills a fresh database (PostgreSQL schema or SQLite file) with N comments through SQL, then
times the review UI's own query (moderation.review.queries.queue_page) for the first page and
for a page deep in the queue reached by its keyset cursor, side by side with the same page
fetched by OFFSET, and prints the ratio.

    python benchmarks/review_queue.py [--database postgresql://127.0.0.1:5432/test] [--comments 1000000]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moderation import create_app  # noqa: E402
from scratch_database import scratch_database  # noqa: E402  (beside this file)
from moderation.extensions import db  # noqa: E402


def fill(n: int, site_id: int) -> None:
    """N comments on one site: half queued with spread-out harm, the rest approved or rejected."""
    if db.engine.dialect.name == "postgresql":
        series = "SELECT g AS n FROM generate_series(1, :n) AS g"
    else:
        series = ("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n) "
                  "SELECT n FROM s")
    now = "CURRENT_TIMESTAMP"
    db.session.execute(sa.text(f"""
        INSERT INTO comments (site_id, external_id, status, html, text, reasons, matches, harm,
                              revision_count, score_attempts, received_at, updated_at, decided_at)
        SELECT :site, 'c' || n,
               CASE n % 4 WHEN 0 THEN 'approved' WHEN 1 THEN 'rejected' ELSE 'queued' END,
               '<p>comment</p>', 'comment', '[]', '[]', ((n % 10007) * 7919 % 10007) / 10007.0, 1, 0,
               {now}, {now}, {now}
        FROM ({series}) AS numbers
    """), {"n": n, "site": site_id})
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE comments"))
    else:
        db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


def timed(fn, repeat: int = 7) -> float:
    """Median seconds of fn()."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite:////tmp/moderation-queue-bench.sqlite3")
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--depth", type=int, default=None, help="queued rows before the deep page")
    args = parser.parse_args(argv)

    database = ExitStack()  # a fresh SQLite file, or a PostgreSQL schema dropped at the end
    url = database.enter_context(scratch_database(args.database))

    from flask_migrate import upgrade

    from moderation.auth.users import create_user
    from moderation.review.queries import Cursor, QueueFilter, queue_page, _conditions, _ordering
    from moderation.sites import by_slug, create_site

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"})
    try:
        with app.app_context():
            upgrade()
            create_site("bench")
            site = by_slug("bench")
            user = create_user("admin@bench.example", role="admin", password="benchmark-password")
            db.session.commit()
            started = time.perf_counter()
            fill(args.comments, site.id)
            print(f"{db.engine.dialect.name}: {args.comments:,} comments filled in "
                  f"{time.perf_counter() - started:.1f} s")

            queue = QueueFilter(status="queued", site=site)
            queued = db.session.scalar(sa.select(sa.func.count()).where(*_conditions(user, queue)))
            depth = args.depth or queued // 2
            # The cursor of the row at `depth`, as the UI would have after paging that far.
            row = db.session.execute(sa.select(db.metadata.tables["comments"].c.harm,
                                               db.metadata.tables["comments"].c.id)
                                     .where(*_conditions(user, queue)).order_by(*_ordering("queued"))
                                     .offset(depth - 1).limit(1)).one()
            cursor = Cursor(float(row.harm), row.id)

            def first_page():
                queue_page(user, queue, None)
                db.session.expunge_all()

            def keyset_page():
                queue_page(user, queue, cursor)
                db.session.expunge_all()

            def offset_page():
                from moderation.models import Comment

                list(db.session.scalars(sa.select(Comment).where(*_conditions(user, queue))
                                        .order_by(*_ordering("queued")).offset(depth).limit(26)))
                db.session.expunge_all()

            first, keyset, offset = timed(first_page), timed(keyset_page), timed(offset_page)
            print(f"{queued:,} queued; deep page after {depth:,} rows")
            print("| page | median ms |")
            print("|---|---|")
            print(f"| first page (keyset) | {first * 1000:.1f} |")
            print(f"| deep page, keyset cursor | {keyset * 1000:.1f} |")
            print(f"| deep page, OFFSET | {offset * 1000:.1f} |")
            print(f"keyset vs offset at depth {depth:,}: {offset / keyset:.0f}x")
    finally:
        database.close()


if __name__ == "__main__":
    main()
