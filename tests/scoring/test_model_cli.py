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


def test_info_describes_the_loaded_model(make_runner, tiny_checkpoint):
    checkpoint, config_dir = tiny_checkpoint("original")
    result = make_runner(DETOXIFY_MODEL="original", DETOXIFY_CHECKPOINT=str(checkpoint),
                         DETOXIFY_CONFIG_DIR=str(config_dir)).invoke(model_cli, ["info"])
    assert result.exit_code == 0, result.output
    assert "detoxify-original (BertForSequenceClassification)" in result.output
    assert f"checkpoint: {checkpoint.resolve()}" in result.output
    assert "classes:    toxicity, severe_toxicity, obscene, threat, insult, identity_attack" in result.output
    assert "size:" in result.output and "MB" in result.output


def test_info_when_unavailable(make_runner, tmp_path):
    result = make_runner(DETOXIFY_CHECKPOINT=str(tmp_path / "none.ckpt")).invoke(model_cli, ["info"])
    assert result.exit_code == 1
    assert f"Error: model detoxify-unbiased unavailable: no checkpoint at {tmp_path / 'none.ckpt'}" in result.output
    assert "Traceback" not in result.output


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
