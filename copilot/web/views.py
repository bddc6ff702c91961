"""What each page shows, gathered from the inbox into plain dicts for the templates.
No HTML here: the templates render (and escape) everything."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from copilot import window
from copilot.inbox import Inbox, Outcome, access
from copilot.inbox.models import StoredMessage
from copilot.service.auth import Principal
from copilot.taxonomy import FIELD_NAMES, Intent, LostReason, Origin, Stage
from copilot.web import charts
from copilot.web.formatting import duration, field_value, local_time
from copilot.web.i18n import label

_MEDIA_TYPES = {"image", "audio", "video", "document", "sticker", "location", "contacts"}


def chat_items(
    messages: list[StoredMessage],
    agents: dict[int, str],
    lang: str,
    tz,
    now: datetime,
    media: dict[int, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The chat bubbles: who wrote, what (media as a labelled placeholder), when, status,
    and what happened to it later: edited, deleted for everyone by the lead (the text
    stays visible to the agent, marked), reactions of each side."""
    from copilot.web.i18n import translate

    items = []
    for m in messages:
        mtype = m.type.value
        author = m.author.value
        # One badge per side, the lead's first; the title says whose it is.
        reactions = [
            {
                "who": who,
                "emoji": m.reactions[who],
                "title": translate(lang, f"chat.reaction.{who}"),
            }
            for who in ("lead", "business")
            if m.reactions.get(who)
        ]
        items.append(
            {
                "seq": m.seq,
                "id": m.id,
                "anchor": f"m-{m.seq}",
                "direction": m.direction.value,
                "author": author,
                "author_label": label_author(lang, author, agents.get(m.agent_id or 0)),
                "type": mtype,
                "placeholder": label(lang, "msgtype", mtype)
                if mtype in _MEDIA_TYPES or (mtype != "text" and not m.text)
                else None,
                "text": m.text,
                "time": local_time(m.timestamp, tz, now),
                "iso": m.timestamp.isoformat(),
                "status": m.status.value if m.status else None,
                "status_label": label(lang, "status", m.status) if m.status else "",
                "error": m.error,
                "template": label(lang, "template", m.template) if m.template else None,
                "backfill": m.backfill,
                "edited": m.edited_at is not None,
                "edited_time": local_time(m.edited_at, tz, now),
                "edited_iso": m.edited_at.isoformat() if m.edited_at else "",
                "revoked": m.revoked_at is not None,
                "revoked_time": local_time(m.revoked_at, tz, now),
                "reactions": reactions,
                # An attachment the inbox can serve: shown (image), played
                # (audio) or offered as a download (video, document).
                "media_url": f"/media/{m.seq}"
                if media and media.get(m.seq, {}).get("available")
                else None,
                "media_mime": (media or {}).get(m.seq, {}).get("mime_type"),
            }
        )
    return items


def label_author(lang: str, author: str, agent_name: str | None) -> str:
    """ "Agent · Ana", "Automatic", "From the phone", "Lead"."""
    from copilot.web.i18n import translate

    base = translate(lang, f"author.{author}")
    return f"{base} · {agent_name}" if author == "agent" and agent_name else base


