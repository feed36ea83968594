"""Posting the day's summary to X: tweepy's AsyncClient, OAuth 1.0a user context.

The texts come from `hotpapers.publish.x_text` (the day's ranking, one link to the day's
archive page). At most one summary per listing date, restart-safe, through a
`Publication(kind="x", listing_date)` row claimed before the first post; its `detail` holds
the texts and each post id as soon as X returns it (JSON), so:

* "sent": done - later calls return "already-posted" without contacting X;
* "claimed" for less than [cluster] task_lease_seconds: another run is posting right now;
* "claimed" for longer (the process died mid-post) or "failed" (X refused, e.g. 401, 429):
  a later run takes the row over and resumes after the last recorded post, with the
  recorded texts and replying to the last recorded id - the summary is never posted twice.
  A post whose answer was lost in the crash is sent again with the same text: X refuses
  duplicate content, so it cannot appear twice, and the resuming run finds it among the
  account's recent posts and carries on after it (or, not finding it, fails saying why).
  The same happens when the ledger itself was lost (a database restored from a backup):
  the first run fails on X's duplicate refusal, the next one adopts the post.

Money: every post costs `price_per_post_usd` (X bills per post created: $0.015, or $0.20
when it holds a link). Before the first post the run reserves the cost of all its posts
against the UTC day's `daily_budget_usd` in the shared spend ledger
(`Spend(service="x-post")`, hotpapers/storage/spend.py), atomically, so two runs at once cannot both
spend the same budget; nothing is posted when the reservation is refused. Each post counts
in the ledger in the transaction that records its id; a run that fails gives back what its
unmade posts reserved. A run that dies leaves its reservation in place (it cannot know
whether X made the post in flight): the run that takes its claim over on the same UTC day
carries on with that reservation rather than reserving again; on a later day the dead run's
reservation stays spent (over-counting, never under-counting). A dry run claims, records
and spends nothing and never contacts X.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from tweepy.asynchronous import AsyncClient

from hotpapers.arxiv import calendar
from hotpapers.config import Settings, XPublishSettings
from hotpapers.errors import ConfigError, PublishError
from hotpapers.publish.x_client import (
    DuplicateContent,
    create_post,
    find_own_post,
    missing_credentials,
    x_client,
)
from hotpapers.publish.x_text import SummaryItem, compose
from hotpapers.storage.db import transaction
from hotpapers.storage.models import Publication
from hotpapers.storage.spend import reserve, settle, spent, to_micros, to_usd

__all__ = ["SPEND_SERVICE", "XPostReport", "archive_url", "publish_daily"]

log = logging.getLogger(__name__)

Status = Literal[
    "posted",
    "dry-run",
    "already-posted",
    "over-budget",
    "nothing-to-post",
    "no-announcement",
    "disabled",
]
KIND = "x"
SPEND_SERVICE = "x-post"


@dataclass(slots=True)
class XPostReport:
    """What one call did. `texts`: the posts this call made (or, on a dry run, would make),
    in order; `post_ids`: the ids X gave them; `previous_ids`: posts of the same summary made
    by earlier runs (resumed, or already posted)."""

    status: Status
    listing_date: date
    texts: list[str] = field(default_factory=list)
    post_ids: list[str] = field(default_factory=list)
    previous_ids: list[str] = field(default_factory=list)
    cost_usd: float = 0.0
    note: str = ""
    resumed: bool = False  # a claimed or failed row was taken over

    def sentence(self) -> str:
        """One line for the CLI and the logs."""
        day = self.listing_date.isoformat()
        posts = f"{len(self.texts)} post{'s' if len(self.texts) != 1 else ''}"
        resumed = f", resuming after {len(self.previous_ids)} earlier" if self.previous_ids else ""
        sentences = {
            "posted": f"posted the X summary for {day}: {posts} (${self.cost_usd:.2f}){resumed}, "
            f"first id {(self.previous_ids + self.post_ids or ['-'])[0]}",
            "dry-run": f"dry run: would post the X summary for {day} as {posts} "
            f"(${self.cost_usd:.2f}){resumed}; nothing was posted or recorded",
            "already-posted": f"the X summary for {day} was already posted; not posting it again",
            "over-budget": f"not posting the X summary for {day}: {posts} (${self.cost_usd:.2f}) "
            "would exceed the daily X budget",
            "nothing-to-post": f"nothing to post on X for {day}: no ranked papers",
            "no-announcement": f"nothing to post on X for {day}: arXiv made no announcement "
            "for that date",
            "disabled": "posting to X is disabled ([publish.x] enabled = false)",
        }
        text = sentences[self.status]
        return f"{text} ({self.note})" if self.note else text


@dataclass(slots=True)
class _Ledger:
    """The day's Publication row as this module reads it."""

    row_id: int | None
    state: str
    claimed_at: datetime | None
    texts: list[str]
    post_ids: list[str]


