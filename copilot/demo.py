"""Demo data for ``lead-copilot serve --demo``: agents and ~30 realistic WhatsApp
conversations (Spanish, Portuguese, English) for the demo profile's furniture shop.

Every conversation is replayed through the real inbox, in time order, with a
clock set to each event's moment: messages are ingested and analysed by the
configured copilot, agents claim, accept, edit and reject suggestions, phone
echoes and automatic messages happen, stages move. So the list, the analysis
panels and the metrics show what the product really computes, with times
relative to now (some leads are waiting right now, some past the SLA).

    from copilot.demo import load_demo
    print(load_demo(inbox))        # prints the demo agents' tokens
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from copilot.inbox import Inbox, InboxError, ManualClock
from copilot.models import Contact, Media, Message, Referral
from copilot.taxonomy import Author, Direction, MessageType

#: Phone numbers of demo contacts start with this (how a loaded demo is recognised).
DEMO_PREFIX = "5730099"

AGENTS = {
    # key: (name, team, role)
    "camila": ("Camila Rojas", "ventas", "agent"),
    "mateo": ("Mateo Díaz", "ventas", "agent"),
    "lucia": ("Lucía Pereira", "brasil", "agent"),
    "diego": ("Diego Gómez", "ventas", "admin"),
}


@dataclass
class Lead:
    """One demo conversation: who, when it started (ago), and its script.

    Script steps are tuples ``(minutes after the start, action, *args)``:
    ``in`` text · ``media`` type caption · ``claim`` agent · ``accept`` agent ·
    ``edit`` agent extra-text · ``reject`` agent reason · ``say`` agent text ·
    ``echo`` text · ``tick`` · ``stage`` agent stage [reason] · ``tag`` tag ·
    ``note`` agent text · ``task`` agent title hours-from-now ·
    ``transfer`` from to note.
    """

    name: str
    phone: str
    ago: timedelta
    script: list[tuple]
    referral: Referral | None = None


def _ago(days: float = 0, hours: float = 0, minutes: float = 0) -> timedelta:
    return timedelta(days=days, hours=hours, minutes=minutes)


AD = Referral(
    source_type="ad",
    source_url="https://fb.me/muebles-roble-sofas",
    source_id="120208",
    headline="Sofás en roble -20 %",
    body="Hasta fin de mes",
)

LEADS: list[Lead] = [
    # --- waiting right now ---------------------------------------------------------
    Lead(
        "Valentina Ruiz",
        "01",
        _ago(minutes=4),
        [(0, "in", "Hola! cuanto sale el sofá de 3 puestos? lo vi en su anuncio")],
        AD,
    ),
    Lead(
        "Andrés Felipe",
        "02",
        _ago(minutes=27),
        [(0, "in", "buenas tardes, tienen comedores de 6 puestos? lo necesito para este mes")],
    ),
    Lead(
        "Paola Méndez",
        "03",
        _ago(minutes=48),
        [
            (0, "in", "QR-TIENDA-01"),
            (
                1,
                "in",
                "hola, estuve en la tienda y me gustó una cama doble, me pueden llamar mañana?",
            ),
        ],
    ),
    Lead(
        "Ricardo",
        "04",
        _ago(minutes=12),
        [(0, "in", "quiero hablar con un asesor por favor, es urgente")],
    ),
    Lead(
        "Beatriz Souza",
        "05",
        _ago(minutes=35),
        [(0, "in", "Olá! Vocês entregam em Chía? Quero um escritório de madeira, quanto custa?")],
    ),
    Lead(
        "Emily Carter",
        "06",
        _ago(minutes=9),
        [(0, "in", "Hi! Do you deliver to Cajicá? Looking for a dining table for 4 people")],
    ),
    Lead(
        "Jorge Ortiz",
        "07",
        _ago(hours=1, minutes=40),
        [
            (0, "media", "image", "así llegó el sofá"),
            (1, "in", "pésimo servicio, el sofá llegó rayado y nadie me responde"),
        ],
    ),
    Lead(
        "Luisa Fernanda",
        "08",
        _ago(hours=2),
        [
            (0, "in", "Hola! Vengo de la web de Muebles Roble"),
            (1, "in", "quiero cotizar muebles a medida para mi apartamento, presupuesto 5 palos"),
            (6, "claim", "camila"),
            (7, "accept", "camila"),
            (
                30,
                "in",
                "perfecto, para antes de fin de mes. Me llamo Luisa, mi correo es luisa.f@example.com",
            ),
        ],
    ),
    # --- today, answered ------------------------------------------------------------------
    Lead(
        "Camilo Torres",
        "09",
        _ago(hours=3),
        [
            (0, "in", "buenas, aceptan tarjeta de crédito?"),
            (2, "claim", "mateo"),
            (4, "accept", "mateo"),
            (20, "in", "listo, gracias! y hacen envíos a Soacha?"),
            (23, "accept", "mateo"),
        ],
    ),
    Lead(
        "Marina Albuquerque",
        "10",
        _ago(hours=4),
        [
            (0, "in", "Oi, vi o perfil de vocês no Instagram. Quanto sai a cama de casal?"),
            (3, "claim", "lucia"),
            (5, "edit", "lucia", " Posso te mandar fotos?"),
            (40, "in", "Pode sim! Quero para a próxima semana"),
            (44, "accept", "lucia"),
            (45, "tag", "fotos"),
        ],
    ),
    Lead(
        "David Brown",
        "11",
        _ago(hours=5),
        [
            (
                0,
                "in",
                "Hello, I'd like a quote for 10 office desks for my company, we are in Bogotá",
            ),
            (6, "claim", "diego"),
            (
                8,
                "say",
                "diego",
                "Hi David! Sure, I can prepare a quote today. Which size of desk do you need?",
            ),
            (50, "in", "120 cm wide, oak if possible. Can we do a video call tomorrow?"),
            (55, "accept", "diego"),
            (56, "stage", "diego", "qualified"),
            (57, "task", "diego", "Send the quote for 10 desks", 20),
        ],
    ),
    Lead(
        "Natalia Gómez",
        "12",
        _ago(hours=6),
        [
            (0, "in", "hola a que hora abren el sábado?"),
            (1, "claim", "camila"),
            (3, "accept", "camila"),
            (10, "in", "gracias!!"),
        ],
    ),
    Lead(
        "Sebastián",
        "13",
        _ago(hours=7),
        [
            (0, "in", "Hola, me recomendó mi prima Laura, busco un escritorio para estudiar"),
            (5, "claim", "mateo"),
            (
                8,
                "echo",
                "Hola Sebastián! Te escribo desde la tienda, ya te mando fotos de los escritorios",
            ),
            (9, "media", "audio", None),
        ],
    ),
    # --- earlier this week ------------------------------------------------------------------
    Lead(
        "Carolina Vega",
        "14",
        _ago(days=1, hours=2),
        [
            (0, "in", "Hola, vi el anuncio del sofá con descuento, todavía está?"),
            (4, "claim", "camila"),
            (6, "accept", "camila"),
            (
                25,
                "in",
                "me interesa, somos una familia de 4 y lo queremos para el fin de semana. Cómo pago?",
            ),
            (28, "accept", "camila"),
            (60, "stage", "camila", "proposal_sent"),
            (
                62,
                "note",
                "camila",
                "Le envié la cotización del sofá gris; espera confirmar con su esposo.",
            ),
        ],
        AD,
    ),
    Lead(
        "Felipe Arango",
        "15",
        _ago(days=1, hours=5),
        [
            (0, "in", "buenas, cuanto vale el comedor de 4 puestos?"),
            (9, "claim", "mateo"),
            (11, "reject", "mateo", "prefiero preguntar primero el espacio"),
            (
                12,
                "say",
                "mateo",
                "Hola Felipe! El comedor de 4 puestos está en $1.450.000. ¿Cuánto mide el espacio donde lo pondrías?",
            ),
            (80, "in", "2 metros mas o menos"),
            (85, "accept", "mateo"),
        ],
    ),
    Lead(
        "Ana Clara",
        "16",
        _ago(days=1, hours=8),
        [
            (0, "in", "Bom dia! Vocês fazem móveis sob medida? Preciso de um guarda-roupa"),
            (20, "claim", "lucia"),
            (22, "accept", "lucia"),
            (60, "in", "Meu orçamento é de uns 3 milhões de pesos, para o mês que vem"),
            (65, "edit", "lucia", " Posso agendar uma visita técnica?"),
            (66, "stage", "lucia", "qualified"),
        ],
    ),
    Lead(
        "Michael Lee",
        "17",
        _ago(days=2, hours=1),
        [
            (0, "in", "Hi, where is your store located? I want to see the beds in person"),
            (3, "claim", "diego"),
            (5, "accept", "diego"),
            (30, "in", "Great, I'll visit on Saturday morning"),
            (34, "accept", "diego"),
            (35, "tag", "visita"),
        ],
    ),
    Lead(
        "Gloria Patricia",
        "18",
        _ago(days=2, hours=6),
        [
            (0, "in", "Hola quiero el sofá cama, lo quiero ya, como pago?"),
            (2, "claim", "camila"),
            (3, "accept", "camila"),
            (40, "in", "listo ya transferí por PSE"),
            (45, "say", "camila", "¡Recibido Gloria! Te confirmo la entrega para el jueves."),
            (46, "stage", "camila", "won"),
            (47, "tag", "pagado"),
        ],
    ),
    Lead(
        "Hernán",
        "19",
        _ago(days=3, hours=3),
        [
            (0, "in", "gana dinero desde casa 💰 escribe al link"),
            (30, "claim", "mateo"),
            (31, "stage", "mateo", "lost", "invalid"),
        ],
    ),
    Lead(
        "Rafael Costa",
        "20",
        _ago(days=3, hours=7),
        [
            (0, "in", "Olá, quanto custa o sofá de 3 lugares? Entregam em Bogotá?"),
            (45, "claim", "lucia"),
            (47, "accept", "lucia"),
            (120, "in", "Achei caro, vou pensar"),
            (125, "accept", "lucia"),
        ],
    ),
    Lead(
        "Sarah Johnson",
        "21",
        _ago(days=4, hours=2),
        [
            (0, "in", "Hello! Do you have bunk beds for kids?"),
            (5, "claim", "diego"),
            (7, "reject", "diego", "too generic"),
            (
                8,
                "say",
                "diego",
                "Hi Sarah! We make bunk beds to measure. How old are the kids and how high is the ceiling?",
            ),
            (90, "in", "5 and 8 years old, ceiling 2.4 m. Budget around 2 million COP"),
            (95, "accept", "diego"),
            (96, "stage", "diego", "qualified"),
        ],
    ),
    Lead(
        "Mauricio Pérez",
        "22",
        _ago(days=4, hours=9),
        [
            (0, "in", "hola, tienen escritorios en L?"),
            (25, "claim", "mateo"),
            (27, "accept", "mateo"),
            (26 * 60, "tick"),
        ],
    ),
    Lead(
        "Daniela Ríos",
        "23",
        _ago(days=5, hours=4),
        [
            (0, "in", "No me escriban más por favor"),
            (10, "claim", "camila"),
            (12, "accept", "camila"),
        ],
    ),
    Lead(
        "Thiago Martins",
        "24",
        _ago(days=6, hours=2),
        [
            (0, "in", "Oi! Quero comprar a mesa de jantar de 4 lugares, como faço o pagamento?"),
            (8, "claim", "lucia"),
            (9, "accept", "lucia"),
            (60, "in", "Pago com cartão então. Pode entregar sábado?"),
            (64, "accept", "lucia"),
            (65, "stage", "lucia", "proposal_sent"),
            (200, "stage", "lucia", "won"),
        ],
    ),
    Lead(
        "Esteban Mejía",
        "25",
        _ago(days=7, hours=5),
        [
            (0, "in", "hola busco una cama sencilla, cuanto cuesta?"),
            (50, "claim", "mateo"),
            (20, "tick"),
            (52, "accept", "mateo"),
            (180, "in", "ya compré en otro lado, gracias"),
            (185, "stage", "mateo", "lost", "chose_competitor"),
        ],
    ),
    Lead(
        "Jessica Miller",
        "26",
        _ago(days=8, hours=3),
        [
            (0, "in", "Hi, I ordered a sofa last week, order 4411. When will it arrive?"),
            (6, "claim", "diego"),
            (
                8,
                "say",
                "diego",
                "Hi Jessica! Order 4411 leaves the workshop tomorrow and arrives Friday.",
            ),
            (9, "transfer", "diego", "camila", "Seguimiento de entrega del pedido 4411"),
        ],
    ),
    Lead(
        "Patricia Lozano",
        "27",
        _ago(days=9, hours=6),
        [
            (
                0,
                "in",
                "Buenas, necesito 20 sillas para un restaurante, manejan precio por volumen?",
            ),
            (15, "claim", "camila"),
            (17, "edit", "camila", " Te preparo una cotización por volumen."),
            (70, "in", "sí por favor, el restaurante abre en enero, presupuesto 8 millones"),
            (75, "accept", "camila"),
            (76, "stage", "camila", "proposal_sent"),
            (77, "task", "camila", "Llamar a Patricia por la cotización de sillas", 26),
        ],
    ),
    Lead(
        "Gustavo Henrique",
        "28",
        _ago(days=11, hours=2),
        [
            (0, "in", "Boa tarde, vocês têm sofá retrátil?"),
            (20, "tick"),
            (90, "claim", "lucia"),
            (92, "accept", "lucia"),
        ],
    ),
    Lead(
        "Kevin O'Neil",
        "29",
        _ago(days=12, hours=4),
        [
            (0, "in", "Hey, saw your ad on Instagram. How much is the oak desk?"),
            (4, "claim", "diego"),
            (6, "accept", "diego"),
            (60, "in", "Too expensive for me right now, maybe next year"),
            (65, "stage", "diego", "lost", "no_budget"),
        ],
    ),
    Lead(
        "Manuela Castaño",
        "30",
        _ago(days=13, hours=3),
        [
            (0, "in", "hola, me pasaron su número, hacen muebles para cocina?"),
            (12, "claim", "camila"),
            (14, "accept", "camila"),
            (100, "in", "dale, me pueden visitar el martes para medir? vivo en Chía"),
            (104, "accept", "camila"),
            (105, "stage", "camila", "qualified"),
        ],
    ),
]


def _demo_loaded(inbox: Inbox) -> bool:
    row = inbox.conn.execute(
        "SELECT 1 FROM contacts WHERE wa_id LIKE ? LIMIT 1", (DEMO_PREFIX + "%",)
    ).fetchone()
    return row is not None


def _agents(inbox: Inbox) -> dict[str, tuple[int, str]]:
    """The demo agents (created, or found) as key -> (id, token). Their tokens
    come from the database's own secret: the same on every start of the demo on
    the same file, so nobody is signed out by a restart."""
    existing = {a.name: a for a in inbox.agents()}
    out = {}
    for key, (name, team, role) in AGENTS.items():
        agent = existing.get(name)
        if agent is None:
            agent, _ = inbox.create_agent(name, team, role)  # type: ignore[arg-type]
        out[key] = (agent.id, inbox.demo_token(agent.id))
    return out


def load_demo(inbox: Inbox, now: datetime | None = None) -> str:
    """Create the demo agents and conversations (once; a second call changes
    nothing) and return a summary with each agent's token to sign in (the same
    tokens on every call for the same database)."""
    agents = _agents(inbox)
    loaded = 0
    if not _demo_loaded(inbox):
        end = now or inbox.clock.now()
        replay = Inbox(
            inbox.db,
            copilot=inbox.analyzer,
            profile=inbox.profile,
            config=inbox.config,
            clock=ManualClock(end),
            sender=inbox.sender,
        )
        _replay(replay, end, agents)
        replay.tick()  # acknowledgements and out-of-hours replies due by now
        loaded = len(LEADS)
    lines = [f"{loaded} demo conversations loaded" if loaded else "demo data already present"]
    lines.append(
        "sign in at / with one of these tokens (the same on every start of this database):"
    )
    for key, (_agent_id, token) in agents.items():
        name, team, role = AGENTS[key]
        lines.append(f"  {name:<15} {role:<5} team {team:<7} {token}")
    return "\n".join(lines)


def _start(lead: Lead, end: datetime, tz) -> datetime:
    """When a lead's script starts. Leads of the last hours start that long ago (they
    may well be waiting out of hours); older ones start ``ago.days`` days back at a
    weekday business hour, so the demo's agents work office hours whatever the time
    the demo is loaded at."""
    if lead.ago < timedelta(hours=3):
        return end - lead.ago
    seed = int(lead.phone)
    day = end.astimezone(tz).date() - timedelta(days=lead.ago.days)
    at = time(9 + (seed * 3) % 8, (seed * 7) % 60)
    last = timedelta(minutes=max(step[0] for step in lead.script))
    start = datetime.combine(day, at, tz)
    while start + last > end or day.weekday() >= 5:
        day -= timedelta(days=1)
        start = datetime.combine(day, at, tz)
    return start


def _replay(inbox: Inbox, end: datetime, agents: dict[str, tuple[int, str]]) -> None:
    """Play every lead's script in global time order (so automatic messages and
    follow-ups fire at the right moments for every conversation)."""
    clock: ManualClock = inbox.clock  # type: ignore[assignment]
    steps = []
    for index, lead in enumerate(LEADS):
        start = _start(lead, end, inbox.profile.tz)
        for order, step in enumerate(lead.script):
            moment = start + timedelta(minutes=step[0])
            if moment <= end:
                steps.append((moment, index, order, step))
    steps.sort(key=lambda s: (s[0], s[1], s[2]))
    cids: dict[int, int] = {}
    counters: dict[int, int] = {}
    for moment, index, _order, step in steps:
        lead = LEADS[index]
        _minutes, action, *args = step
        clock.set(moment)
        contact = Contact(wa_id=DEMO_PREFIX + lead.phone.zfill(5), name=lead.name)
        try:
            if action in ("in", "media", "echo"):
                counters[index] = counters.get(index, 0) + 1
                message = _message(lead, action, args, moment, contact, counters[index])
                cids[index] = inbox.ingest(contact, message).conversation_id
            elif action == "tick":
                inbox.tick()
            elif index in cids:
                _act(inbox, cids[index], action, args, agents)
        except InboxError:
            continue  # a demo step the inbox refuses (e.g. nothing to accept) is skipped
    clock.set(end)


def _message(lead: Lead, action: str, args: list, moment: datetime, contact: Contact, n: int):
    mid = f"wamid.demo.{contact.wa_id}.{n}"
    if action == "echo":
        return Message(
            id=mid,
            direction=Direction.OUTBOUND,
            author=Author.PHONE_ECHO,
            text=args[0],
            timestamp=moment,
        )
    if action == "media":
        kind, caption = args
        return Message(
            id=mid,
            type=MessageType(kind),
            text=caption,
            # The demo's own picture and voice note (copilot/data/demo_media).
            media=Media(
                id=f"demo-{kind}",
                mime_type="image/png" if kind == "image" else "audio/wav",
                voice=kind == "audio",
            ),
            timestamp=moment,
        )
    return Message(
        id=mid, text=args[0], timestamp=moment, referral=lead.referral if n == 1 else None
    )


def _act(inbox: Inbox, cid: int, action: str, args: list, agents) -> None:
    def agent(key: str) -> int:
        return agents[key][0]

    last = max(inbox.messages(cid, limit=5), key=lambda m: m.seq).id
    if action == "claim":
        inbox.claim(cid, agent(args[0]))
    elif action in ("accept", "edit"):
        suggestion = inbox.current_suggestion(cid)
        if suggestion is None:
            return
        text = None if action == "accept" else suggestion.text + args[1]
        inbox.reply(
            cid, agent(args[0]), text, last_seen_message_id=last, suggestion_id=suggestion.id
        )
    elif action == "reject":
        suggestion = inbox.current_suggestion(cid)
        if suggestion is not None:
            inbox.reject_suggestion(suggestion.id, agent(args[0]), args[1])
    elif action == "say":
        inbox.reply(cid, agent(args[0]), args[1], last_seen_message_id=last)
    elif action == "stage":
        reason = args[2] if len(args) > 2 else None
        inbox.move_stage(cid, args[1], agent_id=agent(args[0]), lost_reason=reason)
    elif action == "tag":
        inbox.set_tags(cid, [args[0]])
    elif action == "note":
        inbox.add_note(cid, agent(args[0]), args[1])
    elif action == "task":
        due = inbox.clock.now() + timedelta(hours=args[2])
        inbox.create_task(cid, args[1], due, by_agent_id=agent(args[0]))
    elif action == "transfer":
        inbox.transfer(cid, agent(args[0]), agent(args[1]), args[2])
