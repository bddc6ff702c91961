"""``lead-copilot analyze``: analyse one message or a conversation file.

The conversation file is JSON: a :class:`~copilot.models.Conversation`, or a
plain list of turns ``[{"from": "lead"|"business", "text": ..., "ts"?: ...}]``
(also accepted as the ``messages`` of an object). Without ``--now`` a
conversation is analysed as of one minute after its last message, so the same
file always gives the same answer; a lone TEXT is analysed as of now.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, NoReturn

import click
from pydantic import TypeAdapter, ValidationError

from copilot.cli import main
from copilot.engines.base import EngineError
from copilot.engines.spec import build_engine
from copilot.facade import Copilot
from copilot.models import Analysis, Conversation, Message, checked_moment
from copilot.profile import BusinessProfile, ProfileError, load_profile

#: Exit code for bad input (files, JSON, profiles, engines), as click's usage errors.
EXIT_BAD_INPUT = 2


class CliError(click.ClickException):
    """A problem with what the user gave; printed as ``Error: ...``, exit code 2."""

    exit_code = EXIT_BAD_INPUT


def fail(message: str) -> NoReturn:
    """Stop the command with a clear message and exit code 2."""
    raise CliError(message)


def validation_summary(exc: ValidationError, limit: int = 5) -> str:
    """The first problems of a pydantic error as ``location: message``."""
    parts = []
    for error in exc.errors()[:limit]:
        loc = ".".join(str(p) for p in error["loc"])
        parts.append(f"{loc}: {error['msg']}" if loc else error["msg"])
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def load_profile_or_fail(path: str | None) -> BusinessProfile:
    """The business profile at ``path`` (the demo profile when ``None``)."""
    try:
        return load_profile(path)
    except ProfileError as exc:
        fail(str(exc))


def build_copilot(profile: BusinessProfile, engine: str, prompt: str | None) -> Copilot:
    """A copilot with the engine an engine spec names (``llm:analyze@v2,timeout=60``);
    ``prompt`` reaches the engine factory only when given."""
    try:
        return Copilot(profile=profile, engine=build_engine(engine, prompt))
    except EngineError as exc:
        fail(str(exc))


def _is_turn_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(t, dict) and "from" in t for t in value)


def parse_conversation(data: Any, name: str = "conversation") -> Conversation:
    """A conversation from parsed JSON: a ``Conversation`` or a list of turns."""
    from copilot.evals.conversations import turns_to_messages
    from copilot.evals.items import Turn

    rest: dict[str, Any] = {}
    turns = None
    if _is_turn_list(data):
        turns = data
    elif isinstance(data, dict) and _is_turn_list(data.get("messages")) and data["messages"]:
        rest = {k: v for k, v in data.items() if k != "messages"}
        turns = data["messages"]
    elif not isinstance(data, dict):
        fail(
            f"{name}: expected a conversation object or a list of turns, got {type(data).__name__}"
        )
    try:
        if turns is None:
            return Conversation.model_validate(data)
        validated = TypeAdapter(list[Turn]).validate_python(turns)
        return Conversation.model_validate({**rest, "messages": turns_to_messages(validated)})
    except ValidationError as exc:
        fail(f"{name}: not a valid conversation: {validation_summary(exc)}")


def read_conversation(stream: Any) -> Conversation:
    """Read and validate a conversation JSON file (or ``-`` for stdin)."""
    name = getattr(stream, "name", "conversation")
    try:
        raw = stream.read()
    except UnicodeDecodeError:
        fail(f"{name}: not UTF-8 text")
    if not raw.strip():
        fail(f"{name}: the file is empty")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        fail(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})")
    return parse_conversation(data, name)


def demo_conversation_file() -> Any:
    """The demo conversation shipped inside the package, opened for reading."""
    return (resources.files("copilot") / "data" / "demo_conversation.json").open(
        "r", encoding="utf-8"
    )


def parse_now(value: str | None, profile: BusinessProfile) -> datetime | None:
    """``--now`` as an aware datetime; a naive time is in the business's time zone."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date-time like 2026-11-20T10:30", param_hint="--now"
        ) from None
    try:
        return checked_moment(
            moment if moment.tzinfo else moment.replace(tzinfo=profile.tz), "--now"
        )
    except ValueError as exc:  # "--now: <why>"; click names the option itself
        raise click.BadParameter(str(exc).partition(": ")[2], param_hint="--now") from None