def archive_url(settings: Settings, listing_date: date) -> str:
    """The day's page on the static site (the site builds `/<YYYY-MM-DD>/index.html`)."""
    return f"{settings.site.base_url.rstrip('/')}/{listing_date.isoformat()}/"


def _utc(moment: datetime) -> datetime:
    """An aware UTC time (a naive one, as some drivers hand back, is UTC already)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _texts(settings: Settings, engine: Engine, listing_date: date, now: datetime) -> list[str]:
    from hotpapers.service.use_cases import rank

    config = settings.publish.x
    ranked = rank(settings, engine, listing_date, now=now, top=config.top)[: config.top]
    items = [
        SummaryItem(r.rank, r.paper.arxiv_id, r.paper.title, r.score, r.paper.authors)
        for r in ranked
    ]
    try:
        return compose(
            items, listing_date, archive_url(settings, listing_date), thread=config.thread
        )
    except ValueError as exc:
        raise ConfigError(f"site.base_url is too long for an X post: {exc}") from None


def _read_ledger(engine: Engine, listing_date: date) -> _Ledger | None:
    with Session(engine) as session:
        query = select(Publication).where(
            Publication.kind == KIND, Publication.listing_date == listing_date
        )
        row = session.exec(query).first()
    if row is None:
        return None
    detail = _detail(row.detail)
    return _Ledger(row.id, row.state, row.claimed_at, detail["texts"], detail["post_ids"])


def _detail(raw: str | None) -> dict[str, Any]:
    try:
        detail = json.loads(raw or "{}")
    except ValueError:
        detail = {}
    if not isinstance(detail, dict):
        detail = {}
    texts, ids = detail.get("texts"), detail.get("post_ids")
    detail["texts"] = [str(t) for t in texts] if isinstance(texts, list) else []
    detail["post_ids"] = [str(i) for i in ids] if isinstance(ids, list) else []
    return detail


def _busy(ledger: _Ledger, now: datetime, lease_seconds: float) -> bool:
    """Another run holds a fresh claim (it is posting right now)."""
    if ledger.state != "claimed" or ledger.claimed_at is None:
        return False
    return _utc(now) - _utc(ledger.claimed_at) < timedelta(seconds=lease_seconds)


async def publish_daily(
    settings: Settings,
    engine: Engine,
    listing_date: date,
    *,
    dry_run: bool | None = None,
    now: datetime | None = None,
) -> XPostReport:
    """Post (or, on a dry run, show) the summary of `listing_date` on X, at most once.

    See the module docstring for the ledger, resuming and spending. Raises PublishError when
    X refuses a post (the row is then "failed" and a later run retries), ConfigError when
    credentials are missing.
    """
    config = settings.publish.x
    dry_run = config.dry_run if dry_run is None else dry_run
    now = now or datetime.now(UTC)
    if not config.enabled and not dry_run:
        return XPostReport("disabled", listing_date)
    if not calendar.is_listing_date(listing_date, settings.arxiv.holidays):
        return XPostReport("no-announcement", listing_date)  # never a post for an invented day
    ledger = _read_ledger(engine, listing_date)
    finished = _finished(ledger, listing_date, now, settings.cluster.task_lease_seconds)
    if finished is not None:
        return finished
    texts, report = _plan(settings, engine, listing_date, ledger, now)
    if report.status == "nothing-to-post" or dry_run:
        return report
    missing = missing_credentials(config)
    if missing:
        raise ConfigError(f"posting to X needs credentials: set {', '.join(missing)}")
    money = _Money(engine, now.astimezone(UTC).date(), to_micros(config.price_per_post_usd))
    inherited = _inherits_reservation(ledger, money.day)
    if not inherited and not money.reserve(len(report.texts), config):
        report.status = "over-budget"
        return report
    row_id = _claim(engine, listing_date, ledger, texts, now)
    if row_id is None:
        if not inherited:
            money.release(len(report.texts))
        note = "another run took it over just now"
        return XPostReport(
            "already-posted", listing_date, previous_ids=report.previous_ids, note=note
        )
    report.status = "posted"
    async with x_client(config) as client:
        await _post_all(client, money, engine, row_id, texts, report)
    log.info("x: %s", report.sentence())
    return report


def _finished(
    ledger: _Ledger | None, listing_date: date, now: datetime, lease_seconds: float
) -> XPostReport | None:
    """An "already-posted" report when the day is done or another run is posting it now."""
    if ledger is None:
        return None
    if ledger.state == "sent":
        return XPostReport("already-posted", listing_date, previous_ids=ledger.post_ids)
    if _busy(ledger, now, lease_seconds):
        note = "another run is posting it right now"
        return XPostReport("already-posted", listing_date, previous_ids=ledger.post_ids, note=note)
    return None


def _plan(
    settings: Settings, engine: Engine, listing_date: date, ledger: _Ledger | None, now: datetime
) -> tuple[list[str], XPostReport]:
    """All the day's texts, and a dry-run report of the ones still to post.

    A row taken over keeps its recorded texts (X may already show some of them); otherwise
    they are built from the ranking now."""
    if ledger is not None and ledger.texts:
        texts, previous = ledger.texts, ledger.post_ids
    else:
        texts, previous = _texts(settings, engine, listing_date, now), []
    remaining = texts[len(previous) :]
    cost = len(remaining) * settings.publish.x.price_per_post_usd
    report = XPostReport("dry-run", listing_date, remaining, [], previous, cost)
    report.resumed = ledger is not None
    if not texts:
        report.status = "nothing-to-post"
    return texts, report


@dataclass(frozen=True, slots=True)
class _Money:
    """This run's posts in the spend ledger: the UTC day and the price of one post."""

    engine: Engine
    day: date
    price: int  # micro-dollars

    def reserve(self, posts: int, config: XPublishSettings) -> bool:
        """Reserve `posts` posts against the day's budget, or say why not (False)."""
        cap = to_micros(config.daily_budget_usd)
        if reserve(self.engine, SPEND_SERVICE, self.day, posts * self.price, cap):
            return True
        with Session(self.engine) as session:
            already = spent(session, SPEND_SERVICE, self.day)[0]
        log.warning(
            "x: not posting %d posts: $%.2f spent or reserved today + $%.2f > budget $%.2f",
            posts, to_usd(already), to_usd(posts * self.price), config.daily_budget_usd,
        )  # fmt: skip
        return False

    def release(self, posts: int, session: Session | None = None) -> None:
        """Give back what `posts` unmade posts reserved (in `session`'s transaction if given)."""
        if session is not None:
            settle(session, SPEND_SERVICE, self.day, reserved=posts * self.price, used=0, units=0)
            return
        with transaction(self.engine) as own:
            self.release(posts, own)

    def count_post(self, session: Session) -> None:
        """One post made: its reserved price is now spent, and it counts as a unit."""
        settle(session, SPEND_SERVICE, self.day, reserved=self.price, used=self.price, units=1)


