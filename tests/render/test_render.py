"""The Markdown post: the reference layout byte for byte, embeds, template errors, writing."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from hotpapers.config import DigestSettings
from hotpapers.errors import ConfigError, HotpapersError
from hotpapers.publish import write_post
from hotpapers.ranking.scoring import Candidate, PaperView, PostSignal, rank_papers
from hotpapers.render import post_filename, render_post, select_embeds
from hotpapers.render.markdown import embed_markup, iso_utc

SHARED = Path(os.environ.get("HOTPAPERS_SHARED_DIR") or Path(__file__).parents[3] / "shared")
REFERENCE = SHARED / "reference/2021-03-15---Hot-Papers.md"
SCRIPT = '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
WEIGHTS = {"x.retweets": 1.0, "x.likes": 1.0}


def digest(**values: object) -> DigestSettings:
    """Digest settings: the defaults, with `values` over them (validated like the config)."""
    return DigestSettings.model_validate(values)


def post(
    post_id: str,
    reposts: int,
    likes: int,
    *,
    author: str | None = None,
    html: str | None = "",
    taken_at: datetime | None = None,
    is_repost: bool = False,
) -> PostSignal:
    author = author or f"user{post_id}"
    if html == "":
        html = f'<blockquote class="twitter-tweet"><p>post {post_id}</p></blockquote>'
    return PostSignal(
        source="x",
        post_id=post_id,
        author_id=author,
        author_handle=author,
        text=f"post {post_id}",
        url=f"https://x.com/{author}/status/{post_id}",
        reposts=reposts,
        likes=likes,
        replies=0,
        quotes=0,
        is_repost=is_repost,
        created_at=None,
        taken_at=taken_at,
        embed_html=html,
    )


def paper(arxiv_id: str, title: str, categories: tuple[str, ...], abstract: str) -> PaperView:
    return PaperView(
        arxiv_id=arxiv_id,
        title=title,
        authors=("Ada Lovelace", "Alan Turing"),
        categories=categories,
        abstract=abstract,
        primary_category=categories[0],
        announced=None,
    )


# --- a self-contained golden test --------------------------------------------------------

TAKEN = datetime(2024, 5, 2, 7, 5, 9, tzinfo=UTC)
GENERATED = datetime(2024, 5, 2, 8, 0, 1, 250000, tzinfo=UTC)

GOLDEN = (
    "---\n"
    "title: Hot Papers 2024-05-01\n"
    "date: 2024-05-02T08:00:01.250Z\n"
    'template: "post"\n'
    "draft: false\n"
    'slug: "hot-papers-2024-05-01"\n'
    'category: "arXiv"\n'
    "tags:\n"
    '  - "arXiv"\n'
    '  - "Twitter"\n'
    '  - "Machine Learning"\n'
    '  - "Computer Science"\n'
    'description: "Hot papers 2024-05-01"\n'
    'socialImage: "/media/flying-marine.jpg"\n'
    "\n"
    "---\n"
    "\n"
    "# 1. Tiny Models  & <Big> Ideas\n"
    "\n"
    "Ada Lovelace, Alan Turing\n"
    "\n"
    "- retweets: 120, favorites: 40 (05/02/2024 07:05:09)\n"
    "\n"
    "- links: [abs](https://arxiv.org/abs/2405.00001) | [pdf](https://arxiv.org/pdf/2405.00001)\n"
    "- [cs.LG](https://arxiv.org/list/cs.LG/recent) | [stat.ML](https://arxiv.org/list/stat.ML/recent)\n"
    "\n"
    'We study $N$ things & <stuff> "quoted".\n'
    "\n"
    '<blockquote class="twitter-tweet"><p>post 1</p></blockquote>\n'
    f"{SCRIPT}\n"
    "\n"
    '<blockquote class="twitter-tweet"><p>post 2</p></blockquote>\n'
    f"{SCRIPT}\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "# 2. Second Paper\n"
    "\n"
    "Ada Lovelace, Alan Turing\n"
    "\n"
    "- retweets: 60, favorites: 10 (05/02/2024 07:05:09)\n"
    "\n"
    "- links: [abs](https://arxiv.org/abs/2405.00002) | [pdf](https://arxiv.org/pdf/2405.00002)\n"
    "- [cs.CL](https://arxiv.org/list/cs.CL/recent)\n"
    "\n"
    "No embeds survive here.\n"
    "\n"
    "\n"
    "\n"
    "\n"
    "# 3. Third Paper\n"
    "\n"
    "Ada Lovelace, Alan Turing\n"
    "\n"
    "- retweets: 40, favorites: 20 (05/02/2024 07:05:09)\n"
    "\n"
    "- links: [abs](https://arxiv.org/abs/2405.00003) | [pdf](https://arxiv.org/pdf/2405.00003)\n"
    "- [cs.CV](https://arxiv.org/list/cs.CV/recent)\n"
    "\n"
    "Last one.\n"
    "\n"
    '<blockquote class="twitter-tweet"><p>post 5</p></blockquote>\n'
    f"{SCRIPT}\n"
    "\n"
    "\n"
    "\n"
)


def golden_candidates() -> list[Candidate]:
    return [
        Candidate(
            paper(
                "2405.00001",
                "Tiny Models  & <Big> Ideas",
                ("cs.LG", "stat.ML"),
                'We study $N$ things & <stuff> "quoted".',
            ),
            (
                post("1", 100, 30, taken_at=TAKEN),
                post("2", 15, 10, taken_at=TAKEN),  # exactly 25: embedded
                post("3", 5, 0, taken_at=TAKEN),  # below 25: counted, not embedded
            ),
        ),
        Candidate(
            paper("2405.00002", "Second Paper", ("cs.CL",), "No embeds survive here."),
            (post("4", 60, 10, html=None, taken_at=TAKEN),),  # oEmbed missing
        ),
        Candidate(
            paper("2405.00003", "Third Paper", ("cs.CV",), "Last one."),
            (
                # an oEmbed answer fetched with its own script tag: not doubled
                post(
                    "5",
                    40,
                    20,
                    html=(
                        '<blockquote class="twitter-tweet"><p>post 5</p></blockquote>\n'
                        + SCRIPT
                        + "\n"
                    ),
                    taken_at=TAKEN,
                ),
            ),
        ),
        Candidate(paper("2405.00004", "Too Quiet", ("cs.AI",), "x"), (post("6", 10, 5),)),
    ]


def test_golden_post() -> None:
    ranked = rank_papers(golden_candidates(), weights=WEIGHTS, threshold=50, top=10, now=GENERATED)
    text = render_post(date(2024, 5, 1), ranked, digest(), generated_at=GENERATED)
    assert text == GOLDEN


def test_no_papers_renders_front_matter_only() -> None:
    """As the original's empty post (2020-12-07): the closing `---` line ends the file."""
    text = render_post(date(2024, 5, 1), [], digest(), generated_at=GENERATED)
    assert text.endswith('socialImage: "/media/flying-marine.jpg"\n\n---\n')


