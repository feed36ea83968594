"""The embedding model: WordLlama's 256-dimension weights, loaded from the installed package.

WordLlama's default `load()` looks for its tokenizer under `<package>/tokenizer/` while the wheel
ships it under `<package>/tokenizers/`, so it would fall through to a download. Giving the package
folder itself as the cache folder finds both files where they are, and `disable_download=True`
makes a missing file an error instead of a network call.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hotpapers.errors import HotpapersError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tokenizers import Encoding, Tokenizer
    from wordllama.inference import WordLlamaInference

log = logging.getLogger(__name__)

MODEL_NAME = "wordllama-l2s-256"
DIMENSIONS = 256
# Long abstracts add little after this many characters and cost time (tokens are pooled).
_MAX_CHARS = 2000
_load_lock = threading.Lock()
# The shipped tokenizer's normalizer: a "▁" before the text and for each space.
_SHIPPED_NORMALIZER = {
    "type": "Sequence",
    "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
    ],
}


class EmbeddingUnavailable(HotpapersError):
    """The embedding model could not be loaded (package missing or incomplete)."""


@cache
def _model() -> WordLlamaInference:
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise EmbeddingUnavailable("the wordllama package is not installed") from exc
    from tokenizers import pre_tokenizers

    folder = Path(wordllama.__file__).parent
    try:
        loaded = WordLlama.load(cache_dir=folder, dim=DIMENSIONS, disable_download=True)
    except (FileNotFoundError, ValueError) as exc:
        log.error("wordllama could not load from %s: %s", folder, exc)
        raise EmbeddingUnavailable("the embedding model's files are missing") from exc
    # The shipped tokenizer has no pre-tokenizer, so BPE runs over a whole abstract at once.
    # Its pieces never span a word boundary, so cutting before each "▁" (a space, after the
    # normalizer) gives the same tokens (paper_text collapses runs of spaces) and is ~1.6x
    # faster on abstracts (BENCHMARKS.md).
    loaded.tokenizer.pre_tokenizer = pre_tokenizers.Split("\u2581", behavior="merged_with_next")
    return loaded


def model() -> WordLlamaInference:
    """The loaded model (once per process; loading takes about 0.3 s)."""
    with _load_lock:
        return _model()


@dataclass(frozen=True)
class _Encoder:
    """WordLlama's tokenizer and weights as `embed_texts` runs them (same tokens, less work).

    The tokenizer pads nothing: WordLlama pads a batch to its longest text, gathers a vector
    for every padding token and multiplies it by zero, half its CPU time. When the normalizer is
    the shipped one it runs here as one `str.replace` instead (the tokenizer's own tracks
    offsets for each character: ~25% of its time).
    """

    tokenizer: Tokenizer
    table: np.ndarray  # (vocabulary, DIMENSIONS) float32
    normalizes_here: bool

    def encode(self, texts: Sequence[str]) -> list[Encoding]:
        if self.normalizes_here:
            texts = ["\u2581" + text.replace(" ", "\u2581") if text else text for text in texts]
        # Parallel over the CPUs (Rust threads, without the GIL) unless TOKENIZERS_PARALLELISM
        # says otherwise; `_fast` skips the character offsets, which nothing here reads.
        return self.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)


@cache
def _encoder() -> _Encoder:
    from tokenizers import Tokenizer

    loaded = _model()  # the caller holds _load_lock
    tokenizer = Tokenizer.from_str(loaded.tokenizer.to_str())
    tokenizer.no_padding()
    shipped = tokenizer.normalizer
    # Its own JSON (what pickling uses), not the whole tokenizer's: that is 0.1 s of parsing.
    normalizes_here = (
        shipped is not None and json.loads(shipped.__getstate__()) == _SHIPPED_NORMALIZER
    )
    if normalizes_here:
        tokenizer.normalizer = None
    return _Encoder(tokenizer, loaded.embedding, normalizes_here)


def _pooled(table: np.ndarray, encodings: Sequence[Encoding]) -> np.ndarray:
    """The mean token vector of each text, scaled to unit length: WordLlama's `embed(norm=True)`.

    Each text is summed on its own in token order (numpy adds rows one after another), the
    same float32 additions as WordLlama's padded batch, whose padding adds exact zeros; the
    division and the norm are WordLlama's too. So the bytes are the same (tested).
    """
    vectors = np.empty((len(encodings), table.shape[1]), dtype=np.float32)
    counts = np.empty((len(encodings), 1), dtype=np.float32)
    for row, encoding in enumerate(encodings):
        ids = np.array(encoding.ids, dtype=np.intp)
        # add.reduce and take, not sum and [ids]: the same arithmetic with less Python around it
        np.add.reduce(table.take(ids, axis=0), axis=0, out=vectors[row])
        counts[row] = max(len(ids), 1)
    vectors /= counts
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def paper_text(title: str, abstract: str) -> str:
    """What a paper is embedded from: its title, then its abstract (cut to a bounded length)."""
    return f"{' '.join(title.split())}. {' '.join(abstract.split())}"[:_MAX_CHARS]


def embed_texts(texts: Sequence[str]) -> np.ndarray:
    """Unit vectors, one row per text, float32 of shape (len(texts), DIMENSIONS)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    with _load_lock:
        encoder = _encoder()
    return _pooled(encoder.table, encoder.encode(texts))