def _inherits_reservation(ledger: _Ledger | None, day: date) -> bool:
    """A run that died holding the claim left its unmade posts (the ones still to post now)
    reserved on the UTC day it claimed; taking its row over on that day takes that
    reservation over too, instead of counting those posts twice."""
    if ledger is None or ledger.state != "claimed" or ledger.claimed_at is None:
        return False
    return _utc(ledger.claimed_at).date() == day


def _claim(
    engine: Engine, listing_date: date, ledger: _Ledger | None, texts: list[str], now: datetime
) -> int | None:
    """The row id this run now holds, or None when another run got there first."""
    moment = _utc(now)
    if ledger is None:
        detail = json.dumps({"texts": texts, "post_ids": []}, ensure_ascii=False)
        try:
            with Session(engine) as session:
                row = Publication(
                    kind=KIND, listing_date=listing_date, state="claimed",
                    detail=detail, claimed_at=moment,
                )  # fmt: skip
                session.add(row)
                session.commit()
                return row.id
        except IntegrityError:
            return None
    # Take a failed or stale claim over, unless another run just did (compare-and-set).
    claimed_at = col(Publication.claimed_at)
    same_claim = (
        claimed_at.is_(None) if ledger.claimed_at is None else claimed_at == ledger.claimed_at
    )
    with transaction(engine) as session:
        taken = session.execute(
            update(Publication)
            .where(col(Publication.id) == ledger.row_id, col(Publication.state) == ledger.state)
            .where(same_claim)
            .values(state="claimed", claimed_at=moment)
        )
    return ledger.row_id if taken.rowcount == 1 else None  # type: ignore[attr-defined]


