"""Full-text search: `search_papers` (the index: hotpapers/storage/fulltext.py, migrations 0003,
0009, 0014).

How a search is answered depends on how much it matches, so that no search costs more than a
bounded amount of work at a million papers (BENCHMARKS.md, "Search at a million papers"):

* **Relevance** (at most `_RANK_ALL` matches after the filters): every match is scored, by
  FTS5's bm25() on SQLite and ts_rank_cd() on PostgreSQL, title words weighing more; ties
  newest first. On SQLite bm25() also counts, for each word, every paper that has it (its
  rarity): a word in more than `_COMMON_WORD` papers makes that count too slow, and such a
  search takes the rule below even when it matches few papers.
* **Very common searches** (more matches than that): scoring would have to read every match.
  Only the newest `_WINDOW` matches are looked at; those with every word and phrase in the
  title come first, then the others, newest first in each group. Both databases find the
  newest matches by walking an index in submission order (SQLite: the FTS5 rowid, which
  follows import and collection order; PostgreSQL: ix_paper_submitted) and the title ones by
  the same match restricted to the title (an FTS5 column filter; title words are weight A in
  the tsvector).
* **An author: filter on SQLite**: the authors' newest `_WINDOW` papers that match, title
  matches first, newest first (never scored), as walking the words' matches costs far more.
* **A category: filter on SQLite** is part of the FTS5 query (the categories are a column of
  the index), so FTS5 intersects the category's papers with the words' matches; PostgreSQL
  checks paper_category (with very common words: walking the category's newest papers).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, TextClause, bindparam, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from hotpapers.errors import DatabaseError, InputError, quoted
from hotpapers.storage.fulltext import TS_CONFIG, category_token
from hotpapers.storage.queries import (
    _MAX_AUTHORS,
    PaperSummary,
    _expanding,
    author_names,
    papers_by_ids,
)
from hotpapers.storage.search_query import SearchQuery, parse_search

__all__ = ["search_papers"]

log = logging.getLogger(__name__)

_RANK_ALL = 2000  # scoring ~2,000 matches costs a few ms on either database
_WINDOW = 1000  # a very common search looks at its newest this many matches
_COMMON_WORD = 20_000  # SQLite: bm25() counting a word's papers costs ~40 ns each
_PG_SURELY_MANY = 10 * _RANK_ALL  # PostgreSQL: an estimate above this is not checked

# SQLite: the FTS5 rowid is `paper`'s, so each match reaches its paper row by primary key.
_SQLITE_MATCHES = (
    " FROM paper_fts CROSS JOIN paper p ON p.rowid = paper_fts.rowid"
    " WHERE paper_fts MATCH :q{filters}"
)
# The newest :cap + 1 matches' rowids, newest first: FTS5 walks its doclists newest first and
# stops there. One walk tells whether there are more than :cap and gives the window. The paper
# row is joined only for a filter on its columns (a lookup per match otherwise wasted).
_SQLITE_NEWEST_ROWIDS = (
    "SELECT paper_fts.rowid FROM paper_fts{join} WHERE paper_fts MATCH :q{filters}"
    " ORDER BY paper_fts.rowid DESC LIMIT :cap + 1"
)
_SQLITE_PAPER = " CROSS JOIN paper p ON p.rowid = paper_fts.rowid"
# Which of the window's matches have every word and phrase in the title (a walk of the title
# matches from the oldest of the window up).
_SQLITE_IN_TITLE = "SELECT rowid FROM paper_fts WHERE paper_fts MATCH :in_title AND rowid >= :low"
# Is the word in more than :common papers? (the same walk, over one word's doclist)
_SQLITE_COMMON = (
    "SELECT rowid FROM paper_fts WHERE paper_fts MATCH :word ORDER BY rowid DESC"
    " LIMIT 1 OFFSET :common"
)
_SQLITE_RANKED = (
    "SELECT p.id" + _SQLITE_MATCHES + " ORDER BY bm25(paper_fts, 4.0, 1.0, 0.0),"
    " p.submitted DESC NULLS LAST, p.id DESC LIMIT :limit"
)
# An author: filter: FTS5 walking every match of a common word and checking its authors
# costs ~10 us a match (seconds at a million papers); the authors' newest :cap papers are few,
# and each is looked up in the index by rowid instead (~30 us each). Not scored: bm25() would
# count every paper with each word. Title matches first, newest first, then the other
# matches: two statements, each walking the candidates newest first (SQLite reads the IN list
# in rowid order) and stopping at :limit, so only as many are looked up as the answer needs.
_SQLITE_AUTHORS_CANDIDATES = (
    "SELECT p.id FROM paper p WHERE p.rowid IN (SELECT a.rowid FROM paper_author pa"
    "  JOIN paper a ON a.id = pa.paper_id WHERE pa.author_name IN ({names})"
    "  ORDER BY a.rowid DESC LIMIT :cap){filters}"
)
_SQLITE_HAS = (
    " AND {no}EXISTS (SELECT 1 FROM paper_fts f WHERE f.paper_fts MATCH :{q} AND f.rowid = p.rowid)"
)
_SQLITE_AUTHORS_IN_TITLE = (
    _SQLITE_AUTHORS_CANDIDATES
    + _SQLITE_HAS.format(no="", q="in_title_only")
    + " ORDER BY p.rowid DESC LIMIT :limit"
)
_SQLITE_AUTHORS_ELSEWHERE = (
    _SQLITE_AUTHORS_CANDIDATES
    + _SQLITE_HAS.format(no="", q="q")
    + _SQLITE_HAS.format(no="NOT ", q="in_title")
    + " ORDER BY p.rowid DESC LIMIT :limit"
)

# PostgreSQL: the stored tsvector (title words weight A) and its GIN index.
_PG_MATCHES = " FROM paper p, ({tsquery}) AS q(q) WHERE p.search_vector @@ q.q{filters}"
# The planner's estimate of the matches (from the column's most common lexemes): counting
# them costs a GIN bitmap of every match (~0.8 s for a word in 90% of a million papers).
_PG_ESTIMATE = "EXPLAIN (FORMAT JSON) SELECT 1" + _PG_MATCHES
_PG_MANY = "SELECT count(*) FROM (SELECT 1" + _PG_MATCHES + " LIMIT :cap + 1) AS m"
_PG_RANKED = (
    "SELECT p.id" + _PG_MATCHES + " ORDER BY ts_rank_cd(p.search_vector, q.q) DESC,"
    " p.submitted DESC NULLS LAST, p.id DESC LIMIT :limit"
)
# The newest :cap matches, walking ix_paper_submitted (only papers with a submission time);
# ts_filter keeps the title's words (weight A) with their positions, for phrases.
_PG_NEWEST = (
    "SELECT m.id FROM (SELECT p.id, p.submitted,"
    " ts_filter(p.search_vector, '{{a}}') @@ q.q AS in_title"
    + _PG_MATCHES
    + " AND p.submitted IS NOT NULL ORDER BY p.submitted DESC LIMIT :cap) AS m"
    " ORDER BY m.in_title DESC, m.submitted DESC, m.id DESC LIMIT :limit"
)
_PG_NEWEST_IN_CATEGORY = (
    "SELECT m.id FROM (SELECT p.id, p.submitted,"
    " ts_filter(p.search_vector, '{{a}}') @@ q.q AS in_title"
    " FROM paper_category c JOIN paper p ON p.id = c.paper_id, ({tsquery}) AS q(q)"
    " WHERE c.category = :cat AND c.submitted IS NOT NULL AND p.search_vector @@ q.q{filters}"
    " ORDER BY c.submitted DESC LIMIT :cap) AS m"
    " ORDER BY m.in_title DESC, m.submitted DESC, m.id DESC LIMIT :limit"
)

# Each filter is checked per match through the primary key (paper_id first). SQLite would
# rather scan the category's or the authors' index for every match; the unary `+` (SQLite
# only) keeps it from using an index on that column.
_IN_CATEGORY = (
    " AND EXISTS (SELECT 1 FROM paper_category c WHERE c.paper_id = p.id"
    " AND {plus}c.category = :cat)"
)
_BY_AUTHORS = (
    " AND EXISTS (SELECT 1 FROM paper_author pa WHERE pa.paper_id = p.id"
    " AND {plus}pa.author_name IN ({names}))"
)
_SINCE = " AND p.submitted >= :since"


def search_papers(
    session: Session, query: str | SearchQuery, limit: int = 20
) -> list[PaperSummary]:
    """Papers matching `query` (see search_query.py), most relevant first, ties newest first;
    a very common search: the newest matches, those with the words in the title first.

    Words are stemmed ("transformers" finds "transformer"), case- and accent-insensitive
    ("schrodinger" finds "Schrödinger"). InputError (one sentence) for a query that cannot
    find anything useful or an author: filter that names nobody stored; DatabaseError when
    the database has no search index yet.
    """
    if isinstance(query, str):
        query = parse_search(query)
    if limit < 1 or not (query.words or query.phrases):
        return []
    try:
        order = _search_ids(session, query, limit)
    except DBAPIError as exc:
        if not any(name in str(exc) for name in ("paper_fts", "search_vector", "hotpapers_")):
            raise
        log.error("the full-text index is missing: %s", exc.orig)
        raise DatabaseError(
            "Search is not set up in this database yet; run `hotpapers db upgrade`."
        ) from exc
    return papers_by_ids(session, order)


def _search_ids(session: Session, query: SearchQuery, limit: int) -> list[str]:
    params: dict[str, Any] = {"limit": limit, "cap": _RANK_ALL}
    filters = marks = ""  # filters: all but the category's; marks: the author names'
    if query.category:
        params["cat"] = query.category
    if query.since:
        filters += _SINCE
        params["since"] = datetime.combine(query.since, datetime.min.time())
    if query.author:
        names = author_names(session, query.author, _MAX_AUTHORS)
        if not names:
            raise InputError(
                f"No stored paper has an author whose name starts with {quoted(query.author)};"
                " check the spelling, or give a surname, for example author:LeCun."
            )
        marks, named = _expanding("author", names)
        params.update(named)
    in_category = _IN_CATEGORY if query.category else ""
    if session.get_bind().dialect.name != "postgresql":
        if query.author:
            filters = (in_category + filters).replace("{plus}", "+")
            return _sqlite_author_ids(session, query, marks, filters, params)
        # The category is a column of the index: FTS5 intersects its papers with the words'.
        params.update(
            q=_fts5_query(query, category=True),
            in_title=_fts5_query(query, title_only=True, category=True),
        )
        return _sqlite_ids(session, query, filters.replace("{plus}", "+"), params)
    if query.author:
        filters += _BY_AUTHORS.replace("{names}", marks)
    return _pg_ids(
        session, query, in_category.replace("{plus}", ""), filters.replace("{plus}", ""), params
    )


def _sqlite_ids(
    session: Session, query: SearchQuery, filters: str, params: dict[str, Any]
) -> list[str]:
    newest = _SQLITE_NEWEST_ROWIDS.format(join=_SQLITE_PAPER if filters else "", filters=filters)
    cap = max(_RANK_ALL, _WINDOW)  # (tests make the window the larger)
    rowids = list(session.execute(_typed(newest), {**params, "cap": cap}).scalars())
    if len(rowids) <= _RANK_ALL and not _has_common_word(session, query):
        return list(
            session.execute(_typed(_SQLITE_RANKED.format(filters=filters)), params).scalars()
        )
    window = rowids[:_WINDOW] if len(rowids) > _RANK_ALL else rowids
    if not window:
        return []
    in_title = {*session.execute(text(_SQLITE_IN_TITLE), {**params, "low": window[-1]}).scalars()}
    # Title matches first, newest first in each group (sorted() keeps the window's order).
    chosen = sorted(window, key=lambda rowid: rowid not in in_title)[: params["limit"]]
    marks, named = _expanding("rowid", chosen)
    sql = f"SELECT rowid, id FROM paper WHERE rowid IN ({marks})"
    ids = {rowid: paper_id for rowid, paper_id in session.execute(text(sql), named)}
    return [ids[rowid] for rowid in chosen]


def _sqlite_author_ids(
    session: Session, query: SearchQuery, marks: str, filters: str, params: dict[str, Any]
) -> list[str]:
    """The authors' newest _WINDOW papers that match: title matches first, newest first."""
    in_title = _fts5_query(query, title_only=True)
    params.update(
        cap=_WINDOW,
        q=_fts5_query(query),
        in_title=in_title,
        # Every word and phrase in the title implies them in the paper: only the exclusions.
        in_title_only=in_title + _fts5_exclusions(query),
    )
    order: list[str] = []
    for sql in (_SQLITE_AUTHORS_IN_TITLE, _SQLITE_AUTHORS_ELSEWHERE):
        if len(order) < params["limit"]:
            sql = sql.replace("{names}", marks).format(filters=filters)
            rest = {**params, "limit": params["limit"] - len(order)}
            order += session.execute(_typed(sql), rest).scalars()
    return order


