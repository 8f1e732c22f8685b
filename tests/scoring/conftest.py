"""Fixtures for the scoring tests: tiny Detoxify checkpoints and the shared data folder."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]
if str(TESTS_DIR) not in sys.path:  # tiny_detoxify lives beside the test folders
    sys.path.insert(0, str(TESTS_DIR))

from tiny_detoxify import make_tiny_checkpoint  # noqa: E402

from moderation.scoring import ScorerSettings  # noqa: E402

# The shared folder beside the repository root (../shared), never copied into the repo.
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Callable[[str], tuple[Path, Path]]:
    """make(model_type) -> (checkpoint, config_dir), generated once per model type per session."""
    made: dict[str, tuple[Path, Path]] = {}

    def make(model_type: str = "unbiased") -> tuple[Path, Path]:
        if model_type not in made:
            made[model_type] = make_tiny_checkpoint(tmp_path_factory.mktemp(model_type), model_type)
        return made[model_type]

    return make


@pytest.fixture
def tiny_settings(tiny_checkpoint) -> Callable[..., ScorerSettings]:
    def settings(model_type: str = "unbiased", **overrides) -> ScorerSettings:
        checkpoint, config_dir = tiny_checkpoint(model_type)
        return ScorerSettings(model_type=model_type, checkpoint=str(checkpoint), config_dir=str(config_dir),
                              **overrides)

    return settings
