"""The use-case: TL;DRs for one listing's top papers, each asked for once per version.

Called by `hotpapers tldr` and by the service after each signals run (the top papers move as
attention comes in; papers already summarised cost nothing). Whatever goes wrong (the
endpoint out of reach, rate limits, a malformed answer, the cap) the papers concerned simply
have no TL;DR: the surfaces show them without one, the log says why, and the run reports
one sentence. Nothing here raises for the endpoint's sake.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

import aiohttp
from sqlalchemy import Engine
from sqlmodel import Session

from hotpapers.config import Settings
from hotpapers.plumbing.retry import Unreachable
from hotpapers.ranking.scoring import RankedPaper
from hotpapers.storage.spend import to_usd
from hotpapers.tldr.client import DailyCap, StopAsking, TldrClient, TldrError
from hotpapers.tldr.store import missing_versions, save_tldr

log = logging.getLogger(__name__)


@dataclass(slots=True)
class TldrReport:
    listing_date: date
    status: str = "done"  # done / off / no-key
    papers: int = 0  # the top papers considered
    cached: int = 0  # already had one
    made: int = 0
    failed: int = 0
    requests: int = 0
    spent_micros: int = 0
    stopped: str = ""  # why the run stopped asking early

    def sentence(self) -> str:
        if self.status == "off":
            return "TL;DRs are off (tldr.enabled = false); nothing asked."
        if self.status == "no-key":
            return "TL;DRs are on but no key is set (HOTPAPERS_TLDR__API_KEY); nothing asked."
        failed = f", {self.failed} without one (see the log)" if self.failed else ""
        stopped = f"; stopped early: {self.stopped}" if self.stopped else ""
        return (
            f"{self.listing_date}: TL;DRs for {self.papers} top paper{_s(self.papers)}: "
            f"{self.made} made, "
            f"{self.cached} already made{failed} ({self.requests} request{_s(self.requests)}, "
            f"${to_usd(self.spent_micros):.4f}){stopped}."
        )


def _s(count: int) -> str:
    return "" if count == 1 else "s"


async def summarise_day(
    settings: Settings,
    engine: Engine,
    listing_date: date | None = None,
    *,
    now: datetime | None = None,
    session: aiohttp.ClientSession | None = None,
) -> TldrReport:
    """Make the missing TL;DRs of `listing_date`'s top `tldr.top` papers (default: newest)."""
    from hotpapers.service import use_cases as jobs

    now = now or datetime.now(UTC)
    day = jobs.resolve_listing_date(settings, listing_date, now)
    config = settings.tldr
    report = TldrReport(day)
    if not config.enabled:
        report.status = "off"
        return report
    if config.api_key is None or not config.api_key.get_secret_value():
        report.status = "no-key"  # the sentence says so (the service's job status too)
        return report
    ranked = jobs.rank(settings, engine, day, now=now, top=config.top)
    report.papers = len(ranked)
    with Session(engine) as db:
        missing = missing_versions(db, [item.paper.arxiv_id for item in ranked])
    report.cached = len(ranked) - len(missing)
    wanted = [item for item in ranked if item.paper.arxiv_id in missing]
    if wanted:
        cap = DailyCap(engine, now.date(), config)
        if session is not None:
            await _ask(TldrClient(config, session, cap), engine, wanted, missing, now, report)
        else:
            async with aiohttp.ClientSession() as own:
                await _ask(TldrClient(config, own, cap), engine, wanted, missing, now, report)
        report.requests, report.spent_micros = cap.requests, cap.spent
    log.info("tldr %s", report.sentence())
    return report


async def _ask(
    client: TldrClient,
    engine: Engine,
    wanted: list[RankedPaper],
    versions: dict[str, int],
    now: datetime,
    report: TldrReport,
) -> None:
    """Ask for each paper in rank order; stop at the first sign that asking again is futile."""
    for item in wanted:
        paper = item.paper
        try:
            answer = await client.summarise(paper.title, paper.abstract)
        except (StopAsking, Unreachable) as exc:
            report.stopped = str(exc)
            report.failed += len(wanted) - report.made - report.failed
            log.warning("tldr: stopped asking at %s: %s", paper.arxiv_id, exc)
            return
        except TldrError as exc:
            report.failed += 1
            log.warning("tldr: no TL;DR for %s: %s", paper.arxiv_id, exc)
            continue
        save_tldr(
            engine, paper.arxiv_id, versions[paper.arxiv_id], answer.text,
            model=client.config.model,
            tokens=(answer.prompt_tokens, answer.completion_tokens), now=now,
        )  # fmt: skip
        report.made += 1
