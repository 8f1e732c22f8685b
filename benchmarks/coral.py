"""Coral in time: Coral's external moderation requests against `moderation serve`, counted by what really decided them.

Starts `moderation serve` on 127.0.0.1 (its defaults unless --serve-args says otherwise) on a
scratch database, with a full-size random-weight model in Detoxify's format (see
benchmarks/scoring.py; `original` unless --model says otherwise) or the tiny test model
(--model tiny). A site gets a Coral secret; requests are built and signed exactly as Coral's
external moderation phase builds them (JSON.stringify(request, null, 2), `X-Coral-Signature:
sha256=<hex>`), for comments made of the sample comments' words, each under a fresh author
so that every request is a new comment. Once /readyz answers (and --warmup seconds more),
each concurrency level sends --comments requests and reports:

- decided: answered with the model's decision in time: the comment is no longer `pending` in
  the database and the answer carried that decision (`Moderation-Comment-Status`), so a
  comment scored only after its answer left is not counted;
- withheld: answered SYSTEM_WITHHELD without a decision (the comment waits for the worker);
- p50/p95/max latency as Coral sees it, and how many answers came after the timeout, when
  Coral has given up and published the comment unmoderated.

    python benchmarks/coral.py [--model original|unbiased|tiny] [--precision fp32[,int8]]
                               [--concurrency 1,8] [--comments 68] [--timeout 0.2] [--warmup 0]
                               [--env MODERATION_KEY=VALUE ...]

The last line is ``coral-decided: <lowest decided %> late: <answers after the timeout>``.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from load import Server, cli  # noqa: E402  (one way to start `moderation serve` and run the CLI)

CORAL_SECRET = "empsec_" + secrets.token_hex(16)
STATUS_HEADER = "Moderation-Comment-Status"


@dataclass
class Answer:
    external_id: str
    seconds: float
    http_status: int
    coral_status: str | None
    comment_status: str | None  # what the service said the comment's state was, if it knew in time


@dataclass
class Phase:
    concurrency: int
    answers: list[Answer] = field(default_factory=list)
    stored: dict[str, str] = field(default_factory=dict)  # external id -> status in the database
    seconds: float = 0.0

    def decided(self) -> list[Answer]:
        """Answered with a decision the model made in time (and the database agrees)."""
        return [a for a in self.answers if a.comment_status not in (None, "pending")
                and self.stored.get(a.external_id) == a.comment_status]

    def late(self, timeout: float) -> int:
        return sum(1 for a in self.answers if a.seconds > timeout)

    def percentile(self, p: float) -> float:
        ordered = sorted(a.seconds for a in self.answers)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def coral_body(text: str, author: str) -> bytes:
    request = {"action": "NEW", "comment": {"body": f"<p>{text}</p>", "parentID": None},
               "author": {"id": author, "role": "COMMENTER"},
               "story": {"id": "story-1", "url": "https://news.example/baku-park"},
               "site": {"id": "coral-site-1"}, "tenantID": "tenant-1", "tenantDomain": "comments.news.example"}
    return json.dumps(request, indent=2, ensure_ascii=False).encode()  # JSON.stringify(request, null, 2)


def coral_headers(body: bytes, secret: str = CORAL_SECRET) -> dict[str, str]:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Coral-Signature": signature,
            "User-Agent": "Coral Moderation/9.0.0"}


def external_id(body: bytes) -> str:
    from moderation.ingest.coral_request import parse_coral

    return parse_coral(body).external_id()


def send(base: str, slug: str, texts: list[str], concurrency: int, label: str) -> Phase:
    """Each of `concurrency` clients sends one request after another, as Coral's phases arrive."""
    import requests

    url = f"{base}/api/v1/sites/{slug}/integrations/coral"
    queue = list(enumerate(texts))
    lock = threading.Lock()
    phase = Phase(concurrency)

    def client() -> None:
        session = requests.Session()
        while True:
            with lock:
                if not queue:
                    return
                n, text = queue.pop(0)
            body = coral_body(text, f"{label}-{n}-{secrets.token_hex(4)}")
            started = time.perf_counter()
            try:
                response = session.post(url, data=body, headers=coral_headers(body), timeout=30)
                elapsed = time.perf_counter() - started
                coral = response.json().get("status") if response.status_code == 200 else None
                answer = Answer(external_id(body), elapsed, response.status_code, coral,
                                response.headers.get(STATUS_HEADER))
            except requests.RequestException:
                answer = Answer(external_id(body), time.perf_counter() - started, 0, None, None)
            with lock:
                phase.answers.append(answer)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(client) for _ in range(concurrency)]:
            future.result()
    phase.seconds = time.perf_counter() - started
    return phase


def stored_statuses(database_url: str, ids: list[str]) -> dict[str, str]:
    import sqlalchemy as sa

    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT external_id, status FROM comments"))
            wanted = set(ids)
            return {external: status for external, status in rows if external in wanted}
    finally:
        engine.dispose()


