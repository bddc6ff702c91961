"""The web inbox's routes: sign-in, the list, the conversation, its actions,
live updates and metrics. Every action checks the session, the CSRF token and
the inbox's access rule (:mod:`copilot.inbox.access`, shared with the JSON API),
then calls one inbox method."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response, Router, get, post
from litestar.datastructures import ResponseHeader
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body, Parameter
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from copilot.inbox import (
    ConflictError,
    Inbox,
    InboxError,
    InvalidInput,
    NotFoundError,
    Outcome,
    PermissionDenied,
    access,
)
from copilot.inbox.listing import count_unread
from copilot.service.auth import Principal
from copilot.service.errors import inbox_error_status
from copilot.taxonomy import LostReason, Origin, Stage
from copilot.web import session
from copilot.web.formatting import duration, local_time
from copilot.web.i18n import LANGUAGE_NAMES, LANGUAGES, label, negotiate, translate, translator
from copilot.web.live import events
from copilot.web.queries import VIEWS, ListQuery, list_rows, live_state, view_counts
from copilot.web.views import conversation_context, metrics_context

HERE = Path(__file__).parent
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
CID = Annotated[int, Parameter(ge=1, le=2**62)]
NextParam = Annotated[str | None, Parameter(max_length=2000)]
BoolParam = Annotated[bool, Parameter()]
_OK_NOTICES = {
    "sent": "reply.sent",
    "outbox": "reply.outbox",
    "corrected": "an.corrected_ok",
    **{
        key: f"ok.{key}"
        for key in (
            "claimed",
            "released",
            "transferred",
            "noted",
            "tagged",
            "staged",
            "task_added",
            "task_closed",
            "closed",
            "reopened",
            "snoozed",
            "suggested",
            "no_suggestion",
            "rejected",
        )
    },
}
#: The list's query parameters, carried from the list to a conversation and back,
#: so the split view's list keeps its filters.
_LIST_KEYS = ("view", "status", "stage", "origin", "tag", "handoff", "sla", "q", "page")

ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    # Autoescape everything, including .svg partials: lead text is never trusted.
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.globals["duration"] = duration

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none';"
        " object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


# --- plumbing -------------------------------------------------------------------------


def _inbox(request: Request) -> Inbox:
    return request.app.state.service.inbox()


def _lang(request: Request) -> str:
    return negotiate(request.cookies.get(session.LANG_COOKIE))


def _now(inbox: Inbox) -> datetime:
    return inbox.clock.now()


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    principal: Principal | None = None,
) -> Response:
    """Render a page with the common context (translator, labels, CSRF token...)."""
    lang = _lang(request)
    inbox = _inbox(request)
    now = _now(inbox)
    tz = inbox.profile.tz
    unread = 0
    if principal is not None:
        # The list's tab counts already hold it when the page shows the list.
        counts = context.get("counts") or {}
        unread = counts["unread"] if "unread" in counts else count_unread(inbox, principal)
    page = ENV.get_template(template).render(
        unread_total=unread,
        **context,
        lang=lang,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        _=translator(lang),
        L=lambda kind, value: label(lang, kind, value),
        t=lambda moment: local_time(moment, tz, now),
        me=principal,
        csrf=session.csrf_token(request) if principal else "",
        business=inbox.profile.name,
        path=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    )
    return Response(page, status_code=status, media_type="text/html; charset=utf-8")


def _error_page(request: Request, status: int, key: str, detail: str = "") -> Response:
    principal = None
    with contextlib.suppress(session.NotSignedIn):
        principal = session.current_principal(request)
    return render(
        request,
        "error.html",
        {"status": status, "message": translate(_lang(request), key), "detail": detail},
        status=status,
        principal=principal,
    )


def _not_signed_in(request: Request, _: Exception) -> Response:
    if (
        request.url.path.endswith(("/live", "/events"))
        or request.headers.get("x-requested-with")
        or "text/event-stream" in request.headers.get("accept", "")
    ):
        return Response({"error": "unauthorized"}, status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect("/login?" + urlencode({"next": target}), status_code=303)


def _forbidden(request: Request, exc: Exception) -> Response:
    return _error_page(request, 403, "err.forbidden", str(getattr(exc, "detail", exc)))


def _not_found(request: Request, exc: Exception) -> Response:
    return _error_page(request, 404, "err.not_found")


def _security_headers(response: Response) -> Response:
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


class Refused(InvalidInput):
    """Bad input whose message is already in the agent's language (shown as is)."""


