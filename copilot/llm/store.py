"""The response cache, the token ledger behind the budgets, and cassettes.

- :class:`ResponseCache`: a SQLite file (sqlite-utils, WAL) mapping a request
  hash (prompt hash, model, parameters, input) to the answer that validated,
  so a rerun costs nothing.
- The same file keeps a ledger of tokens spent per conversation and per day
  (failed attempts included) for :class:`Budget`, and the structured-output
  mode each server and model was found to need.
- :class:`Cassette`: model answers recorded in a JSONL file that can be
  committed, keyed by the same request hash, replayed with no network or key.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

from copilot.llm.provider import LLMRequest, LLMResponse, Usage


class ResponseCache:
    """SQLite cache of validated answers plus the token ledger.

    ``path=":memory:"`` keeps both in memory (the ledger still enforces budgets
    within the process).
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db = sqlite_utils.Database(conn)
        if self.path != ":memory:":
            self.db.enable_wal()
            # WAL with synchronous=NORMAL: no fsync per commit; a power cut may lose the
            # last few cached answers, which only costs a new call.
            conn.execute("PRAGMA synchronous=NORMAL")
        self._conn = conn
        self._lock = threading.Lock()
        self.db["responses"].create(
            {
                "key": str,
                "model": str,
                "prompt_version": str,
                "response": str,
                "created_at": str,
            },
            pk="key",
            if_not_exists=True,
        )
        self.db["ledger"].create(
            {
                "day": str,
                "conversation": str,
                "input_tokens": int,
                "cached_tokens": int,
                "output_tokens": int,
                "at": str,
            },
            if_not_exists=True,
        )
        self.db["ledger"].create_index(["day"], if_not_exists=True)
        self.db["ledger"].create_index(["conversation"], if_not_exists=True)
        self.db["modes"].create(
            {"server": str, "model": str, "mode": str, "why": str, "at": str},
            pk=("server", "model"),
            if_not_exists=True,
        )

    def learnt_mode(self, server: str, model: str) -> str | None:
        """The structured-output mode learnt for ``model`` on ``server``, if any."""
        with self._lock:
            row = self._conn.execute(
                "select mode from modes where server = ? and model = ?", (server, model)
            ).fetchone()
        return row[0] if row else None

    def learn_mode(self, server: str, model: str, mode: str, why: str) -> None:
        """Remember that ``model`` on ``server`` needs ``mode`` (and why)."""
        row = (server, model, mode, why[:500], datetime.now(UTC).isoformat())
        with self._lock:
            self._conn.execute(
                "insert or replace into modes (server, model, mode, why, at)"
                " values (?, ?, ?, ?, ?)",
                row,
            )

    def get(self, key: str) -> LLMResponse | None:
        """The cached answer for a request hash, or ``None``."""
        with self._lock:
            row = self._conn.execute(
                "select response from responses where key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        return LLMResponse.from_dict(json.loads(row[0]), source="cache")

    def put(self, request: LLMRequest, response: LLMResponse) -> None:
        """Store the answer to ``request`` (only answers that validated are stored)."""
        row = (
            request.key(),
            request.model,
            request.prompt_version,
            json.dumps(response.to_dict(), ensure_ascii=False),
            datetime.now(UTC).isoformat(),
        )
        # Plain SQL on the hot path: sqlite-utils' upsert inspects the table each time.
        with self._lock:
            self._conn.execute(
                "insert or replace into responses (key, model, prompt_version, response,"
                " created_at) values (?, ?, ?, ?, ?)",
                row,
            )

    def record_usage(self, conversation: str, usage: Usage, day: str | None = None) -> None:
        """Add ``usage`` to the ledger for ``conversation`` on ``day`` (UTC today)."""
        if usage.total == 0:
            return
        now = datetime.now(UTC)
        row = (
            day or now.date().isoformat(),
            conversation,
            usage.input_tokens,
            usage.cached_tokens,
            usage.output_tokens,
            now.isoformat(),
        )
        with self._lock:
            self._conn.execute(
                "insert into ledger (day, conversation, input_tokens, cached_tokens,"
                " output_tokens, at) values (?, ?, ?, ?, ?, ?)",
                row,
            )

    def spent(self, *, conversation: str | None = None, day: str | None = None) -> int:
        """Tokens (input plus output) spent by a conversation, or on a day."""
        column, value = ("conversation", conversation) if conversation else ("day", day)
        sql = f"select coalesce(sum(input_tokens + output_tokens), 0) as n from ledger where {column} = ?"
        with self._lock:
            return int(next(self.db.query(sql, [value]))["n"])


@dataclass
class Budget:
    """Token limits per conversation and per day (UTC); ``None`` means no limit."""

    per_conversation: int | None = None
    per_day: int | None = None

    def exceeded(self, ledger: ResponseCache, conversation: str) -> str | None:
        """Why the next call would break the budget, or ``None`` when it may go."""
        if self.per_conversation is not None:
            spent = ledger.spent(conversation=conversation)
            if spent >= self.per_conversation:
                return f"conversation token budget spent ({spent} of {self.per_conversation})"
        if self.per_day is not None:
            spent = ledger.spent(day=datetime.now(UTC).date().isoformat())
            if spent >= self.per_day:
                return f"daily token budget spent ({spent} of {self.per_day})"
        return None


class CassetteMissError(LookupError):
    """A replayed request that the cassette does not hold."""


CassetteMode = Literal["record", "replay"]


class Cassette:
    """Model answers in a JSONL file, one line per request hash.

    In ``record`` mode every answer from the provider (valid or not) is appended;
    in ``replay`` mode answers come only from the file and a missing request
    raises :class:`CassetteMissError`. Replaying a cassette recorded with the same
    prompt, model, parameters and inputs reproduces the run exactly.
    """

    def __init__(self, path: str | Path, mode: CassetteMode = "replay") -> None:
        if mode not in ("record", "replay"):
            raise ValueError(f"cassette_mode must be 'record' or 'replay', not {mode!r}")
        self.path = Path(path)
        self.mode = mode
        self._lock = threading.Lock()
        self.entries: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    self.entries[entry["key"]] = entry
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise ValueError(f"{self.path}:{number}: not a cassette line ({exc})") from exc
        elif mode == "replay":
            raise FileNotFoundError(f"cassette {self.path} does not exist; record it first")

    def get(self, request: LLMRequest) -> LLMResponse | None:
        """The recorded answer to ``request``; in replay mode a miss raises."""
        key = request.key()
        entry = self.entries.get(key)
        if entry is not None:
            return LLMResponse.from_dict(entry["response"], source="cassette")
        if self.mode == "replay":
            raise CassetteMissError(
                f"request {key[:16]}… (prompt {request.prompt_version}, model {request.model}) "
                f"is not in cassette {self.path}: the prompt, model, parameters or input "
                "changed since it was recorded; record it again with cassette_mode='record'"
            )
        return None

    def record(self, request: LLMRequest, response: LLMResponse) -> None:
        """Append the answer to ``request`` (record mode only)."""
        if self.mode != "record":
            return
        key = request.key()
        entry = {
            "key": key,
            "prompt_version": request.prompt_version,
            "model": request.model,
            "response": response.to_dict(),
        }
        with self._lock:
            if key in self.entries:
                return
            self.entries[key] = entry
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
