"""Inbox metrics over a date range: first response, SLA, handled conversations,
funnel by origin, lost reasons, handoffs, suggestion use and template replies.

Everything is computed from the stored rows, so it can be recomputed for any
range at any time; ``as_rows`` flattens a report for CSV.
"""

from __future__ import annotations

import itertools
import json
import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.inbox.access import TEAM_SQL, Actor, visible_conversations_sql, visible_sql
from copilot.inbox.models import from_epoch, to_epoch
from copilot.inbox.store import InboxStore
from copilot.profile import BusinessProfile

_FUNNEL = ("new", "qualified", "proposal_sent", "won")


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResponseStats(_M):
    """First-response figures for one group."""

    conversations: int = 0
    answered: int = 0
    median_minutes: float | None = None
    p90_minutes: float | None = None
    sla_compliance_pct: float | None = Field(None, description="Answered within the SLA, %")


class FunnelStats(_M):
    """How many conversations reached each stage, and the conversion between stages."""

    reached: dict[str, int] = Field(default_factory=dict)
    lost: int = 0
    conversion_pct: dict[str, float | None] = Field(default_factory=dict)


class SuggestionStats(_M):
    proposed: int = 0
    accepted: int = 0
    edited: int = 0
    rejected: int = 0
    acceptance_pct: float | None = None
    edit_pct: float | None = None
    reject_pct: float | None = None
    mean_similarity_when_edited: float | None = Field(
        None, description="1.0 = unchanged; lower = agents rewrote more"
    )


class TemplateStats(_M):
    sends: int = 0
    replies: int = 0
    reply_pct: float | None = None


class MetricsReport(_M):
    """Everything :meth:`MetricsMixin.metrics` measures for one range."""

    start: datetime
    end: datetime
    business_hours_only: bool
    first_response: dict[str, dict[str, ResponseStats]] = Field(
        default_factory=dict, description="group kind (all/agent/team/origin/day) -> key -> stats"
    )
    handled_by_agent: dict[str, int] = Field(default_factory=dict)
    funnel_by_origin: dict[str, FunnelStats] = Field(default_factory=dict)
    lost_reasons: dict[str, int] = Field(default_factory=dict)
    handoff_rate_pct: float | None = None
    handoff_reasons: dict[str, int] = Field(default_factory=dict)
    suggestions: SuggestionStats = Field(default_factory=SuggestionStats)
    suggestions_by_agent: dict[str, SuggestionStats] = Field(default_factory=dict)
    templates: dict[str, TemplateStats] = Field(default_factory=dict)

    def as_rows(self) -> list[dict[str, Any]]:
        """Flat rows ``section, group, key, metric, value`` (for CSV)."""
        rows: list[dict[str, Any]] = []

        def add(section: str, group: str, key: str, values: dict[str, Any]) -> None:
            for metric, value in values.items():
                if isinstance(value, dict):
                    for sub, v in value.items():
                        rows.append(
                            dict(
                                section=section,
                                group=group,
                                key=key,
                                metric=f"{metric}.{sub}",
                                value=v,
                            )
                        )
                else:
                    rows.append(
                        dict(section=section, group=group, key=key, metric=metric, value=value)
                    )

        for kind, groups in self.first_response.items():
            for key, stats in groups.items():
                add("first_response", kind, key, stats.model_dump())
        add("handled", "agent", "", dict(self.handled_by_agent))
        for origin, funnel in self.funnel_by_origin.items():
            add("funnel", "origin", origin, funnel.model_dump())
        add("lost_reasons", "all", "", dict(self.lost_reasons))
        add("handoff", "all", "", {"rate_pct": self.handoff_rate_pct, **self.handoff_reasons})
        add("suggestions", "all", "", self.suggestions.model_dump())
        for agent, stats in self.suggestions_by_agent.items():
            add("suggestions", "agent", agent, stats.model_dump())
        for key, stats in self.templates.items():
            add("templates", "template", key, stats.model_dump())
        return rows


def business_seconds(profile: BusinessProfile, start: datetime, end: datetime) -> float:
    """Seconds between ``start`` and ``end`` that fall within business hours."""
    if end <= start:
        return 0.0
    tz = profile.tz
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    total = 0.0
    day = local_start.date()
    while day <= local_end.date():
        for span in profile.business_hours.spans_for(day.weekday()):
            open_at = datetime.combine(day, span.start, tz)
            close_at = datetime.combine(day, span.end, tz)
            lo, hi = max(open_at, local_start), min(close_at, local_end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def _pct(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1], 2)