def _first(data: dict[str, Any], key: str) -> str:
    """One form value as a string (the first, when a key repeats)."""
    value = data.get(key)
    if isinstance(value, list):
        value = value[0] if value else ""
    return "" if value is None else str(value)


def _int(data: dict[str, Any], key: str) -> int | None:
    value = _first(data, key).strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{key} must be a number") from None
    if not 1 <= number <= 2**62:
        raise InvalidInput(f"{key} is out of range")
    return number


def _safe_next(target: str | None) -> str:
    """A local path to go back to (never another site)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target[:500]
    return "/"


# --- sign-in ----------------------------------------------------------------------------


@get("/login", sync_to_thread=True)
def login_form(request: Request, next: NextParam = None, bye: BoolParam = False) -> Response:
    """The sign-in form (a fresh double-submit nonce each time)."""
    nonce = session.new_login_nonce()
    response = render(
        request,
        "login.html",
        {"nonce": nonce, "next": _safe_next(next), "error": None, "bye": bye},
    )
    session.set_login_nonce(response, request, nonce)
    return response


@post("/login", sync_to_thread=True)
def login(request: Request, data: Form) -> Response:
    """Check the token; on success set the HTTP-only session cookie."""
    target = _safe_next(_first(data, "next"))
    if not session.check_login_nonce(request, _first(data, "nonce")):
        return _login_again(request, target, "err.csrf", 403)
    token = _first(data, "token").strip()
    value = session.session_cookie(request.app.state.service, token) if token else None
    if value is None:
        return _login_again(request, target, "login.bad_token", 401)
    response = Redirect(target, status_code=303)
    session.set_session(response, request, value)
    return response


def _login_again(request: Request, target: str, key: str, status: int) -> Response:
    nonce = session.new_login_nonce()
    response = render(
        request,
        "login.html",
        {"nonce": nonce, "next": target, "error": translate(_lang(request), key), "bye": False},
        status=status,
    )
    session.set_login_nonce(response, request, nonce)
    return response


@post("/logout", sync_to_thread=True)
def logout(request: Request, data: Form) -> Response:
    """Forget the session (the form carries the CSRF token)."""
    if not session.check_csrf(request, _first(data, session.CSRF_FIELD)):
        return _error_page(request, 403, "err.csrf")
    response = Redirect("/login?bye=1", status_code=303)
    session.clear_session(response)
    return response


@post("/logout/everywhere", sync_to_thread=True)
def logout_everywhere(request: Request, data: Form) -> Response:
    """End every session of the signed-in agent, on every device (CSRF-checked)."""
    principal = session.current_principal(request)
    if not session.check_csrf(request, _first(data, session.CSRF_FIELD)):
        return _error_page(request, 403, "err.csrf")
    _inbox(request).sign_out_everywhere(principal.agent_id)
    response = Redirect("/login?bye=1", status_code=303)
    session.clear_session(response)
    return response


@get("/lang/{code:str}", sync_to_thread=False)
def set_language(code: Annotated[str, Parameter(max_length=8)], next: NextParam = None) -> Response:
    """Switch the page language (a preference cookie only)."""
    response = Redirect(_safe_next(next), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(
            session.LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", path="/"
        )
    return response


# --- the list -----------------------------------------------------------------------------


def _list_query(principal: Principal, params: dict[str, str]) -> ListQuery:
    view = params.get("view") or "mine"
    if view not in VIEWS:
        view = "mine"
    status = params.get("status") or "open"
    stage = params.get("stage") or None
    origin = params.get("origin") or None
    try:
        page = max(0, min(int(params.get("page") or 0), 10_000))
    except ValueError:
        page = 0
    return ListQuery(
        view=view,
        status=None
        if status == "any"
        else (status if status in ("open", "closed", "snoozed") else "open"),
        stage=stage if stage in Stage._value2member_map_ else None,
        origin=origin if origin in Origin._value2member_map_ else None,
        tag=(params.get("tag") or "").strip()[:50] or None,
        handoff=params.get("handoff") == "1",
        sla=params.get("sla") == "1",
        q=(params.get("q") or "").strip()[:200] or None,
        page=page,
    )


def _list_params(request: Request, principal: Principal) -> dict[str, str]:
    params = {
        k: v for k, v in request.query_params.items() if isinstance(v, str) and k in _LIST_KEYS
    }
    if "view" not in params and principal.is_admin:
        params["view"] = "all"
    return params


def _list_context(request: Request, principal: Principal, *, full: bool = True) -> dict[str, Any]:
    """The list as the split view shows it, with the filters of the URL. Beside a
    conversation (``full`` False) the tag filter offers only the tag in use: the
    list page lists every tag, a heavier query the conversation need not pay."""
    params = _list_params(request, principal)
    query = _list_query(principal, params)
    inbox = _inbox(request)
    rows, more = list_rows(inbox, principal, query, _now(inbox))
    keep = {k: v for k, v in params.items() if k != "page" and v}
    carried = {**keep, "page": query.page} if query.page else keep
    return {
        "rows": rows,
        "query": query,
        "more": more,
        "params": keep,
        "list_qs": urlencode(carried),
        "page_url": lambda page: "/?" + urlencode({**keep, "page": page}),
        "view_url": lambda view: "/?" + urlencode({"view": view}),
        "rows_url": "/?" + urlencode({**keep, "page": query.page, "fragment": "rows"}),
        "counts": view_counts(inbox, principal),
        "views": [v for v in VIEWS if v != "all" or principal.is_admin],
        "tags": inbox.tags_in_use(visible_to=principal)
        if full
        else ([query.tag] if query.tag else []),
        "stages": [s.value for s in Stage],
        "origins": [o.value for o in Origin],
        "selected": None,
    }


def view_counts_unread(context: dict[str, Any]) -> int:
    """The unread count already counted for the list's tabs."""
    return int(context["counts"].get("unread", 0))


