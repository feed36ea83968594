"""One typed settings tree: a TOML file with `HOTPAPERS_*` environment variables over it.

Resolution of the file: `--config PATH`, else `$HOTPAPERS_CONFIG`, else `./config.toml`;
with no file at all the defaults apply. Secrets (`SecretStr` fields) are read only from the
environment or from the secrets file named by `$HOTPAPERS_SECRETS_FILE` (dotenv format),
never from the TOML file, and are never printed.

Owns the [section] models and the checks on their values (`_sections`), the `Settings` root
and its masked dump (`_settings`), and reading it all with one-sentence errors (`_loading`).
It is part of the base: it may import `errors` and `logs`, and, for its defaults and checks
only, the arXiv calendar and taxonomy, the classic ranking's constants and the [tldr] model
(each listed in tests/test_architecture.py). Import every name from here, not from the
private modules.
"""

from __future__ import annotations

from hotpapers.config._loading import DEFAULT_CONFIG_PATH, load_settings, resolve_config_path
from hotpapers.config._sections import (
    ARXIV_HOLIDAYS,
    ARXIV_HOLIDAYS_2026,
    ARXIV_MIN_INTERVAL,
    WEEKDAYS,
    ArxivSettings,
    BlueskySettings,
    ClusterSettings,
    DatabaseSettings,
    DigestSettings,
    DiscordSettings,
    HackerNewsSettings,
    HuggingFaceSettings,
    LoggingSettings,
    OpsSettings,
    PublishSettings,
    RankingSettings,
    RisingSettings,
    SchedulerSettings,
    SignalsSettings,
    SiteSettings,
    WeeklyDigestSettings,
    XPublishSettings,
    XSignalSettings,
    is_loopback_url,
    require_category,
)
from hotpapers.config._settings import Settings, TldrSettings, masked_dump

__all__ = [
    "ARXIV_HOLIDAYS",
    "ARXIV_HOLIDAYS_2026",
    "ARXIV_MIN_INTERVAL",
    "DEFAULT_CONFIG_PATH",
    "WEEKDAYS",
    "ArxivSettings",
    "BlueskySettings",
    "ClusterSettings",
    "DatabaseSettings",
    "DigestSettings",
    "DiscordSettings",
    "HackerNewsSettings",
    "HuggingFaceSettings",
    "LoggingSettings",
    "OpsSettings",
    "PublishSettings",
    "RankingSettings",
    "RisingSettings",
    "SchedulerSettings",
    "Settings",
    "SignalsSettings",
    "SiteSettings",
    "TldrSettings",
    "WeeklyDigestSettings",
    "XPublishSettings",
    "XSignalSettings",
    "is_loopback_url",
    "load_settings",
    "masked_dump",
    "require_category",
    "resolve_config_path",
]
