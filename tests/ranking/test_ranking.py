"""Ranking: originals only, every original counts, quotes count, threshold, ties, top, decay."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta

import pytest

from hotpapers.config import RankingSettings
from hotpapers.errors import ConfigError
from hotpapers.ranking.scoring import (
    Candidate,
    PaperView,
    PostSignal,
    RankedPaper,
    explain,
    rank_papers,
    score,
    x_metrics,
)

NOW = datetime(2021, 3, 16, 9, 9, 31, tzinfo=UTC)
WEIGHTS = {"x.retweets": 1.0, "x.likes": 1.0}


def view(arxiv_id: str, *, announced: datetime | None = None) -> PaperView:
    return PaperView(
        arxiv_id=arxiv_id,
        title=f"Paper {arxiv_id}",
        authors=("A. Author",),
        categories=("cs.LG",),
        abstract="Abstract.",
        primary_category="cs.LG",
        announced=announced,
    )


def post(
    post_id: str,
    reposts: int,
    likes: int,
    *,
    author: str | None = None,
    is_repost: bool = False,
    quotes: int = 0,
    taken_at: datetime | None = None,
    source: str = "x",
) -> PostSignal:
    author = author if author is not None else f"author-{post_id}"
    return PostSignal(
        source=source,
        post_id=post_id,
        author_id=author,
        author_handle=author,
        text="",
        url="",
        reposts=reposts,
        likes=likes,
        replies=0,
        quotes=quotes,
        is_repost=is_repost,
        created_at=None,
        taken_at=taken_at,
        embed_html=None,
    )


def candidate(arxiv_id: str, *posts: PostSignal, announced: datetime | None = None) -> Candidate:
    return Candidate(view(arxiv_id, announced=announced), tuple(posts))


def rank(candidates: list[Candidate], **kwargs: object) -> list[RankedPaper]:
    options: dict[str, object] = {"weights": WEIGHTS, "threshold": 50, "top": 10, "now": NOW}
    options.update(kwargs)
    return rank_papers(candidates, **options)  # type: ignore[arg-type]


def classic(*posts: PostSignal) -> float:
    return score({"x": x_metrics(posts)}, WEIGHTS)


def test_classic_score_sums_retweets_and_likes_of_originals() -> None:
    assert x_metrics([post("1", 100, 30), post("2", 20, 5)]) == {
        "retweets": 120.0,
        "likes": 35.0,
        "replies": 0.0,
        "quotes": 0.0,
        "posts": 2.0,
    }
    assert classic(post("1", 100, 30), post("2", 20, 5)) == 155


def test_retweet_copy_never_adds() -> None:
    original = post("1", 100, 30)
    copy = post("rt1", 100, 30, author="fan", is_repost=True)
    assert classic(original, copy) == classic(original) == 130
    assert x_metrics([original, copy])["posts"] == 1
    ranked = rank([candidate("2103.00001", original, copy)])
    assert ranked[0].posts == (original,)


def test_two_posts_by_one_account_both_count() -> None:
    """The classic count: every original post adds, two by the same account both."""
    weaker = post("1", 10, 5, author="ak")
    stronger = post("2", 90, 20, author="ak")
    assert classic(weaker, stronger) == 125
    ranked = rank([candidate("2103.00001", weaker, stronger, post("3", 1, 1))])
    assert [p.post_id for p in ranked[0].posts] == ["2", "1", "3"]
    assert ranked[0].signals["x"]["posts"] == 3
    # with or without an author id, by id or by handle: each post is its own
    a = PostSignal("x", "1", "", "@AK", "", "", 10, 0)
    b = PostSignal("x", "2", "", "ak", "", "", 20, 0)
    anonymous = PostSignal("x", "3", "", "", "", "", 5, 0)
    assert x_metrics([a, b, anonymous])["retweets"] == 35


def test_one_post_counts_once_even_if_loaded_twice() -> None:
    assert classic(post("1", 40, 20), post("1", 40, 20)) == 60


def test_quote_posts_count_as_their_own_posts() -> None:
    original = post("1", 100, 30)
    quote = post("2", 12, 8, author="critic", quotes=0)
    assert classic(original, quote) == 150
    assert x_metrics([post("1", 1, 1, quotes=4)])["quotes"] == 4


def test_other_sources_are_not_x_posts() -> None:
    assert classic(post("1", 100, 30), post("2", 500, 500, source="bluesky")) == 130


def test_threshold_drops_papers_below_it() -> None:
    ranked = rank(
        [
            candidate("2103.00001", post("1", 30, 20)),  # 50: kept
            candidate("2103.00002", post("2", 30, 19)),  # 49: dropped
        ]
    )
    assert [r.paper.arxiv_id for r in ranked] == ["2103.00001"]


def test_ties_go_to_the_paper_later_in_the_listing() -> None:
    """Equal scores: the paper later in the day's listing (arXiv's recent listing shows the
    highest id first, so the lower id) comes first, whatever the likes."""
    candidates = [
        candidate("2103.00003", post("a", 50, 50)),
        candidate("2103.00002", post("b", 50, 50)),
        candidate("2103.00001", post("c", 90, 10)),
        candidate("2103.00004", post("d", 10, 90)),
    ]
    expected = ["2103.00001", "2103.00002", "2103.00003", "2103.00004"]
    assert [r.paper.arxiv_id for r in rank(candidates)] == expected
    assert [r.paper.arxiv_id for r in rank(list(reversed(candidates)))] == expected
    assert [r.rank for r in rank(candidates)] == [1, 2, 3, 4]


def test_listing_order_compares_ids_by_month_and_number() -> None:
    """Five-digit numbers after four-digit ones, old-style ids by their year (19xx first)."""
    candidates = [
        candidate("2103.10000", post("a", 60, 0)),
        candidate("2103.09999", post("b", 60, 0)),
        candidate("cs/0701001", post("c", 60, 0)),
        candidate("cs/9912001", post("d", 60, 0)),
    ]
    ranked = rank(candidates)
    assert [r.paper.arxiv_id for r in ranked] == [
        "cs/9912001", "cs/0701001", "2103.09999", "2103.10000",
    ]  # fmt: skip


def test_no_top_means_no_cut() -> None:
    candidates = [candidate(f"2103.{i:05d}", post(str(i), 50 + i, 0)) for i in range(25)]
    assert len(rank(candidates, top=None)) == 25


def test_top_cuts_after_sorting() -> None:
    candidates = [candidate(f"2103.0000{i}", post(str(i), 50 + i, 10)) for i in range(1, 6)]
    ranked = rank(candidates, top=2)
    assert [(r.rank, r.paper.arxiv_id) for r in ranked] == [(1, "2103.00005"), (2, "2103.00004")]


def test_counts_taken_at_is_latest_x_measurement() -> None:
    early, late = NOW - timedelta(hours=2), NOW - timedelta(minutes=5)
    ranked = rank([candidate("2103.00001", post("1", 60, 0, taken_at=early),
                             post("2", 1, 0, taken_at=late))])  # fmt: skip
    assert ranked[0].counts_taken_at == late
    assert rank([candidate("2103.00001", post("1", 60, 0))])[0].counts_taken_at is None


def test_decay_halves_per_half_life() -> None:
    signals = {"x": {"retweets": 80.0, "likes": 20.0}}
    assert score(signals, WEIGHTS) == 100
    assert score(signals, WEIGHTS, hours_since_announcement=24, decay_hours=24) == 50
    assert math.isclose(score(signals, WEIGHTS, hours_since_announcement=12, decay_hours=24),
                        100 / math.sqrt(2))  # fmt: skip
    assert score(signals, WEIGHTS, hours_since_announcement=None, decay_hours=24) == 100
    assert score(signals, WEIGHTS, hours_since_announcement=-5, decay_hours=24) == 100


def test_decay_reorders_older_papers() -> None:
    old = candidate("2103.00001", post("1", 100, 0), announced=NOW - timedelta(hours=48))
    fresh = candidate("2103.00002", post("2", 60, 0), announced=NOW - timedelta(hours=0))
    assert [r.paper.arxiv_id for r in rank([old, fresh], threshold=0)] == [
        "2103.00001",
        "2103.00002",
    ]
    decayed = rank([old, fresh], threshold=0, decay_hours=24)
    assert [r.paper.arxiv_id for r in decayed] == ["2103.00002", "2103.00001"]
    assert decayed[1].score == pytest.approx(25)
    # naive announcement times are UTC
    naive = candidate("2103.00003", post("3", 100, 0), announced=datetime(2021, 3, 15, 9, 9, 31))
    assert rank([naive], threshold=0, decay_hours=24)[0].score == pytest.approx(50)


def test_weights_reach_other_sources() -> None:
    signals = {"x": {"retweets": 10.0, "likes": 5.0}, "hn": {"points": 200.0}}
    assert score(signals, {**WEIGHTS, "hn.points": 0.5}) == 115
    assert score(signals, {"hf.upvotes": 3.0}) == 0
    hn_only = Candidate(
        view("2103.00009"),
        (),
        snapshots={"hn": {"points": 120, "comments": 9, "url": "https://news.ycombinator.com/"}},
    )
    ranked = rank([hn_only], weights={"hn.points": 1.0})
    assert ranked[0].score == 120
    assert ranked[0].signals["hn"] == {"points": 120.0, "comments": 9.0}
    assert ranked[0].signals["x"]["posts"] == 0


def test_bad_weight_key_is_config_error() -> None:
    with pytest.raises(ConfigError, match="retweets"):
        score({}, {"retweets": 1.0})


def test_explain_lists_each_term() -> None:
    item = candidate(
        "2103.06902", post("1", 700, 180, author="ak"), post("2", 29, 6, author="other"),
        post("3", 700, 180, author="fan", is_repost=True),
    )  # fmt: skip
    lines = explain(item, WEIGHTS)
    assert lines[0] == "2103.06902: Paper 2103.06902"
    assert "  x.retweets: 729 × 1 = 729" in lines
    assert "  x.likes: 186 × 1 = 186" in lines
    assert "  score = 915" in lines
    assert any("1 left out" in line for line in lines)
    ranked = rank([item])[0]
    assert "  score = 915" in explain(ranked, WEIGHTS)


def test_discord_reactions_count_in_the_default_blend_and_its_breakdown() -> None:
    weights = RankingSettings().weights
    item = Candidate(
        view("2103.00002"),
        (post("1", 20, 10),),
        snapshots={"discord": {"reactions": 3.0, "reactors": 3.0}},
    )
    [ranked] = rank([item], weights=weights, threshold=0)
    assert ranked.score == 20 + 10 + 3 * 5
    lines = explain(ranked, weights)
    assert "  discord.reactions: 3 × 5 = 15" in lines
    assert "  score = 45" in lines


def test_explain_shows_decay() -> None:
    item = candidate("2103.00001", post("1", 100, 0), announced=NOW - timedelta(hours=24))
    ranked = rank([item], threshold=0, decay_hours=24)[0]
    plain = explain(ranked, WEIGHTS)
    assert "  score = 100" in plain
    assert "  score as ranked = 50 (with decay)" in plain
    lines = explain(ranked, WEIGHTS, now=NOW, decay_hours=24)
    assert "  decay: 24.0 h since announcement, half-life 24 h -> × 0.5000" in lines
    assert "  score = 50" in lines


# The ten papers of the reference "Hot Papers 2021-03-15" post, in its order, with the
# retweets and favorites it printed for each (facts typed in as data).
REFERENCE_COUNTS = [
    ("2103.06902", 729, 186),
    ("2103.07461", 311, 107),
    ("2103.06885", 252, 63),
    ("2103.07292", 182, 112),
    ("2103.07013", 146, 31),
    ("2103.07153", 120, 37),
    ("2103.07197", 70, 76),
    ("2103.07055", 72, 51),
    ("2103.07289", 81, 14),
    ("2103.06944", 34, 46),
]


def test_reference_order() -> None:
    candidates = [
        candidate(arxiv_id, post(f"{arxiv_id}-main", retweets - 5, favorites - 3),
                  post(f"{arxiv_id}-second", 5, 3),
                  post(f"{arxiv_id}-rt", retweets, favorites, author="fan", is_repost=True))
        for arxiv_id, retweets, favorites in REFERENCE_COUNTS
    ]  # fmt: skip
    # plus papers the post did not show: too quiet, or beyond the top ten
    candidates += [
        candidate("2103.09999", post("quiet", 30, 19)),
        candidate("2103.00001", post("eleventh", 40, 20)),
    ]
    for order in (candidates, list(reversed(candidates)), sorted(candidates, key=str)):
        ranked = rank(order, threshold=50, top=10)
        assert [r.paper.arxiv_id for r in ranked] == [c[0] for c in REFERENCE_COUNTS]
        assert [(r.signals["x"]["retweets"], r.signals["x"]["likes"]) for r in ranked] == [
            (float(rt), float(fav)) for _, rt, fav in REFERENCE_COUNTS
        ]
        assert [r.rank for r in ranked] == list(range(1, 11))


def test_x_sums_come_from_the_snapshot_when_more_posts_than_stored() -> None:
    """The X source stores a paper's ten most engaging posts but measures every original one:
    its snapshot's sums, not the ten stored posts, are the paper's count."""
    stored = [post(str(n), 10, 5) for n in range(10)]
    snapshot = {"retweets": 140.0, "likes": 70.0, "replies": 0.0, "quotes": 0.0, "posts": 14.0}
    full = Candidate(view("2103.00001"), tuple(stored), {"x": snapshot})
    (ranked,) = rank([full])
    assert ranked.signals["x"]["retweets"] == 140 and ranked.signals["x"]["posts"] == 14
    assert ranked.score == 210
    assert len(ranked.posts) == 10  # the posts shown (embeds) are still the stored ones
    # With every post stored, the posts decide (they carry the newest counts).
    fresher = [post(str(n), 12, 5) for n in range(3)]
    same = {"retweets": 30.0, "likes": 15.0, "posts": 3.0}
    (ranked,) = rank([Candidate(view("2103.00002"), tuple(fresher), {"x": same})])
    assert ranked.signals["x"]["retweets"] == 36


def test_ranked_papers_keep_where_else_they_are_discussed() -> None:
    """HN stories and the HF page travel with the ranked paper (for its link buttons), most
    liked first; they are not X posts and never count as such."""
    small = dataclasses.replace(post("11", 0, 5, source="hn"), url="https://hn.example/11")
    big = dataclasses.replace(post("12", 0, 90, source="hn"), url="https://hn.example/12")
    page = dataclasses.replace(post("2103.00001", 0, 7, source="hf"), url="https://hf.example/p")
    unlinked = post("13", 0, 500, source="hn")  # no URL: nothing to follow
    paper = candidate("2103.00001", post("1", 3, 4), small, big, page, unlinked)
    [ranked] = rank_papers([paper], weights=WEIGHTS, threshold=0, top=None, now=NOW)
    assert [p.post_id for p in ranked.discussions] == ["12", "2103.00001", "11"]
    assert [p.post_id for p in ranked.posts] == ["1"]
