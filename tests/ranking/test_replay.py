"""Replays of published "Hot Papers" days, and of synthetic days for each classic rule.

Each case derives the fake world that would have produced a post (tests/ranking/replay_world.py),
runs `collect --date`, `signals` and `digest` at the moment the post was written against the
fake arXiv, the fake X API and its oEmbed endpoint, and compares the post the project writes
with the published one, field by field and then as a whole: everything but the time inside
each counts line. Published posts come from ../shared/reference (skipped where it is absent;
HOTPAPERS_SHARED_DIR names another place); the synthetic days are always run.

The original generator's quirks are normalised by name (tests/ranking/replay_post.py), and each
post declares exactly which normalisations it needs: one that changes nothing, or one that
changes an undeclared post, fails the case.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import SQLModel

from hotpapers.arxiv import calendar
from hotpapers.fakes.arxiv import FakeArxiv
from hotpapers.fakes.x import TWITTER_EPOCH_MS, FakeX
from hotpapers.service import use_cases as jobs
from hotpapers.storage.db import make_engine
from tests.ranking.replay_post import (
    NORMALISATIONS,
    SCRIPT,
    FixtureError,
    Post,
    mask_counts_time,
    normalise,
    parse_post,
)
from tests.ranking.replay_world import TOKEN, HiddenPaper, replay, replay_settings, world_of


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def replay_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One schema per database for the whole module (creating one per case was most of the
    replay's time on PostgreSQL); `engine` empties it before each case."""
    import hotpapers.storage.models  # noqa: F401  (registers the tables)

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('replay') / 'hotpapers.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(replay_database: Engine) -> Engine:
    """The module's database, every table empty."""
    with replay_database.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())
    return replay_database


ABS_LINK = re.compile(r"^- links: \[abs\]\(https://arxiv\.org/abs/(\S+?)\) \|", re.MULTILINE)
SHARED = Path(os.environ.get("HOTPAPERS_SHARED_DIR") or Path(__file__).parents[3] / "shared")
REFERENCE = SHARED / "reference"

# The normalisations each published post needs (tests/ranking/replay_post.py says why each exists).
# japan_clock: every published post; listing_whitespace: where a title or abstract had a
# double space; the others are one day's quirk.
PUBLISHED: dict[str, tuple[str, ...]] = {
    "historic/2020-06-29---Hot-Papers.md": (
        "japan_clock", "blank_after_front_matter", "listing_whitespace",
    ),
    "historic/2020-07-15---Hot-Papers.md": ("japan_clock", "listing_whitespace"),
    "historic/2020-08-12---Hot-Papers.md": ("japan_clock", "listing_whitespace"),
    "historic/2020-09-17---Hot-Papers.md": ("japan_clock", "repeated_embed", "listing_whitespace"),
    "historic/2020-10-06---Hot-Papers.md": ("japan_clock", "listing_whitespace"),
    "historic/2020-11-17---Hot-Papers.md": ("japan_clock", "listing_whitespace"),
    "historic/2020-12-07---Hot-Papers.md": ("japan_clock",),  # front matter only
    "historic/2020-12-22---Hot-Papers.md": ("japan_clock", "listing_whitespace"),
    "historic/2021-01-26---Hot-Papers.md": ("japan_clock", "listing_whitespace"),
    "historic/2021-02-10---Hot-Papers.md": ("japan_clock", "listing_whitespace"),
    # Every abstract empty (that day's listing gave none): the world serves them empty and
    # the project prints the empty line, as the original did. Its names cut at a trailing
    # comma (", Jr." and the like) are served as printed: the full names are not in the
    # post, so the replay cannot show the cut; the project prints names as arXiv gives them.
    "historic/2021-04-20---Hot-Papers.md": ("japan_clock", "listing_whitespace"),
    "historic/2021-05-13---Hot-Papers.md": ("japan_clock", "listing_whitespace"),
    "historic/2021-06-24---Hot-Papers.md": ("japan_clock", "listing_whitespace"),
    "historic/2021-07-06---Hot-Papers.md": ("japan_clock", "listing_whitespace"),
    "historic/2021-08-20---Hot-Papers.md": ("japan_clock", "listing_whitespace"),
    "historic/2021-08-26---Hot-Papers.md": ("japan_clock",),
    "2021-03-15---Hot-Papers.md": ("japan_clock", "listing_whitespace"),
}  # fmt: skip


