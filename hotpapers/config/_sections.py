"""The [section] models of the settings tree, one per stage, and the checks their values
pass. Every field has a default, so a config file names only what it changes."""

from __future__ import annotations

import ipaddress
from datetime import date
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from hotpapers.arxiv.holidays import ARXIV_HOLIDAYS
from hotpapers.arxiv.taxonomy import normalize_category, suggest_category
from hotpapers.errors import quoted
from hotpapers.logs import mask_url
from hotpapers.ranking import classic

ARXIV_MIN_INTERVAL = 3.0
# The 2026 part of the table, for code written when only 2026 was known.
ARXIV_HOLIDAYS_2026 = [day for day in ARXIV_HOLIDAYS if day.year == 2026]


class _Section(BaseModel):
    # nan and inf pass every `<`/`>` check (nan < 3 is False): refused as numbers here.
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)


def _check_post_time(value: str) -> str:
    hours, sep, minutes = value.partition(":")
    if not (
        sep
        and hours.isdigit()
        and minutes.isdigit()
        and len(minutes) == 2
        and int(hours) < 24
        and int(minutes) < 60
    ):
        raise ValueError(f'{value!r} is not a time of day as HH:MM (e.g. "09:00")')
    return f"{int(hours):02d}:{minutes}"


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'{value!r} is not an IANA time zone (e.g. "Europe/Berlin")') from None
    return value


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")


class DatabaseSettings(_Section):
    url: str = "sqlite:///hotpapers.db"
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        # Caught here, not when the engine is made: SQLAlchemy would name a missing driver
        # module (MySQLdb) or say "Could not parse", neither of which tells the user what to do.
        scheme = value.split("://", 1)[0].split("+", 1)[0] if "://" in value else ""
        if scheme not in _DATABASE_SCHEMES:
            raise ValueError(
                f"{mask_url(value)[:80]!r} is not a database URL hotpapers can use; "
                "use sqlite:///path/to/hotpapers.db or postgresql://user@host/dbname"
            )
        return value


class ArxivSettings(_Section):
    categories: list[str] = ["cs.LG", "cs.CV", "cs.CL", "cs.AI", "stat.ML"]
    api_url: str = "https://export.arxiv.org/api/query"
    rss_url: str = "https://rss.arxiv.org/rss"
    oai_url: str = "https://oaipmh.arxiv.org/oai"
    contact: str = ""
    request_interval: float = Field(ARXIV_MIN_INTERVAL, ge=0)
    batch_size: int = Field(100, ge=1, le=2000)
    page_size: int = Field(1000, ge=1, le=2000)
    timeout: float = Field(60.0, gt=0)
    max_retries: int = Field(5, ge=0, le=20)
    run_timeout: float = Field(3600.0, gt=0)
    # arXiv not answering at all for this long ends the run (no network, wrong URL).
    unreachable_after: float = Field(20.0, ge=0)
    backfill_source: Literal["api", "oai"] = "oai"
    # Evenings without an announcement (America/New_York); default: arXiv's 2020-2027 table.
    holidays: list[date] = ARXIV_HOLIDAYS
    # Ad-hoc closures added to `holidays` (so extending the table needs no copy of it).
    extra_holidays: list[date] = []
    # Categories collected beyond `categories` because subscriptions ask for them (each one
    # lengthens every collection); /subscribe refuses another one beyond this.
    max_subscribed_categories: int = Field(20, ge=0, le=500)

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, values: list[str]) -> list[str]:
        return [require_category(value) for value in values]

    @model_validator(mode="after")
    def _merge_extra_holidays(self) -> ArxivSettings:
        if self.extra_holidays:
            self.holidays = sorted({*self.holidays, *self.extra_holidays})
        return self

    @model_validator(mode="after")
    def _polite_interval(self) -> ArxivSettings:
        urls = (self.api_url, self.rss_url, self.oai_url)
        if self.request_interval < ARXIV_MIN_INTERVAL and not all(map(is_loopback_url, urls)):
            raise ValueError(
                "request_interval must be at least 3 seconds for arXiv hosts "
                "(arXiv allows one request every 3 s); lower values are for loopback test servers"
            )
        return self


