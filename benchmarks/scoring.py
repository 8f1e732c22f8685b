"""Scoring benchmark: the service's LazyScorer against one-at-a-time Detoxify.predict on a full-size model.

The model is the chosen type's full architecture (roberta-base for unbiased, bert-base for
original, xlm-roberta-base for multilingual, albert-base-v2 for the small ones) with random
weights built from a config in code: compute does not depend on the weights, and nothing
is downloaded. Both paths load the same Detoxify-format checkpoint through Detoxify's own
code. Comments follow the word-length distribution of the sample comments.

    python benchmarks/scoring.py [--model unbiased] [--comments 48] [--rounds 2] [--batch-sizes 8,16]

The last line is ``speedup: <ratio>``: the fastest service configuration over fp32
Detoxify.predict one comment at a time.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

SAMPLES = [ROOT / "moderation" / "data" / "seed-article-comments.json",
           ROOT / ".." / "shared" / "samples" / "seed-article-comments.json"]
ARCHITECTURES = {  # Hugging Face base configs, written out so nothing is fetched
    "unbiased": ("RobertaConfig", dict(vocab_size=50265, max_position_embeddings=514, type_vocab_size=1,
                                       pad_token_id=1, bos_token_id=0, eos_token_id=2)),
    "original": ("BertConfig", dict(vocab_size=30522, max_position_embeddings=512, type_vocab_size=2,
                                    pad_token_id=0)),
    "multilingual": ("XLMRobertaConfig", dict(vocab_size=250002, max_position_embeddings=514, type_vocab_size=1,
                                              pad_token_id=1, bos_token_id=0, eos_token_id=2)),
    "original-small": ("AlbertConfig", dict(vocab_size=30000, embedding_size=128, max_position_embeddings=512,
                                            pad_token_id=0)),
    "unbiased-small": ("AlbertConfig", dict(vocab_size=30000, embedding_size=128, max_position_embeddings=512,
                                            pad_token_id=0)),
}
BASE = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)


def sample_texts() -> list[str]:
    for path in SAMPLES:
        if path.is_file():
            comments = json.loads(path.read_text(encoding="utf-8"))
            return [html.unescape(re.sub(r"<[^>]+>", " ", c["body"])).strip() for c in comments]
    raise SystemExit(f"no sample comments at {' or '.join(str(p) for p in SAMPLES)}")


def make_comments(samples: list[str], count: int, seed: int = 0) -> list[str]:
    """Comments whose word counts are drawn from the samples' (+-20%), made of the samples' words."""
    rng = random.Random(seed)
    words = [w for s in samples for w in s.split()]
    lengths = [len(s.split()) for s in samples]
    comments = []
    for _ in range(count):
        n = max(3, round(rng.choice(lengths) * rng.uniform(0.8, 1.2)))
        start = rng.randrange(len(words))
        comments.append(" ".join(words[(start + i) % len(words)] for i in range(n)))
    return comments


def build_checkpoint(model_type: str, directory: Path, corpus: list[str]) -> tuple[Path, Path]:
    """A full-size random-weight model in Detoxify's checkpoint format, with a tokenizer of its class."""
    import torch
    import transformers
    from tiny_detoxify import ARCHES, IDENTITY_CLASSES, build_tokenizer

    _, model_name, tokenizer_name, classes, num_classes = ARCHES[model_type]
    config_dir = directory / "config"
    words = sorted({w.strip(".,;:!?\"'()’“”") for text in corpus for w in text.split()} - {""})
    build_tokenizer(tokenizer_name, words).save_pretrained(config_dir)
    config_name, extra = ARCHITECTURES[model_type]
    config = getattr(transformers, config_name)(**BASE, **extra, num_labels=num_classes)
    config.save_pretrained(config_dir)
    torch.manual_seed(0)
    model = getattr(transformers, model_name)(config)
    dataset = {"classes": classes, **({"identity_classes": IDENTITY_CLASSES} if num_classes == 16 else {})}
    checkpoint = directory / f"{model_type}.ckpt"
    torch.save({"config": {"arch": {"args": {"num_classes": num_classes, "model_type": str(config_dir),
                                             "model_name": model_name, "tokenizer_name": tokenizer_name}},
                           "dataset": {"args": dataset}},
                "state_dict": model.state_dict()}, checkpoint)
    return checkpoint, config_dir


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def best_rate(fn, texts, rates: list[float]) -> list[dict]:
    start = time.perf_counter()
    result = fn(texts)
    rates.append(len(texts) / (time.perf_counter() - start))
    return result


