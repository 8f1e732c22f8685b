"""`model info` and `model download` say clearly what happened, without tracebacks."""

import pytest
from flask import Flask

from moderation.scoring import download
from moderation.model_cli import model_cli


@pytest.fixture
def make_runner(tmp_path):
    def runner(**config):
        app = Flask("scoring_cli_test", instance_path=str(tmp_path / "instance"))
        app.config.update(config)
        return app.test_cli_runner()

    return runner


@pytest.fixture
def no_loading(monkeypatch):
    """`model info` must neither load a model nor download one: both fail the test if tried."""
    import torch
    from detoxify import detoxify as dx

    def refuse(*args, **kwargs):
        raise AssertionError("model info loaded or downloaded something")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    monkeypatch.setattr(dx, "get_model_and_tokenizer", refuse)


def test_info_reports_local_files_without_loading_them(make_runner, tiny_checkpoint, no_loading):
    checkpoint, config_dir = tiny_checkpoint("original")
    result = make_runner(DETOXIFY_MODEL="original", DETOXIFY_CHECKPOINT=str(checkpoint),
                         DETOXIFY_CONFIG_DIR=str(config_dir), SCORING_BATCH_SIZE="8",
                         SCORING_PRECISION="fp32").invoke(model_cli, ["info"])
    assert result.exit_code == 0, result.output
    assert "model:      detoxify-original (MODERATION_DETOXIFY_MODEL=original)" in result.output
    assert "runs as:    fp32 on cpu, max 512 tokens, batches of 8" in result.output
    assert f"checkpoint: {checkpoint.resolve()} (present, " in result.output
    assert f"config:     {config_dir.resolve()} (present: config.json, " in result.output
    assert "status:     files in place" in result.output


def test_info_says_which_files_are_missing_and_exits_0(make_runner, tmp_path, no_loading):
    result = make_runner(DETOXIFY_CHECKPOINT=str(tmp_path / "none.ckpt"),
                         DETOXIFY_CONFIG_DIR=str(tmp_path)).invoke(model_cli, ["info"])
    assert result.exit_code == 0, result.output
    assert f"checkpoint: {tmp_path / 'none.ckpt'} MISSING" in result.output
    assert f"config:     {tmp_path} (present) but no config.json" in result.output
    assert "status:     files missing: `moderation model download --dir DIR`" in result.output
    assert "Traceback" not in result.output


def test_info_without_local_files_names_the_release_and_the_cache(make_runner, tmp_path, monkeypatch,
                                                                  no_loading):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    result = make_runner(DETOXIFY_MODEL="multilingual").invoke(model_cli, ["info"])
    assert result.exit_code == 0, result.output
    assert "checkpoint: not set: Detoxify's release, https://github.com/unitaryai/detoxify/" in result.output
    cached = tmp_path / "torch" / "hub" / "checkpoints" / "multilingual_debiased-0b549669.ckpt"
    assert f"cached:     {cached} MISSING, downloaded on first use" in result.output
    assert "languages:  en, es, fr, it, pt, ru, tr" in result.output
    assert "status:     files missing" in result.output


def test_info_with_bad_configuration(make_runner):
    result = make_runner(SCORING_PRECISION="fp8").invoke(model_cli, ["info"])
    assert result.exit_code == 1 and "invalid configuration: SCORING_PRECISION" in result.output


def test_download_without_internet_fails_clearly(make_runner, tmp_path, monkeypatch):
    import requests

    def unreachable(*args, **kwargs):
        raise requests.ConnectionError("Failed to resolve 'github.com'")

    monkeypatch.setattr(requests, "get", unreachable)
    target = tmp_path / "models"
    result = make_runner().invoke(model_cli, ["download", "--model", "original-small", "--dir", str(target)])
    assert result.exit_code == 1
    assert "Error: download failed: https://github.com/unitaryai/detoxify/releases/download/" in result.output
    assert "ConnectionError: Failed to resolve 'github.com'" in result.output
    assert "Traceback" not in result.output
    assert not list(target.glob("*.part"))


def test_download_rewrites_the_checkpoint_for_offline_loading(tmp_path, tiny_checkpoint, monkeypatch):
    """With the network faked by local files, the result loads through Detoxify with no hub access."""
    import shutil

    import torch

    checkpoint, config_dir = tiny_checkpoint("unbiased")
    release = torch.load(checkpoint, weights_only=False)
    release["config"]["arch"]["args"]["model_type"] = "roberta-base"

    monkeypatch.setattr(download, "_fetch", lambda url, target: torch.save(release, target))

    def fake_snapshot(repo_id, local_dir, **kwargs):
        assert repo_id == "roberta-base"
        shutil.copytree(config_dir, local_dir, dirs_exist_ok=True)

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot)
    saved, saved_config = download.download_model("unbiased", tmp_path / "out")
    args = torch.load(saved, weights_only=False)["config"]["arch"]["args"]
    assert args["model_type"] == str(saved_config.resolve())

    from moderation.scoring import LazyScorer, ScorerSettings

    scorer = LazyScorer(ScorerSettings(checkpoint=str(saved)))
    assert scorer.score(["you idiot"])[0]["toxicity"] > 0.95


@pytest.mark.parametrize("native", [True, False])
def test_info_says_what_auto_precision_resolves_to(make_runner, tiny_checkpoint, no_loading, monkeypatch, native):
    from moderation.scoring import settings

    monkeypatch.setattr(settings, "native_bf16", lambda: native)
    checkpoint, config_dir = tiny_checkpoint("original")
    result = make_runner(DETOXIFY_MODEL="original", DETOXIFY_CHECKPOINT=str(checkpoint),
                         DETOXIFY_CONFIG_DIR=str(config_dir)).invoke(model_cli, ["info"])
    assert result.exit_code == 0, result.output
    if native:
        assert ("runs as:    bf16 (auto: this CPU has native bf16), scores within 0.02 of a threshold "
                "confirmed at fp32 on cpu") in result.output
    else:
        assert "runs as:    fp32 (auto: no native bf16 here) on cpu" in result.output