# --- the human summary ---------------------------------------------------------


#: Control characters and bidi overrides: lead text must not drive the terminal
#: (ANSI escape sequences) or reorder what an agent reads.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` without control characters or bidi overrides (newlines kept)."""
    return _UNSAFE.sub("", text)


def _snippet(text: str | None, size: int = 60) -> str:
    text = " ".join(printable(text or "").split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _field_text(name: str, value: Any) -> str:
    if name == "timeline":
        return f"{_snippet(value.text)} → {value.bucket.value}"
    if name == "budget":
        amount = f"{value.amount:,.0f}".replace(",", ".") if value.amount is not None else "?"
        return f"{amount} {value.currency or ''} ({_snippet(value.text)})".replace("  ", " ")
    return _snippet(str(getattr(value, "value", value)), 120)


def _head(name: str) -> str:
    # Pad before styling: ANSI codes would otherwise count towards the width.
    return click.style(f"{name:<17}", bold=True)


def render_summary(analysis: Analysis, conversation: Conversation) -> str:
    """A readable summary of an analysis, for people."""
    by_id = {m.id: m for m in conversation.messages}
    lines = []
    intent = analysis.intent
    if intent:
        alts = ", ".join(f"{a.label} {a.confidence:.2f}" for a in intent.alternatives[:3])
        lines.append(
            f"{_head('Intent')}{intent.label.value} ({intent.confidence:.2f})"
            + (f"   also: {alts}" if alts else "")
        )
    else:
        lines.append(f"{_head('Intent')}(no message from the lead)")
    lines.append(f"{_head('Language')}{analysis.language.value}")
    origin = analysis.origin
    evidence = f' — "{_snippet(origin.evidence)}"' if origin.evidence else ""
    lines.append(f"{_head('Origin')}{origin.label.value} ({origin.source.value}){evidence}")
    known = analysis.fields.known()
    lines.append(f"{_head('Fields')}" + (f"{len(known)} known" if known else "nothing yet"))
    for name in known:
        field = getattr(analysis.fields, name)
        source = by_id.get(field.message_id or "")
        where = f'  [{field.message_id}: "{_snippet(source.text, 40)}"]' if source else ""
        lines.append(f"  {name:<15} {_field_text(name, field.value)}{where}")
    handoff = analysis.handoff
    if handoff.needed:
        why = handoff.reason.value if handoff.reason else "no reason given"
        text = click.style(f"YES: {why}", fg="red", bold=True)
        text += f" — {_snippet(handoff.explanation, 200)}" if handoff.explanation else ""
    else:
        text = "no" + (f" — {_snippet(handoff.explanation, 200)}" if handoff.explanation else "")
    lines.append(f"{_head('Handoff')}{text}")
    reply = analysis.reply
    if reply:
        lines.append(f"{_head('Suggested reply')}[{reply.template.value}]")
        lines.extend(f"  {line}" for line in printable(reply.text).splitlines() or [""])
        needed = "yes (the 24-hour window is closed)" if reply.requires_approved_template else "no"
        lines.append(f"  approved template needed: {needed}; category {reply.category.value}")
    else:
        lines.append(f"{_head('Suggested reply')}none")
    took = f", {analysis.latency_ms:.1f} ms" if analysis.latency_ms is not None else ""
    prompt = f", prompt {analysis.prompt_version}" if analysis.prompt_version else ""
    model = f", model {analysis.model}" if analysis.model and analysis.decision else ""
    lines.append(f"{_head('Engine')}{analysis.engine}{prompt}{model}{took}")
    if analysis.decision is not None:
        lines.extend(decision_lines(analysis))
    return "\n".join(lines)


def decision_lines(analysis: Analysis) -> list[str]:
    """Who answered when a model was asked, every reason on the way, and its usage."""
    reasons = [_snippet(r, 200) for r in analysis.reasons]
    if analysis.decision == "fallback":
        fallback = analysis.decided_by.get("intent") or "the fallback engine"
        text = click.style(f"FALLBACK to {fallback}", fg="red", bold=True)
        text += ": the model gave no usable answer"
    elif analysis.decision == "reask":
        text = "the model's answer, after a re-ask"
    else:
        text = "the model's answer"
    lines = [f"{_head('Decided by')}{text}"]
    lines.extend(f"  {n}. {reason}" for n, reason in enumerate(reasons, 1))
    if safety := analysis.decided_by.get("safety"):
        lines.append(f"  safety: {_snippet(safety, 200)}")
    usage = analysis.usage
    if usage:
        cost = f", ${analysis.cost_usd:.6f}" if analysis.cost_usd is not None else ""
        lines.append(
            f"{_head('Tokens')}{usage.get('input_tokens', 0)} in "
            f"({usage.get('cached_tokens', 0)} cached), {usage.get('output_tokens', 0)} out, "
            f"{usage.get('calls', 0)} calls, {usage.get('cache_hits', 0)} cache hits{cost}"
        )
    return lines


@main.command()
@click.argument("text", required=False)
@click.option(
    "--conversation",
    "conversation_file",
    type=click.File("r", encoding="utf-8"),
    metavar="FILE|-",
    help="A conversation JSON file (or - for stdin): a Conversation or a list of turns.",
)
@click.option(
    "--demo", is_flag=True, help="Analyse the demo conversation shipped with the package."
)
@click.option(
    "--profile",
    "profile_path",
    metavar="FILE",
    help="Business profile TOML (default: the demo profile).",
)
@click.option(
    "--engine",
    default="rules",
    show_default=True,
    help="Engine SPEC: NAME[:PROMPT@VERSION][,KEY=VALUE...], e.g. "
    "'llm,base_url=http://127.0.0.1:8080/v1,structured=json,timeout=60'.",
)
@click.option("--prompt", metavar="NAME@VERSION", help="Prompt for prompt-driven engines.")
@click.option("--now", "now_text", metavar="ISO", help="Analyse as of this time.")
@click.option("--json", "as_json", is_flag=True, help="Print the Analysis as JSON.")
def analyze(
    text: str | None,
    conversation_file: Any,
    demo: bool,
    profile_path: str | None,
    engine: str,
    prompt: str | None,
    now_text: str | None,
    as_json: bool,
) -> None:
    """Analyse TEXT, or a conversation with TEXT as the lead's newest message.

    \b
    Examples:
      lead-copilot analyze "hola! cuanto sale el sofá de 3 puestos?"
      lead-copilot analyze --conversation chat.json --json
    """
    if demo:
        if conversation_file is not None:
            fail("give --demo or --conversation, not both")
        conversation_file = demo_conversation_file()
    if text is None and conversation_file is None:
        fail("give a TEXT to analyse or --conversation FILE")
    if text is not None and not text.strip():
        fail("TEXT is empty: give the lead's message to analyse")
    profile = load_profile_or_fail(profile_path)
    now = parse_now(now_text, profile)
    copilot = build_copilot(profile, engine, prompt)
    conversation = read_conversation(conversation_file) if conversation_file else Conversation()
    if text is not None:
        last = max((m.timestamp for m in conversation.messages), default=None)
        moment = now or (last + timedelta(minutes=1) if last else datetime.now(UTC))
        ids = {m.id for m in conversation.messages}
        new_id = next(f"m{n}" for n in range(len(ids) + 1, len(ids) + 100) if f"m{n}" not in ids)
        conversation.messages.append(Message(id=new_id, text=text, timestamp=moment))
    if conversation.last_inbound is None:
        fail("the conversation has no message from the lead to analyse")
    if now is None:
        now = max(m.timestamp for m in conversation.messages) + timedelta(minutes=1)
    try:
        analysis = copilot.analyze(conversation, now=now)
    except EngineError as exc:
        fail(f"the {engine} engine failed: {exc}")
    except NotImplementedError:
        click.echo("Error: a part of the copilot is not implemented yet.", err=True)
        sys.exit(1)
    if as_json:
        click.echo(analysis.model_dump_json(indent=2))
    else:
        click.echo(render_summary(analysis, conversation))
