"""Configuration: MODERATION_* variables are read with their types, and an unknown one stops the start."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from moderation import config, create_app

ROOT = Path(__file__).resolve().parent.parent


def test_known_variables_take_the_type_of_their_default():
    settings = config.from_environment({"MODERATION_CALLBACK_ALLOW_PRIVATE": "yes",
                                        "MODERATION_MAX_BODY_BYTES": "1024", "MODERATION_CORAL_TIMEOUT": "0.5",
                                        "MODERATION_BIND": "0.0.0.0:8000", "OTHER": "x"})
    assert settings["CALLBACK_ALLOW_PRIVATE"] is True
    assert settings["MAX_BODY_BYTES"] == 1024 and settings["CORAL_TIMEOUT"] == 0.5
    assert "BIND" not in settings and "OTHER" not in settings


@pytest.mark.parametrize("name, suggestion", [
    ("DATABSE_URL", "MODERATION_DATABASE_URL"),
    ("CALLBACK_ALLOW_PRIVAT", "MODERATION_CALLBACK_ALLOW_PRIVATE"),
    ("SESSION_COOKIE_SECUR", "MODERATION_SESSION_COOKIE_SECURE"),
])
def test_an_unknown_variable_is_an_error_naming_the_closest_setting(name, suggestion):
    with pytest.raises(config.ConfigError) as caught:
        config.from_environment({f"MODERATION_{name}": "x"})
    assert str(caught.value) == f"MODERATION_{name} is not a setting; did you mean {suggestion}?"


def test_an_unknown_variable_with_nothing_close_points_to_the_readme():
    with pytest.raises(config.ConfigError, match=r"^MODERATION_XYZZY is not a setting; the settings are listed"):
        config.from_environment({"MODERATION_XYZZY": "1"})


def test_dead_keys_are_gone():
    assert "WEBHOOK_TOLERANCE_SECONDS" not in config.DEFAULTS  # Standard Webhooks' 5 minutes are fixed
    assert not hasattr(config, "describe")
    with pytest.raises(config.ConfigError, match="MODERATION_WEBHOOK_TOLERANCE_SECONDS is not a setting"):
        config.from_environment({"MODERATION_WEBHOOK_TOLERANCE_SECONDS": "600"})


def test_create_app_refuses_to_start_with_a_misspelt_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("MODERATION_DATABSE_URL", "postgresql://db/moderation")
    with pytest.raises(config.ConfigError, match="did you mean MODERATION_DATABASE_URL"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "x"})


def test_the_command_says_what_is_wrong_without_a_traceback(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MODERATION_DATABSE_URL": "sqlite:///x"}
    for args in (["site", "create", "news"], ["--help"]):
        done = subprocess.run([sys.executable, "-c", "from moderation.cli import main; main()", *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 1
        assert done.stderr.strip() == ("Error: MODERATION_DATABSE_URL is not a setting; "
                                       "did you mean MODERATION_DATABASE_URL?")


def test_every_variable_the_project_names_is_known():
    """Docs, Dockerfile, Makefile, code and tests name only settings or the few documented others."""
    known = set(config.DEFAULTS) | set(config.OTHER_VARIABLES)
    files = [ROOT / "README.md", ROOT / "Dockerfile", ROOT / "Makefile", *ROOT.glob("docs/**/*.md"),
             *ROOT.glob("moderation/**/*.py"), *ROOT.glob("templates/**/*.html"), *ROOT.glob("tests/**/*.py"),
             *ROOT.glob("examples/**/*.py")]
    named = {}
    for path in files:
        if path.name == "test_config.py":
            continue  # the misspellings above are on purpose
        text = path.read_text(encoding="utf-8").replace("MODERATION_DATABSE_URL is not a setting", "")  # README
        for name in re.findall(r"\bMODERATION_([A-Z0-9_]*[A-Z0-9])\b", text):
            named.setdefault(name, path.relative_to(ROOT))
    unknown = {f"MODERATION_{name}": str(path) for name, path in named.items() if name not in known}
    assert unknown == {}


def test_every_setting_is_in_the_readmes_configuration_table():
    """The other direction: a setting the code accepts but the README's table leaves out is one
    an operator cannot find (nine were missing before this test)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| variable | default | meaning |"):readme.index("## Command line")]
    rows = "\n".join(line for line in table.splitlines() if line.startswith("| `MODERATION_"))
    # A row may name a pair: `MODERATION_X_EMAIL` / `..._ADDRESS`.
    named = set(re.findall(r"`MODERATION_([A-Z0-9_]+)`", rows))
    for first, suffix in re.findall(r"`MODERATION_([A-Z0-9_]+)` / `\.\.\._([A-Z0-9_]+)`", rows):
        named.add(first.rsplit("_", suffix.count("_") + 1)[0] + "_" + suffix)
    assert sorted(set(config.DEFAULTS) - named) == []