def _has_common_word(session: Session, query: SearchQuery) -> bool:
    """Is any word (of the words or phrases) in more than _COMMON_WORD papers? (SQLite)"""
    words = dict.fromkeys([*query.words, *(word for phrase in query.phrases for word in phrase)])
    statement = text(_SQLITE_COMMON)
    return any(
        session.execute(statement, {"word": f'"{word}"', "common": _COMMON_WORD}).first()
        for word in words
    )


def _pg_ids(
    session: Session, query: SearchQuery, in_category: str, filters: str, params: dict[str, Any]
) -> list[str]:
    tsquery = _pg_tsquery(query, params)
    parts = {"tsquery": tsquery, "filters": in_category + filters}
    # The planner must not trade the indexes for a scan of the table on a (mis)estimate.
    # Starting parallel workers or compiling (JIT) costs more than these queries take.
    for setting in ("enable_seqscan = off", "jit = off", "max_parallel_workers_per_gather = 0"):
        session.execute(text(f"SET LOCAL {setting}"))
    words_only = _PG_ESTIMATE.format(tsquery=tsquery, filters="")
    common = _pg_estimate(session, words_only, params) > _PG_SURELY_MANY
    if common and query.author:  # an author's papers are few: each is checked and scored
        many = False
    elif common:
        many = True
    else:  # counting few matches is cheap, and corrects an estimate that was too low
        count = session.execute(_typed(_PG_MANY.format(**parts)), params).scalar_one()
        many = count > _RANK_ALL
    params["cap"] = _WINDOW
    if many and in_category:  # the category's newest papers, each checked for the words
        sql = _PG_NEWEST_IN_CATEGORY.format(tsquery=tsquery, filters=filters)
    else:
        sql = (_PG_NEWEST if many else _PG_RANKED).format(**parts)
    order = list(session.execute(_typed(sql), params).scalars())
    for setting in ("enable_seqscan", "jit", "max_parallel_workers_per_gather"):
        session.execute(text(f"RESET {setting}"))
    return order