def require_category(value: str) -> str:
    """The canonical id of `value`, or a ValueError that suggests the closest one."""
    found = normalize_category(value)
    if found is not None:
        return found
    hint = suggest_category(value)
    did_you_mean = f"; did you mean '{hint}'?" if hint else ""
    raise ValueError(
        f"unknown arXiv category {quoted(value)}{did_you_mean} "
        "(valid ids are listed at https://arxiv.org/category_taxonomy)"
    )


class RankingSettings(_Section):
    threshold: float = 50
    top: int = Field(10, ge=1, le=1000)
    # source.metric -> weight; the classic Hot Papers score is X retweets + likes. The default
    # blend adds reactions on our own Discord posts (at most `discord.reactions_per_user` per
    # person and paper): a reader who took the trouble to react weighs five X likes.
    weights: dict[str, float] = {"x.retweets": 1.0, "x.likes": 1.0, "discord.reactions": 5.0}
    decay_hours: float | None = None
    measure_days: int = Field(7, ge=1, le=60)


class RisingSettings(_Section):
    # "Rising from earlier days": papers of the last `days` days whose score grew most since
    # they were last shown (by at least `min_growth`; unset = ranking.threshold), `top` at most.
    days: int = Field(7, ge=1, le=60)
    top: int = Field(5, ge=1, le=50)
    min_growth: float | None = Field(None, ge=0)
    # Where the section appears: not in the Markdown post by default (the classic post has none).
    post: bool = False
    discord: bool = True
    site: bool = True


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class WeeklyDigestSettings(_Section):
    # The weekly "Hot Papers Week" (hotpapers/service/weekly.py): the week's trending papers as a
    # post
    # next to the daily ones on `weekday`, and the site's `week/` page.
    enabled: bool = False
    weekday: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "friday"
    top: int = Field(10, ge=1, le=100)


class DigestSettings(_Section):
    posts_dir: Path = Path("posts")
    template: Path | None = None
    social_image: str = "/media/flying-marine.jpg"
    category: str = "arXiv"
    tags: list[str] = ["arXiv", "Twitter", "Machine Learning", "Computer Science"]
    draft: bool = False
    # The classic profile's values (hotpapers/ranking/classic.py says which original rule each
    # keeps).
    embed_min_engagement: int = classic.EMBED_MIN_ENGAGEMENT
    max_embeds: int = Field(classic.MAX_EMBEDS_CONSIDERED, ge=1, le=50)
    # A cap on the papers in the post; none (every paper over the threshold) by default.
    top: int | None = Field(classic.POST_CAP, ge=1, le=1000)
    weekly: WeeklyDigestSettings = WeeklyDigestSettings()


class XSignalSettings(_Section):
    enabled: bool = False
    api_url: str = "https://api.x.com"
    oembed_url: str = "https://publish.x.com/oembed"
    bearer_token: SecretStr | None = None
    daily_budget_usd: float = Field(1.0, ge=0)
    price_per_read_usd: float = Field(0.005, ge=0)
    ignore_accounts: list[str] = []


class BlueskySettings(_Section):
    enabled: bool = False
    api_url: str = "https://bsky.social/xrpc"
    handle: str = ""
    app_password: SecretStr | None = None


class HackerNewsSettings(_Section):
    enabled: bool = False
    api_url: str = "https://hn.algolia.com/api/v1"


class HuggingFaceSettings(_Section):
    enabled: bool = False
    api_url: str = "https://huggingface.co/api"


class SignalsSettings(_Section):
    # A paper is never measured on one source more often than this.
    min_interval_minutes: int = Field(60, ge=1)
    # Bound on one source's whole run, so one slow platform cannot hold up the others.
    source_timeout: float = Field(1800.0, gt=0)
    # A source that has not answered at all for this long is given up (no network, wrong URL).
    unreachable_after: float = Field(20.0, ge=0)
    x: XSignalSettings = XSignalSettings()
    bluesky: BlueskySettings = BlueskySettings()
    hn: HackerNewsSettings = HackerNewsSettings()
    hf: HuggingFaceSettings = HuggingFaceSettings()


