"""Quality of similar papers: WordLlama (the default) against a TF-IDF baseline.

For each paper of a sample: its k=10 nearest others by cosine; the figures are the share of those
neighbours with the same primary category, and with at least one author in common. Two samples:
the real papers of the historic posts in ../shared/reference/historic/ (169 real titles and
abstracts), and papers of the generated snapshot (whose abstracts are random words: there
quality must come out at chance level, which the sample's own chance figure shows).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

K = 10
_HEADING = re.compile(r"^# \d+\. (?P<title>.+)$")
_CATEGORY = re.compile(r"\[(?P<cat>[a-zA-Z.-]+)\]\(https://arxiv\.org/list/")


@dataclass(frozen=True)
class Sample:
    text: list[str]
    category: list[str]
    authors: list[frozenset[str]]


def historic(folder: Path) -> Sample:
    """Title, authors, primary category (first listed) and abstract of each paper in the posts."""
    text, category, authors = [], [], []
    seen: set[str] = set()
    for post in sorted(folder.glob("*.md")):
        lines = post.read_text().splitlines()
        for i, line in enumerate(lines):
            heading = _HEADING.match(line)
            if not heading:
                continue
            block = lines[i + 1 : i + 12]
            cats = next((_CATEGORY.findall(b) for b in block if b.startswith("- [")), [])
            names = next((b for b in block if b.strip()), "")
            abstract = next((b for b in block if len(b) > 200 and not b.startswith(("-", "<"))), "")
            title = heading["title"].strip()
            if not cats or not abstract or title in seen:
                continue
            seen.add(title)
            text.append(f"{title}. {abstract}")
            category.append(cats[0])
            authors.append(frozenset(n.strip() for n in names.split(",")))
    return Sample(text, category, authors)


def snapshot(path: Path, count: int) -> Sample:
    rows = [json.loads(line) for line in islice(path.open(), count)]
    return Sample(
        [f"{r['title']}. {r['abstract']}" for r in rows],
        [r["categories"].split()[0] for r in rows],
        [frozenset(" ".join(a[::-1]).strip() for a in r["authors_parsed"]) for r in rows],
    )


def neighbours(vectors: np.ndarray, k: int = K) -> np.ndarray:
    """Indices of each row's k nearest other rows by dot product (rows are unit vectors)."""
    found = np.empty((vectors.shape[0], k), dtype=np.int64)
    for start in range(0, vectors.shape[0], 1000):
        scores = vectors[start : start + 1000] @ vectors.T
        if hasattr(scores, "toarray"):
            scores = scores.toarray()
        for row in range(scores.shape[0]):
            scores[row, start + row] = -np.inf
        best = np.argpartition(-scores, k, axis=1)[:, :k]
        found[start : start + 1000] = best
    return found


def quality(sample: Sample, nearest: np.ndarray) -> tuple[float, float]:
    same_category = shared_author = 0
    for i, row in enumerate(nearest):
        same_category += sum(sample.category[j] == sample.category[i] for j in row)
        shared_author += sum(bool(sample.authors[j] & sample.authors[i]) for j in row)
    total = nearest.size
    return same_category / total, shared_author / total


def chance(sample: Sample) -> float:
    """Same-category share of k random neighbours: the floor any method must beat."""
    counts: dict[str, int] = {}
    for c in sample.category:
        counts[c] = counts.get(c, 0) + 1
    n = len(sample.category)
    return sum(c * (c - 1) for c in counts.values()) / (n * (n - 1))


def wordllama(texts: list[str]) -> np.ndarray:
    from hotpapers.similar import embed_texts, paper_text

    return embed_texts([paper_text(t, "") for t in texts])


def tfidf(texts: list[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    # The usual baseline (as arxiv-sanity): word uni+bigrams, sublinear tf, l2-normalised rows.
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_df=0.5, stop_words="english"
    )
    return vectorizer.fit_transform(texts)  # type: ignore[no-any-return]


METHODS: dict[str, Callable[[list[str]], np.ndarray]] = {"wordllama": wordllama, "tfidf": tfidf}


def report(name: str, sample: Sample) -> None:
    print(f"{name}: {len(sample.text):,} papers, same-category chance {chance(sample):.3f}")
    for method, embed in METHODS.items():
        started, cpu = time.perf_counter(), time.process_time()
        vectors = embed(sample.text)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        started = time.perf_counter()
        nearest = neighbours(vectors)
        query_ms = (time.perf_counter() - started) / len(sample.text) * 1000
        category, author = quality(sample, nearest)
        print(
            f"  {method:9} same category {category:.3f}, shared author {author:.3f}; "
            f"embed {len(sample.text) / wall:,.0f} papers/s wall ({len(sample.text) / cpu:,.0f}"
            f"/CPU-s); k-NN {query_ms:.2f} ms/query (brute force over the sample)",
            flush=True,
        )
