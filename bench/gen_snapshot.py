"""Generate a synthetic Kaggle-format arXiv metadata snapshot (JSON Lines), deterministically.

    python bench/gen_snapshot.py N OUT [--seed 1] [--authors 300000]

Realistic sizes: ~1,000-character abstracts, 1-10 authors drawn from a pool of ~300k names
(so authors repeat, some with accents), 1-4 categories from the active taxonomy, 1-3 versions,
a few percent old-style ids. `OUT` ending in .gz is gzip-compressed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hotpapers.arxiv._taxonomy_data import CATEGORIES

_FIRST = [
    "Anna",
    "Wei",
    "Jun",
    "Li",
    "Maria",
    "José",
    "Pierre",
    "Ahmed",
    "Yuki",
    "Olga",
    "Ivan",
    "Sofia",
    "Lukas",
    "Chen",
    "Hao",
    "Emma",
    "Noah",
    "Mateo",
    "Zoë",
    "Aarav",
    "Priya",
    "Kenji",
    "Sven",
    "Björn",
    "Élodie",
    "Łukasz",
    "Dmitri",
    "Fatima",
    "Omar",
    "Ines",
    "Raúl",
    "Chloé",
    "Jürgen",
    "Søren",
    "Ángel",
    "Nuño",
    "Zhang",
    "Xiao",
    "Ming",
    "Rahul",
    "Anjali",
    "Hiroshi",
    "Akira",
    "Lena",
    "Paul",
    "Marco",
    "Giulia",
]
_LAST_ROOTS = [
    "krä",
    "hen",
    "bühl",
    "smi",
    "th",
    "mül",
    "ler",
    "gar",
    "cía",
    "wang",
    "zhang",
    "li",
    "liu",
    "chen",
    "yang",
    "huang",
    "zhao",
    "wu",
    "zhou",
    "sch",
    "midt",
    "fisch",
    "er",
    "wag",
    "ner",
    "be",
    "cker",
    "hoff",
    "mann",
    "kow",
    "al",
    "ski",
    "nowak",
    "ivan",
    "ov",
    "pet",
    "rov",
    "sato",
    "suzu",
    "ki",
    "taka",
    "hashi",
    "tana",
    "ka",
    "kim",
    "lee",
    "park",
    "nguy",
    "en",
    "tran",
    "rossi",
    "russo",
    "ferr",
    "ari",
    "dubois",
    "martin",
    "bern",
    "ard",
    "lefèvre",
    "ander",
    "sen",
    "niel",
    "sen",
    "jo",
    "han",
    "sson",
    "ols",
    "son",
    "öz",
    "türk",
    "yıl",
    "maz",
]
_WORDS = [
    "we",
    "propose",
    "novel",
    "method",
    "learning",
    "neural",
    "network",
    "model",
    "data",
    "results",
    "show",
    "performance",
    "state",
    "of",
    "the",
    "art",
    "quantum",
    "field",
    "theory",
    "galaxy",
    "cluster",
    "dark",
    "matter",
    "energy",
    "spectrum",
    "algorithm",
    "graph",
    "bound",
    "proof",
    "theorem",
    "lemma",
    "convergence",
    "optimization",
    "stochastic",
    "gradient",
    "transformer",
    "attention",
    "language",
    "vision",
    "robust",
    "efficient",
    "scalable",
    "framework",
    "analysis",
    "experimental",
    "observation",
    "measurement",
    "simulation",
    "lattice",
    "phase",
    "transition",
    "topological",
    "symmetry",
    "invariant",
    "manifold",
    "operator",
    "estimate",
    "$\\alpha$",
    "$O(n\\log",
    "n)$",
    "100%",
    "under_score",
]


def _name_pool(rng: random.Random, size: int) -> list[tuple[str, str, str]]:
    pool: dict[tuple[str, str, str], None] = {}
    while len(pool) < size:
        last = "".join(rng.choice(_LAST_ROOTS) for _ in range(rng.randint(2, 3))).capitalize()
        initials = rng.random() < 0.3
        first = rng.choice(_FIRST)
        if initials:
            first = f"{first[0]}. {rng.choice(_FIRST)[0]}."
        elif rng.random() < 0.2:
            first = f"{first} {rng.choice(_FIRST)[0]}."
        suffix = "Jr" if rng.random() < 0.005 else ""
        pool[(last, first, suffix)] = None
    return list(pool)


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(_WORDS, k=words)).capitalize()


def _date(moment: datetime) -> str:
    return moment.strftime("%a, %-d %b %Y %H:%M:%S GMT")


def generate(count: int, out: IO[str], *, seed: int = 1, authors: int = 300_000) -> None:
    rng = random.Random(seed)
    pool = _name_pool(rng, authors)
    categories = sorted(CATEGORIES)
    start = datetime(2007, 4, 1, tzinfo=UTC)
    span = (datetime(2026, 10, 1, tzinfo=UTC) - start).total_seconds()
    per_month: dict[str, int] = {}
    for index in range(count):
        moment = start + timedelta(seconds=span * index / max(count, 1) + rng.random() * 3600)
        if rng.random() < 0.03:
            archive = rng.choice(("hep-th", "hep-ph", "astro-ph", "math", "cond-mat", "quant-ph"))
            key = f"{archive}/{rng.randint(92, 106) % 100:02d}{rng.randint(1, 12):02d}"
            number = per_month[key] = per_month.get(key, 0) + 1
            arxiv_id = f"{key}{number % 1000:03d}"
        else:
            month = moment.strftime("%y%m")
            number = per_month[month] = per_month.get(month, 0) + 1
            arxiv_id = f"{month}.{number:05d}" if moment.year >= 2015 else f"{month}.{number:04d}"
        people = rng.sample(pool, rng.randint(1, 10))
        cats = rng.sample(categories, rng.randint(1, 4))
        versions = []
        created = moment
        for number in range(1, rng.randint(1, 3) + 1):
            versions.append({"version": f"v{number}", "created": _date(created)})
            created += timedelta(days=rng.randint(1, 200), seconds=rng.randint(0, 86400))
        abstract = "  " + "\n".join(_sentence(rng, 14) + "." for _ in range(11)) + "\n"
        record = {
            "id": arxiv_id,
            "submitter": f"{people[0][1]} {people[0][0]}",
            "authors": ", ".join(f"{first} {last}" for last, first, _ in people),
            "title": _sentence(rng, rng.randint(6, 14)),
            "comments": f"{rng.randint(5, 40)} pages, {rng.randint(1, 12)} figures"
            if rng.random() < 0.7
            else None,
            "journal-ref": f"Phys. Rev. D {rng.randint(50, 110)} ({moment.year})"
            if rng.random() < 0.3
            else None,
            "doi": f"10.{rng.randint(1000, 9999)}/{rng.randint(10**6, 10**7)}"
            if rng.random() < 0.4
            else None,
            "report-no": None,
            "categories": " ".join(cats),
            "license": None,
            "abstract": abstract,
            "versions": versions,
            "update_date": (created - timedelta(days=1)).strftime("%Y-%m-%d"),
            "authors_parsed": [[last, first, suffix] for last, first, suffix in people],
        }
        out.write(json.dumps(record))
        out.write("\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--authors", type=int, default=300_000, help="size of the name pool")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.suffix == ".gz":
        with gzip.open(args.out, "wt", encoding="utf-8") as out:
            generate(args.count, out, seed=args.seed, authors=args.authors)
    else:
        with args.out.open("w", encoding="utf-8") as out:
            generate(args.count, out, seed=args.seed, authors=args.authors)


if __name__ == "__main__":
    main()