@get("/", sync_to_thread=True)
def inbox_list(request: Request) -> Response:
    """The conversation list: views, filters, search; on a wide screen the left
    pane of the split view. ``?fragment=rows`` renders only the rows (what the
    page's live refresh fetches)."""
    principal = session.current_principal(request)
    context = _list_context(request, principal)
    if request.query_params.get("fragment") == "rows":
        response = render(request, "_rows.html", context, principal=principal)
        body = (
            response.content
            if isinstance(response.content, bytes)
            else str(response.content).encode()
        )
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if request.headers.get("if-none-match") == etag:
            return Response(b"", status_code=304, headers={"ETag": etag})
        response.headers["ETag"] = etag
        # The page title's unread count travels beside the rows.
        response.headers["X-Unread"] = str(view_counts_unread(context))
        return response
    return render(request, "list.html", context, principal=principal)


# --- the conversation -----------------------------------------------------------------------


def _conversation_page(
    request: Request,
    principal: Principal,
    cid: int,
    *,
    status: int = 200,
    error: str | None = None,
    error_detail: str | None = None,
    draft: str | None = None,
    draft_form: str | None = None,
    notice: str | None = None,
) -> Response:
    inbox = _inbox(request)
    context = _list_context(request, principal, full=False)
    context.update(conversation_context(inbox, principal, cid, _lang(request), _now(inbox)))
    context.update(
        error=error,
        error_detail=error_detail,
        draft=draft,
        draft_form=draft_form,
        notice=notice,
        selected=cid,
    )
    return render(request, "conversation.html", context, status=status, principal=principal)


