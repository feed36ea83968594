"""Made-up but realistic arXiv papers for a listing day (titles, abstracts with maths, authors
with diacritics, cross-lists, replacements)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from hotpapers.arxiv import calendar
from hotpapers.arxiv.holidays import ARXIV_HOLIDAYS
from hotpapers.arxiv.taxonomy import normalize_category
from hotpapers.fakes.arxiv.state import FakePaper
from hotpapers.storage.records import PaperRecord, VersionRecord

_METHODS = [
    "Sparse Mixture-of-Experts", "Diffusion Transformers", "Contrastive Pretraining",
    "Low-Rank Adaptation", "State-Space Models", "Graph Neural Networks",
    "Neural Radiance Fields", "Direct Preference Optimization", "Speculative Decoding",
    "Vision-Language Models", "Kolmogorov-Arnold Networks", "Flow Matching",
    "Test-Time Training", "Retrieval-Augmented Generation", "Gaussian Splatting",
]  # fmt: skip


_GOALS = [
    "Scalable", "Provably Efficient", "Robust", "Data-Efficient", "Calibrated",
    "Interpretable", "Memory-Efficient", "Faithful", "Compositional", "Private",
]  # fmt: skip


_TASKS = [
    "Long-Context Reasoning", "Open-Vocabulary Segmentation", "Protein Design",
    "Multilingual Machine Translation", "Offline Reinforcement Learning", "3D Scene Understanding",
    "Time-Series Forecasting", "Code Generation", "Video Prediction", "Causal Discovery",
    "Tabular Learning", "Autonomous Driving",
]  # fmt: skip


_SENTENCES = [
    "We study {method} for {task} and identify a failure mode of existing approaches.",
    "Existing methods scale poorly, requiring $\\mathcal{{O}}(n^2)$ memory in the sequence length.",
    "We propose a simple modification that reduces the cost to $\\mathcal{{O}}(n \\log n)$ "
    "while preserving accuracy.",
    "Our analysis shows that the estimator is consistent whenever $x < y$ & the noise is "
    "sub-Gaussian.",
    "On standard benchmarks, the method improves over strong baselines by {gain}% on average.",
    "We further show that {method} transfers to {task2} without additional tuning.",
    "Ablations reveal that the gains come mostly from the training objective, not the "
    "architecture.",
    "Code and pretrained checkpoints are released to facilitate reproducibility.",
    "We provide a theoretical bound of $\\epsilon = \\tilde{{O}}(1/\\sqrt{{T}})$ on the regret.",
    "Experiments span {k} datasets and models of up to {size}B parameters.",
]  # fmt: skip


_AUTHORS = [
    "Philipp Krähenbühl", "Zoë Andrade", "Søren Kjærgaard", "Mária Novák", "Émilie Durand",
    "Łukasz Wiśniewski", "Ngọc Anh Trần", "Wei Zhang", "Priya Raghunathan", "Oğuz Yılmaz",
    "Anna-Lena Müller", "José Ángel Peña", "Björn Åkesson", "Chidi Okafor", "Hiroshi Tanaka",
    "Fatima Al-Sayed", "Mateo Rossi", "Yuki Sato", "Ingrid Halvorsen", "Rahul Mehta",
    "Sara Lindqvist", "Kwame Mensah", "Li Na", "Jean-Baptiste Lefèvre", "Ana María Ruiz",
]  # fmt: skip


_OTHER_CATEGORIES = [
    "math.OC", "eess.IV", "cs.RO", "q-bio.NC", "quant-ph", "eess.SP", "cs.IR", "cs.NE",
    "physics.data-an", "math.ST",
]  # fmt: skip


_OLD_STYLE = ["hep-th/0601001", "math.GT/0309136", "cond-mat/0703012", "astro-ph/0601001"]


_KIND_PATTERN = [
    "new", "new", "cross", "new", "replace", "new", "new", "cross", "replace-cross", "new",
]  # fmt: skip


def generate_papers(
    listing_date: date,
    categories: Sequence[str],
    n: int,
    seed: int = 0,
    *,
    holidays: Iterable[date] = ARXIV_HOLIDAYS,
) -> list[FakePaper]:
    """`n` realistic, deterministic papers announced in `listing_date` for `categories`.

    New and cross-listed papers were submitted (v1) inside the listing's submission window;
    replacements have an older v1 and a v2 (sometimes v3) inside the window. A couple of
    replacements use old-style ids (`hep-th/0601001`). Titles and abstracts carry LaTeX,
    `<` and `&`; authors include accented names.
    """
    rng = random.Random(seed)
    cats = [normalize_category(c) or c for c in categories] or ["cs.LG"]
    others = [c for c in _OTHER_CATEGORIES if c not in cats]
    window_start, window_end = calendar.submission_window(listing_date, list(holidays))
    window_seconds = int((window_end - window_start).total_seconds())
    prefix = listing_date.strftime("%y%m")
    serials = rng.sample(range(1, 30000), n)
    old_style = iter(_OLD_STYLE)
    papers: list[FakePaper] = []
    for index in range(n):
        kind = _KIND_PATTERN[index % len(_KIND_PATTERN)]
        if kind in {"new", "replace"}:
            primary = rng.choice(cats)
            extra = rng.sample([c for c in [*cats, *others] if c != primary], rng.randint(0, 2))
        else:
            primary = rng.choice(others)
            extra = rng.sample(cats, min(len(cats), rng.randint(1, 2)))
        in_window = window_start + timedelta(seconds=rng.randrange(max(window_seconds, 1)))
        if kind.startswith("replace"):
            old = next(old_style, None) if index % 20 == 8 else None
            arxiv_id, version, history = _replacement(rng, old, in_window)
        else:
            arxiv_id = f"{prefix}.{serials[index]:05d}"
            version = 1
            history = [VersionRecord(1, in_window)]
        record = PaperRecord(
            arxiv_id=arxiv_id,
            version=version,
            title=_title(rng),
            abstract=_abstract(rng),
            authors=tuple(rng.sample(_AUTHORS, rng.randint(1, 7))),
            categories=(primary, *extra),
            primary_category=primary,
            comment=_comment(rng),
            journal_ref=f"Trans. Mach. Learn. Res. {rng.randint(2024, 2026)}"
            if rng.random() < 0.1
            else None,
            doi=_doi(rng, arxiv_id),
            submitted=history[0].created,
            updated=history[-1].created,
            announce_type=kind,
            versions=tuple(history),
        )
        papers.append(FakePaper(record, listing_date))
    return _unique(papers)


def _replacement(
    rng: random.Random, old_id: str | None, in_window: datetime
) -> tuple[str, int, list[VersionRecord]]:
    """Id, version and history of a replacement: an older v1 (an old-style id when given)
    and a v2, sometimes v3, inside the window."""
    if old_id is not None:
        arxiv_id = old_id
        first = datetime(2000 + int(old_id[-7:-5]), int(old_id[-5:-3]), 2, 14, 57, tzinfo=UTC)
        first += timedelta(days=rng.randrange(20), seconds=rng.randrange(86400))
    else:
        first = in_window - timedelta(days=rng.randint(20, 700), seconds=rng.randrange(86400))
        arxiv_id = f"{first:%y%m}.{rng.randrange(30000, 100000):05d}"
    version = 2 if rng.random() < 0.8 else 3
    history = [VersionRecord(1, first)]
    if version == 3:
        history.append(VersionRecord(2, first + (in_window - first) / 2))
    history.append(VersionRecord(version, in_window))
    return arxiv_id, version, history


def generate_past_day(
    listing_date: date,
    categories: Sequence[str],
    n: int,
    seed: int = 0,
    *,
    holidays: Iterable[date] = ARXIV_HOLIDAYS,
) -> list[FakePaper]:
    """A past day as the archive holds it: what an archive query for `listing_date` must sort out.

    * `n` papers announced on `listing_date` (new, cross, replace, replace-cross: see
      `generate_papers`), datestamped that day;
    * cross-lists of older papers: first announced 2-8 weeks earlier in another category,
      cross-listed into `categories` on `listing_date` without a new version; arXiv moves the
      OAI datestamp to `listing_date` and the day's feed lists them as `cross`;
    * a metadata-only change (a journal ref added) to an older paper of `categories`:
      datestamped `listing_date` but in no listing of that day;
    * new papers of the day replaced two weeks later: their datestamp has moved on;
    * the previous and next listings, and papers of other categories on the same day.
    """
    days = list(holidays)
    cats = [normalize_category(c) or c for c in categories] or ["cs.LG"]
    rng = random.Random(f"past-day-{seed}")
    start, end = calendar.submission_window(listing_date, days)
    others = [c for c in _OTHER_CATEGORIES if c not in cats][:2] or ["math.OC"]
    neighbours = max(n // 4, 1)
    day = generate_papers(listing_date, cats, n, seed, holidays=days)
    papers = [
        *(_changed_later(p, end) if i % 8 == 3 and p.record.version == 1 else p
          for i, p in enumerate(day)),
        *(_late_cross_list(rng, listing_date, cats, start, i) for i in range(max(n // 10, 2))),
        _metadata_update(rng, listing_date, cats, start, days),
        *generate_papers(
            calendar.previous_listing_date(listing_date, days), cats, neighbours, seed + 1,
            holidays=days,
        ),
        *generate_papers(
            calendar.next_listing_date(listing_date, days), cats, neighbours, seed + 2,
            holidays=days,
        ),
        *generate_papers(listing_date, others, neighbours, seed + 3, holidays=days),
    ]  # fmt: skip
    return _unique(papers)


def _changed_later(paper: FakePaper, end: datetime) -> FakePaper:
    """The paper after a v2 two weeks past its listing: OAI datestamps it then, not on its day."""
    v2 = end + timedelta(days=14)
    record = paper.record
    history = (*record.versions, VersionRecord(2, v2))
    newer = dataclasses.replace(record, version=2, updated=v2, versions=history)
    return FakePaper(newer, paper.listing_date, datestamp=(v2 + timedelta(days=1)).date())


def _old_record(
    rng: random.Random, cats: Sequence[str], primary: str, first: datetime, versions: int
) -> PaperRecord:
    """A paper whose versions all predate the listing in question (one a week apart)."""
    history = tuple(
        VersionRecord(v, first + timedelta(days=7 * (v - 1))) for v in range(1, versions + 1)
    )
    arxiv_id = f"{first:%y%m}.{rng.randrange(30000, 100000):05d}"
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=versions,
        title=_title(rng),
        abstract=_abstract(rng),
        authors=tuple(rng.sample(_AUTHORS, rng.randint(1, 5))),
        categories=(primary, *cats),
        primary_category=primary,
        comment=_comment(rng),
        submitted=history[0].created,
        updated=history[-1].created,
        versions=history,
    )


def _late_cross_list(
    rng: random.Random, listing_date: date, cats: Sequence[str], start: datetime, index: int
) -> FakePaper:
    """An older paper of another category, cross-listed into one of `cats` on `listing_date`."""
    primary = rng.choice([c for c in _OTHER_CATEGORIES if c not in cats] or ["math.OC"])
    first = start - timedelta(days=rng.randint(14, 56), seconds=rng.randrange(86400))
    record = _old_record(rng, [cats[index % len(cats)]], primary, first, 1 + index % 2)
    return FakePaper(dataclasses.replace(record, announce_type="cross"), listing_date)


def _metadata_update(
    rng: random.Random,
    listing_date: date,
    cats: Sequence[str],
    start: datetime,
    holidays: list[date],
) -> FakePaper:
    """An older paper of `cats` that got a journal ref on `listing_date`: no announcement."""
    first = start - timedelta(days=rng.randint(21, 56), seconds=rng.randrange(86400))
    record = _old_record(rng, cats[1:2], cats[0], first, 1)
    record = dataclasses.replace(
        record, journal_ref="Phys. Rev. E 112, 045301 (2026)", announce_type="new"
    )
    announced = calendar.next_listing_date(first.astimezone(calendar.ET).date(), holidays)
    return FakePaper(record, announced, datestamp=listing_date)


def _unique(papers: list[FakePaper]) -> list[FakePaper]:
    seen: dict[str, FakePaper] = {}
    for paper in papers:
        seen.setdefault(paper.record.arxiv_id, paper)
    return list(seen.values())


def _title(rng: random.Random) -> str:
    method, task = rng.choice(_METHODS), rng.choice(_TASKS)
    forms = [
        f"{rng.choice(_GOALS)} {method} for {task}",
        f"On the Limits of {method} in {task}",
        f"{method} Are Secretly {rng.choice(_GOALS)} Learners: Evidence from {task}",
        f"Beyond $\\mathcal{{O}}(n^2)$: {rng.choice(_GOALS)} {method}",
        f"When Does {method} Help {task}? A Large-Scale Study",
    ]
    return rng.choice(forms)


def _abstract(rng: random.Random) -> str:
    method, task, task2 = rng.choice(_METHODS), rng.choice(_TASKS), rng.choice(_TASKS)
    chosen = [_SENTENCES[0], *rng.sample(_SENTENCES[1:], rng.randint(3, 6))]
    return " ".join(
        s.format(
            method=method,
            task=task.lower(),
            task2=task2.lower(),
            gain=rng.randint(2, 19),
            k=rng.randint(3, 40),
            size=rng.choice([1, 7, 13, 70]),
        )
        for s in chosen
    )


def _doi(rng: random.Random, arxiv_id: str) -> str | None:
    return f"10.48550/arXiv.{arxiv_id}" if rng.random() < 0.15 and "/" not in arxiv_id else None


def _comment(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.4:
        return f"{rng.randint(8, 40)} pages, {rng.randint(2, 12)} figures"
    if roll < 0.6:
        venue = rng.choice(["NeurIPS 2026", "ICLR 2027", "CVPR 2026", "ACL 2026"])
        return f"Accepted at {venue}; code: https://github.com/example/project"
    return None
