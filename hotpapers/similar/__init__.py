"""Content similarity: "more like this paper" (issue #13 §2).

Each paper's title and abstract become one unit vector (`embed_texts`, a static word-embedding
model shipped inside the `wordllama` package, run offline on the CPU). The vectors are stored per
paper in the database (`paper_vector`, float16 bytes on both SQLite and PostgreSQL) when papers
are collected or imported (`embed_missing`), and searched in process (`nearest`), from a matrix
loaded once per database and kept fresh from the table's `added_at` column.

May import: the storage layer (models, db) and numpy. Never Discord.
"""

from hotpapers.similar._index import Neighbour, forget_cached_indexes, nearest
from hotpapers.similar._lookup import SIMILARITY_FLOOR, SimilarResult, similar_to
from hotpapers.similar._model import DIMENSIONS, MODEL_NAME, embed_texts, paper_text
from hotpapers.similar._store import EmbedReport, embed_missing, vectors_for

__all__ = [
    "DIMENSIONS",
    "MODEL_NAME",
    "SIMILARITY_FLOOR",
    "EmbedReport",
    "Neighbour",
    "SimilarResult",
    "embed_missing",
    "embed_texts",
    "forget_cached_indexes",
    "nearest",
    "paper_text",
    "similar_to",
    "vectors_for",
]