def test_settings_reach_front_matter() -> None:
    settings = digest(draft=True, category='Papers "daily"', tags=["a"], social_image="/x.png")
    text = render_post(date(2024, 5, 1), [], settings, generated_at=GENERATED)
    assert "draft: true\n" in text
    assert 'category: "Papers \\"daily\\""\n' in text
    assert 'tags:\n  - "a"\ndescription' in text
    assert 'socialImage: "/x.png"\n' in text


def test_other_sources_add_one_breakdown_line() -> None:
    candidate = Candidate(
        paper("2405.00009", "Talked About", ("cs.LG",), "Abstract."),
        (post("1", 60, 10, taken_at=TAKEN),),
        snapshots={
            "hn": {"points": 230, "comments": 55},
            "hf": {"upvotes": 41},
            "bluesky": {"likes": 58},
        },
    )
    ranked = rank_papers([candidate], weights=WEIGHTS, threshold=0, top=10, now=GENERATED)
    text = render_post(date(2024, 5, 1), ranked, digest(), generated_at=GENERATED)
    assert (
        "- retweets: 60, favorites: 10 (05/02/2024 07:05:09)\n"
        "- hn: 230 points, 55 comments · hf: 41 upvotes · bluesky: 58 likes\n"
        "\n"
        "- links: "
    ) in text


