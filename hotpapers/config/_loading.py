"""Reading the settings: which file, its TOML, the secrets file, and one sentence naming
key and file for anything wrong (secrets in the TOML file, bad values, bad variables)."""

from __future__ import annotations

import io
import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from dotenv.parser import parse_stream
from pydantic import BaseModel, ValidationError
from pydantic_settings.exceptions import SettingsError

from hotpapers.config._settings import Settings
from hotpapers.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("config.toml")


def resolve_config_path(explicit: Path | None) -> tuple[Path, bool]:
    """The config file to read and whether the user named it (a named file must exist)."""
    if explicit is not None:
        return explicit, True
    if from_env := os.environ.get("HOTPAPERS_CONFIG"):
        return Path(from_env), True
    return DEFAULT_CONFIG_PATH, False


def load_settings(path: Path | None = None) -> Settings:
    """Read the effective settings, or raise ConfigError with one line naming key and file."""
    config_path, named = resolve_config_path(path)
    data = _read_toml(config_path, required=named)
    _reject_secrets_in_file(data, config_path)
    secrets_file = os.environ.get("HOTPAPERS_SECRETS_FILE")
    if secrets_file:
        _check_secrets_file(Path(secrets_file))
    try:
        return Settings(_env_file=secrets_file, **data)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError(_describe(exc, config_path if data else None)) from None
    except SettingsError as exc:
        raise ConfigError(_describe_env_error(exc)) from None


def _check_secrets_file(path: Path) -> None:
    """A secrets file that exists and is all KEY=value lines (python-dotenv would only warn)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"HOTPAPERS_SECRETS_FILE: cannot read secrets file {path}") from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise ConfigError(
                f"HOTPAPERS_SECRETS_FILE: line {binding.original.line} of {path} is not "
                "KEY=value (e.g. HOTPAPERS_DISCORD__TOKEN=...)"
            )


def _describe_env_error(exc: SettingsError) -> str:
    """pydantic-settings names only the section; name the variable and the JSON it wants."""
    match = re.search(r'field "([^"]+)"', str(exc))
    section = match.group(1) if match else ""
    prefix = f"HOTPAPERS_{section.upper()}"
    for name, value in sorted(os.environ.items()):
        if (name == prefix or name.startswith(prefix + "__")) and not _is_json(value):
            return (
                f"environment variable {name} must be JSON for a list or table "
                '(e.g. \'["cs.LG", "cs.CV"]\' or \'{"x": 1.0}\')'
            )
    return f"the environment variables for [{section}] cannot be read: {exc}"


def _is_json(value: str) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def _read_toml(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise ConfigError(f"{path}: configuration file not found")
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def _secret_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _secret_keys(annotation, f"{prefix}{name}.")
        elif "SecretStr" in repr(annotation):
            keys.add(f"{prefix}{name}")
    return keys


def _flatten(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in data.items():
        keys.add(f"{prefix}{key}")
        if isinstance(value, dict):
            keys |= _flatten(value, f"{prefix}{key}.")
    return keys


def _reject_secrets_in_file(data: dict[str, Any], path: Path) -> None:
    found = sorted(_flatten(data) & _secret_keys(Settings))
    if found:
        key = found[0]
        env = "HOTPAPERS_" + key.upper().replace(".", "__")
        raise ConfigError(
            f"{path}: {key} is a secret and must not be in the config file; "
            f"set the environment variable {env} or put it in HOTPAPERS_SECRETS_FILE"
        )


def _describe(exc: ValidationError, path: Path | None) -> str:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key (see config.example.toml for the valid keys)"
    return f"{path}: {key}: {message}" if path else f"{key}: {message}"
