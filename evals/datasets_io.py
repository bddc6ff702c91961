"""Load eval datasets (JSONL) and write predictions, with errors that name the line.

A dataset file holds one kind of line (``intents``, ``origins``, ``fields``,
``handoff``, ``templates``), recognised by its keys. Every problem is reported
as ``FILE:LINE: what is wrong``; :func:`check_dataset` collects all of them,
:func:`load_dataset` stops at the first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from copilot.evals.items import ITEM_MODELS, Item, detect_kind

#: JSONL files a folder may hold that are records, not datasets (skipped when a
#: folder is given): the reply edits written by ``lead-copilot eval export``.
NOT_DATASETS: frozenset[str] = frozenset({"replies.jsonl"})


class DatasetError(ValueError):
    """A dataset that cannot be used; ``problems`` lists ``(line, message)`` pairs."""

    def __init__(self, path: str, problems: list[tuple[int | None, str]]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(_where(path, line) + msg for line, msg in problems))


def _where(path: str, line: int | None) -> str:
    return f"{path}:{line}: " if line else f"{path}: "


@dataclass
class Entry:
    """One validated dataset line and where it came from."""

    line: int
    item: Item


@dataclass
class Dataset:
    """A validated dataset file."""

    path: str
    kind: str
    entries: list[Entry] = field(default_factory=list)

    @property
    def name(self) -> str:
        """A short name for reports: ``dev/intents`` for ``.../dev/intents.jsonl``."""
        p = Path(self.path)
        return f"{p.parent.name}/{p.stem}" if p.parent.name else p.stem

    @property
    def items(self) -> list[Item]:
        """The items, in file order."""
        return [e.item for e in self.entries]

    def limited(self, limit: int | None) -> Dataset:
        """The first ``limit`` items (all when ``None``)."""
        if limit is None:
            return self
        return Dataset(self.path, self.kind, self.entries[:limit])


def _format_validation(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"])
        message = error["msg"]
        parts.append(f"{loc}: {message}" if loc else message)
    return "; ".join(parts)


def _parse_lines(text: str) -> Iterator[tuple[int, Any, str | None]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw), None
        except json.JSONDecodeError as exc:
            yield number, None, f"not valid JSON ({exc.msg} at column {exc.colno})"


def parse_dataset(text: str, path: str = "<dataset>", kind: str | None = None) -> Dataset:
    """Validate dataset text; raises :class:`DatasetError` listing every problem."""
    problems: list[tuple[int | None, str]] = []
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    first_kind_line = 0
    for number, data, error in _parse_lines(text):
        if error:
            problems.append((number, error))
            continue
        if not isinstance(data, dict):
            problems.append((number, f"expected a JSON object, got {type(data).__name__}"))
            continue
        line_kind = detect_kind(data)
        if line_kind is None:
            problems.append(
                (number, "cannot tell the dataset kind from the keys (need a 'gold' object)")
            )
            continue
        if kind is None:
            kind, first_kind_line = line_kind, number
        elif line_kind != kind:
            where = f"line {first_kind_line}" if first_kind_line else "the requested kind"
            problems.append((number, f"a {line_kind} line in a {kind} dataset ({where})"))
            continue
        try:
            item = ITEM_MODELS[kind].model_validate(data)
        except ValidationError as exc:
            problems.append((number, _format_validation(exc)))
            continue
        if item.id in seen:
            problems.append((number, f"duplicate id {item.id!r} (first on line {seen[item.id]})"))
            continue
        seen[item.id] = number
        entries.append(Entry(number, item))
    if not entries and not problems:
        problems.append((None, "the dataset has no lines"))
    if problems:
        raise DatasetError(path, problems)
    assert kind is not None
    return Dataset(path, kind, entries)


def load_dataset(path: str | Path, kind: str | None = None) -> Dataset:
    """Read and validate a JSONL dataset file; its kind is recognised by its keys."""
    label = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(label, [(None, "no such file")]) from None
    except IsADirectoryError:
        raise DatasetError(label, [(None, "is a directory, not a JSONL file")]) from None
    except OSError as exc:
        raise DatasetError(label, [(None, f"cannot read: {exc.strerror}")]) from exc
    except UnicodeDecodeError:
        raise DatasetError(label, [(None, "not UTF-8 text")]) from None
    return parse_dataset(text, label, kind)


def shipped_datasets_dir() -> Path:
    """The folder of the datasets shipped inside the package (``evals/datasets``)."""
    return Path(str(resources.files("copilot.evals") / "datasets"))


def resolve_dataset_paths(spec: str) -> list[Path]:
    """Files named by a ``--dataset`` value.

    A file path is itself; a folder is its ``*.jsonl`` files (but ``replies.jsonl``,
    see :data:`NOT_DATASETS`); otherwise a name of a
    shipped dataset is tried: ``dev/intents`` or a split such as ``dev``."""
    path = Path(spec)
    if path.is_dir():
        return sorted(p for p in path.glob("*.jsonl") if p.name not in NOT_DATASETS)
    if path.exists():
        return [path]
    shipped = shipped_datasets_dir() / spec
    if shipped.is_dir():
        return sorted(shipped.glob("*.jsonl"))
    if shipped.with_suffix(".jsonl").is_file():
        return [shipped.with_suffix(".jsonl")]
    return [path]  # load_dataset reports "no such file" with the name as given


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write rows as UTF-8 JSONL (non-ASCII kept readable)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def load_predictions(path: str | Path, dataset: Dataset) -> list[dict[str, Any]]:
    """Read a predictions JSONL file written for ``dataset``: one object per dataset
    line, same order, same ids (a ``--limit`` run matches the first lines)."""
    label = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(label, [(None, "no such predictions file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(label, [(None, f"cannot read: {exc}")]) from exc
    rows: list[dict[str, Any]] = []
    problems: list[tuple[int | None, str]] = []
    expected = [e.item.id for e in dataset.entries]
    for number, data, error in _parse_lines(text):
        if len(rows) == len(expected):
            break  # predictions of a longer run: a --limit run uses the first ones
        if error or not isinstance(data, dict) or "id" not in data:
            problems.append((number, error or "expected a JSON object with an 'id'"))
            continue
        position = len(rows)
        want = expected[position] if position < len(expected) else None
        if str(data["id"]) != want:
            problems.append((number, f"id {data['id']!r} where the dataset has {want!r}"))
            break
        rows.append(data)
    if not problems and len(rows) != len(expected):
        problems.append(
            (None, f"{len(rows)} predictions for {len(expected)} dataset lines ({dataset.path})")
        )
    if problems:
        raise DatasetError(label, problems)
    return rows
