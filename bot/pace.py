"""Each process of a deployment paces at its share of the bot's request budget.

`discord.max_requests_per_second` is the bot's budget under Discord's global limit of 50/s
per bot. With several processes on one PostgreSQL database, each paces at the budget divided
by the live processes (hotpapers.cluster.members), checked every `cluster.leader_poll_seconds`:
a process that starts or dies changes everyone's share within one poll, so the survivors of a
failover go back to the whole budget.
"""

from __future__ import annotations

import asyncio
import logging

from bot.pacer import RequestPacer
from hotpapers.cluster.members import Membership

log = logging.getLogger(__name__)


async def share_pace(
    pacer: RequestPacer, membership: Membership, budget: float, poll_seconds: float
) -> None:
    """Keep `pacer` at `budget` / live processes until cancelled; leave the count at the end."""
    try:
        while True:
            try:
                processes = await asyncio.to_thread(membership.count)
            except Exception as exc:  # the database away: keep the share, try next poll
                log.warning(
                    "could not count the processes sharing the bot (%s); pacing at %.1f/s",
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                    pacer.rate,
                )
            else:
                share = budget / processes
                if share != pacer.rate:
                    pacer.set_rate(share)
                    log.info(
                        "%d process(es) share the bot: pacing at %.1f requests/s each",
                        processes,
                        share,
                    )
            await asyncio.sleep(poll_seconds)
    finally:
        await asyncio.to_thread(membership.leave)