@get("/c/{cid:int}", sync_to_thread=True)
def conversation(
    request: Request, cid: CID, ok: Annotated[str | None, Parameter(max_length=20)] = None
) -> Response:
    """One conversation: chat, analysis, suggestion, actions."""
    principal = session.current_principal(request)
    inbox = _inbox(request)
    access.require_read(inbox.conn, principal, cid)
    inbox.mark_read(cid, principal.agent_id)
    notice = translate(_lang(request), _OK_NOTICES[ok]) if ok in _OK_NOTICES else None
    return _conversation_page(request, principal, cid, notice=notice)


@get("/c/{cid:int}/live", sync_to_thread=True)
def conversation_live(request: Request, cid: CID) -> dict[str, Any]:
    """A small JSON fingerprint the page polls for live updates."""
    principal = session.current_principal(request)
    inbox = _inbox(request)
    access.require_read(inbox.conn, principal, cid)
    return live_state(inbox, cid)


@get("/c/{cid:int}/chat", sync_to_thread=True)
def conversation_chat(request: Request, cid: CID) -> Response:
    """The chat and the owner line only (swapped in by the live update)."""
    principal = session.current_principal(request)
    inbox = _inbox(request)
    access.require_read(inbox.conn, principal, cid)
    context = conversation_context(inbox, principal, cid, _lang(request), _now(inbox))
    return render(request, "_chat.html", context, principal=principal)


#: Error code (see ``copilot.service.errors``) -> the message shown on the page.
_ERROR_MESSAGES = {
    "not_found": "err.not_found",
    "forbidden": "err.not_owner",
    "opted_out": "err.opted_out",
    "window_closed": "err.window_closed",
    "conflict": "err.conflict",
    "send_failed": "err.send_failed",
}


def _act(
    request: Request,
    cid: int,
    data: dict[str, Any],
    action: Callable[[Inbox, Principal], str | None],
    *,
    draft_field: str | None = None,
    explain: Callable[[Inbox, InboxError, str], str | None] | None = None,
) -> Response:
    """Run one form action on a conversation: session, CSRF and access first; an
    inbox refusal re-renders the page with the reason (and the agent's draft)."""
    principal = session.current_principal(request)
    inbox = _inbox(request)
    # Another team's conversation: 403 page, nothing shown.
    access.require_read(inbox.conn, principal, cid)
    draft = _first(data, draft_field) if draft_field else None
    kept = {"draft": draft, "draft_form": _first(data, "form")[:1]}
    lang = _lang(request)
    if not session.check_csrf(request, _first(data, session.CSRF_FIELD)):
        return _conversation_page(
            request, principal, cid, status=403, error=translate(lang, "err.csrf"), **kept
        )
    try:
        ok = action(inbox, principal)
    except InboxError as exc:
        status, code = inbox_error_status(exc)
        message = explain(inbox, exc, lang) if explain else None
        if isinstance(exc, Refused):
            message = str(exc)
        return _conversation_page(
            request,
            principal,
            cid,
            status=status,
            error=message or translate(lang, _ERROR_MESSAGES.get(code, "err.invalid")),
            # The library's own words name internal ids: only a bad input's
            # explanation is worth showing under the translated message.
            error_detail=str(exc)[:300] if code not in _ERROR_MESSAGES and not message else None,
            **kept,
        )
    query = {k: v for k, v in _list_params(request, principal).items() if v}
    if ok:
        query["ok"] = ok
    target = f"/c/{cid}" + (f"?{urlencode(query)}" if query else "")
    return Redirect(target, status_code=303)


@post("/c/{cid:int}/reply", sync_to_thread=True)
def reply(request: Request, cid: CID, data: Form) -> Response:
    """Accept or edit the suggestion, or send free text, with the last-seen message id."""

    def run(inbox: Inbox, principal: Principal) -> str:
        action = _first(data, "action")
        suggestion_id = _int(data, "suggestion_id") if action in ("accept", "edit") else None
        text: str | None = _first(data, "text").replace("\r\n", "\n").strip()
        if action == "accept":
            text = None  # sent exactly as proposed
        elif not text:
            raise Refused(translate(_lang(request), "reply.placeholder"))
        if text is not None and len(text) > 4096:
            raise InvalidInput("the reply is longer than 4096 characters")
        sent = inbox.reply(
            cid,
            principal.agent_id,
            text,
            last_seen_message_id=_first(data, "last_seen")[:256],
            suggestion_id=suggestion_id,
        )
        return "outbox" if sent.status and sent.status.value == "outbox" else "sent"

    return _act(request, cid, data, run, draft_field="text")


