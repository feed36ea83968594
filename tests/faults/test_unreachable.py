"""A service that never answers (no network, a wrong URL) ends the run with one sentence
instead of backing off for minutes, paper after paper.

Nothing listens on the port these tests use (it is bound and never listened on), so every
connection is refused, as with a host that is down. `unreachable_after = 0` asks the clients
to give up at the first failure of a service that has not answered yet: the tests count the
requests, not the seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from hotpapers.arxiv.client import ArxivClient
from hotpapers.config import Settings
from hotpapers.errors import ArxivUnreachable
from hotpapers.service import use_cases as jobs
from hotpapers.storage.spend import spent
from tests.faults._support import base_env, hotpapers
from tests.faults.test_one_sentence import socket_closed_port
from tests.signals.test_measure import DAY, NOW, seed

CATS = ["cs.LG"]


def arxiv_at(port: int, **extra: object) -> dict[str, object]:
    url = f"http://127.0.0.1:{port}"
    return {"categories": CATS, "rss_url": f"{url}/rss", "api_url": f"{url}/api/query",
            "oai_url": f"{url}/oai", "request_interval": 1.0, "max_retries": 5} | extra  # fmt: skip


async def test_collect_gives_up_on_an_arxiv_that_never_answers(engine: Engine) -> None:
    with socket_closed_port() as port:
        settings = Settings(database={"url": str(engine.url)},
                            arxiv=arxiv_at(port, unreachable_after=0))  # fmt: skip
        async with ArxivClient(settings.arxiv) as client:
            with pytest.raises(ArxivUnreachable, match="cannot reach arXiv") as raised:
                await jobs.collect(settings, engine, DAY, client=client)
    assert client.requests_made == 1  # not max_retries + 1 = 6, backing off in between
    assert "connection failure" in str(raised.value) and "check the network" in str(raised.value)


async def test_arxiv_that_answered_once_is_retried_as_usual(engine: Engine) -> None:
    """Reachability is about never answering: once arXiv answered, failures are retried by
    the normal policy (here: a 503 every time, so all max_retries + 1 attempts are made)."""
    from hotpapers.fakes.arxiv import FakeArxiv

    async with FakeArxiv([], feed_date=DAY) as arxiv:
        arxiv.fail_next(503, times=10)
        settings = Settings(arxiv={"categories": CATS, "rss_url": arxiv.rss_url,
                                   "api_url": arxiv.api_url, "oai_url": arxiv.oai_url,
                                   "request_interval": 0.01, "max_retries": 2,
                                   "unreachable_after": 0})  # fmt: skip
        async with ArxivClient(settings.arxiv) as client:
            with pytest.raises(Exception, match="did not answer after 3 attempts"):
                await jobs.collect(settings, engine, DAY, client=client)
        assert client.requests_made == 3


async def test_signals_stop_a_source_that_never_answers(engine: Engine) -> None:
    seed(engine, count=40)
    with socket_closed_port() as port:
        settings = Settings(
            database={"url": str(engine.url)},
            signals={"unreachable_after": 0,
                     "hn": {"enabled": True, "api_url": f"http://127.0.0.1:{port}/api/v1"},
                     "hf": {"enabled": True, "api_url": f"http://127.0.0.1:{port}/api"}},
        )  # fmt: skip
        reports = await jobs.measure_signals(settings, engine, now=NOW)
    by_source = {report.source: report for report in reports}
    for source, name in (("hn", "Hacker News"), ("hf", "Hugging Face")):
        report = by_source[source]
        assert report.stopped and f"cannot reach {name}" in report.stopped, report.sentence()
        assert report.errors == []  # one sentence, not one error per paper


async def test_cli_collect_without_network_is_one_sentence(tmp_path: Path) -> None:
    with socket_closed_port() as port:
        url = f"http://127.0.0.1:{port}"
        env = base_env(f"sqlite:///{tmp_path / 'hp.db'}",
                       HOTPAPERS_ARXIV__RSS_URL=f"{url}/rss",
                       HOTPAPERS_ARXIV__API_URL=f"{url}/api/query",
                       HOTPAPERS_ARXIV__OAI_URL=f"{url}/oai",
                       HOTPAPERS_ARXIV__UNREACHABLE_AFTER="0")  # fmt: skip
        outcome = await hotpapers(["collect"], env, tmp_path)
    errors = [line for line in outcome.stderr.splitlines() if line.startswith("error:")]
    assert outcome.returncode == 1, outcome.stderr
    assert len(errors) == 1 and "cannot reach arXiv" in errors[0], outcome.stderr
    assert "Traceback" not in outcome.stderr


async def test_x_out_of_reach_stops_and_spends_nothing(engine: Engine) -> None:
    """A search whose connection was never made cannot have been billed: its reservation is
    given back, and the source stops with one sentence instead of an error per query."""
    seed(engine, count=10)
    with socket_closed_port() as port:
        url = f"http://127.0.0.1:{port}"
        settings = Settings(
            database={"url": str(engine.url)},
            signals={"x": {"enabled": True, "api_url": url, "oembed_url": f"{url}/oembed",
                           "bearer_token": "bearer-123"}},
        )  # fmt: skip
        (report,) = await jobs.measure_signals(settings, engine, now=NOW)
    assert report.stopped and "cannot reach X" in report.stopped, report.sentence()
    assert report.spent_usd == 0
    with Session(engine) as session:
        assert spent(session, "x", NOW.date()) == (0, 0)
