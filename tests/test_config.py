"""Configuration: file, environment, secrets, validation messages."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hotpapers.config import Settings, load_settings, masked_dump
from hotpapers.errors import ConfigError

ROOT = Path(__file__).parents[1]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts in an empty directory with no HOTPAPERS_* variables."""
    import os

    for key in list(os.environ):
        if key.startswith("HOTPAPERS_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _keys(data: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        if isinstance(value, dict) and key != "weights":
            keys |= _keys(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def test_no_file_gives_defaults() -> None:
    """With no config file anywhere, the defaults apply."""
    assert load_settings().arxiv.request_interval == 3.0


def test_example_documents_every_key_with_its_default() -> None:
    """config.example.toml names every non-secret key, and its values are the defaults."""
    example = tomllib.loads((ROOT / "config.example.toml").read_text())
    defaults = Settings().model_dump(mode="json")
    secret = {k for k in _keys(defaults) if k.endswith(("token", "password", "secret", "api_key"))}
    # Optional keys, shown commented out.
    commented = {"digest.template", "digest.top", "ranking.decay_hours"}
    commented |= {"discord.shard_count", "discord.shard_ids", "rising.min_growth"}
    assert _keys(defaults) - secret == _keys(example) | commented
    assert load_settings(ROOT / "config.example.toml") == Settings()


def test_environment_wins_over_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HOTPAPERS_SECTION__KEY overrides the TOML value."""
    path = _write(tmp_path, '[database]\nurl = "sqlite:///a.db"\n')
    monkeypatch.setenv("HOTPAPERS_DATABASE__URL", "sqlite:///b.db")
    assert load_settings(path).database.url == "sqlite:///b.db"


def test_hotpapers_config_variable_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$HOTPAPERS_CONFIG is used when --config is not given."""
    other = tmp_path / "other.toml"
    other.write_text("[ranking]\ntop = 3\n")
    monkeypatch.setenv("HOTPAPERS_CONFIG", str(other))
    assert load_settings().ranking.top == 3


def test_unknown_key_names_key_and_file(tmp_path: Path) -> None:
    """A typo'd key is refused with the key and the file in one line."""
    path = _write(tmp_path, "[arxiv]\ncategoriez = []\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "arxiv.categoriez" in message and str(path) in message and "\n" not in message


def test_wrong_type_is_explained(tmp_path: Path) -> None:
    """A string where a number belongs names the key."""
    path = _write(tmp_path, '[ranking]\ntop = "ten"\n')
    with pytest.raises(ConfigError, match=r"ranking\.top"):
        load_settings(path)


def test_unknown_category_suggests_closest(tmp_path: Path) -> None:
    """An unknown category is refused with the closest valid one suggested."""
    path = _write(tmp_path, '[arxiv]\ncategories = ["cs.CVV"]\n')
    with pytest.raises(ConfigError, match=r"arxiv\.categories.*did you mean 'cs\.CV'"):
        load_settings(path)


def test_categories_are_normalised(tmp_path: Path) -> None:
    """Case and old aliases resolve to canonical ids."""
    path = _write(tmp_path, '[arxiv]\ncategories = ["CS.lg", "math.MP"]\n')
    assert load_settings(path).arxiv.categories == ["cs.LG", "math-ph"]


def test_interval_below_three_seconds_refused_for_arxiv(tmp_path: Path) -> None:
    """arXiv's 3 s rule cannot be configured away for real hosts."""
    path = _write(tmp_path, "[arxiv]\nrequest_interval = 1.0\n")
    with pytest.raises(ConfigError, match="at least 3 seconds"):
        load_settings(path)


def test_interval_below_three_seconds_allowed_on_loopback(tmp_path: Path) -> None:
    """Fast pacing is fine against local fake servers."""
    path = _write(
        tmp_path,
        "[arxiv]\nrequest_interval = 0.1\napi_url = 'http://127.0.0.1:1/api/query'\n"
        "rss_url = 'http://localhost:1/rss'\noai_url = 'http://[::1]:1/oai'\n",
    )
    assert load_settings(path).arxiv.request_interval == 0.1


def test_secret_in_toml_is_refused(tmp_path: Path) -> None:
    """Tokens never come from the TOML file; the message names the variable to use."""
    path = _write(tmp_path, '[discord]\ntoken = "abc"\n')
    with pytest.raises(ConfigError, match="HOTPAPERS_DISCORD__TOKEN"):
        load_settings(path)


def test_secret_from_secrets_file_is_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A secrets file supplies tokens, and the dump never shows them."""
    secrets = tmp_path / "secrets.env"
    secrets.write_text("HOTPAPERS_DISCORD__TOKEN=super-secret-value\n")
    monkeypatch.setenv("HOTPAPERS_SECRETS_FILE", str(secrets))
    settings = load_settings()
    assert settings.discord.token is not None
    assert settings.discord.token.get_secret_value() == "super-secret-value"
    assert "super-secret-value" not in repr(masked_dump(settings))


def test_missing_named_file_is_an_error(tmp_path: Path) -> None:
    """--config pointing nowhere is a clear error, not silent defaults."""
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_invalid_toml_is_an_error(tmp_path: Path) -> None:
    """A syntax error in the file names the file."""
    path = _write(tmp_path, "[arxiv\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("key", ["request_interval", "timeout", "run_timeout"])
def test_non_finite_numbers_are_refused(tmp_path: Path, key: str, value: str) -> None:
    """`request_interval = nan` would pass `nan < 3` and disable pacing: refused, as is
    any infinite number, with the key named."""
    path = _write(tmp_path, f"[arxiv]\n{key} = {value}\n")
    with pytest.raises(ConfigError, match=f"arxiv.{key}: .*finite"):
        load_settings(path)


def test_non_finite_number_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOTPAPERS_ARXIV__REQUEST_INTERVAL", "NaN")
    with pytest.raises(ConfigError, match="request_interval"):
        load_settings(None)


def test_negative_interval_refused_even_on_loopback(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "[arxiv]\nrequest_interval = -1\napi_url = 'http://127.0.0.1:1/api/query'\n"
        "rss_url = 'http://localhost:1/rss'\noai_url = 'http://[::1]:1/oai'\n",
    )
    with pytest.raises(ConfigError, match="request_interval"):
        load_settings(path)