@post("/c/{cid:int}/template", sync_to_thread=True)
def send_template(request: Request, cid: CID, data: Form) -> Response:
    """Send one of the profile's templates as previewed (outside the 24-hour
    window: an approved one), with the last-seen message id."""

    def run(inbox: Inbox, principal: Principal) -> str:
        key = _first(data, "template")
        if not key:
            raise Refused(translate(_lang(request), "tpl.choose"))
        sent = inbox.reply(
            cid,
            principal.agent_id,
            last_seen_message_id=_first(data, "last_seen")[:256],
            template=key[:64],
        )
        return "outbox" if sent.status and sent.status.value == "outbox" else "sent"

    return _act(request, cid, data, run)


@post("/c/{cid:int}/reject", sync_to_thread=True)
def reject(request: Request, cid: CID, data: Form) -> Response:
    """Discard the suggestion, with an optional reason."""

    def run(inbox: Inbox, principal: Principal) -> str:
        sid = _int(data, "suggestion_id")
        if sid is None or not any(s.id == sid for s in inbox.suggestions(cid)):
            raise NotFoundError(f"no suggestion {sid} in conversation {cid}")
        reason = _first(data, "reason").strip()[:2000] or None
        inbox.reject_suggestion(sid, principal.agent_id, reason)
        return "rejected"

    return _act(request, cid, data, run)


@post("/c/{cid:int}/claim", sync_to_thread=True)
def claim(request: Request, cid: CID, data: Form) -> Response:
    """Take an unassigned conversation; someone faster gets named."""

    def taken(inbox: Inbox, exc: InboxError, lang: str) -> str | None:
        if not isinstance(exc, ConflictError):
            return None
        name = inbox.conn.execute(
            "SELECT a.name FROM conversations c JOIN agents a ON a.id = c.assignee_id"
            " WHERE c.id = ?",
            (cid,),
        ).fetchone()
        if name is None:
            return translate(lang, "err.claim_taken_anon")
        return translate(lang, "err.claim_taken", name=name[0])

    return _act(
        request,
        cid,
        data,
        lambda inbox, p: inbox.claim(cid, p.agent_id) and "claimed",
        explain=taken,
    )


@post("/c/{cid:int}/release", sync_to_thread=True)
def release(request: Request, cid: CID, data: Form) -> Response:
    """Give the conversation back to the queue (owner or admin)."""
    return _act(request, cid, data, lambda inbox, p: inbox.release(cid, p.agent_id) and "released")


@post("/c/{cid:int}/transfer", sync_to_thread=True)
def transfer(request: Request, cid: CID, data: Form) -> Response:
    """Hand the conversation to another agent with an optional note."""

    def run(inbox: Inbox, principal: Principal) -> str:
        to = _int(data, "to_agent_id")
        if to is None:
            raise InvalidInput("choose an agent")
        note = _first(data, "note").strip()[:2000] or None
        inbox.transfer(cid, principal.agent_id, to, note)
        return "transferred"

    return _act(request, cid, data, run)


@post("/c/{cid:int}/notes", sync_to_thread=True)
def add_note(request: Request, cid: CID, data: Form) -> Response:
    """Add an internal note."""

    def run(inbox: Inbox, principal: Principal) -> str:
        text = _first(data, "text").strip()
        if not text:
            raise InvalidInput("the note is empty")
        inbox.add_note(cid, principal.agent_id, text[:5000])
        return "noted"

    return _act(request, cid, data, run)


