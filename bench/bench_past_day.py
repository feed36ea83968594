"""Requests needed to collect one past day (`collect --date D`): OAI-PMH, the export API, both.

The fake arXiv serves a past day (`generate_past_day`: the day's new papers, replacements,
cross-lists of older papers, papers of the day replaced two weeks later, a metadata-only
change, the neighbouring listings) plus the rest of the `cs` archive's papers of that day,
which an OAI `set=cs` query also returns. Each source fetches the day through the real client
(`hotpapers.arxiv.sources`, as `collect --date` does); the script prints the requests each made
and how far its listing is from the day's listing as the live feed showed it.

    .venv/bin/python bench/bench_past_day.py [--papers 500] [--rest-of-cs 700]
        [--oai-page-size 1000] [--page-size 1000] [--interval 3.0]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from hotpapers.arxiv import sources
from hotpapers.arxiv.client import ArxivClient
from hotpapers.config import ARXIV_HOLIDAYS_2026, ArxivSettings
from hotpapers.fakes.arxiv import FakeArxiv, FakePaper, generate_papers, generate_past_day
from hotpapers.storage.records import PaperRecord

DAY = date(2026, 11, 24)  # a Tuesday
CATEGORIES = ["cs.LG", "cs.CV", "cs.CL", "cs.AI"]
REST_OF_CS = ["cs.RO", "cs.CR", "cs.SE", "cs.DS", "cs.HC", "cs.IR", "cs.NI", "cs.DC"]


def announced(record: PaperRecord, kind: str) -> set[tuple[str, str, str]]:
    """The (paper, category, type) rows of one announced record, per collected category."""
    replaced = kind.startswith("replace")
    rows = set()
    for category in set(record.categories) & set(CATEGORIES):
        if category == record.primary_category:
            rows.add((record.arxiv_id, category, "replace" if replaced else "new"))
        else:
            rows.add((record.arxiv_id, category, "replace-cross" if replaced else "cross"))
    return rows


def truth(papers: list[FakePaper]) -> set[tuple[str, str, str]]:
    """The day's listing, as the live feed showed it."""
    rows: set[tuple[str, str, str]] = set()
    for paper in papers:
        if paper.listing_date == DAY:
            rows |= announced(paper.record, paper.record.announce_type or "new")
    return rows


async def fetch(source: str, client: ArxivClient, args: argparse.Namespace) -> sources.Listing:
    holidays = ARXIV_HOLIDAYS_2026
    if source == "oai only":
        return await sources.listing_from_oai(client, DAY, CATEGORIES, holidays)
    if source == "api":
        return await sources.listing_from_api(
            client, DAY, CATEGORIES, holidays, args.page_size, max_retries=1
        )
    return await sources.listing_from_archive(
        client, DAY, CATEGORIES, holidays, args.page_size, max_retries=1
    )


async def measure(source: str, papers: list[FakePaper], args: argparse.Namespace) -> list[str]:
    fake = FakeArxiv(papers, feed_date=DAY, oai_page_size=args.oai_page_size)
    await fake.start()
    settings = ArxivSettings(
        categories=CATEGORIES, rss_url=fake.rss_url, api_url=fake.api_url,
        oai_url=fake.oai_url, request_interval=args.interval,
    )  # fmt: skip
    started = time.monotonic()
    async with ArxivClient(settings) as client:
        listing = await fetch(source, client, args)
        requests = client.requests_made
    elapsed = time.monotonic() - started
    await fake.close()
    got: set[tuple[str, str, str]] = set()
    for record in listing.records:
        got |= announced(record, record.announce_type or "new")
    expected = truth(papers)
    missing, extra = expected - got, got - expected
    kinds = ("new", "cross", "replace", "replace-cross")
    by_kind = ", ".join(f"{n} {k}" for k in kinds if (n := sum(r[2] == k for r in missing)))
    gaps = [b.time - a.time for a, b in itertools.pairwise(fake.requests)]
    return [
        source,
        f"{requests} ({', '.join(r.path for r in fake.requests)})",
        str(len(expected)),
        f"{len(missing)} ({by_kind or '-'})",
        str(len(extra)),
        f"{min(gaps):.3f}" if gaps else "-",
        f"{elapsed:.1f}",
    ]


async def main(args: argparse.Namespace) -> None:
    papers = generate_past_day(DAY, CATEGORIES, args.papers, seed=5)
    rest = generate_papers(DAY, REST_OF_CS, args.rest_of_cs, seed=6)
    known = {p.record.arxiv_id for p in papers}
    papers += [p for p in rest if p.record.arxiv_id not in known]
    in_cs_set = sum(
        1
        for p in papers
        if p.datestamp == DAY and any(c.startswith("cs.") for c in p.record.categories)
    )
    listed = len({paper_id for paper_id, _, _ in truth(papers)})
    print(
        f"{DAY}: {listed} papers, {len(truth(papers))} (paper, category) listing rows "
        f"in {', '.join(CATEGORIES)}; "
        f"{in_cs_set} records datestamped {DAY} in set cs; OAI page {args.oai_page_size}, "
        f"API page {args.page_size}, interval {args.interval}s"
    )
    print("| source | requests | listing rows | missing | extra | min gap s | wall s |")
    print("|---|---|---:|---|---:|---:|---:|")
    for source in ("oai + api", "oai only", "api"):
        print("| " + " | ".join(await measure(source, papers, args)) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--papers", type=int, default=500)
    parser.add_argument("--rest-of-cs", type=int, default=700)
    parser.add_argument("--oai-page-size", type=int, default=1000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=3.0)
    asyncio.run(main(parser.parse_args()))
