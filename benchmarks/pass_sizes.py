"""What batching can gain on this CPU: texts/s of packed forward passes by pass size, thread count and precision.

Batching across requests saves only what a forward pass of several texts saves per text over
passes of one. This measures that directly, in one process, so the limits of each serving
layout can be read before running the HTTP benchmark (benchmarks/load.py):

- one scoring pass per core, each on 1 torch thread (what `moderation serve` runs): batching
  can gain at most rate(1 thread, 8 texts) / rate(1 thread, 1 text), and the service's
  throughput is at most cores x rate(1 thread, pass size);
- one scoring process with a torch thread per core serving every request (the alternative):
  the gain is rate(all threads, 8 texts) / rate(all threads, 1 text), its throughput
  rate(all threads, pass size).

Both are compared with Detoxify.predict one comment at a time on all cores, measured in the
same run (the 1.00x of load.py). Full-size model with random weights (benchmarks/scoring.py),
comments shaped like the samples; rounds interleave the measurements, the best counts.

    python benchmarks/pass_sizes.py [--model original] [--precisions fp32,bf16,int8] [--sizes 1,2,4,8]

The last line is ``batching-gain ceiling: <ratio>``: the per-core layout's gain at the
precision `auto` chooses on this CPU, with passes of the largest size.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

CORES = len(os.sched_getaffinity(0))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="original", choices=["original", "unbiased"])
    parser.add_argument("--comments", type=int, default=48, help="comments per measurement (default 48)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds, the best counts (default 2)")
    parser.add_argument("--precisions", default="fp32,bf16,int8")
    parser.add_argument("--sizes", default="1,2,4,8", help="texts per forward pass (default 1,2,4,8)")
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    if sizes[0] != 1:
        sizes.insert(0, 1)
    precisions = args.precisions.split(",")

    import torch
    from detoxify import Detoxify
    from scoring import build_checkpoint, make_comments, sample_texts
    from tqdm import tqdm
    from transformers.utils import logging as hf_logging

    from moderation.scoring import LazyScorer, ScorerSettings
    from moderation.scoring.settings import native_bf16

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    auto = "bf16" if native_bf16() else "fp32"
    thread_counts = sorted({1, CORES})
    samples = sample_texts()
    texts = make_comments(samples, args.comments)
    rates: dict[tuple, list[float]] = {}

    def timed(key: tuple, threads: int, call) -> None:
        torch.set_num_threads(threads)
        started = time.perf_counter()
        call(texts)
        rates.setdefault(key, []).append(len(texts) / (time.perf_counter() - started))

    with tempfile.TemporaryDirectory() as tmp:
        checkpoint, config_dir = build_checkpoint(args.model, Path(tmp), samples)
        reference = Detoxify(model_type=args.model, checkpoint=str(checkpoint),
                             huggingface_config_path=str(config_dir))
        reference.predict(texts[0])
        backends = {}
        for precision in precisions:
            # The scorer's own backend (packing, precision, kernel choice), called directly: no
            # batcher in between, so each call runs passes of exactly its batch_size texts (set
            # per measurement). No thread count in its settings: each measurement sets torch's.
            scorer = LazyScorer(ScorerSettings(model_type=args.model, checkpoint=str(checkpoint),
                                               config_dir=str(config_dir), precision=precision,
                                               confirm_margin=0))
            scorer.ensure_loaded()
            backends[precision] = scorer._loaded_backend()
            backends[precision].score(texts[:sizes[-1]])  # warm-up

        def packed(precision: str, size: int):
            backend = backends[precision]
            backend.settings = dataclasses.replace(backend.settings, batch_size=size)
            return backend.score
        steps = [("Detoxify", threads, None) for threads in thread_counts]
        steps += [(precision, threads, size) for precision in precisions for threads in thread_counts
                  for size in sizes]
        with tqdm(total=args.rounds * len(steps), desc="measuring", unit="step", file=sys.stderr) as bar:
            for _ in range(args.rounds):
                for what, threads, size in steps:
                    if size is None:
                        timed((what, threads, 1), threads, lambda ts: [reference.predict(t) for t in ts])
                    else:
                        timed((what, threads, size), threads, packed(what, size))
                    bar.update()

    best = {key: max(values) for key, values in rates.items()}
    detoxify = best["Detoxify", CORES, 1]
    print(f"model: {args.model}, random weights, {len(texts)} sample-shaped comments, {CORES} cores, "
          f"torch {torch.__version__}, auto precision here: {auto}")
    print(f"Detoxify.predict one at a time: {best['Detoxify', 1, 1]:.2f}/s on 1 thread, "
          f"{detoxify:.2f}/s on {CORES} (the 1.00x below)")
    print()
    print("| precision | torch threads | " + " | ".join(f"{s} text{'s' if s > 1 else ''}/pass" for s in sizes)
          + f" | gain {sizes[-1]} over 1 |")
    print("|---|---|" + "---|" * len(sizes) + "---|")
    for precision in precisions:
        for threads in thread_counts:
            row = [best[precision, threads, size] for size in sizes]
            print(f"| {precision} | {threads} | " + " | ".join(f"{r:.2f}/s" for r in row)
                  + f" | {row[-1] / row[0]:.2f} |")
    print()
    print("Ceilings per layout, texts/s against Detoxify one at a time on all cores (1 text / "
          f"{sizes[-1]} texts per pass):")
    print()
    print("| precision | layout | unbatched | batched | batching-gain ceiling |")
    print("|---|---|---|---|---|")
    for precision in precisions:
        per_core = [CORES * best[precision, 1, size] for size in (1, sizes[-1])]
        shared = [best[precision, CORES, size] for size in (1, sizes[-1])]
        for layout, (alone, batched) in ((f"{CORES} passes at once, 1 thread each", per_core),
                                         (f"one pass at a time, {CORES} threads", shared)):
            print(f"| {precision} | {layout} | {alone:.2f}/s ({alone / detoxify:.2f}x) | "
                  f"{batched:.2f}/s ({batched / detoxify:.2f}x) | {batched / alone:.2f} |")
    print()
    if auto in precisions:
        print(f"batching-gain ceiling: {best[auto, 1, sizes[-1]] / best[auto, 1, 1]:.2f}")
    else:
        print(f"batching-gain ceiling: n/a (auto precision {auto} not measured)")


if __name__ == "__main__":
    main()
