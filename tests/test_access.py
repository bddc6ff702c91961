"""The inbox's one access rule (``copilot.inbox.access``): each role, ownership and
team case; the SQL form against the Python form; the library's own uses (claim,
transfer, the list, tasks, agents, metrics)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from copilot.inbox import Inbox, InboxConfig, ManualClock, NotFoundError, PermissionDenied, access
from copilot.inbox.access import Actor, Scope
from copilot.inbox.listing import ConversationQuery, list_conversations
from copilot.inbox.testing import KeywordAnalyzer
from copilot.models import Contact, Message, Referral

ADMIN = Actor(1, "admin")
A1 = Actor(2, "agent", "alpha")  # team alpha
A2 = Actor(3, "agent", "alpha")
B1 = Actor(4, "agent", "beta")
N1 = Actor(5, "agent")  # no team

# (conversation owner, conversation team) -> who may read it. The team is the
# routed team, else the owner's team; None is the shared queue.
SCOPES = {
    "A1's, team alpha": Scope(10, A1.agent_id, "alpha"),
    "queued for alpha": Scope(11, None, "alpha"),
    "shared queue": Scope(12, None, None),
    "B1's, team beta": Scope(13, B1.agent_id, "beta"),
    "N1's, no team": Scope(14, N1.agent_id, None),
    "N1's, routed to alpha": Scope(15, N1.agent_id, "alpha"),
}
READ = {
    "A1's, team alpha": {ADMIN, A1, A2},
    "queued for alpha": {ADMIN, A1, A2},
    "shared queue": {ADMIN, A1, A2, B1, N1},
    "B1's, team beta": {ADMIN, B1},
    "N1's, no team": {ADMIN, A1, A2, B1, N1},
    "N1's, routed to alpha": {ADMIN, A1, A2, N1},
}
MANAGE = {  # the owner or an admin
    "A1's, team alpha": {ADMIN, A1},
    "queued for alpha": {ADMIN},
    "shared queue": {ADMIN},
    "B1's, team beta": {ADMIN, B1},
    "N1's, no team": {ADMIN, N1},
    "N1's, routed to alpha": {ADMIN, N1},
}
ACTORS = {"admin": ADMIN, "A1": A1, "A2": A2, "B1": B1, "N1": N1}


@pytest.mark.parametrize("case", sorted(SCOPES))
@pytest.mark.parametrize("who", sorted(ACTORS))
def test_each_role_ownership_and_team(case: str, who: str) -> None:
    actor, scope = ACTORS[who], SCOPES[case]
    reads = actor in READ[case]
    assert access.can_read(actor, scope) is reads
    assert access.can_write(actor, scope) is reads  # notes, tags, tasks
    assert access.can_claim(actor, scope) is reads
    assert access.can_manage(actor, scope) is (actor in MANAGE[case])
    # Tasks: closed by an admin, the task's owner or the conversation's owner,
    # and only by someone who may open the conversation.
    assert access.can_close_task(actor, scope, task_owner_id=None) is (
        reads and (actor is ADMIN or scope.owner_id == actor.agent_id)
    )
    assert access.can_close_task(actor, scope, task_owner_id=actor.agent_id) is reads


def test_transfers_stay_inside_the_team_unless_an_admin_hands_it_over() -> None:
    owned = SCOPES["A1's, team alpha"]
    assert access.can_transfer_to(A1, A2, owned)
    assert access.can_transfer_to(A1, ADMIN, owned)
    assert not access.can_transfer_to(A1, B1, owned)
    assert not access.can_transfer_to(A1, N1, owned)
    assert not access.can_transfer_to(A2, A1, owned)  # not the owner
    assert access.can_transfer_to(ADMIN, B1, owned)


def test_other_teams_lists_are_for_admins() -> None:
    access.require_team(A1, "alpha")
    access.require_team(A1, None)
    access.require_team(ADMIN, "beta")
    for actor, team in ((A1, "beta"), (N1, "alpha"), (B1, "alpha")):
        with pytest.raises(PermissionDenied):
            access.require_team(actor, team)


# --- against a real inbox ---------------------------------------------------------


@pytest.fixture
def world(profile, friday_noon, tmp_path):
    """Team alpha (Ana, Alba), team beta (Beto), Nadia of no team, an admin; a
    conversation of each kind (routed by the ad they came from)."""
    inbox = Inbox(
        tmp_path / "access.db",
        copilot=KeywordAnalyzer(profile),
        clock=ManualClock(friday_noon),
        config=InboxConfig(routing=[{"origin": "ad", "team": "alpha"}]),
    )
    people = {
        "admin": inbox.create_agent("Root", role="admin")[0],
        "ana": inbox.create_agent("Ana", "alpha")[0],
        "alba": inbox.create_agent("Alba", "alpha")[0],
        "beto": inbox.create_agent("Beto", "beta")[0],
        "nadia": inbox.create_agent("Nadia")[0],
    }
    actors = {k: access.actor_of_agent(inbox.conn, a.id) for k, a in people.items()}
    n = iter(range(100))

    def lead(ad: bool = False) -> int:
        i = next(n)
        referral = Referral(source_type="ad") if ad else None
        message = Message(
            id=f"wamid.{i}", text="hola", timestamp=inbox.clock.now(), referral=referral
        )
        return inbox.ingest(Contact(wa_id=f"5730000{i:04d}"), message).conversation_id

    convs = {
        "queued_alpha": lead(ad=True),
        "shared": lead(),
        "ana": lead(),  # unrouted: its team is the owner's
        "beto": lead(),
        "nadia": lead(),
        "ana_routed": lead(ad=True),
    }
    inbox.claim(convs["ana"], people["ana"].id)
    inbox.claim(convs["beto"], people["beto"].id)
    inbox.claim(convs["nadia"], people["nadia"].id)
    inbox.claim(convs["ana_routed"], people["ana"].id)
    yield inbox, people, actors, convs
    inbox.close()


def test_a_conversations_team_is_its_routed_team_else_its_owners(world) -> None:
    inbox, _, _, convs = world
    teams = {k: access.conversation_scope(inbox.conn, cid).team for k, cid in convs.items()}
    assert teams == {
        "queued_alpha": "alpha",
        "shared": None,
        "ana": "alpha",
        "beto": "beta",
        "nadia": None,
        "ana_routed": "alpha",
    }
    # The same definition is what the inbox shows as the conversation's team.
    assert {k: inbox.conversation(cid).team for k, cid in convs.items()} == teams
    with pytest.raises(NotFoundError):
        access.conversation_scope(inbox.conn, 999_999)


def test_the_sql_form_agrees_with_the_python_form(world) -> None:
    inbox, _, actors, convs = world
    for who, actor in actors.items():
        listed = {
            row["id"]
            for row in list_conversations(
                inbox,
                ConversationQuery(view="all" if actor.is_admin else "mine", status=None),
                actor,
            )
        } | {
            row["id"]
            for view in ("unassigned", "team")
            for row in list_conversations(inbox, ConversationQuery(view=view, status=None), actor)
        }
        where, params = access.visible_sql(actor)
        by_sql = {
            r[0]
            for r in inbox.conn.execute(f"SELECT c.id FROM conversations c WHERE {where}", params)
        }
        by_python = {
            cid
            for cid in convs.values()
            if access.can_read(actor, access.conversation_scope(inbox.conn, cid))
        }
        assert by_sql == by_python, who
        # Nadia owns one conversation and sees the shared queue; every list view
        # together shows no more than she may read.
        assert listed <= by_python, who
    beto = actors["beto"]
    assert {
        k
        for k, cid in convs.items()
        if access.can_read(beto, access.conversation_scope(inbox.conn, cid))
    } == {"shared", "beto", "nadia"}


def test_require_helpers_raise_the_inbox_errors(world) -> None:
    inbox, _, actors, convs = world
    with pytest.raises(NotFoundError):
        access.require_read(inbox.conn, actors["beto"], 999_999)
    with pytest.raises(PermissionDenied):
        access.require_read(inbox.conn, actors["beto"], convs["ana"])
    with pytest.raises(PermissionDenied):
        access.require_write(inbox.conn, actors["beto"], convs["queued_alpha"])
    with pytest.raises(PermissionDenied):
        access.require_manage(inbox.conn, actors["alba"], convs["ana"])  # same team, not owner
    assert access.require_manage(inbox.conn, actors["ana"], convs["ana"]).owner_id == (
        actors["ana"].agent_id
    )
    assert access.require_read(inbox.conn, actors["alba"], convs["ana"]).team == "alpha"


def test_claiming_a_conversation_routed_to_another_team_is_refused(world) -> None:
    inbox, people, _, convs = world
    for who in ("beto", "nadia"):
        with pytest.raises(PermissionDenied):
            inbox.claim(convs["queued_alpha"], people[who].id)
    assert inbox.conversation(convs["queued_alpha"]).assignee_id is None
    assert inbox.claim(convs["queued_alpha"], people["alba"].id).assignee_id == people["alba"].id
    # The shared queue is open to all.
    assert inbox.claim(convs["shared"], people["beto"].id).assignee_id == people["beto"].id


def test_an_owner_transfers_only_inside_the_team(world) -> None:
    inbox, people, _, convs = world
    with pytest.raises(PermissionDenied):
        inbox.transfer(convs["ana"], people["ana"].id, people["beto"].id)
    assert inbox.conversation(convs["ana"]).assignee_id == people["ana"].id
    assert inbox.transfer(convs["ana"], people["ana"].id, people["alba"].id).assignee_id == (
        people["alba"].id
    )
    moved = inbox.transfer(convs["ana"], people["admin"].id, people["beto"].id)
    assert moved.assignee_id == people["beto"].id


def test_agents_tasks_and_metrics_are_scoped_to_what_the_agent_may_open(world) -> None:
    inbox, _, actors, convs = world
    due = inbox.clock.now() + timedelta(hours=1)
    task_a = inbox.create_task(convs["ana"], "Llamar", due).id
    task_b = inbox.create_task(convs["beto"], "Cotizar", due).id
    beto = actors["beto"]
    assert {t.id for t in inbox.tasks(visible_to=beto) if t.kind == "custom"} == {task_b}
    assert {t.id for t in inbox.tasks(visible_to=actors["admin"]) if t.kind == "custom"} == {
        task_a,
        task_b,
    }
    assert {a.name for a in inbox.agents(visible_to=beto)} == {"Root", "Beto"}
    assert {a.name for a in inbox.agents(visible_to=actors["ana"])} == {"Root", "Ana", "Alba"}
    assert {a.name for a in inbox.agents(visible_to=actors["nadia"])} == {"Root", "Nadia"}
    assert len(inbox.agents(visible_to=actors["admin"])) == 5
    with pytest.raises(PermissionDenied):
        inbox.agents("alpha", visible_to=beto)
    inbox.set_tags(convs["ana"], ["vip-alfa"], [])
    inbox.set_tags(convs["beto"], ["vip-beta"], [])
    assert inbox.tags_in_use(visible_to=beto) == ["vip-beta"]
    assert inbox.tags_in_use(visible_to=actors["alba"]) == ["vip-alfa"]
    assert inbox.tags_in_use(visible_to=actors["admin"]) == ["vip-alfa", "vip-beta"]
    start, end = inbox.clock.now() - timedelta(days=1), inbox.clock.now() + timedelta(days=1)
    everything = inbox.metrics(start, end)
    for_beto = inbox.metrics(start, end, visible_to=beto)
    assert everything.first_response["all"]["all"].conversations == len(convs)
    assert for_beto.first_response["all"]["all"].conversations == 3  # shared, beto, nadia
    assert "alpha" in everything.first_response["team"]
    assert "alpha" not in for_beto.first_response["team"]
    assert inbox.metrics(start, end, visible_to=actors["admin"]) == everything


def test_the_library_list_refuses_every_conversation_to_agents(world) -> None:
    inbox, _, actors, _ = world
    with pytest.raises(PermissionDenied):
        list_conversations(inbox, ConversationQuery(view="all"), actors["ana"])
    with pytest.raises(PermissionDenied):
        list_conversations(inbox, ConversationQuery(view="team", team="beta"), actors["ana"])
    rows = list_conversations(inbox, ConversationQuery(view="team", team="beta"), actors["admin"])
    assert [r["team"] for r in rows] == ["beta"]
    assert list_conversations(inbox, ConversationQuery(view="team"), actors["nadia"]) == []