def test_generated_at_is_utc_iso_with_milliseconds() -> None:
    assert iso_utc(datetime(2021, 3, 16, 9, 9, 31)) == "2021-03-16T09:09:31.000Z"
    from datetime import timedelta, timezone

    tokyo = timezone(timedelta(hours=9))
    assert iso_utc(datetime(2021, 3, 16, 18, 9, 31, 999999, tokyo)) == "2021-03-16T09:09:31.999Z"


# --- embed selection ----------------------------------------------------------------------


def test_select_embeds_every_post_needs_engagement_the_first_too() -> None:
    """The classic rule: the first post is no exception to the bar of 25."""
    posts = [post("1", 1, 1), post("2", 20, 4), post("3", 20, 5), post("4", 30, 30)]
    chosen = select_embeds(posts, min_engagement=25, limit=10)
    assert [p.post_id for p in chosen] == ["3", "4"]
    assert select_embeds([post("1", 20, 4)], min_engagement=25, limit=10) == []


def test_select_embeds_prints_identical_html_once() -> None:
    html = '<blockquote class="twitter-tweet"><p>same</p></blockquote>'
    posts = [post("1", 90, 9, html=html), post("2", 50, 0, html=f"{html}\n{SCRIPT}\n")]
    assert [p.post_id for p in select_embeds(posts, min_engagement=25, limit=10)] == ["1"]


def test_select_embeds_considers_only_the_first_limit_posts() -> None:
    """At most `limit` posts are looked at: a weak one among them uses up a place."""
    posts = [post("1", 90, 9), post("2", 1, 0), post("3", 40, 0)]
    assert [p.post_id for p in select_embeds(posts, min_engagement=25, limit=2)] == ["1"]


def test_paper_is_printed_without_embeds_when_no_post_reaches_the_bar() -> None:
    candidate = Candidate(
        paper("2405.00008", "Many Small Posts", ("cs.LG",), "Abstract."),
        tuple(post(str(n), 12, 12, taken_at=TAKEN) for n in range(1, 4)),
    )
    ranked = rank_papers([candidate], weights=WEIGHTS, threshold=50, top=10, now=GENERATED)
    text = render_post(date(2024, 5, 1), ranked, digest(), generated_at=GENERATED)
    assert "# 1. Many Small Posts\n" in text
    assert "- retweets: 36, favorites: 36 (05/02/2024 07:05:09)\n" in text
    assert "<blockquote" not in text and SCRIPT not in text


def test_select_embeds_limit_and_duplicates() -> None:
    posts = [post("1", 90, 9), post("1", 90, 9), post("2", 50, 0), post("3", 40, 0)]
    assert [p.post_id for p in select_embeds(posts, min_engagement=25, limit=2)] == ["1", "2"]
    assert [p.post_id for p in select_embeds(posts, min_engagement=25, limit=10)] == [
        "1",
        "2",
        "3",
    ]


def test_select_embeds_skips_posts_without_html() -> None:
    posts = [post("1", 90, 9, html=None), post("2", 50, 0), post("3", 40, 0, html="  ")]
    assert [p.post_id for p in select_embeds(posts, min_engagement=25, limit=10)] == ["2"]
    # a first post without HTML does not promote a weak second one
    weak = [post("1", 90, 9, html=None), post("2", 3, 0)]
    assert select_embeds(weak, min_engagement=25, limit=10) == []


def test_missing_oembed_leaves_post_out_but_keeps_paper() -> None:
    candidate = Candidate(
        paper("2405.00007", "Kept", ("cs.LG",), "Abstract."),
        (post("1", 80, 20, html=None, taken_at=TAKEN), post("2", 30, 0, taken_at=TAKEN)),
    )
    ranked = rank_papers([candidate], weights=WEIGHTS, threshold=50, top=10, now=GENERATED)
    text = render_post(date(2024, 5, 1), ranked, digest(), generated_at=GENERATED)
    assert "# 1. Kept\n" in text
    assert "- retweets: 110, favorites: 20 (05/02/2024 07:05:09)\n" in text
    assert "<p>post 1</p>" not in text
    assert "<p>post 2</p>" in text
    assert text.count(SCRIPT) == 1


