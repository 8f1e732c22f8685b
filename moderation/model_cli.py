"""`moderation model download|info|compare`: offline model files, what the service would load, precisions compared."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from .scoring import LazyScorer
from .scoring.settings import CONFIG_KEYS, MODEL_TYPES, ScorerSettings

model_cli = click.Group("model", help="Detoxify model files and status.")


def _settings() -> ScorerSettings:
    try:
        return ScorerSettings.from_mapping(current_app.config)
    except ValueError as exc:
        raise click.ClickException(f"invalid configuration: {exc}") from exc


@model_cli.command("download")
@click.option("--model", "model_type", type=click.Choice(MODEL_TYPES), default=None,
              help="Model type (default: the configured DETOXIFY_MODEL).")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the files (default: <instance>/detoxify/<model>).")
@with_appcontext
def download(model_type: str | None, directory: Path | None) -> None:
    """Fetch the checkpoint and its config/tokenizer files (needs internet)."""
    from .scoring.download import DownloadError, download_model

    model_type = model_type or _settings().model_type
    directory = directory or Path(current_app.instance_path) / "detoxify" / model_type
    try:
        checkpoint, config_dir = download_model(model_type, directory)
    except DownloadError as exc:
        raise click.ClickException(f"{exc}\nOn a machine without internet, run this command on a connected "
                                   f"one and copy {directory} over.") from exc
    click.echo(f"Saved {model_type} to {directory}. Configure:")
    click.echo(f"  MODERATION_DETOXIFY_MODEL={model_type}")
    click.echo(f"  MODERATION_DETOXIFY_CHECKPOINT={checkpoint.resolve()}")
    click.echo(f"  MODERATION_DETOXIFY_CONFIG_DIR={config_dir.resolve()}")


@model_cli.command("info")
@with_appcontext
def info() -> None:
    """Show the configured model, its files and whether they are there (loads and downloads nothing)."""
    for label, value in describe(_settings()):
        click.echo(f"{label + ':':<12}{value}")


def describe(settings: ScorerSettings) -> list[tuple[str, str]]:
    """What `model info` prints: the configuration and the state of each file, read from disk only."""
    threads = settings.threads or "torch's default"
    precision = settings.effective_precision
    if settings.precision == "auto":
        precision += " (auto: " + ("this CPU has native bf16" if precision == "bf16" else "no native bf16 here") + ")"
    if settings.confirms:
        precision += f", scores within {settings.confirm_margin:g} of a threshold confirmed at fp32"
    lines = [
        ("model", f"detoxify-{settings.model_type} (MODERATION_{CONFIG_KEYS['model_type']}={settings.model_type})"),
        ("languages", ", ".join(sorted(settings.languages))),
        ("runs as", f"{precision} on {settings.device}, max {settings.max_length} tokens, "
                    f"batches of {settings.batch_size}, threads: {threads}"),
    ]
    if settings.checkpoint is None:
        from detoxify.detoxify import MODEL_URLS

        from .scoring.detoxify_backend import hub_cache_path

        url = MODEL_URLS[settings.model_type]
        cached = Path(hub_cache_path(url))
        lines += [
            ("checkpoint", f"not set: Detoxify's release, {url}"),
            ("cached", f"{_file_state(cached)}" + ("" if cached.is_file() else
                                                    ", downloaded on first use (needs internet)")),
            ("config", "not set: from the Hugging Face hub on first use (needs internet)"),
        ]
        hint = ("on a machine without internet, run `moderation model download` on a connected one, copy "
                "the files over and set MODERATION_DETOXIFY_CHECKPOINT and MODERATION_DETOXIFY_CONFIG_DIR")
    else:
        checkpoint = Path(settings.checkpoint).resolve()
        lines.append(("checkpoint", _file_state(checkpoint)))
        if settings.config_dir is None:
            lines.append(("config", "not set: the directory the checkpoint names (as `moderation model "
                                    "download` writes it), else the Hugging Face hub"))
        else:
            lines.append(("config", _config_state(Path(settings.config_dir).resolve())))
        hint = "`moderation model download --dir DIR` on a connected machine writes both"
    missing = any(" MISSING" in state or state.endswith("no config.json") for _, state in lines)
    lines.append(("status", f"files missing: {hint}" if missing else
                            "files in place; loaded on first use (`/readyz` says whether it loaded)"))
    return lines


def _file_state(path: Path) -> str:
    if path.is_file():
        return f"{path} (present, {path.stat().st_size / 1e6:.1f} MB)"
    return f"{path} MISSING"


def _config_state(directory: Path) -> str:
    if not directory.is_dir():
        return f"{directory} MISSING"
    if not (directory / "config.json").is_file():
        return f"{directory} (present) but no config.json"
    files = sorted(p.name for p in directory.iterdir() if p.is_file())
    return f"{directory} (present: {', '.join(files)})"


@dataclass
class Difference:
    comment_id: int
    site: str
    status: tuple[str, str]  # (at the configured precision, at the other)
    category: str | None     # the class whose score moved most
    delta: float             # its absolute difference
    confirmed: str | None = None  # the status at the reduced precision with fp32 confirmation


class _OnePass:
    """A loaded backend scoring at one precision only (fp32 or the reduced one, unconfirmed)."""

    def __init__(self, scorer: LazyScorer, exact: bool) -> None:
        self._scorer, self._exact = scorer, exact
        self.name, self.languages = scorer.name, scorer.languages

    @property
    def classes(self) -> tuple[str, ...]:
        return self._scorer.classes

    def score(self, texts, boundaries=None):
        return self._scorer._loaded_backend().score(texts, exact=self._exact)


def compare_precisions(comments: list, reference: Any, other: Any, *, confirmed: Any = None,
                       batch: int = 64) -> list[Difference]:
    """Assess each comment's text with both scorers (and `confirmed`) under its site's current policy and lexicon."""
    from .lexicon.store import lexicon
    from .policy_versions import current_policy
    from .scoring.assess import assess

    differences: list[Difference] = []
    by_site: dict[int, list] = {}
    for comment in comments:
        by_site.setdefault(comment.site_id, []).append(comment)
    for group in by_site.values():
        site = group[0].site
        _, policy = current_policy(site)
        site_lexicon = lexicon(site.id)
        for start in range(0, len(group), batch):
            chunk = group[start:start + batch]
            texts = [c.text or "" for c in chunk]
            languages = [c.language for c in chunk]
            first = assess(texts, policy, reference, lexicon=site_lexicon, languages=languages)
            second = assess(texts, policy, other, lexicon=site_lexicon, languages=languages)
            third = (assess(texts, policy, confirmed, lexicon=site_lexicon, languages=languages)
                     if confirmed is not None else [None] * len(chunk))
            for comment, a, b, c in zip(chunk, first, second, third):
                if a.error or b.error:
                    raise click.ClickException(f"comment {comment.id} was not scored: {a.error or b.error}")
                category, delta = None, 0.0
                for name, value in (a.scores or {}).items():
                    diff = abs(value - (b.scores or {}).get(name, value))
                    if diff > delta:
                        category, delta = name, diff
                differences.append(Difference(comment.id, site.slug, (a.status, b.status), category, delta,
                                              c.status if c is not None else None))
    return differences


@model_cli.command("compare")
@click.option("--precision", type=click.Choice(["bf16", "int8"]),
              help="The reduced precision to compare with the configured weights at fp32 (default: the "
                   "configured one when it is reduced, else int8).")
@click.option("--site", "slug", help="Only this site's comments (default: every site).")
@click.option("--since", help="Only comments received since: an ISO date or an age (7d, 12h).")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=5000, show_default=True,
              help="At most this many comments, the most recent first.")
@click.option("--show", type=click.IntRange(0, 1000), default=10, show_default=True,
              help="How many changed decisions and largest differences to list.")
@with_appcontext
def compare(precision: str | None, slug: str | None, since: str | None, limit: int, show: int) -> None:
    """Score stored comments at fp32 and at a reduced precision; report the decisions that would change.

    Uses the configured weights and each site's current policy; stores nothing. Reports the
    decisions that would change at the reduced precision alone, and with scores near a
    threshold confirmed at fp32 (MODERATION_SCORING_CONFIRM_MARGIN, what the service does).
    Run it on the site's own comments before choosing MODERATION_SCORING_PRECISION.
    """
    import dataclasses

    import sqlalchemy as sa

    from .extensions import db
    from .jobs.cli import _parse_since
    from .models import Comment
    from .scoring import ScorerUnavailable
    from .sites import SiteError, require

    settings = _settings()
    if precision is None:
        precision = settings.effective_precision if settings.effective_precision != "fp32" else "int8"
    margin = settings.confirm_margin or ScorerSettings.confirm_margin
    if precision == "int8" and not settings.device.startswith("cpu"):
        raise click.ClickException("int8 runs on the CPU only (MODERATION_DETOXIFY_DEVICE is "
                                   f"{settings.device})")
    query = sa.select(Comment).where(Comment.text.is_not(None)).order_by(Comment.received_at.desc()).limit(limit)
    try:
        if slug:
            query = query.where(Comment.site_id == require(slug).id)
    except SiteError as error:
        raise click.ClickException(str(error)) from None
    if since:
        query = query.where(Comment.received_at >= _parse_since(since))
    comments = list(db.session.scalars(query))
    if not comments:
        click.echo("No stored comments to compare.")
        return
    # One forward pass per call, in this thread: no batcher is needed for a command. One load
    # keeps both weights: fp32 (the reference) and the reduced precision.
    guarded = LazyScorer(dataclasses.replace(settings, precision=precision, confirm_margin=margin, batch_max=1))
    try:
        guarded.ensure_loaded()
    except ScorerUnavailable as error:
        raise click.ClickException(f"cannot load the model: {error}") from None
    differences = compare_precisions(comments, _OnePass(guarded, exact=True), _OnePass(guarded, exact=False),
                                     confirmed=guarded)
    changed = [d for d in differences if d.status[0] != d.status[1]]
    still = [d for d in differences if d.status[0] != d.confirmed]
    largest = max(d.delta for d in differences)
    click.echo(f"Compared {len(differences)} comment(s), fp32 against {precision}, "
               f"detoxify-{settings.model_type} from {guarded.info().get('source')}.")
    click.echo(f"Decisions that would change: {len(changed)} of {len(differences)} "
               f"({100 * len(changed) / len(differences):.2f}%)")
    click.echo(f"With scores within {margin:g} of a threshold confirmed at fp32 (the service's way): "
               f"{len(still)} of {len(differences)} ({100 * len(still) / len(differences):.2f}%)")
    if largest >= margin:
        click.echo(f"Warning: a score moved by {largest:.4f}, more than the margin {margin:g}: raise "
                   "MODERATION_SCORING_CONFIRM_MARGIN above it, or keep fp32.")
    click.echo(f"Largest score difference: {largest:.4f}; median of each comment's largest: "
               f"{sorted(d.delta for d in differences)[len(differences) // 2]:.4f}")
    for d in changed[:show]:
        click.echo(f"  changed: comment {d.comment_id} ({d.site}) {d.status[0]} -> {d.status[1]} "
                   f"({d.category} moved {d.delta:.4f})")
    for d in sorted(differences, key=lambda d: d.delta, reverse=True)[:show]:
        click.echo(f"  largest: comment {d.comment_id} ({d.site}) {d.category} {d.delta:.4f} "
                   f"({d.status[0]} / {d.status[1]})")
