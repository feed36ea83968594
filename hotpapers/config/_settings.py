"""`Settings`, the root of the tree: every [section] under one model that reads the
`HOTPAPERS_*` environment (and the secrets file) over the TOML file's values."""

from __future__ import annotations

from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hotpapers.config._sections import (
    ArxivSettings,
    ClusterSettings,
    DatabaseSettings,
    DigestSettings,
    DiscordSettings,
    LoggingSettings,
    OpsSettings,
    PublishSettings,
    RankingSettings,
    RisingSettings,
    SchedulerSettings,
    SignalsSettings,
    SiteSettings,
)
from hotpapers.logs import mask_url
from hotpapers.tldr.settings import TldrSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOTPAPERS_", env_nested_delimiter="__", extra="forbid",
        validate_default=True,
    )  # fmt: skip

    database: DatabaseSettings = DatabaseSettings()
    arxiv: ArxivSettings = ArxivSettings()
    ranking: RankingSettings = RankingSettings()
    rising: RisingSettings = RisingSettings()
    digest: DigestSettings = DigestSettings()
    signals: SignalsSettings = SignalsSettings()
    discord: DiscordSettings = DiscordSettings()
    publish: PublishSettings = PublishSettings()
    site: SiteSettings = SiteSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    ops: OpsSettings = OpsSettings()
    cluster: ClusterSettings = ClusterSettings()
    tldr: TldrSettings = TldrSettings()
    logging: LoggingSettings = LoggingSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init kwargs; the environment and secrets file win over it.
        return env_settings, dotenv_settings, init_settings


def masked_dump(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, secrets shown as '********' (or unset)."""
    data = settings.model_dump(mode="json")
    data["database"]["url"] = mask_url(data["database"]["url"])  # a password in the URL
    return data
