"""Memory benchmark: resident and proportional memory of `moderation serve` and `moderation worker` per model type.

For each model type (a full-size random-weight model in Detoxify's format, built once per
type: see benchmarks/scoring.py) and each precision configuration, starts `moderation serve
--workers 2` on a fresh SQLite database, posts signed webhooks until both web workers have
scored (checked in each worker's own prometheus_client file), and reads
/proc/<pid>/smaps_rollup of the master and each worker. Then, with the server stopped,
enqueues a rescore job (`moderation rescore --enqueue`) and starts one `moderation worker`
with the same configuration: it loads its model when it claims the job (the worker loads
lazily), scores the comments, and its memory is read once the job is done.

    python benchmarks/memory.py [--quick] [--models original,unbiased] [--configs fp32,auto]

Prints one markdown table (MB: RSS resident, PSS proportional, private = RSS - shared),
then the guidance derived from it: how many web processes beyond the first fit in a GiB,
and the default layout per core count with the memory it takes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import CORES, ROOT, Server, build_model, cli, memory_report, post_comments  # noqa: E402

MODELS = ["original", "unbiased", "multilingual", "original-small", "unbiased-small"]
CONFIGS = {  # name -> environment for both `moderation serve` and `moderation worker`
    "fp32": {"MODERATION_SCORING_PRECISION": "fp32"},
    # The default: bf16 where the CPU has native bf16, with the fp32 weights kept beside them
    # to confirm scores within the margin (0.02) of a threshold.
    "auto": {},
    "bf16 (margin 0)": {"MODERATION_SCORING_PRECISION": "bf16", "MODERATION_SCORING_CONFIRM_MARGIN": "0"},
    "int8 (margin 0)": {"MODERATION_SCORING_PRECISION": "int8", "MODERATION_SCORING_CONFIRM_MARGIN": "0"},
}
QUICK = (["original", "original-small"], ["fp32", "auto"])
WEB_WORKERS = 2
SCORED = "moderation_scorer_texts_scored_total"


def scored_by(metrics_dir: Path, pid: int) -> float:
    """Texts one gunicorn worker has scored, from its own multiprocess counter file."""
    from prometheus_client.mmap_dict import MmapedDict

    path = metrics_dir / f"counter_{pid}.db"
    if not path.exists():
        return 0.0
    return sum(value for key, value, *_ in MmapedDict.read_all_values_from_file(str(path))
               if json.loads(key)[1] == SCORED)


def environment(work: Path, name: str, model_type: str, checkpoint: Path, config_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    slug = re.sub(r"\W+", "-", f"{model_type}-{name}")
    env.update(MODERATION_DATABASE_URL=f"sqlite:///{work / (slug + '.sqlite3')}",
               MODERATION_SECRET_KEY="memory-benchmark", MODERATION_DETOXIFY_MODEL=model_type,
               MODERATION_DETOXIFY_CHECKPOINT=str(checkpoint), MODERATION_DETOXIFY_CONFIG_DIR=str(config_dir),
               MODERATION_RATELIMIT_WEBHOOK="100000 per minute",
               MODERATION_RATELIMIT_STORAGE_URI=f"sqlite://{work / 'ratelimits.sqlite3'}",
               **CONFIGS[name])
    return env


def measure_serve(env: dict[str, str], site: dict, texts: list[str], metrics_dir: Path) -> tuple[list, int]:
    """smaps rows of the master and each web worker once every worker has scored; comments posted."""
    server = Server({**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, ["--workers", str(WEB_WORKERS)])
    try:
        server.wait_ready(timeout=600)
        posted = 0
        for round_ in range(6):  # gunicorn gives connections to whichever worker accepts first
            batch = texts[posted:posted + 8]
            phase, _ = post_comments(server.base, site, batch, 8, 300, server.process.pid, f"memory-{round_}")
            if phase.errors:
                raise SystemExit(f"{phase.errors} webhook(s) failed")
            posted += len(batch)
            workers = [pid for pid, *_ in memory_report(server.process.pid)[1:]]
            if len(workers) == WEB_WORKERS and all(scored_by(metrics_dir, pid) > 0 for pid in workers):
                break
        else:
            raise SystemExit("a web worker scored nothing after 48 comments")
        return memory_report(server.process.pid), posted
    finally:
        server.stop()


def measure_worker(env: dict[str, str], database: Path, work: Path) -> tuple[float, float]:
    """(RSS, PSS) of `moderation worker` after it has loaded its model and run a rescore job."""
    cli(env, "rescore", "--enqueue", "--status", "approved,queued,rejected,pending")
    log = (work / "worker.log").open("w+b")
    process = subprocess.Popen([sys.executable, "-m", "moderation.cli", "worker"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and process.poll() is None:
            with sqlite3.connect(database, timeout=30) as db:
                state, processed = db.execute(
                    "SELECT state, processed FROM rescore_jobs ORDER BY id DESC LIMIT 1").fetchone()
            if state == "done" and processed:
                _, resident, proportional, _ = memory_report(process.pid)[0]
                return resident, proportional
            time.sleep(0.5)
        log.seek(0)
        raise SystemExit("moderation worker did not finish its rescore job:\n" + log.read().decode()[-3000:])
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated (default: {','.join(MODELS)})")
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated (default: {','.join(CONFIGS)})")
    parser.add_argument("--quick", action="store_true", help=f"models {','.join(QUICK[0])}, configs {','.join(QUICK[1])}")
    args = parser.parse_args(argv)
    models = QUICK[0] if args.quick else [m.strip() for m in args.models.split(",")]
    configs = QUICK[1] if args.quick else [c.strip() for c in args.configs.split(",")]
    if unknown := [m for m in models if m not in MODELS] + [c for c in configs if c not in CONFIGS]:
        parser.error(f"unknown {unknown}; models: {MODELS}; configs: {list(CONFIGS)}")

    from scoring import make_comments, sample_texts

    from moderation.scoring.settings import native_bf16

    samples = sample_texts()
    texts = make_comments(samples, 48)
    print(f"{CORES} cores, {WEB_WORKERS} web workers; auto is {'bf16 + fp32 copy' if native_bf16() else 'fp32'} "
          f"on this CPU; {time.strftime('%Y-%m-%d %H:%M %Z')}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="moderation-memory-"))
    results = []  # (model, config, checkpoint MB, serve rows, comments posted, worker RSS, worker PSS)
    try:
        for model in models:
            # In a process of its own: this one never imports torch, so no page of torch's
            # libraries is shared with (and counted in part against) the measured processes.
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                model_type, checkpoint, config_dir = pool.submit(build_model, model, work / model, samples).result()
            size = checkpoint.stat().st_size / 1e6
            for name in configs:
                env = environment(work, name, model_type, checkpoint, config_dir)
                cli(env, "db", "upgrade")
                site = json.loads(cli(env, "site", "create", "bench", "--json"))
                site.setdefault("slug", "bench")
                metrics_dir = work / "metrics"
                rows, posted = measure_serve(env, site, texts, metrics_dir)
                shutil.rmtree(metrics_dir, ignore_errors=True)
                database = Path(env["MODERATION_DATABASE_URL"].removeprefix("sqlite:///"))
                resident, proportional = measure_worker(env, database, work)
                results.append((model, name, size, rows, posted, resident, proportional))
                print(f"measured {model} / {name}", flush=True)
            shutil.rmtree(work / model, ignore_errors=True)  # hundreds of MB per model
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results)


def report(results: list) -> None:
    from moderation.serve import default_workers, torch_threads

    print()
    print("| model | configuration | checkpoint MB | master RSS / PSS | web worker 1 RSS / PSS / private "
          "| web worker 2 RSS / PSS / private | `moderation worker` RSS / PSS | service PSS (master + 2 web) |")
    print("|---|---|---|---|---|---|---|---|")
    for model, name, size, rows, posted, resident, proportional in results:
        master, *workers = rows
        cells = [f"{r:.0f} / {p:.0f} / {v:.0f}" for _, r, p, v in workers]
        print(f"| {model} | {name} | {size:.0f} | {master[1]:.0f} / {master[2]:.0f} | {' | '.join(cells)} "
              f"| {resident:.0f} / {proportional:.0f} | {sum(r[2] for r in rows):.0f} |")

    # A further web process shares the master's pages: the service's total PSS grows by its
    # private memory (the shared pages are divided among one more process).
    print()
    print("| model | configuration | service PSS GB | each web process beyond the first, MB (private) "
          "| of those per GiB | `moderation worker` GB (RSS) |")
    print("|---|---|---|---|---|---|")
    extra = {}
    for model, name, _, rows, _, resident, _ in results:
        extra[model, name] = max(r[3] for r in rows[1:])
        total = sum(r[2] for r in rows)
        print(f"| {model} | {name} | {total / 1024:.2f} | {extra[model, name]:.0f} "
              f"| {int(1024 // extra[model, name])} | {resident / 1024:.2f} |")

    # The default layout: processes x torch threads <= cores (moderation/serve.py), at the
    # default precision where it was measured.
    shown = [r for r in results if r[1] == "auto"] or results
    print()
    print("| cores | web processes (default) | torch threads each | "
          + " | ".join(f"{m} {n} GB" for m, n, *_ in shown) + " |")
    print("|---|---|---|" + "---|" * len(shown))
    for cores in (1, 2, 4, 8, 16, 32):
        workers = default_workers(cores)
        cells = []
        for model, name, _, rows, *_ in shown:
            one_worker = sum(r[2] for r in rows) - extra[model, name]  # master + a first web process
            cells.append(f"{(one_worker + (workers - 1) * extra[model, name]) / 1024:.2f}")
        print(f"| {cores} | {workers} | {torch_threads(cores, workers)} | {' | '.join(cells)} |")

if __name__ == "__main__":
    main()
