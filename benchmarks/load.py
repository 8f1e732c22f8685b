"""Load benchmark over HTTP: `moderation serve` on 127.0.0.1 against Detoxify.predict one comment at a time.

Starts `moderation serve` (its defaults unless a configuration says otherwise) on a fresh
SQLite database in a temporary folder, with a full-size random-weight model in Detoxify's
format (see benchmarks/scoring.py; `original` unless --model says otherwise) or the tiny
test model (--model tiny, to measure the service's own overhead). Publishers post signed
webhooks of the sample comments under fresh ids; each configuration is measured at 1, 8
and 32 concurrent publishers: comments/s, p50/p99 latency and the server's CPU use (CPU
seconds per wall second, all its processes) and texts per forward pass (from the scorer's
counters in /metrics, before and after the phase). Then the paths that do not score: the review
queue page, a moderator's decision and the API's GET of a comment (requests/s and p99).
Detoxify.predict, one comment at a time, is measured in the same run on the same comments.

    python benchmarks/load.py [--quick] [--model original|unbiased|tiny] [--comments 64] [--seconds 30]

With --model tiny it also prints each configuration's overhead with one publisher: its p50
less Detoxify.predict's p50 on the same tiny model (whose forward pass costs a few ms of
Python, for the service and for Detoxify alike); and the floor under it: the same publisher
against gunicorn, with `moderation serve`'s workers and threads, serving apps that do no work
(benchmarks/floor_apps.py: a bare WSGI callable, one Flask route).

Every phase is bounded by --comments and --seconds. The last line is
``batching-gain: <ratio>``: comments/s with batching over without, at 8 publishers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

CORES = len(os.sched_getaffinity(0))
CONFIGS = {  # name -> (environment, arguments) for `moderation serve` (its defaults otherwise)
    # The defaults: precision auto (bf16 on a CPU with native bf16, scores near a threshold
    # confirmed at fp32; fp32 elsewhere), batching across requests.
    "batching (default)": ({}, []),
    "no batching": ({"MODERATION_BATCH_MAX": "1"}, []),
    # Not a default: a pass waits up to 30 ms for company (fuller passes, slower lone requests).
    "batching with a 30 ms window": ({"MODERATION_BATCH_WINDOW_MS": "30"}, []),
    "fp32 + batching": ({"MODERATION_SCORING_PRECISION": "fp32"}, []),
    # Not a default: a pass also runs on the cores of processes idle for 100 ms (scoring/cores.py).
    "lending idle cores": ({"MODERATION_SCORING_LEND_IDLE_MS": "100"}, []),
    # The fastest documented configuration: no fp32 copy, nothing confirmed (run
    # `moderation model compare` on the site's comments first).
    "bf16 unconfirmed + batching": ({"MODERATION_SCORING_PRECISION": "bf16",
                                     "MODERATION_SCORING_CONFIRM_MARGIN": "0"}, []),
    "int8 unconfirmed + batching": ({"MODERATION_SCORING_PRECISION": "int8",
                                     "MODERATION_SCORING_CONFIRM_MARGIN": "0"}, []),
    # What `moderation serve` did before issue 12: 2 workers x 4 threads, each scoring with one
    # torch thread per core at fp32, one forward pass per request, an fsync per SQLite commit.
    "before (issue 12)": ({"MODERATION_BATCH_MAX": "1", "MODERATION_SQLITE_SYNCHRONOUS": "FULL",
                           "MODERATION_SCORING_PRECISION": "fp32",
                           "MODERATION_SCORING_THREADS": str(CORES)}, ["--workers", "2", "--threads", "4"]),
}


def cpu_description() -> tuple[str, bool]:
    """The CPU's model name and whether it computes in bf16 natively (what `auto` precision reads)."""
    from moderation.scoring.settings import native_bf16

    name = "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
        name = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), name)
    return name, native_bf16()