def max_diff(a: list[dict], b: list[dict]) -> float:
    return max(abs(x[k] - y[k]) for x, y in zip(a, b) for k in x)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="unbiased", choices=sorted(ARCHITECTURES))
    parser.add_argument("--comments", type=int, default=48, help="comments per measurement (default 48)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="measurement rounds, interleaved; the best round counts (default 2)")
    parser.add_argument("--batch-sizes", default="8,16")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--precisions", default="fp32,bf16,int8")
    args = parser.parse_args(argv)

    import torch
    from detoxify import Detoxify
    from transformers.utils import logging as hf_logging

    from moderation.scoring import LazyScorer, ScorerSettings

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    samples = sample_texts()
    texts = make_comments(samples, args.comments)

    with tempfile.TemporaryDirectory() as tmp:
        checkpoint, config_dir = build_checkpoint(args.model, Path(tmp), samples)
        size_mb = checkpoint.stat().st_size / 1e6
        before = rss_mb()
        reference = Detoxify(model_type=args.model, checkpoint=str(checkpoint),
                             huggingface_config_path=str(config_dir))
        reference.predict(texts[0])  # warm-up
        paths = [("Detoxify.predict, one at a time", "fp32", 1,
                  lambda ts: [reference.predict(t) for t in ts], rss_mb() - before)]
        tokens = [len(reference.tokenizer(t)["input_ids"]) for t in texts]
        print(f"model: {args.model} ({type(reference.model).__name__}, random weights, {size_mb:.0f} MB), "
              f"{len(texts)} comments, {sum(tokens) / len(tokens):.0f} tokens mean (max {max(tokens)}), "
              f"{args.threads} threads, torch {torch.__version__}")
        for precision in args.precisions.split(","):
            for batch_size in (int(b) for b in args.batch_sizes.split(",")):
                before = rss_mb()
                scorer = LazyScorer(ScorerSettings(model_type=args.model, checkpoint=str(checkpoint),
                                                   config_dir=str(config_dir), precision=precision,
                                                   threads=args.threads, batch_size=batch_size,
                                                   confirm_margin=0))  # the precision alone
                scorer.score(texts[:2])  # load and warm up
                paths.append(("LazyScorer, packed", precision, batch_size, scorer.score,
                              rss_mb() - before))

        # Rounds interleave the paths so a busy machine slows them all alike.
        rates: list[list[float]] = [[] for _ in paths]
        scores: list[list[dict]] = [[] for _ in paths]
        for _ in range(args.rounds):
            for i, path in enumerate(paths):
                scores[i] = best_rate(path[3], texts, rates[i])

    baseline_rate = max(rates[0])
    print()
    print("| path | precision | batch | comments/s | vs one at a time | max score diff | RSS added by load (MB) |")
    print("|---|---|---|---|---|---|---|")
    for (name, precision, batch, _, memory), path_rates, path_scores in zip(paths, rates, scores):
        rate = max(path_rates)
        print(f"| {name} | {precision} | {batch} | {rate:.1f} | {rate / baseline_rate:.2f}x "
              f"| {max_diff(path_scores, scores[0]):.1e} | {memory:.0f} |")
    print()
    print(f"peak RSS of the whole run (all models loaded at once): {peak_rss_mb():.0f} MB")
    best = max(range(1, len(paths)), key=lambda i: max(rates[i]))
    print(f"best service path: {paths[best][1]}, batch {paths[best][2]}")
    print(f"speedup: {max(rates[best]) / baseline_rate:.2f}")


if __name__ == "__main__":
    main()
