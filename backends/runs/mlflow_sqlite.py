"""Sorting runs by a metric, param or tag on an MLflow SQLite store, in milliseconds instead of seconds.

MLflow's SQL store sorts by ``metrics.rmse`` with a ``LEFT OUTER JOIN`` to a subquery
(``SELECT ... FROM latest_metrics WHERE key = ?``). SQLite materializes that subquery and, with no
``ANALYZE`` statistics in the file (MLflow never writes any), estimates it at a handful of rows, so it
scans all of it once per run: the first page of a 10,000-run experiment takes seconds and the time
grows with the square of the run count.

The join is equivalent to joining the table itself with the key in the ``ON`` clause, which SQLite
answers through the table's ``(key, run_uuid)`` primary key. This module rewrites exactly that shape,
on connections the console opened, just before the statement reaches SQLite. The rewritten statement
has the same columns, the same rows in the same order and the same parameters in the same positions;
a statement of any other shape (another MLflow version, a filter join) is passed through unchanged.
Nothing is written to the store.
"""

from __future__ import annotations

import re
from typing import Any

# the subquery MLflow's _get_orderby_clauses builds for one sort key (SQLAlchemy's SQLite rendering)
_SORT_JOIN = re.compile(
    r'LEFT OUTER JOIN \(SELECT (?P<cols>[^()?]*?)\s+FROM (?P<t>latest_metrics|params|tags)\s+'
    r'WHERE (?P=t)\."key" = \?\) AS (?P<a>anon_\d+) ON runs\.run_uuid = (?P=a)\.run_uuid'
)
_COL = re.compile(r'(\w+)\.("?)(\w+)\2 AS ("?)(\w+)\4')


def _replace(m: re.Match[str]) -> str:
    table, alias = m.group("t"), m.group("a")
    # only when every column keeps its own name: then alias.x means the same in both forms
    for item in m.group("cols").split(", "):
        col = _COL.fullmatch(item.strip())
        if col is None or col.group(1) != table or col.group(3) != col.group(5):
            return m.group(0)
    return f'LEFT OUTER JOIN {table} AS {alias} ON runs.run_uuid = {alias}.run_uuid AND {alias}."key" = ?'


def rewrite_sort_joins(statement: str) -> str:
    """The statement with each sort-key subquery join turned into a plain keyed join."""
    if "LEFT OUTER JOIN (SELECT" not in statement or not statement.lstrip().startswith("SELECT"):
        return statement
    return _SORT_JOIN.sub(_replace, statement)


def install(store: Any) -> bool:
    """Hook the rewrite onto an MLflow ``SqlAlchemyStore``'s SQLite engine; False if not one."""
    engine = getattr(store, "engine", None)
    dialect = getattr(getattr(engine, "dialect", None), "name", None)
    if dialect != "sqlite":
        return False
    from sqlalchemy import event

    if not event.contains(engine, "before_cursor_execute", _before_cursor_execute):
        event.listen(engine, "before_cursor_execute", _before_cursor_execute, retval=True)
    return True


def _before_cursor_execute(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                           executemany: bool) -> tuple[str, Any]:
    return rewrite_sort_joins(statement), parameters
