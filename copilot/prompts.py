"""Versioned prompt files: list them, load ``analyze@v1``, render them.

Prompts live in the ``prompts`` package (shipped in the wheel), one folder per
task and one Markdown file per version: ``prompts/analyze/v1.md``. A file is
TOML front matter between ``+++`` lines (task, version, schema, default model
and parameters) followed by a ``# system`` and a ``# user`` section. Sections
use ``$name`` placeholders (:class:`string.Template`), so braces in the text
and anything inside substituted values stay literal.

Every prompt has a content hash; it goes into every stored analysis
(``prompt_version``) and every cache key, so a changed prompt never reuses an
old answer.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template
from typing import Any

_REF = re.compile(r"^(?P<task>[a-z][a-z0-9_]*)(?:@(?P<version>v\d+))?$")
_FRONT = re.compile(r"\A\+\+\+\n(?P<front>.*?)\n\+\+\+\n(?P<body>.*)\Z", re.S)
_SECTION = re.compile(r"^# (system|user)[ \t]*$", re.M)


class PromptError(ValueError):
    """A prompt that cannot be found or parsed; the message names it and the problem."""


@dataclass(frozen=True)
class Prompt:
    """One version of one task's prompt."""

    task: str
    version: str
    system: str
    user: str
    schema: str
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    hash: str = ""

    @property
    def ref(self) -> str:
        """``task@version``, e.g. ``analyze@v1``."""
        return f"{self.task}@{self.version}"

    @property
    def version_id(self) -> str:
        """``task@version#hash``: what stored analyses record as ``prompt_version``."""
        return f"{self.ref}#{self.hash}"

    def render(self, **values: str) -> tuple[str, str]:
        """The system and user texts with ``$name`` placeholders filled.

        Raises :class:`PromptError` naming a placeholder with no value.
        """
        try:
            return (
                Template(self.system).substitute(values),
                Template(self.user).substitute(values),
            )
        except KeyError as exc:
            raise PromptError(f"{self.ref}: no value for placeholder ${exc.args[0]}") from None


def _root() -> Traversable:
    # The wheel installs prompts/ as copilot/data/prompts (see pyproject.toml);
    # a checkout keeps it beside copilot/.
    bundled = resources.files("copilot") / "data" / "prompts"
    return bundled if bundled.is_dir() else Path(__file__).resolve().parent.parent / "prompts"


def _version_key(version: str) -> int:
    return int(version[1:])


def list_versions(task: str) -> list[str]:
    """Versions of ``task``, oldest first (``["v1", "v2"]``); empty for unknown tasks."""
    folder = _root() / task
    if not folder.is_dir():
        return []
    found = [
        entry.name[:-3]
        for entry in folder.iterdir()
        if entry.name.endswith(".md") and re.fullmatch(r"v\d+\.md", entry.name)
    ]
    return sorted(found, key=_version_key)


def list_prompts() -> list[str]:
    """Every shipped prompt as ``task@version``, sorted by task then version."""
    tasks = sorted(
        entry.name
        for entry in _root().iterdir()
        if entry.is_dir() and not entry.name.startswith(("_", "."))
    )
    return [f"{task}@{version}" for task in tasks for version in list_versions(task)]


def load_prompt(ref: str | Path) -> Prompt:
    """Load a prompt by reference: ``analyze@v1``, ``analyze`` (its latest version),
    or the path of a ``.md`` file outside the package (to evaluate a draft).

    Raises :class:`PromptError` for unknown references and malformed files.
    """
    path = Path(ref)
    if str(ref).endswith(".md"):
        if not path.is_file():
            raise PromptError(f"prompt file {str(ref)!r} does not exist")
        return parse_prompt(path.read_text(encoding="utf-8"), str(ref))
    match = _REF.match(str(ref))
    if not match:
        raise PromptError(f"{ref!r} is not a prompt reference like 'analyze@v1'")
    task, version = match["task"], match["version"]
    versions = list_versions(task)
    if not versions:
        known = ", ".join(list_prompts()) or "none"
        raise PromptError(f"no prompt task {task!r}; shipped prompts: {known}")
    version = version or versions[-1]
    if version not in versions:
        raise PromptError(f"no version {version!r} of {task!r}; versions: {', '.join(versions)}")
    text = (_root() / task / f"{version}.md").read_text(encoding="utf-8")
    prompt = parse_prompt(text, f"{task}@{version}")
    if (prompt.task, prompt.version) != (task, version):
        raise PromptError(
            f"{task}/{version}.md declares task={prompt.task!r} version={prompt.version!r}"
        )
    return prompt


def prompt_hash(text: str) -> str:
    """Content hash of a prompt file (line endings normalised), 12 hex characters."""
    canonical = text.replace("\r\n", "\n").encode("utf-8")
    return hashlib.sha256(canonical).hexdigest()[:12]


def parse_prompt(text: str, label: str = "<prompt>") -> Prompt:
    """Parse a prompt file's text; ``label`` names it in errors."""
    text = text.replace("\r\n", "\n")
    match = _FRONT.match(text)
    if not match:
        raise PromptError(f"{label}: missing the '+++' TOML front matter")
    try:
        front = tomllib.loads(match["front"])
    except tomllib.TOMLDecodeError as exc:
        raise PromptError(f"{label}: bad front matter: {exc}") from exc
    missing = [key for key in ("task", "version", "schema") if not front.get(key)]
    if missing:
        raise PromptError(f"{label}: front matter lacks {', '.join(missing)}")
    parts = _SECTION.split(match["body"])
    # split() yields [preamble, name, text, name, text, ...]
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    for name in ("system", "user"):
        if not sections.get(name):
            raise PromptError(f"{label}: missing or empty '# {name}' section")
    params = front.get("params", {})
    if not isinstance(params, dict):
        raise PromptError(f"{label}: [params] must be a table")
    return Prompt(
        task=str(front["task"]),
        version=str(front["version"]),
        system=sections["system"],
        user=sections["user"],
        schema=str(front["schema"]),
        model=front.get("model"),
        params=dict(params),
        description=str(front.get("description", "")),
        hash=prompt_hash(text),
    )