def expected_post(name: str, text: str, declared: tuple[str, ...]) -> tuple[str, Post]:
    """The published text with its declared normalisations, and its parsed fields."""
    normalised, changed = normalise(text, declared)
    unused = set(declared) - changed
    assert not unused, f"{name}: declared normalisations that change nothing: {sorted(unused)}"
    return normalised, parse_post(name, normalised)


def assert_same_post(name: str, expected_text: str, expected: Post, written: str) -> None:
    """Field by field (naming the published post's line), then the whole text; the time in
    each counts line is the one thing not compared."""
    printed = [e.arxiv_id for e in expected.entries]
    assert ABS_LINK.findall(written) == printed, f"{name}: papers or order differ"
    got = parse_post(f"{name} (as replayed)", written)
    assert got.front_matter == expected.front_matter, f"{name}: front matter differs"
    for want, have in zip(expected.entries, got.entries, strict=True):
        for field in ("rank", "title", "authors", "retweets", "favorites", "categories",
                      "abstract"):  # fmt: skip
            assert getattr(have, field) == getattr(want, field), (
                f"{name}:{want.line}: {want.arxiv_id} {field} differs"
            )
        assert [e.html for e in have.embeds] == [e.html for e in want.embeds], (
            f"{name}:{want.line}: {want.arxiv_id} embeds differ"
        )
    assert mask_counts_time(written) == mask_counts_time(expected_text)


async def run_case(
    name: str,
    text: str,
    declared: tuple[str, ...],
    engine: Engine,
    out: Path,
    hidden: tuple[HiddenPaper, ...] = (),
    account_posts_twice: bool = True,
) -> None:
    expected_text, expected = expected_post(name, text, declared)
    world = world_of(expected, hidden, account_posts_twice=account_posts_twice)
    if world.needs:
        pytest.xfail(world.needs)
    written = await replay(world, engine, out)
    assert_same_post(name, expected_text, expected, written)


# --- the published days ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PUBLISHED))
async def test_published_day_replays(name: str, engine: Engine, tmp_path: Path) -> None:
    path = REFERENCE / name
    if not path.is_file():
        pytest.skip(f"published post not found at {path} (../shared is not here)")
    text = path.read_text(encoding="utf-8")
    await run_case(name, text, PUBLISHED[name], engine, tmp_path)


def test_every_published_post_has_a_case() -> None:
    """A post added to ../shared/reference/historic is replayed too (or this fails)."""
    if not (REFERENCE / "historic").is_dir():
        pytest.skip(f"{REFERENCE / 'historic'} not found (../shared is not here)")
    found = {f"historic/{p.name}" for p in (REFERENCE / "historic").glob("*---Hot-Papers.md")}
    assert found | {"2021-03-15---Hot-Papers.md"} == set(PUBLISHED)


# --- synthetic days: one per classic rule, always run ----------------------------------------

DAY = date(2025, 3, 11)  # a Tuesday listing
ANNOUNCED = calendar.announced_at(DAY)
WRITTEN = ANNOUNCED + timedelta(hours=24, minutes=9, seconds=31)  # the next day: a past listing
SAME_DAY = ANNOUNCED + timedelta(hours=12)  # before the next announcement: today's feed


def front(written: datetime) -> str:
    return (
        "---\n"
        f"title: Hot Papers {DAY}\n"
        f"date: {written:%Y-%m-%dT%H:%M:%S}.000Z\n"
        'template: "post"\n'
        "draft: false\n"
        f'slug: "hot-papers-{DAY}"\n'
        'category: "arXiv"\n'
        "tags:\n"
        '  - "arXiv"\n'
        '  - "Twitter"\n'
        '  - "Machine Learning"\n'
        '  - "Computer Science"\n'
        f'description: "Hot papers {DAY}"\n'
        'socialImage: "/media/flying-marine.jpg"\n'
        "\n"
        "---\n"
    )


