"""Counting the SQL statements a piece of work sends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def counting() -> Iterator[list[str]]:
    """The statements sent while the block runs, but for the caller's token standing."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if (
            "app_user.token_version" not in statement
        ):  # the caller's token standing, read once a second at most
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)
