"""Made-up words and user names for the social fakes' seeded generators."""

from __future__ import annotations

import random

WORDS = tuple(
    [
        "scaling",
        "laws",
        "attention",
        "diffusion",
        "transformers",
        "retrieval",
        "agents",
        "alignment",
        "sparse",
        "mixture",
        "experts",
        "tokenizer",
        "reasoning",
        "benchmark",
        "robust",
        "vision",
        "language",
        "graph",
        "kernel",
        "optimizer",
        "distillation",
        "quantization",
        "long",
        "context",
        "memory",
    ]
)


FIRST_NAMES = tuple(
    [
        "ada",
        "alan",
        "grace",
        "edsger",
        "barbara",
        "donald",
        "frances",
        "john",
        "katherine",
        "leslie",
    ]
)


LAST_NAMES = tuple(
    ["lovelace", "turing", "hopper", "dijkstra", "liskov", "knuth", "allen", "mccarthy", "johnson"]
)


def made_up_title(rng: random.Random) -> str:
    return " ".join(rng.sample(WORDS, 4)).capitalize()


def made_up_user(rng: random.Random) -> str:
    return rng.choice(FIRST_NAMES) + rng.choice(LAST_NAMES)[:3] + str(rng.randrange(100))
