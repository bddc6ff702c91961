"""Errors the inbox raises. Each message names the problem and what to do about it."""

from __future__ import annotations


class InboxError(Exception):
    """Base class of every inbox error."""


class InboxDatabaseError(InboxError):
    """The database file cannot be used: corrupt, not SQLite, another application's,
    or written by a newer version of Lead Copilot."""


class NotFoundError(InboxError, LookupError):
    """A conversation, message, agent, team, suggestion or task that does not exist."""


class PermissionDenied(InboxError):
    """The agent may not do this (not the owner, not an admin)."""


class ConflictError(InboxError):
    """The action is based on a stale view: the lead wrote again, someone else replied,
    someone else claimed the conversation first, or a suggestion was already decided.
    Nothing was changed and nothing was sent."""


class OptedOutError(InboxError):
    """The contact opted out: only the opt-out confirmation may be sent."""


class InvalidInput(InboxError, ValueError):
    """An argument that makes no sense (an unknown stage, a lost move without reason...)."""


class SendError(InboxError):
    """A :class:`~copilot.inbox.replies.Sender` could not hand the message over."""


class WindowClosed(InboxError):
    """The 24-hour customer service window is closed: only an approved template,
    sent as proposed, may go out."""
