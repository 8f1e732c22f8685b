"""`moderation model download|info`: prepare offline model files and show what the service loads."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .scoring.errors import ScorerUnavailable
from .scoring.lazy import LazyScorer
from .scoring.settings import MODEL_TYPES, ScorerSettings

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
    """Load the configured model and say what it is, where from, its classes and size."""
    scorer = LazyScorer(_settings())
    try:
        scorer.ensure_loaded()
    except ScorerUnavailable as exc:
        raise click.ClickException(f"model {scorer.name} unavailable: {exc}") from exc
    details = scorer.info()
    size = details.get("size_bytes")
    click.echo(f"model:      {details['name']} ({details['architecture']})")
    click.echo(f"checkpoint: {details['source']}")
    click.echo(f"config:     {details['config_dir'] or 'Hugging Face hub'}")
    click.echo(f"classes:    {', '.join(details['classes'])}")
    click.echo(f"parameters: {details['parameters']:,}")
    click.echo(f"size:       {f'{size / 1e6:.1f} MB' if size else 'unknown'}")
    click.echo(f"precision:  {details['precision']} on {details['device']}, "
               f"max {details['max_length']} tokens, batches of {details['batch_size']}")
    click.echo(f"languages:  {', '.join(details['languages'])}")
