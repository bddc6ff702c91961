"""Quick replies: per team and shared; only an admin edits them."""

from __future__ import annotations

import pytest

from copilot.inbox import Inbox, InvalidInput, NotFoundError, PermissionDenied
from copilot.inbox.access import Actor


@pytest.fixture
def inbox():
    return Inbox(":memory:")


def test_each_team_sees_its_own_and_the_shared_ones(inbox):
    boss = Actor(1, "admin", None)
    inbox.add_quick_reply(boss, "/horario", "Abrimos de 9 a 18.")
    inbox.add_quick_reply(boss, "envio", "Enviamos a todo el país.", team="ventas")
    inbox.add_quick_reply(boss, "suporte", "Vamos verificar.", team="brasil")
    ventas = [q["shortcut"] for q in inbox.quick_replies(Actor(2, "agent", "ventas"))]
    brasil = [q["shortcut"] for q in inbox.quick_replies(Actor(3, "agent", "brasil"))]
    nobody = [q["shortcut"] for q in inbox.quick_replies(Actor(4, "agent", None))]
    assert ventas == ["envio", "horario"]
    assert brasil == ["horario", "suporte"]
    assert nobody == ["horario"]
    assert len(inbox.quick_replies(boss)) == 3


def test_only_an_admin_edits_and_bad_ones_are_refused(inbox):
    agent = Actor(2, "agent", "ventas")
    with pytest.raises(PermissionDenied):
        inbox.add_quick_reply(agent, "x", "y")
    boss = Actor(1, "admin", None)
    for shortcut, text in (("", "y"), ("dos palabras", "y"), ("ok", " "), ("a" * 41, "y")):
        with pytest.raises(InvalidInput):
            inbox.add_quick_reply(boss, shortcut, text)
    added = inbox.add_quick_reply(boss, "ok", "Perfecto")
    with pytest.raises(PermissionDenied):
        inbox.remove_quick_reply(agent, added["id"])
    inbox.remove_quick_reply(boss, added["id"])
    assert inbox.quick_replies() == []
    with pytest.raises(NotFoundError):
        inbox.remove_quick_reply(boss, added["id"])