@post("/c/{cid:int}/tags", sync_to_thread=True)
def tags(request: Request, cid: CID, data: Form) -> Response:
    """Add (``add``) or remove (``remove``) a tag."""

    def run(inbox: Inbox, principal: Principal) -> str:
        add = _first(data, "add").strip()[:50]
        remove = _first(data, "remove").strip()[:50]
        if not add and not remove:
            raise InvalidInput("give a tag")
        inbox.set_tags(
            cid, [add] if add else [], [remove] if remove else [], agent_id=principal.agent_id
        )
        return "tagged"

    return _act(request, cid, data, run)


@post("/c/{cid:int}/stage", sync_to_thread=True)
def stage(request: Request, cid: CID, data: Form) -> Response:
    """Move the pipeline stage (owner or admin); ``lost`` needs a reason."""

    def run(inbox: Inbox, principal: Principal) -> str:
        access.require_manage(inbox.conn, principal, cid)
        new = _first(data, "stage")
        reason = _first(data, "lost_reason") or None
        if new != "lost":
            reason = None
        elif reason not in LostReason._value2member_map_:
            raise Refused(translate(_lang(request), "stage.lost_reason"))
        inbox.move_stage(cid, new, agent_id=principal.agent_id, lost_reason=reason)
        return "staged"

    return _act(request, cid, data, run)


@post("/c/{cid:int}/correct", sync_to_thread=True)
def correct(request: Request, cid: CID, data: Form) -> Response:
    """Correct the copilot's labels of the analysed message (owner or admin): the
    intent, the origin, whether a person had to take over. Feeds the evals."""

    def run(inbox: Inbox, principal: Principal) -> str:
        message_id = _first(data, "message_id")
        if inbox.message(message_id).conversation_id != cid:
            raise InvalidInput("that message is not in this conversation")
        handoff = _first(data, "handoff")
        inbox.correct_label(
            message_id,
            principal.agent_id,
            intent=_first(data, "intent") or None,
            origin=_first(data, "origin") or None,
            handoff_needed={"yes": True, "no": False}.get(handoff),
        )
        return "corrected"

    return _act(request, cid, data, run)


@post("/c/{cid:int}/tasks", sync_to_thread=True)
def add_task(request: Request, cid: CID, data: Form) -> Response:
    """A custom task with a due time (entered in the business's time zone)."""

    def run(inbox: Inbox, principal: Principal) -> str:
        title = _first(data, "title").strip()[:200]
        raw = _first(data, "due").strip()
        try:
            due = datetime.fromisoformat(raw)
        except ValueError:
            raise Refused(f"{translate(_lang(request), 'tasks.due')}: {raw[:40]!r}") from None
        if due.tzinfo is None:
            due = due.replace(tzinfo=inbox.profile.tz)
        inbox.create_task(cid, title, due, by_agent_id=principal.agent_id)
        return "task_added"

    return _act(request, cid, data, run)


@post("/c/{cid:int}/tasks/{task_id:int}/{verb:str}", sync_to_thread=True)
def close_task(
    request: Request,
    cid: CID,
    task_id: CID,
    verb: Annotated[str, Parameter(max_length=10)],
    data: Form,
) -> Response:
    """Mark a task done or cancelled (its owner, the conversation's owner or an admin)."""
    if verb not in ("done", "cancel"):
        raise NotFoundException()

    def run(inbox: Inbox, principal: Principal) -> str:
        task = inbox.task(task_id)
        if task.conversation_id != cid:
            raise NotFoundError(f"no task {task_id} in conversation {cid}")
        scope = access.require_read(inbox.conn, principal, cid)
        if not access.can_close_task(principal, scope, task.owner_id):
            raise PermissionDenied(f"task {task_id} is not yours")
        inbox.close_task(task_id, agent_id=principal.agent_id, cancel=verb == "cancel")
        return "task_closed"

    return _act(request, cid, data, run)


@post("/c/{cid:int}/close", sync_to_thread=True)
def close(request: Request, cid: CID, data: Form) -> Response:
    """Close with an outcome (owner or admin); ``lost`` needs a reason."""

    def run(inbox: Inbox, principal: Principal) -> str:
        access.require_manage(inbox.conn, principal, cid)
        outcome = _first(data, "outcome")
        if outcome not in Outcome._value2member_map_:
            raise Refused(translate(_lang(request), "close.choose"))
        reason = _first(data, "lost_reason") or None if outcome == "lost" else None
        if outcome == "lost" and reason not in LostReason._value2member_map_:
            raise Refused(translate(_lang(request), "err.lost_reason"))
        note = _first(data, "note").strip()[:2000] or None
        inbox.close_conversation(
            cid, outcome, agent_id=principal.agent_id, lost_reason=reason, note=note
        )
        return "closed"

    return _act(request, cid, data, run)


