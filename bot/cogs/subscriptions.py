"""/subscribe, /unsubscribe, /subscriptions and /settings over hotpapers.delivery.subscriptions.
Every reply is ephemeral; user text is escaped before it is shown."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands
from sqlmodel import Session

from bot.cogs._input import clean
from bot.cogs.papers import category_choices
from bot.render import CHOICES_LIMIT, build_embed, choice_name, clip_content, join_lines, safe
from hotpapers.arxiv.taxonomy import category_name
from hotpapers.delivery import subscriptions as core
from hotpapers.errors import InputError
from hotpapers.storage import queries
from hotpapers.storage.models import GuildSettings, Subscription

if TYPE_CHECKING:
    from bot.client import HotpapersBot

T = TypeVar("T")

COOLDOWN_RATE = 5  # commands per user ...
COOLDOWN_PER = 60.0  # ... per this many seconds (each command counted on its own)
BUTTONS_LIMIT = 25
NEED_MANAGE_CHANNELS = (
    "Subscribing this channel needs the Manage Channels permission; ask a moderator, "
    "or choose where: me (DM) to get the papers by direct message."
)
NEED_MANAGE_SERVER = "Changing this server's settings needs the Manage Server permission."
SERVER_ONLY = "/settings works inside a server; in direct messages there is nothing to set."
NOT_YOURS = "Only the person who ran /subscriptions can use its buttons; run it yourself."
NOTHING_HERE = "No subscriptions here yet; add one with /subscribe."
IN_THREAD = " (the channel of this thread: each day's digest opens a thread of its own there)"


def can_manage_channels(interaction: discord.Interaction) -> bool:
    perms = interaction.permissions
    return interaction.guild_id is not None and (perms.administrator or perms.manage_channels)


def can_manage_server(interaction: discord.Interaction) -> bool:
    perms = interaction.permissions
    return interaction.guild_id is not None and (perms.administrator or perms.manage_guild)


def subscribed_channel(interaction: discord.Interaction) -> tuple[int | None, bool]:
    """The channel /subscribe subscribes, and whether it was used in a thread: a thread or
    forum post cannot hold daily digests (each is a thread itself), so its parent does."""
    channel = interaction.channel
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return channel.parent_id, True
    return interaction.channel_id, False


def subscription_text(sub: Subscription) -> str:
    """What a subscription asks for, escaped: `cs.LG` Machine Learning / author ... / keyword."""
    if sub.kind == "category":
        what = f"`{sub.value}` {safe(category_name(sub.value))}"
    elif sub.kind == "author":
        what = f"author {safe(sub.value)}"
    else:
        what = f"keyword “{safe(sub.value)}”"
        if sub.excludes:
            what += f" without {', '.join(safe(word) for word in sub.excludes)}"
    return what


def subscription_line(sub: Subscription) -> str:
    where = "you by DM" if core.is_dm_target(sub.target) else f"<#{sub.channel_id}>"
    options = f"top {sub.top_n}"
    if sub.min_score:
        options += f", score ≥ {sub.min_score:g}"
    if sub.primary_only:
        options += ", primary category only"
    line = f"`#{sub.id}` {subscription_text(sub)} → {where} · {options}"
    if sub.status == "paused":
        line += f" · paused: {safe(sub.status_reason or 'no reason given')}"
        line += " (subscribe to it again to resume)"
    return line


def list_embed(subs: Sequence[Subscription], in_dm: bool) -> discord.Embed:
    title = "Your direct-message subscriptions" if in_dm else "Subscriptions in this server"
    more = f"… and more; remove some with /unsubscribe to see the rest ({len(subs)} in all)"
    return build_embed(
        title=title,
        description=join_lines((subscription_line(sub) for sub in subs), 4000, more=more),
        footer="Only you can see this message.",
    )


def settings_sentence(settings: GuildSettings) -> str:
    style = "a forum post" if settings.post_style == "forum" else "a thread"
    return (
        f"This server's digests are posted at {settings.post_time} ({settings.timezone}), "
        f"each as {style} in the subscribed channel."
    )


class RemoveButton(discord.ui.Button["SubscriptionsView"]):
    def __init__(self, subscription_id: int) -> None:
        super().__init__(
            label=f"Remove #{subscription_id}",
            style=discord.ButtonStyle.danger,
            custom_id=f"hp:unsub:{subscription_id}",
        )
        self.subscription_id = subscription_id

    async def callback(self, interaction: discord.Interaction) -> None:
        assert self.view is not None
        await self.view.remove(interaction, self.subscription_id)


class SubscriptionsView(discord.ui.View):
    """A Remove button per subscription the invoker may remove; only they may press them."""

    def __init__(
        self,
        cog: SubscriptionsCog,
        subs: Sequence[Subscription],
        owner_id: int,
        *,
        may_manage: bool,
        origin: discord.Interaction | None = None,
        timeout: float = 600,
    ) -> None:
        super().__init__(timeout=timeout)
        self.cog = cog
        self.owner_id = owner_id
        self.may_manage = may_manage
        self.origin = origin
        removable = [s for s in subs if may_manage or core.is_dm_target(s.target)]
        for sub in removable[:BUTTONS_LIMIT]:
            if sub.id is not None:
                self.add_item(RemoveButton(sub.id))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        if self.origin is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.origin.edit_original_response(view=self)

    async def remove(self, interaction: discord.Interaction, subscription_id: int) -> None:
        try:
            removed = await self.cog.call(
                core.unsubscribe,
                subscription_id=subscription_id,
                guild_id=interaction.guild_id,
                user_id=interaction.user.id,
                is_dm=interaction.guild_id is None,
                can_manage_channels=can_manage_channels(interaction),
            )
        except InputError as exc:
            await interaction.response.send_message(clip_content(safe(str(exc))), ephemeral=True)
            return
        subs = await self.cog.scope_subscriptions(interaction)
        self.stop()
        note = f"Removed #{removed.id}: {subscription_text(removed)}."
        if not subs:
            await interaction.response.edit_message(
                content=clip_content(f"{note} {NOTHING_HERE}"), embed=None, view=None
            )
            return
        view = SubscriptionsView(
            self.cog,
            subs,
            self.owner_id,
            may_manage=self.may_manage,
            origin=self.origin,
            timeout=self.timeout or 600,
        )
        await interaction.response.edit_message(
            content=clip_content(note),
            embed=list_embed(subs, interaction.guild_id is None),
            view=view,
        )


class SubscriptionsCog(commands.Cog):
    def __init__(self, bot: HotpapersBot) -> None:
        self.bot = bot
        self.cooldown_rate = COOLDOWN_RATE
        self.cooldown_per = COOLDOWN_PER
        self._buckets: dict[tuple[str, int], app_commands.Cooldown] = {}

    # -- plumbing --------------------------------------------------------------------------

    async def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a core use-case (it takes the engine first) off the event loop."""
        return await asyncio.to_thread(
            functools.partial(function, self.bot.engine, *args, **kwargs)
        )

    async def too_fast(self, interaction: discord.Interaction) -> bool:
        """Count this use against the user's per-command allowance; True (and answered) when
        they are over it."""
        name = interaction.command.name if interaction.command else "?"
        key = (name, interaction.user.id)
        if len(self._buckets) > 5000:  # forget users whose allowance is full again
            self._buckets = {k: b for k, b in self._buckets.items() if b.get_tokens() < b.rate}
        bucket = self._buckets.get(key)
        if bucket is None or (bucket.rate, bucket.per) != (self.cooldown_rate, self.cooldown_per):
            bucket = self._buckets[key] = app_commands.Cooldown(
                self.cooldown_rate, self.cooldown_per
            )
        retry_after = bucket.update_rate_limit()
        if retry_after is None:
            return False
        await self.reply(
            interaction,
            f"Slow down a little: you can use /{name} {self.cooldown_rate} times a minute. "
            f"Try again in {max(1, round(retry_after))} seconds.",
        )
        return True

    async def reply(
        self,
        interaction: discord.Interaction,
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        view: discord.ui.View | None = None,
    ) -> None:
        """An ephemeral answer (mentions are never parsed: the client allows none)."""
        text = clip_content(content) if content else None
        kwargs: dict[str, Any] = {"content": text, "ephemeral": True}
        if embed is not None:
            kwargs["embed"] = embed
        if view is not None:
            kwargs["view"] = view
        await interaction.response.send_message(**kwargs)

    async def refuse(self, interaction: discord.Interaction, error: InputError | str) -> None:
        await self.reply(interaction, safe(str(error)))

    async def scope_subscriptions(self, interaction: discord.Interaction) -> list[Subscription]:
        """This server's channel subscriptions and the user's own DM ones (in a DM: those)."""
        return await self.call(
            core.list_subscriptions, guild_id=interaction.guild_id, user_id=interaction.user.id
        )

    # -- /subscribe ------------------------------------------------------------------------

    @app_commands.command(
        name="subscribe",
        description="Get the hottest new papers of a category, author or keyword every day.",
    )
    @app_commands.describe(
        kind="What to follow",
        value="A category (cs.LG), an author's name or a keyword; pick a suggestion",
        exclude="Keyword only: skip papers with any of these words (comma-separated)",
        where="Post in this channel (needs Manage Channels) or send to you by DM",
        min_score="Only papers with at least this score (default 0)",
        top="At most this many papers a day (1-25, default 10)",
        primary_only="Only papers whose primary category it is (not cross-lists)",
    )
    @app_commands.choices(
        kind=[
            app_commands.Choice(name="category", value="category"),
            app_commands.Choice(name="author", value="author"),
            app_commands.Choice(name="keyword", value="keyword"),
        ],
        where=[
            app_commands.Choice(name="this channel", value="channel"),
            app_commands.Choice(name="me (DM)", value="dm"),
        ],
    )
    async def subscribe(
        self,
        interaction: discord.Interaction,
        kind: str,
        value: str,
        exclude: str | None = None,
        where: str | None = None,
        min_score: app_commands.Range[float, 0, 1_000_000] = 0.0,
        top: app_commands.Range[int, 1, core.MAX_TOP] = 10,
        primary_only: bool = False,
    ) -> None:
        if await self.too_fast(interaction):
            return
        channel_id, in_thread = subscribed_channel(interaction)
        in_guild = interaction.guild_id is not None and channel_id is not None
        to_dm = not in_guild or (where or "channel") == "dm"
        if not to_dm and not can_manage_channels(interaction):
            await self.refuse(interaction, NEED_MANAGE_CHANNELS)
            return
        user_id = interaction.user.id
        target = core.dm_target(user_id) if to_dm else core.channel_target(channel_id or 0)
        try:
            sub = await self.call(
                core.subscribe,
                target=target,
                guild_id=interaction.guild_id,
                channel_id=None if to_dm else channel_id,
                user_id=user_id,
                kind=kind,
                value=value,
                excludes=[exclude] if exclude else [],
                min_score=float(min_score),
                top_n=int(top),
                primary_only=bool(primary_only),
                arxiv=self.bot.settings.arxiv,
            )
        except InputError as exc:
            await self.refuse(interaction, exc)
            return
        where_text = "you by direct message" if to_dm else f"<#{channel_id}>"
        if in_thread and not to_dm:
            where_text += IN_THREAD
        await self.reply(
            interaction,
            f"Subscribed {where_text} to {subscription_text(sub)} (#{sub.id}): up to "
            f"{sub.top_n} hot new papers a day. See them all with /subscriptions; "
            f"stop with /unsubscribe {sub.id}.",
        )

    @subscribe.autocomplete("value")
    async def _subscribe_value(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        kind = getattr(interaction.namespace, "kind", None)
        if kind == "category":
            return category_choices(current)
        if kind == "author":
            typed = clean(current)[:100]
            names = await asyncio.to_thread(self._author_names, typed)
            return [
                app_commands.Choice(name=choice_name(name), value=name[:100])
                for name in names
                if name.strip()
            ]
        return []

    def _author_names(self, typed: str) -> list[str]:
        with Session(self.bot.engine) as session:
            return queries.author_names(session, typed, CHOICES_LIMIT)

    # -- /unsubscribe ----------------------------------------------------------------------

    @app_commands.command(name="unsubscribe", description="Stop one subscription.")
    @app_commands.describe(id="The subscription's number (see /subscriptions)")
    async def unsubscribe(self, interaction: discord.Interaction, id: str) -> None:
        if await self.too_fast(interaction):
            return
        number = clean(id).lstrip("#")
        if not number.isdigit() or len(number) > 18:
            await self.refuse(
                interaction,
                f"{core.quoted(clean(id))} is not a subscription number; "
                "pick one of the suggestions or see /subscriptions.",
            )
            return
        try:
            removed = await self.call(
                core.unsubscribe,
                subscription_id=int(number),
                guild_id=interaction.guild_id,
                user_id=interaction.user.id,
                is_dm=interaction.guild_id is None,
                can_manage_channels=can_manage_channels(interaction),
            )
        except InputError as exc:
            await self.refuse(interaction, exc)
            return
        await self.reply(interaction, f"Removed #{removed.id}: {subscription_text(removed)}.")

    @unsubscribe.autocomplete("id")
    async def _unsubscribe_id(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        typed = clean(current).lstrip("#").casefold()
        subs = await self.scope_subscriptions(interaction)
        choices = []
        for sub in subs:
            where = "DM" if core.is_dm_target(sub.target) else f"channel {sub.channel_id}"
            label = f"#{sub.id} · {core.describe(sub)} → {where}"
            if typed and typed not in label.casefold():
                continue
            choices.append(app_commands.Choice(name=choice_name(label), value=str(sub.id)))
        return choices[:CHOICES_LIMIT]

    # -- /subscriptions --------------------------------------------------------------------

    @app_commands.command(
        name="subscriptions",
        description="This server's subscriptions and yours by DM, with Remove buttons.",
    )
    async def subscriptions(self, interaction: discord.Interaction) -> None:
        if await self.too_fast(interaction):
            return
        subs = await self.scope_subscriptions(interaction)
        if not subs:
            await self.reply(interaction, NOTHING_HERE)
            return
        view = SubscriptionsView(
            self,
            subs,
            interaction.user.id,
            may_manage=can_manage_channels(interaction),
            origin=interaction,
            timeout=self.bot.paginator_timeout,
        )
        embed = list_embed(subs, interaction.guild_id is None)
        await self.reply(interaction, embed=embed, view=view)

    # -- /settings -------------------------------------------------------------------------

    @app_commands.command(
        name="settings", description="When and how this server's daily digests are posted."
    )
    @app_commands.describe(
        timezone="An IANA time zone such as Europe/Paris; pick a suggestion",
        post_time="The time of day to post, HH:MM on a 24-hour clock",
        style="Post each digest as a thread or as a forum post",
    )
    @app_commands.choices(
        style=[
            app_commands.Choice(name="thread", value="thread"),
            app_commands.Choice(name="forum", value="forum"),
        ]
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def settings(
        self,
        interaction: discord.Interaction,
        timezone: str | None = None,
        post_time: str | None = None,
        style: str | None = None,
    ) -> None:
        if await self.too_fast(interaction):
            return
        guild_id = interaction.guild_id
        if guild_id is None:
            await self.refuse(interaction, SERVER_ONLY)
            return
        if not can_manage_server(interaction):
            await self.refuse(interaction, NEED_MANAGE_SERVER)
            return
        defaults = self.bot.settings.discord
        if timezone is None and post_time is None and style is None:
            current = await self.call(core.get_guild_settings, guild_id, defaults)
            await self.reply(interaction, settings_sentence(current))
            return
        try:
            changed = await self.call(
                core.update_guild_settings,
                guild_id,
                timezone=timezone,
                post_time=post_time,
                post_style=style,
                defaults=defaults,
            )
        except InputError as exc:
            await self.refuse(interaction, exc)
            return
        await self.reply(interaction, "Saved. " + settings_sentence(changed))

    @settings.autocomplete("timezone")
    async def _settings_timezone(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return timezone_choices(current)


def timezone_choices(typed: str) -> list[app_commands.Choice[str]]:
    """Up to 25 IANA time zones matching what is typed; prefix matches first."""
    key = clean(typed).casefold().replace(" ", "_")
    ranked: list[tuple[int, str]] = []
    for name in core.time_zone_names():
        folded = name.casefold()
        if not key or folded.startswith(key):
            ranked.append((0, name))
        elif any(part.startswith(key) for part in folded.split("/")):
            ranked.append((1, name))
        elif key in folded:
            ranked.append((2, name))
    ranked.sort()
    return [app_commands.Choice(name=name, value=name) for _, name in ranked[:CHOICES_LIMIT]]


async def setup(bot: HotpapersBot) -> None:
    await bot.add_cog(SubscriptionsCog(bot))
