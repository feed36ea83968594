"""Reading a published "Hot Papers" post into its fields (for the replay harness).

`parse_post` reads the classic layout line by line; anything else raises `FixtureError`
naming the post and the line. `normalise` applies the harness's named normalisations (the
original generator's known quirks, see NORMALISATIONS) and says which of them changed the
text, so that none is applied silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

SCRIPT = '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
FRONT_MATTER_END = "---"
_HEADING = re.compile(r"^# (\d+)\. (.+)$")
_COUNTS = re.compile(r"^- retweets: (\d+), favorites: (\d+) \((\d\d/\d\d/\d{4} \d\d:\d\d:\d\d)\)$")
_LINKS = re.compile(
    r"^- links: \[abs\]\(https://arxiv\.org/abs/(?P<id>[^)\s]+)\) \| "
    r"\[pdf\]\(https://arxiv\.org/pdf/(?P=id)\)$"
)
_CATEGORY = re.compile(r"^\[([\w.\-]+)\]\(https://arxiv\.org/list/\1/recent\)$")
_EMBED = re.compile(
    r'^<blockquote class="twitter-tweet".*\(@(?P<handle>\w+)\) '
    r'<a href="https://twitter\.com/(?P=handle)/status/(?P<id>\d+)\?ref_src=twsrc%5Etfw">'
    r".*</blockquote>$"
)
_TITLE = re.compile(r"^title: Hot Papers (\d{4}-\d\d-\d\d)$")
_DATE = re.compile(r"^date: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})?Z$")
_BLANK_AFTER_ENTRY = 3  # blank lines closing each paper


class FixtureError(ValueError):
    """A published post (or a synthetic one) that is not in the classic layout."""


@dataclass(frozen=True)
class Embed:
    line: int
    html: str
    handle: str
    status_id: str


@dataclass
class Entry:
    line: int  # of the heading
    rank: int
    title: str
    authors: str
    retweets: int
    favorites: int
    counts_at: str  # the one field the replay does not compare
    arxiv_id: str
    categories: tuple[str, ...]
    abstract: str
    embeds: list[Embed] = field(default_factory=list)

    @property
    def counts_line(self) -> int:
        return self.line + 4


@dataclass
class Post:
    name: str
    front_matter: list[str]  # the lines between the two `---`
    listing_date: date
    written_at: datetime  # the `date` field, as written
    entries: list[Entry]


class _Lines:
    """The post's lines with a cursor; every complaint names the post and the line."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.lines = text.split("\n")
        self.index = 0

    def fail(self, message: str, line: int | None = None) -> FixtureError:
        number = line if line is not None else self.index + 1
        return FixtureError(f"{self.name}:{number}: {message}")

    @property
    def line_number(self) -> int:
        return self.index + 1

    def at_end(self) -> bool:
        return self.index >= len(self.lines) or (
            self.index == len(self.lines) - 1 and self.lines[self.index] == ""
        )

    def peek(self) -> str:
        return self.lines[self.index] if self.index < len(self.lines) else ""

    def take(self, what: str) -> str:
        if self.index >= len(self.lines):
            raise self.fail(f"the post ends where {what} should be")
        line = self.lines[self.index]
        self.index += 1
        return line

    def match(self, pattern: re.Pattern[str], what: str) -> re.Match[str]:
        line = self.take(what)
        found = pattern.match(line)
        if found is None:
            raise self.fail(f"expected {what}, found {line[:80]!r}", self.index)
        return found

    def blank(self, what: str = "a blank line") -> None:
        line = self.take(what)
        if line != "":
            raise self.fail(f"expected {what}, found {line[:80]!r}", self.index)


def parse_post(name: str, text: str) -> Post:
    """The fields of a post in the classic layout, or FixtureError naming name:line."""
    lines = _Lines(name, text)
    if lines.take("the front matter") != FRONT_MATTER_END:
        raise lines.fail("expected the front matter's opening '---'", 1)
    front: list[str] = []
    while lines.peek() != FRONT_MATTER_END:
        if lines.index >= len(lines.lines):
            raise lines.fail("the front matter is never closed by '---'")
        front.append(lines.take("the front matter"))
    lines.take("the front matter's closing '---'")
    day, written = _front_matter_facts(lines, front)
    entries: list[Entry] = []
    while not lines.at_end():
        lines.blank("the blank line before a paper")
        entries.append(_entry(lines, len(entries) + 1))
    return Post(name, front, day, written, entries)


def _front_matter_facts(lines: _Lines, front: list[str]) -> tuple[date, datetime]:
    title = next((m for m in map(_TITLE.match, front) if m), None)
    written = next((m for m in map(_DATE.match, front) if m), None)
    if title is None:
        raise lines.fail("the front matter has no 'title: Hot Papers YYYY-MM-DD' line", 2)
    if written is None:
        raise lines.fail("the front matter has no 'date: YYYY-MM-DDTHH:MM:SS.mmmZ' line", 3)
    moment = datetime.fromisoformat(written.group(1)).replace(tzinfo=UTC)
    millis = int(written.group(2) or 0)
    return date.fromisoformat(title.group(1)), moment + timedelta(milliseconds=millis)


