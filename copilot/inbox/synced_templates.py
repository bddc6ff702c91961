"""The Meta-approved templates last read from the WhatsApp Business Account.

A sync replaces the whole list in one transaction (a template Meta no longer
approves disappears). The table is a migration (``m013``); an inbox that never
synced (the demo) has it empty, and the picker keeps the profile's own list.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from copilot.inbox.store import InboxStore


class SyncedTemplatesMixin(InboxStore):
    """The approved templates' cache."""

    def replace_synced_templates(self, templates: Iterable[Any]) -> int:
        """Keep ``templates`` (objects with name, language, category, body and
        variables: the adapter's ``ApprovedTemplate``) as the approved list,
        replacing the previous sync; returns how many were kept."""
        now = self._now()
        rows = [
            (t.name, t.language, t.category, t.body, json.dumps(list(t.variables)), now)
            for t in templates
        ]
        with self._tx() as conn:
            conn.execute("DELETE FROM synced_templates")
            conn.executemany(
                "INSERT OR REPLACE INTO synced_templates"
                " (name, language, category, body, variables, synced_at) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def synced_templates(self) -> list[dict[str, Any]]:
        """The approved templates of the last sync, by name and language (empty
        when none ran): name, language, category, body, variables, synced_at."""
        rows = self._rows(
            "SELECT name, language, category, body, variables, synced_at FROM synced_templates"
            " ORDER BY name, language"
        )
        for row in rows:
            row["variables"] = json.loads(row["variables"])
        return rows

    def templates_synced_at(self) -> float | None:
        """When the last sync ran (None: never, or it found no template)."""
        rows = self.synced_templates()
        return max((r["synced_at"] for r in rows), default=None)


def approved_by_meta(previews: list[dict[str, Any]], synced: list[dict[str, Any]]) -> list[dict]:
    """The picker's templates once a sync ran: a profile template keeps its
    approved name only when Meta approved that name in its language (``es``
    matches ``es``, ``es_MX``...), and carries Meta's body; without a sync
    (``synced`` empty) the profile's list is returned as it is."""
    if not synced:
        return previews
    by_key = {(r["name"], r["language"].split("_")[0].lower()): r for r in synced}
    out = []
    for preview in previews:
        preview = dict(preview)
        found = by_key.get((preview["approved_name"], str(preview["language"]).lower()))
        if preview["approved_name"] and found is None:
            preview["approved_name"] = None  # not (or no longer) approved by Meta
        preview["meta_body"] = found["body"] if found else None
        out.append(preview)
    out.sort(key=lambda t: (t["approved_name"] is None, t["key"]))
    return out