def _suggestion_stats(states: Counter, sims: list[float]) -> SuggestionStats:
    decided = states["accepted"] + states["edited"] + states["rejected"]
    return SuggestionStats(
        proposed=sum(states.values()),
        accepted=states["accepted"],
        edited=states["edited"],
        rejected=states["rejected"],
        acceptance_pct=_pct(states["accepted"], decided),
        edit_pct=_pct(states["edited"], decided),
        reject_pct=_pct(states["rejected"], decided),
        mean_similarity_when_edited=round(statistics.fmean(sims), 4) if sims else None,
    )


class MetricsMixin(InboxStore):
    """``metrics``."""

    def metrics(
        self,
        start: datetime,
        end: datetime,
        *,
        business_hours_only: bool = False,
        visible_to: Actor | None = None,
    ) -> MetricsReport:
        """Measure the inbox over ``[start, end)`` (conversations by their first
        inbound message, messages and suggestions by their own time).
        ``visible_to``: count only the conversations that actor may read (see
        :mod:`copilot.inbox.access`); None counts everything."""
        lo, hi = to_epoch(start), to_epoch(end)
        report = MetricsReport(start=start, end=end, business_hours_only=business_hours_only)
        # Two forms of the same limit: on ``conversations c``, and on tables that
        # point at a conversation by its id.
        on_c = visible_sql(visible_to)
        on_id: tuple[str, list] = ("1 = 1", [])
        if visible_to is not None and not visible_to.is_admin:
            ids, ids_params = visible_conversations_sql(visible_to)
            on_id = (f"conversation_id IN {ids}", ids_params)
        self._first_response(report, lo, hi, business_hours_only, on_c)
        report.handled_by_agent = {
            f"agent:{r['agent_id']}": r["n"]
            for r in self._rows(
                "SELECT agent_id, COUNT(DISTINCT conversation_id) AS n FROM messages"
                f" WHERE author = 'agent' AND ts >= ? AND ts < ? AND {on_id[0]} GROUP BY agent_id",
                (lo, hi, *on_id[1]),
            )
        }
        self._funnel(report, lo, hi, on_c)
        self._handoffs(report, lo, hi, on_id)
        self._suggestions(report, lo, hi, on_id)
        self._templates(report, lo, hi, on_id)
        return report

    def _first_response(
        self, report: MetricsReport, lo: float, hi: float, bh: bool, scope: tuple[str, list]
    ) -> None:
        rows = self._rows(
            "SELECT c.id, c.first_inbound_at, c.first_response_at, c.first_response_by,"
            f" c.origin, {TEAM_SQL} AS team, c.assignee_id FROM conversations c"
            f" WHERE c.first_inbound_at >= ? AND c.first_inbound_at < ? AND {scope[0]}",
            (lo, hi, *scope[1]),
        )
        sla = self.profile.first_response_sla_minutes * 60
        now = self._now()
        groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
        tz = self.profile.tz
        for row in rows:
            start = from_epoch(row["first_inbound_at"])
            if row["first_response_at"] is not None:
                end = from_epoch(row["first_response_at"])
                secs = (
                    business_seconds(self.profile, start, end)
                    if bh
                    else (end - start).total_seconds()
                )
                row["secs"] = secs
                row["met"] = secs <= sla
                who = row["first_response_by"]
                agent = f"agent:{who}" if who is not None else "phone"
            else:
                waited = (
                    business_seconds(self.profile, start, from_epoch(now))
                    if bh
                    else now - row["first_inbound_at"]
                )
                row["secs"] = None
                row["met"] = None if waited <= sla else False  # still within SLA: not judged
                agent = f"agent:{row['assignee_id']}" if row["assignee_id"] else "unassigned"
            for key in (
                ("all", "all"),
                ("agent", agent),
                ("team", row["team"] or "none"),
                ("origin", row["origin"] or "unknown"),
                ("day", start.astimezone(tz).date().isoformat()),
            ):
                groups[key].append(row)
        for (kind, key), items in sorted(groups.items()):
            times = [r["secs"] / 60 for r in items if r["secs"] is not None]
            judged = [r["met"] for r in items if r["met"] is not None]
            report.first_response.setdefault(kind, {})[key] = ResponseStats(
                conversations=len(items),
                answered=len(times),
                median_minutes=round(statistics.median(times), 2) if times else None,
                p90_minutes=_quantile(times, 0.9),
                sla_compliance_pct=_pct(sum(judged), len(judged)),
            )

    def _funnel(self, report: MetricsReport, lo: float, hi: float, scope: tuple[str, list]) -> None:
        rows = self._rows(
            "SELECT c.id, c.origin, c.stage, c.lost_reason,"
            " (SELECT GROUP_CONCAT(after, ',') FROM stage_history h WHERE h.conversation_id = c.id)"
            f" AS path FROM conversations c WHERE c.created_at >= ? AND c.created_at < ?"
            f" AND {scope[0]}",
            (lo, hi, *scope[1]),
        )
        funnels: dict[str, FunnelStats] = defaultdict(FunnelStats)
        lost = Counter()
        for row in rows:
            seen = {
                "new",
                row["stage"],
                *(p.split(":")[0] for p in (row["path"] or "").split(",") if p),
            }
            reached = max((_FUNNEL.index(s) for s in seen if s in _FUNNEL), default=0)
            f = funnels[row["origin"] or "unknown"]
            for i in range(reached + 1):
                f.reached[_FUNNEL[i]] = f.reached.get(_FUNNEL[i], 0) + 1
            if row["stage"] == "lost":
                f.lost += 1
                lost[row["lost_reason"] or "unknown"] += 1
        for f in funnels.values():
            for a, b in itertools.pairwise(_FUNNEL):
                f.conversion_pct[f"{a}->{b}"] = _pct(f.reached.get(b, 0), f.reached.get(a, 0))
        report.funnel_by_origin = dict(sorted(funnels.items()))
        report.lost_reasons = dict(lost.most_common())

    def _handoffs(
        self, report: MetricsReport, lo: float, hi: float, scope: tuple[str, list]
    ) -> None:
        needed: dict[int, str | None] = {}
        seen: set[int] = set()
        for r in self._rows(
            "SELECT conversation_id, handoff_needed, handoff_reason FROM analyses"
            f" WHERE created_at >= ? AND created_at < ? AND {scope[0]} ORDER BY id",
            (lo, hi, *scope[1]),
        ):
            seen.add(r["conversation_id"])
            if r["handoff_needed"] and r["conversation_id"] not in needed:
                needed[r["conversation_id"]] = r["handoff_reason"]  # the first reason counts
        report.handoff_rate_pct = _pct(len(needed), len(seen))
        report.handoff_reasons = dict(
            Counter(reason or "unknown" for reason in needed.values()).most_common()
        )

    def _suggestions(
        self, report: MetricsReport, lo: float, hi: float, scope: tuple[str, list]
    ) -> None:
        rows = self._rows(
            "SELECT state, agent_id, similarity FROM suggestions"
            f" WHERE created_at >= ? AND created_at < ? AND state != 'superseded' AND {scope[0]}",
            (lo, hi, *scope[1]),
        )
        report.suggestions = _suggestion_stats(
            Counter(r["state"] for r in rows),
            [
                r["similarity"]
                for r in rows
                if r["state"] == "edited" and r["similarity"] is not None
            ],
        )
        by_agent: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            if r["agent_id"] is not None:
                by_agent[f"agent:{r['agent_id']}"].append(r)
        report.suggestions_by_agent = {
            agent: _suggestion_stats(
                Counter(r["state"] for r in items),
                [
                    r["similarity"]
                    for r in items
                    if r["state"] == "edited" and r["similarity"] is not None
                ],
            )
            for agent, items in sorted(by_agent.items())
        }

    def _templates(
        self, report: MetricsReport, lo: float, hi: float, scope: tuple[str, list]
    ) -> None:
        rows = self._rows(
            "SELECT m.template, COUNT(*) AS sends, SUM(EXISTS (SELECT 1 FROM messages r"
            "  WHERE r.conversation_id = m.conversation_id AND r.direction = 'inbound'"
            "  AND r.ts > m.ts AND r.ts < m.ts + 7 * 86400)) AS replies"
            " FROM messages m WHERE m.direction = 'outbound' AND m.template IS NOT NULL"
            f" AND m.ts >= ? AND m.ts < ? AND {scope[0]} GROUP BY m.template",
            (lo, hi, *scope[1]),
        )
        report.templates = {
            r["template"]: TemplateStats(
                sends=r["sends"], replies=r["replies"], reply_pct=_pct(r["replies"], r["sends"])
            )
            for r in rows
        }


def report_json(report: MetricsReport) -> str:
    """The report as pretty JSON."""
    return json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False)