@post("/c/{cid:int}/reopen", sync_to_thread=True)
def reopen(request: Request, cid: CID, data: Form) -> Response:
    """Open a closed or snoozed conversation again (owner or admin)."""

    def run(inbox: Inbox, principal: Principal) -> str:
        access.require_manage(inbox.conn, principal, cid)
        inbox.reopen_conversation(cid, agent_id=principal.agent_id)
        return "reopened"

    return _act(request, cid, data, run)


def snooze_until(choice: str, now: datetime, tz) -> datetime:
    """The time a snooze choice means: ``1h``, ``4h``, ``tomorrow`` (9:00 local)
    or ``week`` (in seven days, 9:00 local)."""
    if choice == "1h":
        return now + timedelta(hours=1)
    if choice == "4h":
        return now + timedelta(hours=4)
    days = {"tomorrow": 1, "week": 7}.get(choice)
    if days is None:
        raise InvalidInput(f"unknown snooze choice {choice[:20]!r}")
    day = now.astimezone(tz).date() + timedelta(days=days)
    return datetime.combine(day, datetime.min.time(), tz).replace(hour=9)


@post("/c/{cid:int}/snooze", sync_to_thread=True)
def snooze(request: Request, cid: CID, data: Form) -> Response:
    """Put the conversation aside until a chosen time (owner or admin)."""

    def run(inbox: Inbox, principal: Principal) -> str:
        access.require_manage(inbox.conn, principal, cid)
        until = snooze_until(_first(data, "until"), _now(inbox), inbox.profile.tz)
        inbox.snooze(cid, until, agent_id=principal.agent_id)
        return "snoozed"

    return _act(request, cid, data, run)


@post("/c/{cid:int}/suggest", sync_to_thread=True)
def suggest(request: Request, cid: CID, data: Form) -> Response:
    """Ask the copilot for a fresh suggestion on the lead's latest message."""

    def run(inbox: Inbox, principal: Principal) -> str:
        access.require_write(inbox.conn, principal, cid)
        found = inbox.suggest_again(cid, agent_id=principal.agent_id)
        return "suggested" if found is not None else "no_suggestion"

    return _act(request, cid, data, run)


@get("/media/{seq:int}", sync_to_thread=True)
def media(request: Request, seq: CID) -> Response:
    """A message's attachment, to signed-in agents who may open its conversation."""
    principal = session.current_principal(request)
    inbox = _inbox(request)
    info = inbox.media_info(seq)
    access.require_read(inbox.conn, principal, info["conversation_id"])
    found = inbox.media_bytes(seq)
    if found is None and info["available"]:
        # Fetching from the Cloud API failed: the page keeps its placeholder.
        page = _error_page(request, 503, "media.fetch_failed")
        page.headers["Retry-After"] = "60"
        return page
    if found is None:
        return _error_page(request, 404, "media.unavailable")
    body, mime = found
    inline = mime.startswith(("image/", "audio/"))
    name = (info["filename"] or f"attachment-{seq}").replace('"', "")[:100]
    return Response(
        body,
        media_type=mime,
        headers={
            # The agent's browser may keep it a while; nothing shared keeps it.
            "Cache-Control": "private, max-age=3600",
            "Content-Disposition": "inline" if inline else f'attachment; filename="{name}"',
        },
    )


# --- quick replies ----------------------------------------------------------------------