def build_model(model_type: str, directory: Path) -> tuple[str, Path, Path]:
    if model_type == "tiny":
        from tiny_detoxify import make_tiny_checkpoint

        checkpoint, config_dir = make_tiny_checkpoint(directory, "unbiased", toxic_words=("idiot", "scum"))
        return "unbiased", checkpoint, config_dir
    from scoring import build_checkpoint, sample_texts

    checkpoint, config_dir = directory / f"{model_type}.ckpt", directory / "config"
    if not (checkpoint.is_file() and (config_dir / "config.json").is_file()):  # --model-dir keeps one for reruns
        checkpoint, config_dir = build_checkpoint(model_type, directory, sample_texts())
    return model_type, checkpoint, config_dir


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def measure(args, precision: str, model: tuple[str, Path, Path], work: Path) -> tuple[list[Phase], float]:
    from scoring import make_comments, sample_texts
    from scratch_database import scratch_database

    model_type, checkpoint, config_dir = model
    levels = [int(c) for c in args.concurrency.split(",")]
    texts = make_comments(sample_texts(), args.comments * len(levels), seed=7)
    database = args.database_url or f"sqlite:///{work / f'coral-{precision}.sqlite3'}"
    with scratch_database(database) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.update(MODERATION_DATABASE_URL=url, MODERATION_SECRET_KEY="coral-benchmark",
                   MODERATION_DETOXIFY_MODEL=model_type, MODERATION_DETOXIFY_CHECKPOINT=str(checkpoint),
                   MODERATION_DETOXIFY_CONFIG_DIR=str(config_dir), MODERATION_SCORING_PRECISION=precision,
                   MODERATION_CORAL_TIMEOUT=str(args.timeout),
                   MODERATION_RATELIMIT_WEBHOOK="100000 per minute",
                   MODERATION_RATELIMIT_STORAGE_URI=f"sqlite://{work / 'ratelimits.sqlite3'}")
        env.update(args.env)
        cli(env, "db", "upgrade")
        cli(env, "site", "create", "bench", "--json")
        cli(env, "site", "update", "bench", "--coral-secret", CORAL_SECRET)
        server = Server(env, args.serve_args.split(), work / f"serve-{precision}.log")
        try:
            ready = server.wait_ready()
            time.sleep(args.warmup)
            phases = []
            for n, level in enumerate(levels):
                phase = send(server.base, "bench", texts[n * args.comments:(n + 1) * args.comments], level,
                             f"{precision}-c{level}")
                phase.stored = stored_statuses(url, [a.external_id for a in phase.answers])
                phases.append(phase)
        finally:
            server.stop()
        if args.show_log:
            print(server.output()[-args.show_log:])
    return phases, ready


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="original", choices=["original", "unbiased", "multilingual", "tiny"])
    parser.add_argument("--precision", default="fp32", help="fp32, bf16 or int8; comma-separated for several runs")
    parser.add_argument("--concurrency", default="1,8", help="concurrent Coral requests (default 1,8)")
    parser.add_argument("--comments", type=int, default=68, help="requests per concurrency level (default 68)")
    parser.add_argument("--timeout", type=float, default=0.2, help="MODERATION_CORAL_TIMEOUT (default 0.2 s)")
    parser.add_argument("--warmup", type=float, default=0.0,
                        help="seconds to wait after /readyz answers before the first request (default 0)")
    parser.add_argument("--model-dir", type=Path, help="keep the generated model here and reuse it on reruns")
    parser.add_argument("--database-url", help="a PostgreSQL URL (a schema of its own, dropped after); "
                                               "default: a fresh SQLite file")
    parser.add_argument("--serve-args", default="", help="extra arguments for `moderation serve`")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting for the server, e.g. MODERATION_SCORING_LEND_IDLE_MS=0 (repeatable)")
    parser.add_argument("--show-log", type=int, default=0, metavar="CHARS",
                        help="print the end of each server's log")
    args = parser.parse_args(argv)
    malformed = [item for item in args.env if "=" not in item or not item.startswith("MODERATION_")]
    if malformed:
        parser.error(f"--env takes MODERATION_KEY=VALUE, got {malformed}")
    args.env = dict(item.split("=", 1) for item in args.env)

    work = Path(tempfile.mkdtemp(prefix="moderation-coral-"))
    try:
        model_dir = args.model_dir or work / "model"
        model_dir.mkdir(parents=True, exist_ok=True)
        model = build_model(args.model, model_dir)
        print(f"model: {args.model} ({model[0]} architecture), {len(os.sched_getaffinity(0))} cores, "
              f"Coral timeout {ms(args.timeout)} ms, {args.comments} requests per level, "
              f"serve args {args.serve_args or '(defaults)'}, load average before {load_average()}")
        rows, lowest, late = [], 100.0, 0
        for precision in args.precision.split(","):
            phases, ready = measure(args, precision, model, work)
            for phase in phases:
                decided = len(phase.decided())
                total = len(phase.answers)
                share = 100 * decided / total if total else 0.0
                withheld = sum(1 for a in phase.answers if a.coral_status == "SYSTEM_WITHHELD"
                               and a not in phase.decided())
                lowest, late = min(lowest, share), late + phase.late(args.timeout)
                errors = sum(1 for a in phase.answers if a.http_status != 200)
                rows.append(f"| {precision} | {ready:.1f} | {phase.concurrency} | {total} | {decided} | {share:.0f}% | "
                            f"{withheld} | {ms(phase.percentile(50))} | {ms(phase.percentile(95))} | "
                            f"{ms(phase.percentile(100))} | {phase.late(args.timeout)} | {errors} |")
        print(f"load average after: {load_average()}")
        print()
        print("| precision | ready after s | concurrency | requests | decided by the model | decided % | "
              "withheld undecided | p50 ms | p95 ms | max ms | after timeout | errors |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        print("\n".join(rows))
        print()
        print(f"coral-decided: {lowest:.0f}% late: {late}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