def conversation_context(
    inbox: Inbox, principal: Principal, conversation_id: int, lang: str, now: datetime
) -> dict[str, Any]:
    """Everything the conversation page shows."""
    tz = inbox.profile.tz
    detail = inbox.conversation(conversation_id)
    messages = inbox.messages(conversation_id, limit=200)
    all_agents = inbox.agents()
    names = {a.id: a.name for a in all_agents}
    items = chat_items(messages, names, lang, tz, now, inbox.conversation_media(conversation_id))
    by_id = {item["id"]: item for item in items}
    last_seen = max(messages, key=lambda m: m.seq).id if messages else ""
    last_seq = max((m.seq for m in messages), default=0)

    analysis = inbox.latest_analysis(conversation_id)
    result = (analysis or {}).get("result") or {}
    intent = result.get("intent") or {}
    fields = []
    for name in FIELD_NAMES:
        stored = detail.fields.get(name)
        if not isinstance(stored, dict) or stored.get("value") in (None, ""):
            continue
        source = by_id.get(stored.get("message_id") or "")
        fields.append(
            {
                "name": name,
                "label": label(lang, "field", name),
                "value": field_value(lang, name, stored.get("value")),
                "confidence": stored.get("confidence"),
                "source": source,
            }
        )
    handoff = result.get("handoff") or {}
    # The agent's latest correction of the analysed message, shown over the labels.
    corrected: dict[str, Any] = {}
    if analysis and analysis.get("message_id"):
        for correction in inbox.corrections(message_id=analysis["message_id"]):
            corrected.update(correction.corrected)

    window_open = window.is_open(detail.window_closes_at, now)
    suggestion = inbox.current_suggestion(conversation_id)
    approved = None
    if suggestion is not None:
        approved = inbox.profile.templates[suggestion.template].approved_name
    is_owner = detail.assignee_id == principal.agent_id
    can_manage = is_owner or principal.is_admin
    # Whom the conversation may go to: the inbox's transfer rule decides.
    scope = access.conversation_scope(inbox.conn, conversation_id)
    candidates = [
        a
        for a in all_agents
        if a.active
        and a.id != detail.assignee_id
        and access.can_transfer_to(principal, access.Actor(a.id, a.role, a.team), scope)
    ]

    tasks = [
        {
            "id": t.id,
            "kind": t.kind,
            "title": t.title or label_task(lang, t.kind),
            "due": local_time(t.due_at, tz, now),
            "overdue": t.state in ("pending", "fired") and t.due_at <= now,
            "state": t.state,
            "owner": names.get(t.owner_id or 0),
            "open": t.state in ("pending", "fired"),
        }
        for t in inbox.tasks(conversation_id=conversation_id)
        if t.state in ("pending", "fired") or (now - t.due_at) < timedelta(days=7)
    ]
    notes = [
        {
            "text": n.text,
            "author": names.get(n.agent_id or 0, "—"),
            "time": local_time(n.created_at, tz, now),
        }
        for n in inbox.notes(conversation_id)
    ]
    history = [
        {
            "time": local_time(h.at, tz, now),
            "action": _history_verb(h.action, lang),
            "by": _actor(h.by, names, lang),
            "before": _history_value(h.action, h.before, names, lang, tz, now),
            "after": _history_value(h.action, h.after, names, lang, tz, now),
        }
        for h in inbox.history(conversation_id)[-12:]
    ]
    return {
        "conv": detail,
        "contact": detail.contact_name or detail.contact_key,
        "owner_name": names.get(detail.assignee_id or 0),
        "messages": items,
        "last_seen": last_seen,
        "last_seq": last_seq,
        "intent": {
            "label": detail.last_intent,
            "confidence": intent.get("confidence"),
        },
        "analysis": analysis,
        "corrected": corrected,
        "intents": [i.value for i in Intent],
        "origins": [o.value for o in Origin],
        "fields": fields,
        "handoff": {
            "needed": detail.handoff_needed,
            "reason": detail.handoff_reason,
            "explanation": handoff.get("explanation"),
        },
        "window_open": window_open,
        "quick_replies": [
            {"shortcut": q["shortcut"], "text": q["text"]} for q in inbox.quick_replies(principal)
        ],
        # With the window closed, only an approved template may go: the picker.
        "templates": []
        if window_open
        else [
            t
            for t in inbox.template_previews(conversation_id, principal.agent_id)
            if t["approved_name"]
        ],
        "window_until": local_time(detail.window_closes_at, tz, now),
        "suggestion": suggestion,
        "suggestion_sendable": suggestion is not None and (window_open or bool(approved)),
        "is_owner": is_owner,
        "can_manage": can_manage,
        "can_claim": detail.assignee_id is None,
        "candidates": candidates,
        "tasks": tasks,
        "notes": notes,
        "history": history,
        "stages": [s.value for s in Stage],
        "lost_reasons": [r.value for r in LostReason],
        # Only an open conversation runs a waiting clock.
        "waiting": duration((now - detail.waiting_since).total_seconds())
        if detail.waiting_since and detail.status == "open"
        else None,
        "snoozed_until": local_time(detail.snoozed_until, tz, now),
        "outcome_label": _outcome_label(detail, lang),
        "outcomes": [o.value for o in Outcome],
    }


def _outcome_label(detail, lang: str) -> str:
    from copilot.web.i18n import translate

    if not detail.outcome:
        return ""
    text = translate(lang, f"outcome.{detail.outcome}")
    if detail.outcome == "lost" and detail.lost_reason:
        text += f" ({label(lang, 'lost_reason', detail.lost_reason)})"
    return text


def label_task(lang: str, kind: str) -> str:
    """The title of an automatic task."""
    from copilot.web.i18n import translate

    return translate(lang, f"task.{kind}")


def _actor(by: str, names: dict[int, str], lang: str) -> str:
    """Who made a change, by name: an agent's name, "System", "Contact"."""
    from copilot.web.i18n import translate

    if by.startswith("agent:"):
        try:
            return names.get(int(by.split(":", 1)[1]), translate(lang, "author.agent"))
        except ValueError:
            return translate(lang, "author.agent")
    if by in ("system", "lead"):
        return translate(lang, f"hist.by.{by}")
    return by