def _entry(lines: _Lines, expected_rank: int) -> Entry:
    start = lines.line_number
    heading = lines.match(_HEADING, f"the heading '# {expected_rank}. <title>'")
    if int(heading.group(1)) != expected_rank:
        raise lines.fail(f"expected paper number {expected_rank}", start)
    lines.blank()
    authors = lines.take("the authors")
    if not authors.strip():
        raise lines.fail("the authors line is empty", lines.index)
    lines.blank()
    counts = lines.match(_COUNTS, "'- retweets: R, favorites: F (MM/DD/YYYY HH:MM:SS)'")
    lines.blank()
    links = lines.match(_LINKS, "'- links: [abs](...) | [pdf](...)'")
    categories = _categories(lines)
    lines.blank()
    abstract = lines.take("the abstract")
    entry = Entry(
        line=start,
        rank=expected_rank,
        title=heading.group(2),
        authors=authors,
        retweets=int(counts.group(1)),
        favorites=int(counts.group(2)),
        counts_at=counts.group(3),
        arxiv_id=links.group("id"),
        categories=categories,
        abstract=abstract,
    )
    while lines.peek() == "" and lines.index + 1 < len(lines.lines):
        if not lines.lines[lines.index + 1].startswith("<blockquote"):
            break
        lines.blank()
        entry.embeds.append(_embed(lines))
    for _ in range(_BLANK_AFTER_ENTRY):
        lines.blank("one of the three blank lines closing a paper")
    return entry


def _categories(lines: _Lines) -> tuple[str, ...]:
    line = lines.take("the category links")
    if not line.startswith("- "):
        raise lines.fail("expected the category links '- [cat](...) | ...'", lines.index)
    found = []
    for part in line[2:].split(" | "):
        match = _CATEGORY.match(part)
        if match is None:
            raise lines.fail(f"not a category link: {part[:60]!r}", lines.index)
        found.append(match.group(1))
    return tuple(found)


def _embed(lines: _Lines) -> Embed:
    number = lines.line_number
    match = lines.match(_EMBED, "an embedded post '<blockquote ...>...</blockquote>'")
    if lines.take("the widgets.js script line") != SCRIPT:
        raise lines.fail("expected the widgets.js script line after the embed", lines.index)
    return Embed(number, match.group(0), match.group("handle"), match.group("id"))


# --- normalisations: the original generator's quirks, each named and documented ------------

JAPAN = timedelta(hours=9)


def japan_clock(text: str) -> str:
    """The original wrote its Japan-time clock with a `Z` and no milliseconds
    (`2021-03-16T09:09:31.Z`); the project writes the same moment in UTC
    (`2021-03-16T00:09:31.000Z`), so the expected date is moved back nine hours."""

    def utc(match: re.Match[str]) -> str:
        moment = datetime.fromisoformat(match.group(1)) - JAPAN
        return f"date: {moment:%Y-%m-%dT%H:%M:%S}.000Z"

    return re.sub(r"^date: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.Z$", utc, text, count=1, flags=re.M)


def blank_after_front_matter(text: str) -> str:
    """2020-06-29, the first post: one extra blank line after the front matter, which later
    posts never have; the project writes the later layout."""
    return text.replace("\n---\n\n\n# 1. ", "\n---\n\n# 1. ", 1)


def repeated_embed(text: str) -> str:
    """2020-09-17: the same embedded post printed twice under one paper (that day's
    generator did not yet drop identical HTML; later ones, and the classic profile, do)."""
    lines = text.split("\n")
    kept: list[str] = []
    seen: set[str] = set()
    index = 0
    while index < len(lines):
        line = lines[index]
        if _HEADING.match(line):
            seen = set()
        elif line.startswith("<blockquote") and line in seen and kept and kept[-1] == "":
            kept.pop()  # the blank line before the repeat, the repeat and its script line
            index += 2
            continue
        elif line.startswith("<blockquote"):
            seen.add(line)
        kept.append(line)
        index += 1
    return "\n".join(kept)


def listing_whitespace(text: str) -> str:
    """Titles and abstracts: the original replaced each line break of the listing with a
    space, leaving two spaces where a line ended in one; the project collapses whitespace
    (as arXiv's pages show it), so runs of spaces in those two fields become one."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        is_title = _HEADING.match(line) is not None
        is_abstract = index >= 2 and _is_category_line(lines[index - 2]) and line != ""
        if is_title or is_abstract:
            lines[index] = re.sub(r" {2,}", " ", line).strip() if is_abstract else _title(line)
    return "\n".join(lines)


def _is_category_line(line: str) -> bool:
    return line.startswith("- [") and line.endswith("/recent)")


def _title(line: str) -> str:
    number, _, title = line.partition(". ")
    return f"{number}. {re.sub(r' {2,}', ' ', title).strip()}"


Normalisation = Callable[[str], str]
NORMALISATIONS: dict[str, Normalisation] = {
    "japan_clock": japan_clock,
    "blank_after_front_matter": blank_after_front_matter,
    "repeated_embed": repeated_embed,
    "listing_whitespace": listing_whitespace,
}


def normalise(text: str, names: tuple[str, ...]) -> tuple[str, set[str]]:
    """`text` with the named normalisations applied, and the names that changed it."""
    changed: set[str] = set()
    for name in names:
        after = NORMALISATIONS[name](text)
        if after != text:
            changed.add(name)
        text = after
    return text, changed


def mask_counts_time(text: str) -> str:
    """The post with the time inside each counts line blanked: the one unrepeatable field."""
    return re.sub(
        r"^(- retweets: \d+, favorites: \d+) \(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\)$",
        r"\1 (MM/DD/YYYY HH:MM:SS)",
        text,
        flags=re.M,
    )
