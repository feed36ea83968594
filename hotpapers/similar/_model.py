"""The embedding model: WordLlama's 256-dimension weights, loaded from the installed package.

WordLlama's default `load()` looks for its tokenizer under `<package>/tokenizer/` while the wheel
ships it under `<package>/tokenizers/`, so it would fall through to a download. Giving the package
folder itself as the cache folder finds both files where they are, and `disable_download=True`
makes a missing file an error instead of a network call.
"""

from __future__ import annotations

import logging
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hotpapers.errors import HotpapersError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from wordllama.inference import WordLlamaInference

log = logging.getLogger(__name__)

MODEL_NAME = "wordllama-l2s-256"
DIMENSIONS = 256
# Long abstracts add little after this many characters and cost time (tokens are pooled).
_MAX_CHARS = 2000
_load_lock = threading.Lock()


class EmbeddingUnavailable(HotpapersError):
    """The embedding model could not be loaded (package missing or incomplete)."""


@cache
def _model() -> WordLlamaInference:
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise EmbeddingUnavailable("the wordllama package is not installed") from exc
    folder = Path(wordllama.__file__).parent
    try:
        return WordLlama.load(cache_dir=folder, dim=DIMENSIONS, disable_download=True)
    except (FileNotFoundError, ValueError) as exc:
        log.error("wordllama could not load from %s: %s", folder, exc)
        raise EmbeddingUnavailable("the embedding model's files are missing") from exc


def model() -> WordLlamaInference:
    """The loaded model (once per process; loading takes about 0.3 s)."""
    with _load_lock:
        return _model()


def paper_text(title: str, abstract: str) -> str:
    """What a paper is embedded from: its title, then its abstract (cut to a bounded length)."""
    return f"{' '.join(title.split())}. {' '.join(abstract.split())}"[:_MAX_CHARS]


def embed_texts(texts: Sequence[str]) -> np.ndarray:
    """Unit vectors, one row per text, float32 of shape (len(texts), DIMENSIONS)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = model().embed(list(texts), norm=True, batch_size=256)
    return np.ascontiguousarray(vectors, dtype=np.float32)
