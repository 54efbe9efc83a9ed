"""The expressions the people search is indexed on (migration 0009): a person's display name and its last word,
and a CUCM record's userid, lower-cased. The indexes (:mod:`syncd.store.tables`) and the search
(:mod:`syncd.views.pages`) build them here, so both compile to the same SQL, which is what lets the database use
the index.

A userid is looked up exactly (equality: any index). A name is looked up by the start of its first or its last
word ("ann" finds "Ann Smith", "smi" finds it too; a middle name is not indexed): on SQLite a range of the index
(SQLite's ``lower`` and its byte order agree), on PostgreSQL ``LIKE 'prefix%'`` on an index with
``text_pattern_ops``, which serves a prefix whatever the database's collation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

NAME_INDEX_KEY = "display_name_lower"     # the labels PostgreSQL's operator classes are keyed by
LAST_WORD_INDEX_KEY = "display_name_last_word"


class _userid(FunctionElement[str]):
    """A source record's ``data`` -> its ``userid`` as text (``json_extract`` on SQLite, ``->>`` on PostgreSQL),
    with the key written literally: a bound key would not match the index expression."""

    type = Text()
    inherit_cache = True
    name = "userid"


@compiles(_userid)
def _userid_pg(element: _userid, compiler: SQLCompiler, **kw: Any) -> str:
    # as PostgreSQL writes it back (pg_indexes), so that the migrations-vs-models comparison sees one expression
    return f"{compiler.process(element.clauses, **kw)} ->> 'userid'::text"


@compiles(_userid, "sqlite")
def _userid_sqlite(element: _userid, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_extract({compiler.process(element.clauses, **kw)}, '$.userid')"


def userid_key(data: Any) -> Any:
    """A CUCM record's userid, lower-cased, from its stored ``data`` column."""
    return func.lower(_userid(data))


def name_key(display_name: Any) -> Any:
    """A display name, lower-cased."""
    return func.lower(display_name)


def last_word_key(display_name: Any) -> Any:
    """A display name's last word (after its last space; the whole name if it has none), lower-cased, with
    functions both databases have and may index: the characters of the name other than spaces, stripped from its
    right, leave the name up to its last space."""
    name = func.lower(display_name)
    # rendered into the SQL, not bound: an index matches an expression only when its constants are written in it
    space, empty, one = (literal(v, literal_execute=True) for v in (" ", "", 1))
    return func.substr(name, func.length(func.rtrim(name, func.replace(name, space, empty))) + one)
