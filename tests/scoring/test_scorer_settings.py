"""ScorerSettings.from_mapping reads Flask-style keys and refuses bad values clearly."""

import pytest

from moderation.scoring import ScorerSettings


def test_missing_keys_give_defaults():
    assert ScorerSettings.from_mapping({}) == ScorerSettings()
    assert ScorerSettings().model_type == "unbiased"


def test_reads_strings_from_the_environment():
    settings = ScorerSettings.from_mapping({
        "DETOXIFY_MODEL": "multilingual", "DETOXIFY_CHECKPOINT": "/m/x.ckpt", "DETOXIFY_CONFIG_DIR": "/m/config",
        "DETOXIFY_DEVICE": "cpu", "SCORING_PRECISION": "bf16", "SCORING_THREADS": "2",
        "SCORING_MAX_LENGTH": "256", "SCORING_BATCH_SIZE": 8, "SCORER_RETRY_AFTER": "5.5",
    })
    assert settings == ScorerSettings("multilingual", "/m/x.ckpt", "/m/config", "cpu", "bf16", 2, 256, 8, 5.5)
    assert settings.languages == frozenset({"en", "fr", "es", "it", "pt", "tr", "ru"})


def test_empty_strings_mean_unset():
    assert ScorerSettings.from_mapping({"SCORING_THREADS": "", "DETOXIFY_CHECKPOINT": " "}).threads is None


@pytest.mark.parametrize("key, value, expected", [
    ("DETOXIFY_MODEL", "toxic-bert", "DETOXIFY_MODEL: expected one of original, unbiased"),
    ("SCORING_PRECISION", "fp16", "SCORING_PRECISION: expected one of auto, fp32, bf16, int8"),
    ("SCORING_THREADS", "two", "SCORING_THREADS: expected an integer, got 'two'"),
    ("SCORING_THREADS", "0", "SCORING_THREADS: expected a positive integer"),
    ("SCORING_MAX_LENGTH", "1024", "SCORING_MAX_LENGTH: expected an integer from 1 to 512"),
    ("SCORING_BATCH_SIZE", "1.5", "SCORING_BATCH_SIZE: expected an integer"),
    ("SCORER_RETRY_AFTER", "soon", "SCORER_RETRY_AFTER: expected a number"),
    ("SCORING_CONFIRM_MARGIN", "2", "SCORING_CONFIRM_MARGIN: expected a number from 0 to 1"),
    ("BATCH_COMPANY_MS", "-5", "BATCH_COMPANY_MS: expected milliseconds from 0 to 1000"),
    ("SCORING_LEND_IDLE_MS", "soon", "SCORING_LEND_IDLE_MS: expected a number, got 'soon'"),
    ("SCORING_LEND_IDLE_MS", "-1", "SCORING_LEND_IDLE_MS: expected milliseconds from 0 to 60000 (0: never lend)"),
])
def test_bad_values_name_the_key(key, value, expected):
    with pytest.raises(ValueError) as error:
        ScorerSettings.from_mapping({key: value})
    assert expected in str(error.value)


def test_int8_is_cpu_only():
    with pytest.raises(ValueError, match="SCORING_PRECISION"):
        ScorerSettings(device="cuda", precision="int8")
