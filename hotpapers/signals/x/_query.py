"""Recent-search queries for X: which papers go into which query, within X's length limit.

Two strategies:

* batched - `url:"arxiv.org" (url:"ID1" OR url:"ID2" ...) -is:retweet`, as many papers per
  query as the limit allows. X's `url:` operator is a tokenized match on the expanded URL,
  so `url:"2103.06902"` finds the abs, pdf and html links of the paper, with or without a
  version (`url:"arxiv.org/abs/2103.06902"` would miss the pdf and html links, and naming all
  three forms per paper fits 3x fewer papers per query); `url:"arxiv.org"` keeps links to
  other sites that carry the id (alphaxiv, huggingface.co/papers) out of the billed reads.
* sweep - one query for every arXiv link in the window, `url:"arxiv.org" -is:retweet`.

Retweets are excluded server-side in both: a retweet copy carries its original's counts and
never adds to a paper's score, so reading it would only cost money.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

MAX_QUERY_LENGTH = 512  # recent search, pay-per-use and self-serve access
ARXIV_TERM = 'url:"arxiv.org"'
NO_RETWEETS = "-is:retweet"
SWEEP_QUERY = f"{ARXIV_TERM} {NO_RETWEETS}"
_OR = " OR "


def query_length(query: str) -> int:
    """The length X checks against the limit: characters of the (decoded) query value.

    Every character the project puts in a query is ASCII, so this is also its UTF-8 length.
    """
    return len(query)


def paper_term(arxiv_id: str) -> str:
    return f'url:"{arxiv_id}"'


def batch_query(arxiv_ids: Iterable[str]) -> str:
    terms = _OR.join(paper_term(arxiv_id) for arxiv_id in arxiv_ids)
    return f"{ARXIV_TERM} ({terms}) {NO_RETWEETS}"


def batched_queries(
    arxiv_ids: Iterable[str], limit: int = MAX_QUERY_LENGTH
) -> Iterator[tuple[str, list[str]]]:
    """(query, ids in it) packing ids greedily, in order, each query at most `limit` long."""
    overhead = query_length(batch_query([""])) - query_length(paper_term(""))
    batch: list[str] = []
    length = overhead
    for arxiv_id in arxiv_ids:
        term = query_length(paper_term(arxiv_id))
        extra = term + (len(_OR) if batch else 0)
        if batch and length + extra > limit:
            yield batch_query(batch), batch
            batch, length, extra = [], overhead, term
        if overhead + term > limit:
            raise ValueError(f"arXiv id {arxiv_id!r} is too long for one query")
        batch.append(arxiv_id)
        length += extra
    if batch:
        yield batch_query(batch), batch