# The fastest documented configuration depends on the CPU: int8 everywhere is a candidate, and
# bf16 where it is native (AMX, AVX512-BF16; emulated bf16 is several times slower than fp32).
# Which of the two wins differs between such CPUs (bf16 on the Xeon with AMX, int8 with VNNI
# on a Zen 4), so both are measured there.
FASTEST = (["bf16 unconfirmed + batching"] if cpu_description()[1] else []) + ["int8 unconfirmed + batching"]
# What each scoring process logs when it chooses its fp32 kernel (moderation/scoring/kernels.py).
KERNEL_LOG = re.compile(r"fp32 linear layers run through (\w+) \(([^)]*)\)")
DEFAULT_CONFIGS = ["batching (default)", "no batching", "fp32 + batching", *FASTEST]


@dataclass
class Phase:
    label: str
    publishers: int
    count: int
    seconds: float
    latencies: list[float]
    cpu: float  # CPU seconds the server used per wall second
    errors: int
    per_pass: float | None = None  # texts per forward pass in this phase (the scorer's counters)
    lent: float | None = None  # share of its passes that ran on idle processes' cores as well

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants (gunicorn's master and workers)."""
    total, ticks = 0.0, os.sysconf("SC_CLK_TCK")
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except OSError:
            pass
    return total


PASSES, SCORED = "moderation_scorer_batch_texts_count", "moderation_scorer_texts_scored_total"
LENT = "moderation_scorer_lent_passes_total"


def scorer_metrics(base: str) -> dict[str, float]:
    """The scorer's counters summed over the server's processes, from /metrics (loopback is an operator)."""
    import requests

    wanted = (PASSES, SCORED, LENT, "moderation_scorer_confirmed_fp32_total")
    totals = dict.fromkeys(wanted, 0.0)
    try:
        text = requests.get(f"{base}/metrics", timeout=30).text
    except requests.RequestException:
        return totals
    for line in text.splitlines():
        name = line.split("{")[0].split(" ")[0]
        if name in totals:
            totals[name] += float(line.rsplit(" ", 1)[1])
    return totals


def memory_report(pid: int) -> list[tuple[int, float, float, float]]:
    """(pid, resident MB, proportional MB, private MB) for the master and each worker (smaps_rollup)."""
    rows = []
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                fields = {line.split(":")[0]: int(line.split()[1]) for line in f if line.split()[-1] == "kB"}
        except (OSError, IndexError, ValueError):
            continue
        private = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
        rows.append((p, fields.get("Rss", 0) / 1024, fields.get("Pss", 0) / 1024, private / 1024))
    return rows


class Server:
    """`moderation serve` in its own process group on a free port; its output in `log` (a file
    kept for reading afterwards) or in a temporary file."""

    def __init__(self, env: dict[str, str], args: list[str], log: Path | None = None,
                 command: list[str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self.log = open(log, "w+b") if log is not None else tempfile.TemporaryFile()
        self.started = time.monotonic()
        command = command or [sys.executable, "-m", "moderation.cli", "serve"]
        self.process = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{self.port}", *args],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def wait_ready(self, timeout: float = 300) -> float:
        """Seconds from start until /readyz answered 200 (every worker warm)."""
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if requests.get(self.base + "/readyz", timeout=5).ok:
                    return time.monotonic() - self.started
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit("moderation serve did not become ready:\n" + self.output()[-3000:])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "moderation.cli", *args], cwd=ROOT, env=env, input=stdin,
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise SystemExit(f"moderation {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def post_comments(base: str, site: dict, texts: list[str], publishers: int, seconds: float, pid: int,
                  label: str) -> tuple[Phase, list[dict]]:
    """Each publisher posts signed webhooks one after another until the comments or the time run out."""
    import requests
    from support import sign

    url = f"{base}/api/v1/sites/{site['slug']}/comments"
    lock = threading.Lock()
    queue = list(enumerate(texts))
    latencies: list[float] = []
    answers: list[dict] = []
    errors = 0
    deadline = time.monotonic() + seconds

    def publisher() -> None:
        nonlocal errors
        session = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                if not queue:
                    return
                n, text = queue.pop(0)
            external_id = f"{label}-{publishers}-{n}-{secrets.token_hex(4)}"
            body = json.dumps({"id": external_id, "article": {"id": "a-1", "url": "https://news.example/a-1",
                                                              "title": "An article"},
                               "author": {"id": f"reader-{n}", "name": "Reader"}, "body": f"<p>{text}</p>",
                               "created_at": "2021-04-16T12:00:00Z", "parent_id": None,
                               "language": "en"}).encode()
            headers = sign(site["secret"], body) | {"Content-Type": "application/json"}
            started = time.perf_counter()
            response = session.post(url, data=body, headers=headers, timeout=120)
            elapsed = time.perf_counter() - started
            with lock:
                if response.status_code in (200, 202):
                    latencies.append(elapsed)
                    answers.append(response.json())
                else:
                    errors += 1

    cpu_before, started = cpu_seconds(pid), time.perf_counter()
    with ThreadPoolExecutor(publishers) as pool:
        for future in [pool.submit(publisher) for _ in range(publishers)]:
            future.result()
    wall = time.perf_counter() - started
    cpu = (cpu_seconds(pid) - cpu_before) / wall
    return Phase(label, publishers, len(latencies), wall, latencies, cpu, errors), answers


def timed_requests(label: str, count: int, seconds: float, send, pid: int) -> Phase:
    latencies, errors = [], 0
    deadline = time.monotonic() + seconds
    cpu_before, started = cpu_seconds(pid), time.perf_counter()
    for n in range(count):
        if time.monotonic() >= deadline:
            break
        t0 = time.perf_counter()
        ok = send(n)
        if ok:
            latencies.append(time.perf_counter() - t0)
        else:
            errors += 1
    wall = time.perf_counter() - started
    return Phase(label, 1, len(latencies), wall, latencies, (cpu_seconds(pid) - cpu_before) / wall, errors)


def non_scoring(base: str, env: dict[str, str], site: dict, answers: list[dict], count: int,
                seconds: float, pid: int) -> list[Phase]:
    import requests

    password = secrets.token_urlsafe(16)
    email = f"mod-{secrets.token_hex(3)}@bench.example"
    cli(env, "user", "create", email, "--role", "moderator", "--site", site["slug"], "--password-stdin",
        stdin=password + "\n")
    session = requests.Session()
    login = session.get(f"{base}/auth/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login)
    if token is None:
        token = re.search(r'value="([^"]+)"[^>]*name="csrf_token"', login)
    session.post(f"{base}/auth/login", data={"csrf_token": token.group(1), "email": email, "password": password},
                 timeout=30)
    page = session.get(f"{base}/review/", timeout=30)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    phases = [timed_requests("queue page", count, seconds,
                             lambda n: session.get(f"{base}/review/", timeout=30).ok, pid)]
    undecided = [a for a in answers if a.get("status") not in ("approved", None) and isinstance(a.get("id"), int)]

    def decide(n: int) -> bool:
        if n >= len(undecided) or csrf is None:
            return False
        answer = undecided[n]
        response = session.post(f"{base}/review/comments/{answer['id']}/decision",
                                data={"csrf_token": csrf.group(1), "decision": "approved",
                                      "expected_status": answer["status"], "next": "/review/"},
                                headers={"Accept": "application/json"}, timeout=30)
        return response.ok

    if undecided:
        phases.append(timed_requests("moderator decision", min(count, len(undecided)), seconds, decide, pid))
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {site['api_token']}"
    external = [a["external_id"] for a in answers if "external_id" in a] or ["missing"]
    phases.append(timed_requests("GET a comment", count, seconds, lambda n: api.get(
        f"{base}/api/v1/sites/{site['slug']}/comments/{external[n % len(external)]}", timeout=30).ok, pid))
    return phases


def floor(texts: list[str], seconds: float) -> list[Phase]:
    """One publisher against gunicorn serving apps that do no work (benchmarks/floor_apps.py), with
    `moderation serve`'s worker class, processes and request threads, the same client and bodies."""
    from moderation.serve import default_workers

    site = {"slug": "bench", "secret": "whsec_" + "A" * 43 + "="}
    phases = []
    for app, label in (("bare", "gunicorn, a WSGI app that does nothing"), ("flask", "gunicorn, one Flask route")):
        server = Server(dict(os.environ), ["--chdir", str(ROOT / "benchmarks"), f"floor_apps:{app}"],
                        command=[sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers",
                                 str(default_workers(CORES)), "--threads", "8"])
        try:
            server.wait_ready(60)
            post_comments(server.base, site, texts[:8], 1, seconds, server.process.pid, "warm")
            phase, _ = post_comments(server.base, site, texts, 1, seconds, server.process.pid, label)
            phases.append(phase)
        finally:
            server.stop()
    return phases


def detoxify_one_at_a_time(checkpoint: Path, config_dir: Path, model_type: str, texts: list[str],
                           seconds: float, threads: int) -> Phase:
    import torch
    from detoxify import Detoxify

    torch.set_num_threads(threads)
    model = Detoxify(model_type=model_type, checkpoint=str(checkpoint), huggingface_config_path=str(config_dir))
    model.predict(texts[0])  # the first call pays for lazy set-up
    latencies = []
    deadline = time.monotonic() + seconds
    cpu0, started = time.process_time(), time.perf_counter()
    for text in texts:
        if time.monotonic() >= deadline:
            break
        t0 = time.perf_counter()
        model.predict(text)
        latencies.append(time.perf_counter() - t0)
    wall = time.perf_counter() - started
    return Phase(f"Detoxify.predict, one at a time, {threads} torch thread(s)", 1, len(latencies), wall, latencies,
                 (time.process_time() - cpu0) / wall, 0)


def build_model(model_type: str, directory: Path, samples: list[str]) -> tuple[str, Path, Path]:
    if model_type == "tiny":
        from tiny_detoxify import make_tiny_checkpoint

        checkpoint, config_dir = make_tiny_checkpoint(directory, "unbiased", toxic_words=("idiot", "scum"))
        return "unbiased", checkpoint, config_dir
    from scoring import build_checkpoint

    checkpoint, config_dir = build_checkpoint(model_type, directory, samples)
    return model_type, checkpoint, config_dir


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}" if seconds >= 0.01 else f"{seconds * 1000:.1f}"


def main(argv: list[str] | None = None) -> None:
    work = Path(tempfile.mkdtemp(prefix="moderation-load-"))
    try:
        run(argv, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the model (hundreds of MB) and the databases


def run(argv: list[str] | None, work: Path) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="original", choices=["original", "unbiased", "tiny"])
    parser.add_argument("--comments", type=int, default=96, help="comments per phase at most (default 96)")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds per phase at most (default 60)")
    parser.add_argument("--publishers", default="1,8,32", help="concurrent publishers (default 1,8,32)")
    parser.add_argument("--configs", default=",".join(DEFAULT_CONFIGS),
                        help=f"configurations to measure, comma-separated (default: {', '.join(DEFAULT_CONFIGS)}; "
                             f"known: {', '.join(CONFIGS)})")
    parser.add_argument("--serve-args", default="", help="extra arguments for `moderation serve`")
    parser.add_argument("--quick", action="store_true",
                        help="a short run: 24 comments and 20 s per phase, publishers 1 and 8")
    args = parser.parse_args(argv)
    if args.quick:
        args.comments, args.seconds = min(args.comments, 24), min(args.seconds, 20.0)
        args.publishers = "1,8"
    publishers = [int(p) for p in args.publishers.split(",")]
    configs = [c.strip() for c in args.configs.split(",")]
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown configuration(s) {unknown}; known: {list(CONFIGS)}")

    from scoring import make_comments, sample_texts

    samples = sample_texts()
    texts = make_comments(samples, args.comments * max(1, len(publishers)) * 2)
    model_type, checkpoint, config_dir = build_model(args.model, work / "model", samples)
    cpu_name, bf16_native = cpu_description()
    print(f"model: {args.model} ({model_type} architecture), {CORES} cores ({cpu_name}, native bf16: "
          f"{'yes' if bf16_native else 'no'}), {args.comments} comments / {args.seconds:.0f} s per phase at most")

    # Detoxify before and after the servers (the machine's load can change during a run), with
    # torch's default threads (one per core) and with one: the fastest of these is the baseline,
    # so the comparison favours Detoxify, not the service.
    def detoxify_runs() -> list[Phase]:
        return [detoxify_one_at_a_time(checkpoint, config_dir, model_type, texts[:args.comments], args.seconds,
                                       threads) for threads in sorted({CORES, 1}, reverse=True)]

    baselines = detoxify_runs()
    results: dict[str, list[Phase]] = {}
    extra: list[Phase] = []
    memory: dict[str, list[tuple[int, float, float, float]]] = {}
    scorer_stats: dict[str, dict[str, float]] = {}
    kernels: dict[str, list[str]] = {}  # configuration -> what its processes logged choosing
    for name in configs:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
        database = work / (re.sub(r"\W+", "-", name) + ".sqlite3")
        env.update(MODERATION_DATABASE_URL=f"sqlite:///{database}",
                   MODERATION_SECRET_KEY="load-benchmark", MODERATION_DETOXIFY_MODEL=model_type,
                   MODERATION_DETOXIFY_CHECKPOINT=str(checkpoint), MODERATION_DETOXIFY_CONFIG_DIR=str(config_dir),
                   MODERATION_RATELIMIT_WEBHOOK="100000 per minute",
                   # The default kind of counter store (a SQLite file per machine), in this run's folder.
                   MODERATION_RATELIMIT_STORAGE_URI=f"sqlite://{work / 'ratelimits.sqlite3'}")
        config_env, config_args = CONFIGS[name]
        env.update(config_env)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        cli(env, "db", "upgrade")
        site = json.loads(cli(env, "site", "create", "bench", "--json"))
        site.setdefault("slug", "bench")
        server = Server(env, [*config_args, *args.serve_args.split()])
        try:
            server.wait_ready()
            # Warm every worker (the first forward pass in a process pays for lazy set-up).
            post_comments(server.base, site, texts[:8], 8, args.seconds, server.process.pid, "warm")
            phases, answers = [], []
            offset = 0
            for count in publishers:
                batch = texts[offset:offset + args.comments]
                offset += args.comments
                before = scorer_metrics(server.base)
                phase, got = post_comments(server.base, site, batch, count, args.seconds,
                                           server.process.pid, name)
                after = scorer_metrics(server.base)
                passes = after[PASSES] - before[PASSES]
                phase.per_pass = (after[SCORED] - before[SCORED]) / passes if passes else None
                phase.lent = (after[LENT] - before[LENT]) / passes if passes else None
                phases.append(phase)
                answers += got
            results[name] = phases
            scorer_stats[name] = scorer_metrics(server.base)
            memory[name] = memory_report(server.process.pid)
            if name == configs[0]:
                extra = non_scoring(server.base, env, site, answers, args.comments, args.seconds,
                                    server.process.pid)
        finally:
            server.stop()
            found = KERNEL_LOG.findall(server.output())
            kernels[name] = sorted({f"{kind} ({why})" for kind, why in found}) or ["not logged"]

    baselines += detoxify_runs()
    baseline = max(baselines, key=lambda phase: phase.rate)
    print("Detoxify.predict one at a time, before and after the servers (the fastest is 1.00x): "
          + ", ".join(f"{b.label.rsplit(', ', 1)[1]} {b.rate:.2f}/s" for b in baselines))

    print()
    print("| configuration | publishers | comments/s | vs Detoxify | p50 ms | p99 ms | server CPU | texts per pass "
          "| passes on lent cores | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {baseline.label} | 1 | {baseline.rate:.1f} | 1.00x | {ms(baseline.percentile(50))} | "
          f"{ms(baseline.percentile(99))} | {baseline.cpu:.2f} | 1 | - | 0 |")
    for name, phases in results.items():
        for phase in phases:
            per_pass = f"{phase.per_pass:.2f}" if phase.per_pass is not None else "n/a"
            lent = f"{phase.lent:.0%}" if phase.lent is not None else "n/a"
            print(f"| {name} | {phase.publishers} | {phase.rate:.1f} | {phase.rate / baseline.rate:.2f}x | "
                  f"{ms(phase.percentile(50))} | {ms(phase.percentile(99))} | {phase.cpu:.2f} | {per_pass} | "
                  f"{lent} | {phase.errors} |")
    if extra:
        print()
        print("| path (no scoring) | requests/s | p50 ms | p99 ms | server CPU | errors |")
        print("|---|---|---|---|---|---|")
        for phase in extra:
            print(f"| {phase.label} | {phase.rate:.1f} | {ms(phase.percentile(50))} | "
                  f"{ms(phase.percentile(99))} | {phase.cpu:.2f} | {phase.errors} |")
    print()
    print("| configuration | texts scored | forward passes | texts per pass | confirmed at fp32 | fp32 linear layers |")
    print("|---|---|---|---|---|---|")
    for name, stats in scorer_stats.items():
        passes = stats.get("moderation_scorer_batch_texts_count", 0)
        texts_scored = stats.get("moderation_scorer_texts_scored_total", 0)
        print(f"| {name} | {texts_scored:.0f} | {passes:.0f} | {texts_scored / passes if passes else 0:.2f} | "
              f"{stats.get('moderation_scorer_confirmed_fp32_total', 0):.0f} | {'; '.join(kernels.get(name, []))} |")
    print()
    print("| configuration | process | resident MB | proportional (PSS) MB | private MB |")
    print("|---|---|---|---|---|")
    for name, rows in memory.items():
        for n, (pid, resident, proportional, private) in enumerate(rows):
            print(f"| {name} | {'master' if n == 0 else f'worker {n}'} | {resident:.0f} | {proportional:.0f} | "
                  f"{private:.0f} |")

    if args.model == "tiny":
        # The tiny model's forward pass is not free (transformers' Python around a few small
        # layers): Detoxify.predict pays it too, so what the service adds is the difference.
        fastest = min(baselines, key=lambda phase: phase.percentile(50))
        print()
        floors = floor(texts[:args.comments], args.seconds)
        print("floor, one publisher, the same client and webhooks against servers that do no work: "
              + ", ".join(f"{p.label} p50 {ms(p.percentile(50))} ms" for p in floors))
        for name, phases in results.items():
            alone = next((p for p in phases if p.publishers == 1 and p.latencies), None)
            if alone is not None:
                print(f"overhead, one publisher, {name}: p50 {ms(alone.percentile(50))} ms - "
                      f"Detoxify.predict p50 {ms(fastest.percentile(50))} ms = "
                      f"{(alone.percentile(50) - fastest.percentile(50)) * 1000:.1f} ms")

    def rate_at(name: str, count: int) -> float | None:
        return next((p.rate for p in results.get(name, []) if p.publishers == count), None)

    with_batching, without = rate_at("batching (default)", 8), rate_at("no batching", 8)
    print()
    if with_batching and without:
        print(f"batching-gain: {with_batching / without:.2f}")
    else:
        print("batching-gain: n/a (needs both 'batching (default)' and 'no batching' at 8 publishers)")


if __name__ == "__main__":
    main()