def _history_verb(action: str, lang: str) -> str:
    from copilot.web.i18n import translate

    text = translate(lang, f"hist.{action}")
    return action if text == f"hist.{action}" else text


def _history_value(
    action: str, value: str | None, names: dict[int, str], lang: str, tz=None, now=None
) -> str:
    """A history entry's before / after in the agent's words: a stage, an
    outcome, a status, a time or an agent's name (never an internal id)."""
    from copilot.web.i18n import translate

    if value is None:
        return "—"
    if action == "stage":
        stage, _, reason = value.partition(":")
        text = label(lang, "stage", stage)
        return f"{text} ({label(lang, 'lost_reason', reason)})" if reason else text
    if action == "close" and value not in ("open", "closed", "snoozed"):
        outcome, _, reason = value.partition(":")
        text = translate(lang, f"outcome.{outcome}")
        return f"{text} ({label(lang, 'lost_reason', reason)})" if reason else text
    if value in ("open", "closed", "snoozed"):
        return translate(lang, f"hist.status.{value}")
    if action == "snooze" and tz is not None:
        try:
            return local_time(datetime.fromisoformat(value), tz, now)
        except ValueError:
            return value
    if value.isdigit():
        return names.get(int(value), translate(lang, "author.agent"))
    return value


# --- metrics -------------------------------------------------------------------------


def metrics_context(
    inbox: Inbox, days: int, now: datetime, lang: str, principal: Principal
) -> dict[str, Any]:
    """The metrics page: charts and tables over the last ``days`` days, over the
    conversations ``principal`` may open (the JSON API's metrics, same rule)."""
    tz = inbox.profile.tz
    local_today = now.astimezone(tz).date()
    start_day = local_today - timedelta(days=days - 1)
    start = datetime.combine(start_day, datetime.min.time(), tz)
    report = inbox.metrics(start, now + timedelta(seconds=1), visible_to=principal)
    names = {f"agent:{a.id}": a.name for a in inbox.agents()}
    per_day = report.first_response.get("day", {})
    day_keys = [(start_day + timedelta(days=i)).isoformat() for i in range(days)]
    frt_series = [
        (d[8:10] + "/" + d[5:7], per_day[d].median_minutes if d in per_day else None)
        for d in day_keys
    ]
    sla_series = [
        (d[8:10] + "/" + d[5:7], per_day[d].sla_compliance_pct if d in per_day else None)
        for d in day_keys
    ]
    overall = report.first_response.get("all", {}).get("all")
    agents_rows = []
    by_agent = report.first_response.get("agent", {})
    keys = sorted(
        set(by_agent) | set(report.handled_by_agent) | set(report.suggestions_by_agent),
        key=lambda k: names.get(k, k),
    )
    for key in keys:
        if not key.startswith("agent:"):
            continue
        stats = by_agent.get(key)
        sug = report.suggestions_by_agent.get(key)
        agents_rows.append(
            {
                "name": names.get(key, key),
                "handled": report.handled_by_agent.get(key, 0),
                "answered": stats.answered if stats else 0,
                "median": stats.median_minutes if stats else None,
                "sla": stats.sla_compliance_pct if stats else None,
                "acceptance": sug.acceptance_pct if sug else None,
                "edited": sug.edit_pct if sug else None,
            }
        )
    funnel = []
    stage_names = ("new", "qualified", "proposal_sent", "won")
    top = max((f.reached.get("new", 0) for f in report.funnel_by_origin.values()), default=0)
    for origin, f in sorted(
        report.funnel_by_origin.items(), key=lambda kv: -kv[1].reached.get("new", 0)
    ):
        steps = []
        for stage in stage_names:
            count = f.reached.get(stage, 0)
            steps.append(
                {
                    "stage": stage,
                    "count": count,
                    "w": round(300 * count / top, 1) if top else 0,
                }
            )
        funnel.append({"origin": origin, "steps": steps, "lost": f.lost})
    s = report.suggestions
    return {
        "days": days,
        "report": report,
        "overall": overall,
        "frt_chart": charts.line_chart(
            frt_series, threshold=float(inbox.profile.first_response_sla_minutes)
        ),
        "sla_chart": charts.bar_chart(sla_series, y_max=100),
        "agents": agents_rows,
        "funnel": funnel,
        "funnel_stages": stage_names,
        "suggestions": s,
        "suggestion_bar": charts.stacked(
            [("accepted", s.accepted), ("edited", s.edited), ("rejected", s.rejected)]
        ),
        "sla_minutes": inbox.profile.first_response_sla_minutes,
        "origins": [o.value for o in Origin],
    }
