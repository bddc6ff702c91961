"""Turn lists (``{"from": "lead"|"business", "text", "ts"?}``) into copilot conversations.

Shared by the eval runner and ``lead-copilot analyze``. A turn without ``ts`` is
one minute after the previous one; the first defaults to Friday 2026-11-20,
10:00 in Bogotá (the datasets' date). Analyses run as of one minute after the
last turn, so results never depend on the clock of the machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from copilot.models import Contact, Conversation, Message, MessageContext, Referral
from copilot.taxonomy import Author, Direction

#: Where undated conversations start (a Friday, within the demo business's hours).
DEFAULT_START = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("America/Bogota"))
STEP = timedelta(minutes=1)
#: Time zone of naive ``ts`` values in datasets.
DATASET_TZ = ZoneInfo("America/Bogota")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=DATASET_TZ)


def _turn_fields(turn: Any) -> tuple[str | None, str, str, datetime | str | None]:
    # Accept both plain dicts and copilot.evals.items.Turn models.
    if isinstance(turn, Mapping):
        return turn.get("id"), turn["from"], turn.get("text") or "", turn.get("ts")
    return turn.id, turn.sender, turn.text, turn.ts


def turns_to_messages(
    turns: Iterable[Any],
    start: datetime = DEFAULT_START,
    referral: Referral | None = None,
    template_reply: bool = False,
) -> list[Message]:
    """Messages for ``turns``: lead turns are inbound, business turns outbound (bot).

    ``referral`` and ``template_reply`` decorate the first inbound message, as the
    WhatsApp webhook would for a click-to-WhatsApp ad or a reply to a template."""
    messages: list[Message] = []
    previous: datetime | None = None
    used_ids: set[str] = set()
    first_inbound_done = False
    for number, turn in enumerate(turns, start=1):
        turn_id, sender, text, ts = _turn_fields(turn)
        if sender not in ("lead", "business"):
            raise ValueError(f"turn {number}: 'from' must be 'lead' or 'business', not {sender!r}")
        if isinstance(ts, str):
            ts = datetime.fromisoformat(ts)
        moment = _aware(ts) if ts else (previous + STEP if previous else start)
        previous = moment
        message_id = str(turn_id) if turn_id else f"m{number}"
        if message_id in used_ids:
            message_id = f"m{number}-{len(used_ids)}"
        used_ids.add(message_id)
        inbound = sender == "lead"
        extra: dict[str, Any] = {}
        if inbound and not first_inbound_done:
            first_inbound_done = True
            if referral is not None:
                extra["referral"] = referral
            if template_reply:
                extra["context"] = MessageContext(is_template_reply=True)
        messages.append(
            Message(
                id=message_id,
                direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
                author=Author.LEAD if inbound else Author.BOT,
                text=text,
                timestamp=moment,
                **extra,
            )
        )
    return messages


def build_conversation(
    turns: Iterable[Any],
    conversation_id: str | None = None,
    contact: Contact | None = None,
    **options: Any,
) -> Conversation:
    """A conversation of ``turns`` (see :func:`turns_to_messages` for ``options``)."""
    return Conversation(
        id=conversation_id,
        contact=contact or Contact(),
        messages=turns_to_messages(turns, **options),
    )


def analysis_time(conversation: Conversation) -> datetime:
    """One minute after the conversation's last message (``DEFAULT_START`` if empty)."""
    if not conversation.messages:
        return DEFAULT_START
    return max(m.timestamp for m in conversation.messages) + STEP
