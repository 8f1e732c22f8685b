"""`moderation model download|info`: prepare offline model files and show what the service would load."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

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
    lines = [
        ("model", f"detoxify-{settings.model_type} (MODERATION_{CONFIG_KEYS['model_type']}={settings.model_type})"),
        ("languages", ", ".join(sorted(settings.languages))),
        ("runs as", f"{settings.precision} on {settings.device}, max {settings.max_length} tokens, "
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
