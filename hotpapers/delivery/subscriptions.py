"""Subscriptions and per-server settings: the use-cases behind /subscribe, /unsubscribe,
/subscriptions and /settings, and what delivery calls when a target is forbidden or gone.

Every user mistake is an InputError with one plain sentence (no Markdown; adapters escape it).
Author and keyword subscriptions keep the value as the user typed it (for display) and match
on its folded form (`hotpapers.plumbing.text.fold`), so "Krähenbühl" and "krahenbuhl" are one.
Keywords
and exclude words are stored without the quotes around them: every keyword is matched as a
phrase (`hotpapers.delivery.keywords`), the quotes are how users say so.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
import zoneinfo
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import ColumnElement, Engine, delete, func, or_, update
from sqlmodel import col, select

from hotpapers import errors
from hotpapers.arxiv.subscribed import require_collectable
from hotpapers.config import ArxivSettings, DiscordSettings, require_category
from hotpapers.delivery.keywords import phrase
from hotpapers.errors import InputError
from hotpapers.plumbing.text import collapse_ws, fold
from hotpapers.storage.db import transaction
from hotpapers.storage.models import GuildSettings, Subscription

KINDS = ("category", "author", "keyword")
POST_STYLES = ("thread", "forum")
MAX_AUTHOR = 200
MAX_KEYWORD = 100
MAX_CATEGORY = 60
MAX_EXCLUDES = 10
MAX_EXCLUDE_WORD = 50
MAX_TOP = 25
MAX_DM_SUBSCRIPTIONS = 10  # per user
MAX_CHANNEL_SUBSCRIPTIONS = 25  # per channel
MAX_REASON = 300
NOT_HERE = (
    "There is no such subscription here; /subscriptions lists the ones you can see and remove."
)

_WORD = re.compile(r"\w", re.UNICODE)
_DOUBLE_QUOTES = re.compile(r"[\"“”„‟«»]")
_SINGLE_QUOTES = "'‘’‚‛‹›`"
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


# -- small helpers -------------------------------------------------------------------------


def clean(text: str | None) -> str:
    """NFKC text without control or invisible format characters, whitespace collapsed."""
    normalized = unicodedata.normalize("NFKC", text or "")
    kept = "".join(
        ch for ch in normalized if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co"}
    )
    return collapse_ws(kept)


def quoted(text: str, limit: int = 60) -> str:
    """User text for a sentence: in quotes, escaped, at most `limit` characters inside them."""
    return errors.quoted(text, limit + 2, "“”")


def channel_target(channel_id: int | str) -> str:
    return f"channel:{channel_id}"


def dm_target(user_id: int | str) -> str:
    return f"dm:{user_id}"


def is_dm_target(target: str) -> bool:
    return target.startswith("dm:")


def describe(subscription: Subscription) -> str:
    """`category cs.LG`, `author Yann LeCun`, `keyword “diffusion”` (plain text)."""
    if subscription.kind == "keyword":
        return f"keyword “{subscription.value}”"
    return f"{subscription.kind} {subscription.value}"


# -- validation ----------------------------------------------------------------------------


def _text_value(value: str, what: str, limit: int) -> str:
    text = clean(value)
    if not text:
        raise InputError(f"Please give {what}.")
    if len(text) > limit:
        raise InputError(
            f"That {what} is {len(text):,} characters long; keep it to {limit} or fewer."
        )
    if not _WORD.search(text):
        raise InputError(f"{quoted(text)} has no letters or digits; please give {what}.")
    return text


def validate_value(kind: str, value: str) -> str:
    """The value to store for `kind`: a canonical category id, or the cleaned name/keyword."""
    if kind not in KINDS:
        raise InputError(f"{quoted(kind)} is not a kind of subscription; use {', '.join(KINDS)}.")
    if kind == "category":
        text = clean(value)
        if not text:
            raise InputError("Please give an arXiv category, for example cs.LG.")
        if len(text) > MAX_CATEGORY:
            raise InputError(
                "That is not an arXiv category; categories look like cs.LG or math.PR."
            )
        try:
            return require_category(text)
        except ValueError as exc:
            sentence = str(exc)
            raise InputError(sentence[:1].upper() + sentence[1:]) from None
    if kind == "author":
        return _text_value(value, "an author's name", MAX_AUTHOR)
    keyword = _text_value(_unquoted(value), "a keyword", MAX_KEYWORD)
    if not phrase(keyword):  # "___": no word of a paper could ever match it
        raise InputError(f"{quoted(keyword)} has no letters or digits; please give a keyword.")
    return keyword


def _unquoted(text: str) -> str:
    """A keyword without its quotes ('"diffusion model"', '‘GAN’'); an apostrophe inside
    a word stays ("Fisher's")."""
    return _DOUBLE_QUOTES.sub(" ", clean(text)).strip().strip(_SINGLE_QUOTES)


def validate_excludes(kind: str, excludes: Iterable[str]) -> list[str]:
    """Exclude words, cleaned and de-duplicated (by their folded form); keyword only."""
    words: dict[str, str] = {}
    for item in excludes:
        for word in item.split(","):
            text = clean(_unquoted(word))
            if text:
                words.setdefault(fold(text), text)
    if not words:
        return []
    if kind != "keyword":
        raise InputError("Exclude words apply only to keyword subscriptions; leave them out.")
    if len(words) > MAX_EXCLUDES:
        raise InputError(
            f"That is {len(words)} exclude words; give at most {MAX_EXCLUDES}, separated by commas."
        )
    for text in words.values():
        if len(text) > MAX_EXCLUDE_WORD:
            raise InputError(
                f"The exclude word {quoted(text)} is too long; "
                f"keep each to {MAX_EXCLUDE_WORD} characters."
            )
    return list(words.values())


def _validate_options(min_score: float, top_n: int) -> None:
    if not 1 <= top_n <= MAX_TOP:
        raise InputError(f"top must be between 1 and {MAX_TOP} papers a day (got {top_n}).")
    if not min_score >= 0 or min_score == float("inf"):
        raise InputError(f"min_score must be zero or more (got {min_score:g}).")


# -- subscriptions -------------------------------------------------------------------------


def subscribe(
    engine: Engine,
    *,
    target: str,
    guild_id: str | int | None,
    channel_id: str | int | None,
    user_id: str | int,
    kind: str,
    value: str,
    excludes: Iterable[str] = (),
    min_score: float = 0,
    top_n: int = 10,
    primary_only: bool = False,
    now: datetime | None = None,
    arxiv: ArxivSettings | None = None,
) -> Subscription:
    """Create a subscription, or update the options of the same one (same target, kind and
    value, compared folded); a paused subscription subscribed again becomes active.

    With `arxiv` (the collection's settings), a category no collection covers is accepted
    only while it may be added to what is collected (`hotpapers.arxiv.subscribed`)."""
    stored = validate_value(kind, value)
    words = validate_excludes(kind, excludes)
    _validate_options(min_score, top_n)
    dm = is_dm_target(target)
    if not (dm or target.startswith("channel:")):
        raise InputError(f"{quoted(target)} is not a channel or a direct-message target.")
    with transaction(engine) as session:
        if arxiv is not None and kind == "category":
            require_collectable(arxiv, session, stored)
        existing = session.exec(
            select(Subscription).where(
                col(Subscription.target) == target, col(Subscription.kind) == kind
            )
        ).all()
        key = fold(stored)
        found = next((sub for sub in existing if fold(sub.value) == key), None)
        if found is None:
            count = session.exec(
                select(func.count())
                .select_from(Subscription)
                .where(col(Subscription.target) == target)
            ).one()
            limit = MAX_DM_SUBSCRIPTIONS if dm else MAX_CHANNEL_SUBSCRIPTIONS
            if count >= limit:
                where = "you can have by direct message" if dm else "a channel can have"
                raise InputError(
                    f"That is the most subscriptions {where} ({limit}); "
                    "remove one with /unsubscribe first."
                )
            found = Subscription(
                target=target,
                guild_id=str(guild_id) if guild_id is not None else None,
                channel_id=str(channel_id) if channel_id is not None else None,
                user_id=str(user_id),
                kind=kind,
                value=stored,
                created_at=now or datetime.now(UTC),
            )
        found.value = stored
        found.excludes = words
        found.min_score = float(min_score)
        found.top_n = int(top_n)
        found.primary_only = bool(primary_only)
        found.status, found.status_reason, found.gone_since = "active", None, None
        session.add(found)
        session.flush()
        session.refresh(found)
        return found


def _visible(subscription: Subscription, guild_id: str | None, user_id: str, is_dm: bool) -> bool:
    """A user sees their own DM subscriptions anywhere, and a server's channel subscriptions
    only from inside that server."""
    if subscription.target == dm_target(user_id):
        return True
    return (
        not is_dm
        and guild_id is not None
        and subscription.guild_id == guild_id
        and not is_dm_target(subscription.target)
    )


def unsubscribe(
    engine: Engine,
    *,
    subscription_id: int,
    guild_id: str | int | None,
    user_id: str | int,
    is_dm: bool,
    can_manage_channels: bool = True,
) -> Subscription:
    """Delete one subscription the caller may see; the deleted row.

    Unknown ids and other servers' or users' subscriptions are the same "no such
    subscription here", so ids reveal nothing. Removing a channel's subscription needs
    `can_manage_channels` (the adapter knows the member's permissions).
    """
    scope_guild = str(guild_id) if guild_id is not None else None
    with transaction(engine) as session:
        found = session.get(Subscription, subscription_id)
        if found is None or not _visible(found, scope_guild, str(user_id), is_dm):
            raise InputError(NOT_HERE)
        if not is_dm_target(found.target) and not can_manage_channels:
            raise InputError(
                "Removing a channel's subscription needs the Manage Channels permission."
            )
        session.delete(found)
        return found


def list_subscriptions(
    engine: Engine, *, guild_id: str | int | None = None, user_id: str | int | None = None
) -> list[Subscription]:
    """The channel subscriptions of server `guild_id` and the DM subscriptions of `user_id`
    (either may be None), oldest first."""
    scopes: list[ColumnElement[bool]] = []
    if guild_id is not None:
        scopes.append(
            (col(Subscription.guild_id) == str(guild_id))
            & col(Subscription.target).startswith("channel:")
        )
    if user_id is not None:
        scopes.append(col(Subscription.target) == dm_target(user_id))
    if not scopes:
        return []
    with transaction(engine) as session:
        query = select(Subscription).where(or_(*scopes)).order_by(col(Subscription.id))
        return list(session.exec(query).all())


def get_subscription(engine: Engine, subscription_id: int) -> Subscription | None:
    with transaction(engine) as session:
        return session.get(Subscription, subscription_id)


def pause(engine: Engine, subscription_id: int, reason: str) -> bool:
    """Pause one subscription with a reason shown to its owners; False if it does not exist."""
    with transaction(engine) as session:
        done = session.execute(
            update(Subscription)
            .where(col(Subscription.id) == subscription_id)
            .values(status="paused", status_reason=clean(reason)[:MAX_REASON] or None)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]


def resume(engine: Engine, subscription_id: int) -> bool:
    """Make one subscription active again; False if it does not exist."""
    with transaction(engine) as session:
        done = session.execute(
            update(Subscription)
            .where(col(Subscription.id) == subscription_id)
            .values(status="active", status_reason=None, gone_since=None)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]


def pause_target(engine: Engine, target: str, reason: str) -> int:
    """Pause every active subscription of `target` (e.g. Discord answered 403); how many."""
    with transaction(engine) as session:
        done = session.execute(
            update(Subscription)
            .where(col(Subscription.target) == target, col(Subscription.status) == "active")
            .values(status="paused", status_reason=clean(reason)[:MAX_REASON] or None)
        )
        return int(done.rowcount)  # type: ignore[attr-defined]


def resume_target(engine: Engine, target: str) -> int:
    """Make every paused subscription of `target` active again; how many."""
    with transaction(engine) as session:
        done = session.execute(
            update(Subscription)
            .where(col(Subscription.target) == target, col(Subscription.status) == "paused")
            .values(status="active", status_reason=None, gone_since=None)
        )
        return int(done.rowcount)  # type: ignore[attr-defined]


def note_target_missing(
    engine: Engine, target: str, now: datetime, confirm_after: timedelta, reason: str
) -> bool:
    """Record that `target` answered 404 at `now`; True when it had already done so at least
    `confirm_after` earlier, and its active subscriptions are now paused (never deleted)."""
    with transaction(engine) as session:
        mine = (col(Subscription.target) == target, col(Subscription.status) == "active")
        session.execute(
            update(Subscription)
            .where(*mine, col(Subscription.gone_since).is_(None))
            .values(gone_since=now)
        )
        confirmed = session.execute(
            update(Subscription)
            .where(*mine, col(Subscription.gone_since) <= now - confirm_after)
            .values(status="paused", status_reason=clean(reason)[:MAX_REASON] or None)
        )
        return bool(confirmed.rowcount)  # type: ignore[attr-defined]


def clear_target_missing(engine: Engine, target: str) -> int:
    """Forget an earlier 404 of `target` (it answered since); how many subscriptions."""
    with transaction(engine) as session:
        done = session.execute(
            update(Subscription)
            .where(col(Subscription.target) == target, col(Subscription.gone_since).is_not(None))
            .values(gone_since=None)
        )
        return int(done.rowcount)  # type: ignore[attr-defined]


def remove_target(engine: Engine, target: str) -> int:
    """Delete every subscription of `target` (its channel or user is gone); how many."""
    with transaction(engine) as session:
        done = session.execute(delete(Subscription).where(col(Subscription.target) == target))
        return int(done.rowcount)  # type: ignore[attr-defined]


# -- server settings -----------------------------------------------------------------------


@cache
def _time_zones() -> dict[str, str]:
    """Lower-cased IANA name -> name."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def time_zone_names() -> list[str]:
    return sorted(_time_zones().values())


def validate_timezone(value: str) -> str:
    text = clean(value)
    if not text:
        raise InputError("Please give a time zone such as Europe/Paris or America/New_York.")
    found = _time_zones().get(text.lower()) if len(text) <= 64 else None
    if found is not None:
        zoneinfo.ZoneInfo(found)  # available, so it loads
        return found
    close = difflib.get_close_matches(text.lower(), list(_time_zones()), n=1, cutoff=0.6)
    hint = f"did you mean {_time_zones()[close[0]]}? " if close else ""
    raise InputError(
        f"{quoted(text)} is not a time zone; {hint}"
        "Use an IANA name such as Europe/Paris, America/New_York or UTC."
    )


def validate_post_time(value: str) -> str:
    text = clean(value)
    match = _TIME.match(text)
    if match is None:
        raise InputError(
            f"{quoted(text)} is not a time of day; use HH:MM on a 24-hour clock, "
            "for example 09:00 or 17:30."
        )
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def validate_post_style(value: str) -> str:
    text = clean(value).lower()
    if text not in POST_STYLES:
        raise InputError(f"{quoted(clean(value))} is not a post style; use thread or forum.")
    return text


def _defaults(guild_id: str, defaults: DiscordSettings) -> GuildSettings:
    return GuildSettings(
        guild_id=guild_id,
        timezone=defaults.default_timezone,
        post_time=defaults.default_post_time,
        post_style="thread",
    )


def get_guild_settings(
    engine: Engine, guild_id: str | int, defaults: DiscordSettings
) -> GuildSettings:
    """The server's settings, or the configured defaults when it never changed them."""
    with transaction(engine) as session:
        found = session.get(GuildSettings, str(guild_id))
        return found if found is not None else _defaults(str(guild_id), defaults)


def update_guild_settings(
    engine: Engine,
    guild_id: str | int,
    *,
    timezone: str | None = None,
    post_time: str | None = None,
    post_style: str | None = None,
    defaults: DiscordSettings | None = None,
) -> GuildSettings:
    """Change the given settings (None leaves one as it is); the server's settings after."""
    zone = validate_timezone(timezone) if timezone is not None else None
    at = validate_post_time(post_time) if post_time is not None else None
    style = validate_post_style(post_style) if post_style is not None else None
    with transaction(engine) as session:
        found = session.get(GuildSettings, str(guild_id))
        if found is None:
            found = _defaults(str(guild_id), defaults or DiscordSettings())
        if zone is not None:
            found.timezone = zone
        if at is not None:
            found.post_time = at
        if style is not None:
            found.post_style = style
        session.add(found)
        session.flush()
        session.refresh(found)
        return found