def test_embed_markup_strips_own_script() -> None:
    html = '<blockquote class="twitter-tweet">x</blockquote>'
    assert embed_markup(f"{html}\n{SCRIPT}\n") == html
    assert embed_markup(f"  {html}\n") == html


# --- templates ----------------------------------------------------------------------------


def test_user_template_is_used(tmp_path: Path) -> None:
    template = tmp_path / "mine.md.j2"
    template.write_text(
        "{{ listing_date }}{% for p in papers %}|{{ p.rank }} {{ p.title }}{% endfor %}\n",
        encoding="utf-8",
    )
    ranked = rank_papers(golden_candidates(), weights=WEIGHTS, threshold=50, top=2, now=GENERATED)
    settings = digest(template=template)
    text = render_post(date(2024, 5, 1), ranked, settings, generated_at=GENERATED)
    # trim_blocks applies to user templates too: the newline after a block tag goes
    assert text == "2024-05-01|1 Tiny Models  & <Big> Ideas|2 Second Paper"


def test_broken_user_template_is_config_error(tmp_path: Path) -> None:
    template = tmp_path / "broken.md.j2"
    template.write_text("{% for p in papers %}{{ p.title }\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(str(template))):
        render_post(date(2024, 5, 1), [], digest(), generated_at=GENERATED,
                    template_path=template)  # fmt: skip


def test_missing_user_template_is_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.md.j2"
    with pytest.raises(ConfigError, match=re.escape(str(missing))):
        render_post(date(2024, 5, 1), [], digest(template=missing), generated_at=GENERATED)


def test_template_with_unknown_name_is_config_error(tmp_path: Path) -> None:
    template = tmp_path / "typo.md.j2"
    template.write_text("{{ listing_dat }}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(str(template))):
        render_post(date(2024, 5, 1), [], digest(template=template), generated_at=GENERATED)


# --- writing ------------------------------------------------------------------------------


def test_post_filename() -> None:
    assert post_filename(date(2021, 3, 15)) == "2021-03-15---Hot-Papers.md"


def test_write_post_creates_dir_and_replaces_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts_dir = tmp_path / "a" / "posts"
    path = write_post(posts_dir, date(2021, 3, 15), "first ü\n")
    assert path == posts_dir / "2021-03-15---Hot-Papers.md"
    assert path.read_bytes() == "first ü\n".encode()

    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        # the new text is complete in a temp file in the same directory before the rename
        assert Path(src).parent == posts_dir
        assert Path(src).read_bytes() == b"second\r\n"
        assert path.read_bytes() == "first ü\n".encode()
        replaced.append((src, dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_post(posts_dir, date(2021, 3, 15), "second\r\n")
    assert len(replaced) == 1
    assert path.read_bytes() == b"second\r\n"
    assert sorted(p.name for p in posts_dir.iterdir()) == ["2021-03-15---Hot-Papers.md"]


def test_write_post_failure_keeps_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_post(tmp_path, date(2021, 3, 15), "old\n")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(HotpapersError, match=r"cannot write the post .*disk full"):
        write_post(tmp_path, date(2021, 3, 15), "new\n")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


# --- the reference post -------------------------------------------------------------------

_HEADING = re.compile(r"^# (\d+)\. (.*)$", re.MULTILINE)
_COUNTS = re.compile(
    r"^- retweets: (\d+), favorites: (\d+) \((\d\d/\d\d/\d{4} \d\d:\d\d:\d\d)\)$", re.MULTILINE
)
_LINKS = re.compile(r"^- links: \[abs\]\(https://arxiv\.org/abs/(\S+?)\) \|", re.MULTILINE)
_CATEGORY = re.compile(r"\[([^\]]+)\]\(https://arxiv\.org/list/[^)]+/recent\)")
_EMBED = re.compile(r"^<blockquote class=\"twitter-tweet\">.*</blockquote>$", re.MULTILINE)
_TWEET = re.compile(r"\(@(\w+)\) <a href=\"https://twitter\.com/\w+/status/(\d+)")


def parse_reference(text: str) -> tuple[datetime, list[Candidate], list[str]]:
    """Candidates carrying the reference's facts, and its paper ids in order."""
    date_line = re.search(r"^date: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.Z$", text, re.MULTILINE)
    assert date_line, "reference has no date line"
    generated = datetime.fromisoformat(date_line.group(1)).replace(tzinfo=UTC)
    headings = list(_HEADING.finditer(text))
    candidates: list[Candidate] = []
    order: list[str] = []
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        block = text[heading.end() : end]
        lines = block.split("\n")
        authors = lines[2]
        counts = _COUNTS.search(block)
        links = _LINKS.search(block)
        assert counts and links
        retweets, favorites = int(counts.group(1)), int(counts.group(2))
        taken = datetime.strptime(counts.group(3), "%m/%d/%Y %H:%M:%S").replace(tzinfo=UTC)
        arxiv_id = links.group(1)
        category_line = block[links.end() :].split("\n")[1]
        categories = tuple(_CATEGORY.findall(category_line))
        abstract = block[links.end() :].split("\n")[3]
        embeds = _EMBED.findall(block)
        posts: list[PostSignal] = []
        extra = len(embeds) - 1
        for position, html in enumerate(embeds):
            tweet = _TWEET.search(html)
            assert tweet, html[:80]
            handle, post_id = tweet.groups()
            # later posts just reach the embed bar (15 + 10); the first holds the rest
            reposts, likes = (
                (retweets - 15 * extra, favorites - 10 * extra) if position == 0 else (15, 10)
            )
            posts.append(
                PostSignal(
                    source="x", post_id=post_id, author_id=handle, author_handle=handle,
                    text="", url=f"https://twitter.com/{handle}/status/{post_id}",
                    reposts=reposts, likes=likes, replies=0, quotes=0, is_repost=False,
                    created_at=None, taken_at=taken, embed_html=html,
                )
            )  # fmt: skip
        if not embeds:  # the post exists, its oEmbed does not
            posts.append(post(f"{arxiv_id}-gone", retweets, favorites, html=None, taken_at=taken))
        else:  # a retweet copy of the first post: carries its counts, must add nothing
            first = posts[0]
            posts.append(
                post("rt-" + first.post_id, first.reposts, first.likes, author="fan",
                     html=first.embed_html, taken_at=taken, is_repost=True)
            )  # fmt: skip
        view = PaperView(
            arxiv_id=arxiv_id,
            title=heading.group(2),
            authors=tuple(authors.split(", ")),
            categories=categories,
            abstract=abstract,
            primary_category=categories[0],
            announced=None,
        )
        candidates.append(Candidate(view, tuple(posts)))
        order.append(arxiv_id)
    return generated, candidates, order


def test_reference_post_is_reproduced() -> None:
    if not REFERENCE.is_file():
        pytest.skip(f"reference post not found at {REFERENCE}")
    reference = REFERENCE.read_text(encoding="utf-8")
    generated, candidates, order = parse_reference(reference)
    assert len(candidates) == 10
    ranked = rank_papers(reversed(candidates), weights=WEIGHTS, threshold=50, top=10, now=generated)
    assert [item.paper.arxiv_id for item in ranked] == order
    text = render_post(date(2021, 3, 15), ranked, digest(), generated_at=generated)

    malformed = "date: 2021-03-16T09:09:31.Z\n"
    assert malformed in reference
    assert "date: 2021-03-16T09:09:31.000Z\n" in text
    expected = reference.replace(malformed, "date: 2021-03-16T09:09:31.000Z\n")
    # field by field first, for a readable failure; then the whole text, byte for byte
    for number, (got, want) in enumerate(
        zip(text.split("\n"), expected.split("\n"), strict=False), start=1
    ):
        assert got == want, f"line {number} differs"
    assert text == expected
