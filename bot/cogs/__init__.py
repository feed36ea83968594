"""Slash-command cogs: thin layers that parse arguments, call the core and render a view.

The shape every cog follows (discord.py's advanced_startup pattern):

    from typing import TYPE_CHECKING
    if TYPE_CHECKING:                 # types only: a cog never imports the bot at run time
        from bot.client import HotpapersBot

    class TrendingCog(commands.Cog):
        def __init__(self, bot: HotpapersBot) -> None:
            self.bot = bot            # bot.settings, bot.engine, bot.http_session, bot.clock

    async def setup(bot: HotpapersBot) -> None:     # for bot.load_extension("bot.cogs.x")
        await bot.add_cog(TrendingCog(bot))

The bot is given its dependencies (settings, engine, HTTP session, clock) in its own
constructor by whoever runs it (bot/runner.py, bot/component.py, tests); a cog reads them from
the bot it is handed. A cog may import the core (`hotpapers.*`, never its SQL directly),
`bot.render`, `bot.views` and `bot.cogs._input`; never `bot.client`, `bot.runner` or another
module that makes the bot (tests/test_import_cycles.py finds any circle that would close).
The bot adds a cog in `HotpapersBot.setup_hook`: a new cog is one line there.
"""