class DiscordSettings(_Section):
    token: SecretStr | None = None
    api_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg"
    # Bound on each REST step of `bot sync` (log in, publish the commands), in seconds.
    request_timeout: float = Field(30.0, gt=0)
    default_post_time: str = "09:00"
    default_timezone: str = "UTC"
    # Sharding: total shards (None = one, or Discord's recommendation when several
    # processes share the bot) and the shard ids this process runs (None = all).
    shard_count: int | None = Field(None, ge=1)
    shard_ids: list[int] | None = None
    # Parallel deliveries (targets in flight) and the bot's client-side request pace, kept
    # under Discord's global limit of 50 requests/s per bot so the limit is never hit; several
    # processes on one PostgreSQL database split it between the live ones (bot/pace.py).
    delivery_workers: int = Field(50, ge=1, le=500)
    max_requests_per_second: float = Field(45.0, gt=0, le=50)
    # Reactions on our paper messages that one user adds to a paper's `discord.reactions`
    # signal (whatever the emojis and messages): one account cannot push a paper.
    reactions_per_user: int = Field(1, ge=1, le=20)


class XPublishSettings(_Section):
    enabled: bool = False
    api_url: str = "https://api.x.com"
    daily_budget_usd: float = Field(1.0, ge=0)
    dry_run: bool = True
    # What one post costs (X bills posts containing a link higher); checked against the budget.
    price_per_post_usd: float = Field(0.2, ge=0)
    # Papers in the daily summary, and whether they follow as replies (a short thread).
    top: int = Field(5, ge=1, le=25)
    thread: bool = False
    # Local time (in [scheduler] timezone) after which the day's summary is posted.
    post_time: str = "10:00"
    # Bound on each request to X (seconds); an answer not had in time leaves the post unconfirmed.
    request_timeout: float = Field(30.0, gt=0)

    _post_time = field_validator("post_time")(_check_post_time)
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None


class PublishSettings(_Section):
    x: XPublishSettings = XPublishSettings()


class SiteSettings(_Section):
    enabled: bool = True
    out_dir: Path = Path("site")
    base_url: str = "http://localhost:8080"
    title: str = "Hot Papers"
    # Days shown on the index and in the feeds.
    feed_days: int = Field(30, ge=1, le=3650)
    # `hotpapers site serve` and `hotpapers run` serve the site here (empty host = off in run).
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)


class SchedulerSettings(_Section):
    # The zone for post times of the Markdown and X posts (Discord servers choose their own).
    timezone: str = "UTC"
    # Collect: first try this many minutes after arXiv's 20:00 America/New_York announcement,
    # then every retry_minutes until the feed shows the new day, for at most retry_hours.
    collect_delay_minutes: int = Field(5, ge=0, le=600)
    collect_retry_minutes: int = Field(10, ge=1, le=600)
    collect_retry_hours: float = Field(6.0, gt=0, le=48)
    signals_interval_minutes: int = Field(60, ge=1)
    # How often due deliveries are looked for (each server posts at its own time).
    publish_check_minutes: int = Field(1, ge=1, le=60)
    # Local time of the daily Markdown post (and site rebuild).
    post_time: str = "09:00"
    # A job that missed its time by more than this (downtime) waits for the next one.
    misfire_grace_seconds: int = Field(3600, ge=1)
    # Seconds to let the delivery in hand finish on SIGTERM before abandoning it.
    shutdown_grace_seconds: float = Field(20.0, ge=0)

    _post_time = field_validator("post_time")(_check_post_time)
    _timezone = field_validator("timezone")(_check_timezone)


class OpsSettings(_Section):
    # /healthz and /metrics (Prometheus) listen here; port 0 = off.
    host: str = "127.0.0.1"
    port: int = Field(9108, ge=0, le=65535)
    # /healthz reports "stale" when the last successful collect is older than this.
    stale_collect_hours: float = Field(30.0, gt=0)


class ClusterSettings(_Section):
    # A name for this process in logs, /healthz and the work queue (default: host:pid).
    process_name: str = ""
    # The PostgreSQL advisory-lock key the scheduler leader holds (one per deployment).
    leader_lock_key: int = 7227
    # Seconds between attempts to become leader / heartbeat checks.
    leader_poll_seconds: float = Field(5.0, gt=0)
    # A delivery task locked longer than this by a process that vanished is taken over.
    task_lease_seconds: float = Field(300.0, gt=0)


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
