"""Subscriptions and server settings (core use-cases), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from hotpapers.config import DiscordSettings
from hotpapers.delivery import subscriptions as subs
from hotpapers.errors import InputError

GUILD_A, GUILD_B = "100", "200"


def _channel(engine: Engine, kind: str, value: str, **extra: Any) -> Any:
    options: dict[str, Any] = {
        "target": "channel:1",
        "guild_id": GUILD_A,
        "channel_id": "1",
        "user_id": "7",
        "kind": kind,
        "value": value,
    }
    options.update(extra)
    return subs.subscribe(engine, **options)


def _dm(engine: Engine, user: str, kind: str, value: str, **extra: Any) -> Any:
    return subs.subscribe(
        engine,
        target=f"dm:{user}",
        guild_id=GUILD_A,
        channel_id=None,
        user_id=user,
        kind=kind,
        value=value,
        **extra,
    )


BAD_SUBSCRIPTIONS: list[tuple[str, str, dict[str, Any], str]] = [
    ("category", "cs.LGG", {}, "did you mean 'cs.LG'"),
    ("category", "x" * 6000, {}, "That is not an arXiv category"),
    ("category", "", {}, "Please give an arXiv category"),
    ("author", "  ", {}, "Please give an author's name"),
    ("author", "a" * 201, {}, "201 characters long; keep it to 200"),
    ("keyword", "k" * 6000, {}, "6,000 characters long; keep it to 100"),
    ("keyword", "!!! ???", {}, "has no letters or digits"),
    ("keyword", "__", {}, "has no letters or digits"),  # it could never match a word
    ("keyword", "llm", {"excludes": [f"w{n}" for n in range(11)]}, "at most 10"),
    ("category", "cs.LG", {"excludes": ["survey"]}, "only to keyword"),
    ("category", "cs.LG", {"top_n": 0}, "between 1 and 25"),
    ("category", "cs.LG", {"top_n": 26}, "between 1 and 25"),
    ("category", "cs.LG", {"min_score": -1}, "zero or more"),
    ("category", "cs.LG", {"min_score": float("nan")}, "zero or more"),
    ("planet", "mars", {}, "is not a kind of subscription"),
]


def test_bad_subscriptions_are_one_sentence(engine: Engine) -> None:
    for kind, value, extra, expected in BAD_SUBSCRIPTIONS:
        with pytest.raises(InputError) as raised:
            _channel(engine, kind, value, **extra)
        message = str(raised.value)
        assert expected in message, (kind, value, message)
        assert len(message) < 300 and "\n" not in message
    assert subs.list_subscriptions(engine, guild_id=GUILD_A) == []


def test_values_are_normalised_and_duplicates_update(engine: Engine) -> None:
    category = _channel(engine, "category", " CS.lg ")
    assert category.value == "cs.LG" and category.status == "active"
    alias = _channel(engine, "category", "math.IT", top_n=3)  # an alias of cs.IT
    assert alias.value == "cs.IT"
    author = _channel(engine, "author", "Philipp  Krähenbühl")
    assert author.value == "Philipp Krähenbühl"
    again = _channel(
        engine, "author", "philipp krahenbuhl", top_n=5, min_score=20, primary_only=True
    )
    assert again.id == author.id
    assert (again.top_n, again.min_score, again.primary_only) == (5, 20.0, True)
    keyword = _channel(engine, "keyword", "Diffusion", excludes=["survey, ", "Survey", " audio"])
    assert keyword.excludes == ["survey", "audio"]
    listed = subs.list_subscriptions(engine, guild_id=GUILD_A)
    assert [(s.kind, s.value) for s in listed] == [
        ("category", "cs.LG"),
        ("category", "cs.IT"),
        ("author", "philipp krahenbuhl"),
        ("keyword", "Diffusion"),
    ]
    assert listed[2].top_n == 5


def test_quoted_keywords_are_stored_without_their_quotes(engine: Engine) -> None:
    """Quotes mark a phrase; they are not part of it (stored with them, it never matched)."""
    phrase = _channel(engine, "keyword", '"generative  adversarial"', excludes=["“GAN”", "'toy'"])
    assert (phrase.value, phrase.excludes) == ("generative adversarial", ["GAN", "toy"])
    same = _channel(engine, "keyword", "«Generative adversarial»", top_n=3)
    assert same.id == phrase.id and same.value == "Generative adversarial"
    assert _channel(engine, "keyword", "‘Fisher's test’").value == "Fisher's test"
    with pytest.raises(InputError, match="Please give a keyword"):
        _channel(engine, "keyword", '""')


def test_limits_per_channel_and_per_dm_user(engine: Engine) -> None:
    for n in range(subs.MAX_DM_SUBSCRIPTIONS):
        _dm(engine, "7", "keyword", f"topic {n}")
    with pytest.raises(InputError, match="most subscriptions you can have by direct message"):
        _dm(engine, "7", "keyword", "one too many")
    _dm(engine, "7", "keyword", "topic 0", top_n=2)  # updating one is not a new one
    _dm(engine, "8", "keyword", "topic 0")  # another user has their own allowance
    for n in range(subs.MAX_CHANNEL_SUBSCRIPTIONS):
        _channel(engine, "keyword", f"topic {n}")
    with pytest.raises(InputError, match=r"most subscriptions a channel can have \(25\)"):
        _channel(engine, "keyword", "one too many")


def test_scoping_between_servers_and_users(engine: Engine) -> None:
    mine = _channel(engine, "category", "cs.LG")
    theirs = _channel(
        engine, "category", "cs.CV", target="channel:2", guild_id=GUILD_B, channel_id="2"
    )
    alice_dm = _dm(engine, "7", "keyword", "robots")
    bob_dm = _dm(engine, "8", "keyword", "robots")

    in_a = subs.list_subscriptions(engine, guild_id=GUILD_A, user_id="7")
    assert [s.id for s in in_a] == [mine.id, alice_dm.id]
    in_dm = subs.list_subscriptions(engine, user_id="8")
    assert [s.id for s in in_dm] == [bob_dm.id]

    def remove(sub_id: int | None, **scope: Any) -> Any:
        assert sub_id is not None
        return subs.unsubscribe(engine, subscription_id=sub_id, **scope)

    cases: list[tuple[int | None, dict[str, Any]]] = [
        (theirs.id, {"guild_id": GUILD_A, "user_id": "7", "is_dm": False}),
        (mine.id, {"guild_id": None, "user_id": "7", "is_dm": True}),
        (bob_dm.id, {"guild_id": GUILD_A, "user_id": "7", "is_dm": False}),
        (bob_dm.id, {"guild_id": None, "user_id": "7", "is_dm": True}),
        (99999, {"guild_id": GUILD_A, "user_id": "7", "is_dm": False}),
    ]
    for sub_id, scope in cases:
        with pytest.raises(InputError, match="no such subscription here"):
            remove(sub_id, **scope)
    with pytest.raises(InputError, match="Manage Channels"):
        remove(mine.id, guild_id=GUILD_A, user_id="9", is_dm=False, can_manage_channels=False)
    # A user removes their own DM subscription from a DM or from any server, without rights.
    removed = remove(
        alice_dm.id, guild_id=GUILD_B, user_id="7", is_dm=False, can_manage_channels=False
    )
    assert removed.value == "robots"
    assert remove(mine.id, guild_id=GUILD_A, user_id="9", is_dm=False).id == mine.id
    left = subs.list_subscriptions(engine, guild_id=GUILD_B, user_id="8")
    assert {s.id for s in left} == {theirs.id, bob_dm.id}


def test_pause_resume_and_remove_target(engine: Engine) -> None:
    first = _channel(engine, "category", "cs.LG")
    second = _channel(engine, "keyword", "agents")
    dm = _dm(engine, "7", "author", "Ada Lovelace")
    assert first.id is not None and second.id is not None
    assert subs.pause(engine, first.id, "the bot may not post in this channel")
    assert not subs.pause(engine, 99999, "nothing")
    paused = subs.get_subscription(engine, first.id)
    assert paused is not None and paused.status == "paused"
    assert paused.status_reason == "the bot may not post in this channel"
    assert subs.resume(engine, first.id)
    resumed = subs.get_subscription(engine, first.id)
    assert resumed is not None and (resumed.status, resumed.status_reason) == ("active", None)

    assert subs.pause_target(engine, "channel:1", "Missing Access") == 2
    assert subs.pause_target(engine, "channel:1", "again") == 0  # already paused
    again = _channel(engine, "keyword", "AGENTS")  # subscribing again resumes it
    assert again.id == second.id and again.status == "active"
    assert subs.resume_target(engine, "channel:1") == 1
    assert subs.remove_target(engine, "channel:1") == 2
    assert subs.remove_target(engine, "channel:1") == 0
    assert [s.id for s in subs.list_subscriptions(engine, guild_id=GUILD_A, user_id="7")] == [dm.id]


def test_guild_settings_defaults_and_updates(engine: Engine) -> None:
    defaults = DiscordSettings(default_post_time="08:30", default_timezone="Europe/Paris")
    fresh = subs.get_guild_settings(engine, 100, defaults)
    assert (fresh.timezone, fresh.post_time, fresh.post_style) == (
        "Europe/Paris",
        "08:30",
        "thread",
    )
    changed = subs.update_guild_settings(
        engine, 100, timezone="america/new_york", post_time="7:05", defaults=defaults
    )
    assert (changed.timezone, changed.post_time, changed.post_style) == (
        "America/New_York",
        "07:05",
        "thread",
    )
    subs.update_guild_settings(engine, "100", post_style="Forum")
    stored = subs.get_guild_settings(engine, "100", defaults)
    assert (stored.timezone, stored.post_time, stored.post_style) == (
        "America/New_York",
        "07:05",
        "forum",
    )
    assert subs.get_guild_settings(engine, "200", defaults).timezone == "Europe/Paris"


BAD_SETTINGS: list[tuple[dict[str, str], str]] = [
    ({"timezone": "Europe/Pariss"}, "did you mean Europe/Paris?"),
    ({"timezone": "Mars/Olympus"}, "Use an IANA name such as Europe/Paris"),
    ({"timezone": "../../etc/passwd"}, "is not a time zone"),
    ({"timezone": "x" * 6000}, "is not a time zone"),
    ({"post_time": "25:00"}, "use HH:MM on a 24-hour clock"),
    ({"post_time": "9am"}, "is not a time of day"),
    ({"post_style": "carrier pigeon"}, "use thread or forum"),
]


def test_bad_settings_are_one_sentence(engine: Engine) -> None:
    for options, expected in BAD_SETTINGS:
        with pytest.raises(InputError) as raised:
            subs.update_guild_settings(engine, "100", **options)  # type: ignore[arg-type]
        assert expected in str(raised.value), (options, str(raised.value))
        assert len(str(raised.value)) < 300
    assert subs.get_guild_settings(engine, "100", DiscordSettings()).timezone == "UTC"