FRONT = front(WRITTEN)
STATUS_BASE = int(datetime(2025, 3, 11, 6, tzinfo=UTC).timestamp() * 1000) - TWITTER_EPOCH_MS


def embed(handle: str, n: int) -> str:
    status = (STATUS_BASE + n * 60_000) << 22
    return (
        f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Post {n} by {handle}</p>'
        f"&mdash; {handle} (@{handle}) "
        f'<a href="https://twitter.com/{handle}/status/{status}?ref_src=twsrc%5Etfw">'
        "March 11, 2025</a></blockquote>"
    )


def paper(
    rank: int,
    arxiv_id: str,
    retweets: int,
    likes: int,
    embeds: tuple[str, ...] = (),
    categories: tuple[str, ...] = ("cs.LG",),
) -> str:
    """One paper in the classic layout, written out by hand (not by the project)."""
    links = " | ".join(f"[{c}](https://arxiv.org/list/{c}/recent)" for c in categories)
    text = (
        f"\n# {rank}. A Study Numbered {arxiv_id}\n\nAda Lovelace, Alan Turing\n\n"
        f"- retweets: {retweets}, favorites: {likes} (03/12/2025 00:09:31)\n\n"
        f"- links: [abs](https://arxiv.org/abs/{arxiv_id}) | "
        f"[pdf](https://arxiv.org/pdf/{arxiv_id})\n- {links}\n\n"
        f"We study {arxiv_id} & <things> with $x^2$.\n"
    )
    for html in embeds:
        text += f"\n{html}\n{SCRIPT}\n"
    return text + "\n\n\n"


@dataclass(frozen=True)
class Day:
    text: str
    hidden: tuple[HiddenPaper, ...] = ()
    account_posts_twice: bool = True  # off where it would hide the rule the day shows
    needs: str | None = None  # a strict xfail: the other work this day waits for


