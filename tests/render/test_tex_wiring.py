"""Where people read titles and abstracts, TeX reads as maths; the classic post stays as is."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lxml import html as lxml_html

from bot.courier import paper_message_embed
from bot.views import list_embed, paper_embed
from hotpapers.config import DigestSettings, Settings
from hotpapers.publish.x_text import MAX_WEIGHT, SummaryItem, compose, weighted_length
from hotpapers.ranking.scoring import PaperView, RankedPaper
from hotpapers.render.markdown import render_post
from hotpapers.site import feeds
from hotpapers.site.content import Day
from hotpapers.site.pages import Renderer
from hotpapers.storage.queries import PaperDetail, PaperSummary

TITLE = r"Sorting $x \in \mathbb{R}^n$ in $O(n \log n)$ with $\alpha$-stable $x_b$ noise"
ABSTRACT = r"We prove a $\sqrt{n}$ bound for $\epsilon$-DP; it costs $5 to $10 \% less."
SEEN_TITLE = "Sorting x ∈ ℝⁿ in O(n log n) with α-stable x_b noise"
SEEN_ABSTRACT = "We prove a √n bound for ε-DP; it costs $5 to $10 % less."
GENERATED = datetime(2024, 5, 2, 8, 0, tzinfo=UTC)


def _ranked(title: str = TITLE, abstract: str = ABSTRACT) -> RankedPaper:
    view = PaperView("2405.00001", title, ("Ada Lovelace",), ("cs.DS",), abstract, "cs.DS")
    return RankedPaper(1, view, 1234.0, {"x": {"retweets": 7.0, "likes": 3.0}}, (), None)


def _detail() -> PaperDetail:
    return PaperDetail(
        arxiv_id="2405.00001", latest_version=1, title=TITLE, abstract=ABSTRACT,
        authors=("Ada Lovelace",), categories=("cs.DS",), primary_category="cs.DS",
        comment=None, journal_ref=None, doi=None, submitted=None, updated=None, versions=(),
    )  # fmt: skip


def test_discord_embeds_show_the_maths_as_unicode_still_escaped() -> None:
    escaped_title = SEEN_TITLE.replace("x_b", "x\\_b")  # Discord Markdown stays inert
    for embed in (paper_embed(_detail(), None), paper_message_embed(_ranked())):
        assert embed.title == escaped_title
        assert embed.description == SEEN_ABSTRACT
    summary = PaperSummary("2405.00001", TITLE, ("Ada",), "cs.DS", None, None, 1)
    assert list_embed("List", [summary]).fields[0].name == f"1. {escaped_title}"


def test_the_x_summary_shows_the_maths_and_counts_what_it_shows() -> None:
    item = SummaryItem(1, "2405.00001", TITLE, 1234.0)
    (post,) = compose([item], date(2024, 5, 1), "https://example.org/2024-05-01/")
    assert f"1. {SEEN_TITLE} (1,234)" in post
    # Double-struck and script letters weigh 2 on X: a title made of them must still fit.
    heavy = SummaryItem(1, "2405.00001", r"$\mathbb{R}\mathcal{O}$ " * 150, 1.0)
    posts = compose([heavy], date(2024, 5, 1), "https://example.org/d/", thread=True)
    assert "ℝ𝒪" in posts[0] and "\\mathbb" not in posts[1]
    assert all(weighted_length(post) <= MAX_WEIGHT for post in posts)


def test_site_pages_show_mathml_and_feeds_show_unicode() -> None:
    renderer = Renderer(Settings(), [])
    page = renderer.day(Day(date(2024, 5, 1), [_ranked()]), None, None, None)
    document = lxml_html.fromstring(page)
    title = document.xpath("//article//*[@class='title']/a")[0]
    assert [m.tag for m in title.iter() if m.tag == "math"] == ["math", "math", "math", "math"]
    assert "\\mathbb" not in page and "$x" not in page
    abstract = document.xpath("//p[@class='abstract']")[0]
    assert abstract.text_content().endswith("it costs $5 to $10 % less.")
    paper_page = renderer.paper([(date(2024, 5, 1), _ranked())], None)
    assert f"<title>{SEEN_TITLE}" in paper_page
    assert SEEN_ABSTRACT in feeds.content_html(_ranked())


def test_the_classic_markdown_post_prints_tex_byte_exact() -> None:
    text = render_post(
        date(2024, 5, 1), [_ranked()], DigestSettings.model_validate({}), generated_at=GENERATED
    )
    assert f"\n# 1. {TITLE}\n" in text
    assert f"\n{ABSTRACT}\n" in text