def _pg_estimate(session: Session, sql: str, params: dict[str, Any]) -> float:
    plan = session.execute(_typed(sql), params).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])


def _typed(sql: str) -> TextClause:
    statement = text(sql)
    if ":since" in sql:
        statement = statement.bindparams(bindparam("since", type_=DateTime))
    return statement


def _fts5_query(query: SearchQuery, *, title_only: bool = False, category: bool = False) -> str:
    """The FTS5 query: every word and phrase as a "string" (never FTS5 syntax: the parser
    keeps letters and digits only), then NOT each exclusion; or the words and phrases in the
    title alone (a column filter), for ordering matches found by the first. With `category`,
    also the category's token in the categories column (see fulltext.py)."""
    wanted = [*query.words, *(" ".join(phrase) for phrase in query.phrases)]
    found = "(" + " ".join(f'"{item}"' for item in wanted) + ")"
    if title_only:
        found = "{title} : " + found
    if category and query.category:
        found += f' AND {{categories}} : "{category_token(query.category)}"'
    if title_only:
        return found
    return found + _fts5_exclusions(query)


def _fts5_exclusions(query: SearchQuery) -> str:
    return "".join(f' NOT "{" ".join(words)}"' for words in query.excluded)


def _pg_tsquery(query: SearchQuery, params: dict[str, Any]) -> str:
    """SQL for the tsquery, every piece of user text a bound parameter read by plainto_ or
    phraseto_tsquery (plain words, never tsquery syntax)."""
    parts = []
    if query.words:
        params["words"] = " ".join(query.words)
        parts.append(f"plainto_tsquery('{TS_CONFIG}', :words)")
    for i, phrase in enumerate(query.phrases):
        params[f"phrase_{i}"] = " ".join(phrase)
        parts.append(f"phraseto_tsquery('{TS_CONFIG}', :phrase_{i})")
    for i, words in enumerate(query.excluded):
        params[f"not_{i}"] = " ".join(words)
        parts.append(f"!! phraseto_tsquery('{TS_CONFIG}', :not_{i})")
    return "SELECT " + " && ".join(parts)