@get("/quick-replies", sync_to_thread=True)
def quick_replies_page(request: Request) -> Response:
    """The quick replies the agent may use; an admin also adds and removes them."""
    principal = session.current_principal(request)
    inbox = _inbox(request)
    ok = request.query_params.get("ok")
    context = {
        "replies": inbox.quick_replies(principal),
        "teams": [t.name for t in inbox.teams()] if principal.is_admin else [],
        "notice": translate(_lang(request), f"qr.{ok}") if ok in ("added", "removed") else None,
        "error": None,
    }
    return render(request, "quick_replies.html", context, principal=principal)


def _quick_reply_action(request: Request, data: dict[str, Any], run) -> Response:
    principal = session.current_principal(request)
    inbox = _inbox(request)
    lang = _lang(request)
    error = None
    if not session.check_csrf(request, _first(data, session.CSRF_FIELD)):
        error, status = translate(lang, "err.csrf"), 403
    else:
        try:
            ok = run(inbox, principal)
            return Redirect(f"/quick-replies?ok={ok}", status_code=303)
        except InboxError as exc:
            status, code = inbox_error_status(exc)
            key = "err.forbidden" if code == "forbidden" else "err.invalid"
            error = translate(lang, key) + (f" {str(exc)[:200]}" if code == "invalid" else "")
    context = {
        "replies": inbox.quick_replies(principal),
        "teams": [t.name for t in inbox.teams()] if principal.is_admin else [],
        "notice": None,
        "error": error,
    }
    return render(request, "quick_replies.html", context, status=status, principal=principal)


@post("/quick-replies", sync_to_thread=True)
def add_quick_reply(request: Request, data: Form) -> Response:
    """Add a quick reply (an admin only)."""

    def run(inbox: Inbox, principal: Principal) -> str:
        inbox.add_quick_reply(
            principal,
            _first(data, "shortcut")[:60],
            _first(data, "text")[:5000],
            team=_first(data, "team").strip()[:50] or None,
        )
        return "added"

    return _quick_reply_action(request, data, run)


@post("/quick-replies/{qid:int}/delete", sync_to_thread=True)
def remove_quick_reply(request: Request, qid: CID, data: Form) -> Response:
    """Remove a quick reply (an admin only)."""

    def run(inbox: Inbox, principal: Principal) -> str:
        inbox.remove_quick_reply(principal, qid)
        return "removed"

    return _quick_reply_action(request, data, run)


# --- metrics ------------------------------------------------------------------------------


@get("/metrics", sync_to_thread=True)
def metrics(
    request: Request, days: Annotated[str | None, Parameter(max_length=10)] = None
) -> Response:
    """Charts and tables: first response over time, SLA, funnel, agents, suggestions
    (over the last 7, 14, 30 or 90 days; anything else shows 14)."""
    principal = session.current_principal(request)
    span = int(days) if days and days.isdigit() and int(days) in (7, 14, 30, 90) else 14
    inbox = _inbox(request)
    context = metrics_context(inbox, span, _now(inbox), _lang(request), principal)
    return render(request, "metrics.html", context, principal=principal)


# --- the router -------------------------------------------------------------------------------


def web_router() -> Router:
    """The web inbox as one Litestar router mounted at ``/`` (static files under /static)."""
    static = create_static_files_router(
        path="/static",
        directories=[HERE / "static"],
        name="web-static",
        include_in_schema=False,
    )
    return Router(
        path="/",
        route_handlers=[
            login_form,
            login,
            logout,
            logout_everywhere,
            set_language,
            inbox_list,
            conversation,
            conversation_live,
            conversation_chat,
            reply,
            send_template,
            reject,
            claim,
            release,
            transfer,
            add_note,
            tags,
            stage,
            correct,
            add_task,
            close_task,
            close,
            reopen,
            snooze,
            suggest,
            metrics,
            media,
            quick_replies_page,
            add_quick_reply,
            remove_quick_reply,
            events,
            static,
        ],
        include_in_schema=False,
        exception_handlers={
            session.NotSignedIn: _not_signed_in,
            PermissionDenied: _forbidden,
            PermissionDeniedException: _forbidden,
            NotFoundError: _not_found,
            NotFoundException: _not_found,
        },
        after_request=_security_headers,
        response_headers=[ResponseHeader(name="Vary", value="Cookie")],
    )