PDF_DAY = (
    HiddenPaper("2503.00302", 900, 900, has_pdf=False),
    HiddenPaper("2503.00303", 30, 19),
)
SYNTHETIC: dict[str, Day] = {
    # Embeds need 25 of their own, the first too: paper 2's three posts of 20 carry it over
    # the threshold without any embed; paper 1 shows only its post that reaches 25.
    "embeds-first-too": Day(
        FRONT
        + paper(1, "2503.00101", 40, 30, (embed("alice", 1),))
        + paper(2, "2503.00102", 30, 30),
        account_posts_twice=False,
    ),
    # Equal scores: the paper later in the listing (the lower id) first, though it has fewer
    # likes; the old order put the one with more likes first.
    "ties-later-in-listing": Day(
        FRONT
        + paper(1, "2503.00201", 60, 10, (embed("bob", 2),))
        + paper(2, "2503.00202", 10, 60, (embed("carol", 3),))
        + paper(3, "2503.00203", 30, 30, (embed("dave", 4),)),
    ),
    # A paper without a PDF is not printed, however loud; a quiet one (49) is not either.
    # Written the same day: the listing comes from the feed, completed by the API, which
    # gives the PDF link.
    "pdf-required": Day(
        front(SAME_DAY) + paper(1, "2503.00301", 70, 20, (embed("erin", 5),)),
        PDF_DAY,
    ),
    # The same day collected later: a past day comes from OAI-PMH, whose arXivRaw records
    # carry no PDF link; the API's entries of the day's new papers say which have none.
    "pdf-required-past-day": Day(
        FRONT + paper(1, "2503.00301", 70, 20, (embed("erin", 5),)),
        PDF_DAY,
    ),
    # No top-N cut: all 22 papers over the threshold are printed.
    "no-cap": Day(
        FRONT
        + "".join(
            paper(n, f"2503.{400 + n:05d}", 100 - n, 30, (embed(f"fan{n}", 10 + n),))
            for n in range(1, 23)
        ),
    ),
    # Two posts by one account both count (26 + 25 + its small post: over 50 only together);
    # retweet copies add nothing (a 40 post with nine copies stays below 50).
    "one-account-twice": Day(
        FRONT + paper(1, "2503.00501", 28, 25, (embed("frank", 40), embed("frank", 41))),
        (HiddenPaper("2503.00502", 20, 20, retweet_copies=9),),
    ),
    # Nothing over the threshold: the front matter alone, as on 2020-12-07.
    "empty-day": Day(FRONT, (HiddenPaper("2503.00601", 30, 19),)),
}


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
async def test_synthetic_day_replays(
    name: str, engine: Engine, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    day = SYNTHETIC[name]
    if day.needs:
        request.applymarker(pytest.mark.xfail(strict=True, reason=day.needs))
    await run_case(
        f"synthetic/{name}", day.text, (), engine, tmp_path, day.hidden, day.account_posts_twice
    )


async def test_post_cap_is_configurable(engine: Engine, tmp_path: Path) -> None:
    """digest.top caps the post (off in the classic profile): the first three of no-cap."""
    world = world_of(parse_post("no-cap", SYNTHETIC["no-cap"].text))
    async with (
        FakeArxiv(world.papers, feed_date=world.listing_date) as arxiv,
        FakeX(world.tweets, bearer_token=TOKEN, now=world.now) as x,
    ):
        settings = replay_settings(engine, arxiv, x, world.categories, tmp_path)
        await jobs.collect(settings, engine, world.listing_date, now=world.now)
        await jobs.measure_signals(settings, engine, now=world.now)
    capped = settings.model_copy(update={"digest": settings.digest.model_copy(update={"top": 3})})
    written = jobs.write_post(capped, engine, world.listing_date, now=world.now)
    post = parse_post("capped", written.read_text(encoding="utf-8"))
    assert [e.arxiv_id for e in post.entries] == ["2503.00401", "2503.00402", "2503.00403"]


# --- fixtures that do not parse ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (FRONT + paper(1, "2503.00101", 40, 30).replace("- retweets: 40", "- retweets: x"), 22,
         "expected '- retweets"),
        (FRONT + paper(2, "2503.00101", 40, 30), 18, "expected paper number 1"),
        (FRONT.replace("title: Hot Papers", "title: Papers"), 2, "no 'title: Hot Papers"),
        (FRONT + paper(1, "2503.00101", 40, 30)[:-2], 30, "three blank lines"),
        (FRONT + paper(1, "2503.00101", 20, 20, (embed("a", 1), embed("b", 2))), 22,
         "cannot give each of the 2 embedded posts"),
    ],
)  # fmt: skip
def test_a_fixture_that_does_not_parse_names_post_and_line(
    text: str, line: int, problem: str
) -> None:
    with pytest.raises(FixtureError) as raised:
        world_of(parse_post("synthetic/broken.md", text))
    message = str(raised.value)
    assert message.startswith(f"synthetic/broken.md:{line}: "), message
    assert problem in message


# --- the normalisations themselves ---------------------------------------------------------

CLEAN = FRONT + paper(1, "2503.00101", 40, 30, (embed("alice", 1),))
ONCE = f"{embed('alice', 1)}\n{SCRIPT}\n"


@pytest.mark.parametrize(
    ("name", "quirky"),
    [
        ("japan_clock", CLEAN.replace(f"date: {WRITTEN:%Y-%m-%dT%H:%M:%S}.000Z",
                                      f"date: {WRITTEN + timedelta(hours=9):%Y-%m-%dT%H:%M:%S}.Z")),
        ("blank_after_front_matter", CLEAN.replace("---\n\n# 1.", "---\n\n\n# 1.")),
        ("repeated_embed", CLEAN.replace(ONCE, f"{ONCE}\n{ONCE}")),
        ("listing_whitespace", CLEAN.replace("A Study Numbered", "A Study  Numbered")
                                    .replace("We study", "We  study")),
    ],
)  # fmt: skip
def test_each_normalisation_undoes_its_quirk_and_nothing_else(name: str, quirky: str) -> None:
    assert quirky != CLEAN
    assert normalise(quirky, (name,)) == (CLEAN, {name})
    assert normalise(CLEAN, tuple(NORMALISATIONS)) == (CLEAN, set())
