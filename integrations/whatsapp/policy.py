"""WhatsApp's sending rules: the 24-hour window and opt-outs.

Inside the customer service window (24 hours after the lead's last message)
the business may send anything; outside it only an approved template. A lead
who opted out gets nothing more, except the confirmation of the opt-out.
Whether the window is open is decided by :mod:`copilot.window` (closed at
exactly 24 hours); these rules take its answer.
"""

from __future__ import annotations

from enum import StrEnum

from copilot.integrations.whatsapp.errors import OptedOutError, WindowClosedError


class SendKind(StrEnum):
    """What kind of message is about to be sent."""

    TEXT = "text"
    INTERACTIVE = "interactive"
    MEDIA = "media"
    TEMPLATE = "template"


def check_can_send(
    kind: SendKind | str,
    window_open: bool,
    opted_out: bool,
    is_opt_out_confirmation: bool = False,
) -> None:
    """Raise :class:`OptedOutError` or :class:`WindowClosedError` when WhatsApp's rules
    forbid this send; return ``None`` when it may go.

    ``kind`` is ``text``, ``interactive``, ``media`` or ``template``. The one
    message an opted-out lead may still receive is the confirmation of the
    opt-out, and it still obeys the window rule.
    """
    try:
        kind = SendKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in SendKind)
        raise ValueError(f"unknown send kind {kind!r}: expected one of {choices}") from None
    if opted_out and not is_opt_out_confirmation:
        raise OptedOutError("the lead opted out: only the opt-out confirmation may be sent to them")
    if kind is not SendKind.TEMPLATE and not window_open:
        raise WindowClosedError(
            f"the 24-hour customer service window is closed: a {kind.value} message cannot be "
            "sent, use an approved template"
        )
