"""``immediate``: the one write-transaction helper for plain SQLite connections."""

from __future__ import annotations

import sqlite3

import pytest

from copilot.inbox.db import immediate


@pytest.fixture
def conn(tmp_path):
    c = sqlite3.connect(str(tmp_path / "t.db"), isolation_level=None, check_same_thread=False)
    c.execute("CREATE TABLE t (x INTEGER)")
    yield c
    c.close()


def test_commits_when_the_block_ends(conn, tmp_path) -> None:
    with immediate(conn):
        conn.execute("INSERT INTO t VALUES (1)")
    other = sqlite3.connect(str(tmp_path / "t.db"))
    assert other.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert not conn.in_transaction


def test_rolls_back_and_raises_the_blocks_error(conn) -> None:
    with pytest.raises(ValueError, match="boom"), immediate(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        raise ValueError("boom")
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)
    assert not conn.in_transaction


def test_a_block_that_rolled_back_itself_is_not_committed(conn) -> None:
    with immediate(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        conn.execute("ROLLBACK")
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)


def test_takes_the_write_lock_at_once(conn, tmp_path) -> None:
    other = sqlite3.connect(str(tmp_path / "t.db"), isolation_level=None, timeout=0.05)
    # A second writer cannot start while the block holds the lock, even before
    # the block has written anything.
    with immediate(conn), pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