async def _post_all(
    client: AsyncClient,
    money: _Money,
    engine: Engine,
    row_id: int,
    texts: list[str],
    report: XPostReport,
) -> None:
    """Post the remaining texts as a chain, recording each id (and its cost) as it comes.
    On a refusal, what the unmade posts reserved goes back in the same transaction."""
    for text in report.texts:
        chain = report.previous_ids + report.post_ids
        unmade = len(report.texts) - len(report.post_ids)
        try:
            post_id = await create_post(client, text, chain[-1] if chain else None)
        except DuplicateContent as exc:
            # An earlier run may have made this post and died before recording it.
            found = await _lost_post(client, text, report, len(texts))
            if found is None:
                _record_failure(engine, row_id, texts, chain, str(exc), money, unmade)
                raise
            post_id = found
        except PublishError as exc:
            _record_failure(engine, row_id, texts, chain, str(exc), money, unmade)
            raise
        report.post_ids.append(post_id)
        ids = report.previous_ids + report.post_ids
        _record_post(engine, row_id, texts, ids, money)


async def _lost_post(client: AsyncClient, text: str, report: XPostReport, total: int) -> str | None:
    """The id of the post an interrupted run made, when this one resumes right after it."""
    first_of_resumed_run = not report.post_ids and report.resumed
    if not first_of_resumed_run:
        return None
    found = await find_own_post(client, text)
    if found is not None:
        number = len(report.previous_ids) + 1
        log.warning(
            "x: post %d of %d was made by an interrupted run (id %s); continuing after it",
            number, total, found,
        )  # fmt: skip
    return found


def _save(session: Session, row_id: int, texts: list[str], ids: list[str], **values: Any) -> None:
    detail = {"texts": texts, "post_ids": ids, **values.pop("extra", {})}
    values["detail"] = json.dumps(detail, ensure_ascii=False)
    session.execute(update(Publication).where(col(Publication.id) == row_id).values(**values))


def _record_post(
    engine: Engine, row_id: int, texts: list[str], ids: list[str], money: _Money
) -> None:
    """The new id and its cost in one transaction; the last post completes the row."""
    done = len(ids) == len(texts)
    with transaction(engine) as session:
        values: dict[str, Any] = {"external_id": ids[0]}
        if done:
            values.update(state="sent", done_at=_utc(datetime.now(UTC)))
        _save(session, row_id, texts, ids, **values)
        money.count_post(session)


def _record_failure(
    engine: Engine,
    row_id: int,
    texts: list[str],
    ids: list[str],
    reason: str,
    money: _Money,
    unmade: int,
) -> None:
    """Mark the row "failed" with the reason and the ids posted so far (a later run resumes
    after them), and give back what the `unmade` posts reserved."""
    with transaction(engine) as session:
        values: dict[str, Any] = {"state": "failed", "extra": {"error": reason}}
        if ids:
            values["external_id"] = ids[0]
        _save(session, row_id, texts, ids, **values)
        money.release(unmade, session)
