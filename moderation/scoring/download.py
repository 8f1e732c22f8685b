"""Fetches a Detoxify checkpoint and its Hugging Face config/tokenizer files for offline loading."""

from __future__ import annotations

import json
import os
from pathlib import Path

# Files Detoxify's tokenizers and configs load from; weights come from the checkpoint.
_HUB_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
              "vocab.json", "vocab.txt", "merges.txt", "spiece.model", "sentencepiece.bpe.model"]


class DownloadError(Exception):
    """The download failed; the message says where and why."""


def download_model(model_type: str, directory: Path) -> tuple[Path, Path]:
    """Writes ``directory/<checkpoint>.ckpt`` and ``directory/config/``; returns (checkpoint, config_dir).

    The checkpoint's ``arch.args.model_type`` is rewritten to the config directory, so
    Detoxify's loader never asks the hub for the config (see detoxify_backend._load_local).
    """
    import torch
    from detoxify.detoxify import MODEL_URLS

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    url = MODEL_URLS[model_type]
    raw = directory / (url.rsplit("/", 1)[-1] + ".part")
    _fetch(url, raw)
    loaded = torch.load(raw, map_location="cpu", weights_only=False)  # just fetched from Detoxify's release
    args = loaded["config"]["arch"]["args"]
    config_dir = directory / "config"
    _fetch_hub_files(args["model_type"], config_dir, args["num_classes"])
    args["model_type"] = str(config_dir.resolve())
    checkpoint = directory / raw.name.removesuffix(".part")
    torch.save(loaded, checkpoint)
    raw.unlink()
    return checkpoint, config_dir


def _fetch(url: str, target: Path) -> None:
    import requests
    from tqdm import tqdm

    try:
        with requests.get(url, stream=True, timeout=30) as response:
            response.raise_for_status()
            total = int(response.headers.get("content-length", 0)) or None
            with open(target, "wb") as out, tqdm(total=total, unit="B", unit_scale=True, desc=target.name) as bar:
                for chunk in response.iter_content(chunk_size=1 << 20):
                    out.write(chunk)
                    bar.update(len(chunk))
    except requests.RequestException as exc:
        target.unlink(missing_ok=True)
        raise DownloadError(f"download failed: {url}: {type(exc).__name__}: {_first_line(exc)}") from exc


def _fetch_hub_files(repo_id: str, config_dir: Path, num_classes: int) -> None:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        snapshot_download(repo_id=repo_id, local_dir=config_dir, allow_patterns=_HUB_FILES)
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as exc:
        raise DownloadError(f"download failed: Hugging Face files of {repo_id}: {_first_line(exc)}") from exc
    # Detoxify builds the model from this config when a config path is given, so it must
    # already have the checkpoint's number of labels (the hub's has 2).
    config_path = config_dir / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["id2label"] = {str(i): f"LABEL_{i}" for i in range(num_classes)}
    config["label2id"] = {f"LABEL_{i}": i for i in range(num_classes)}
    tmp = config_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(config, indent=2), encoding="utf-8")
    os.replace(tmp, config_path)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
