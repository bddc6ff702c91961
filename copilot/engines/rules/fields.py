"""Qualification fields merged across a conversation.

Only the lead's (inbound) messages are sources; the business's last message before
each of them is context: "el viernes" after "¿para cuándo lo necesitas?" is a
timeline, "Laura" after "¿con quién tengo el gusto?" is a name, "sí" after "¿te
llamo mañana?" accepts a call.

Each message is read once: :func:`message_fields` is cached on everything its
result depends on (the text, its local date, the language, the business message
it answers and the profile's country and name), so re-analysing a conversation
after a new message only reads the new one. The merge across turns is cheap: a
later value replaces an earlier one (corrections win), except that a vaguer
``need`` does not replace a clearer one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from copilot.engines.rules.contact_fields import (
    Found,
    city_countries,
    find_cities,
    find_companies,
    find_emails,
    find_names,
    find_phones,
)
from copilot.engines.rules.fields_lexicon import lexicon
from copilot.engines.rules.money import PESO_COUNTRIES, Money, find_money, resolve_currency
from copilot.engines.rules.normalize import fold
from copilot.engines.rules.timeline import find_timeline
from copilot.models import Budget, Conversation, FieldValue, QualificationFields, Timeline
from copilot.profile import BusinessProfile
from copilot.taxonomy import Direction, Language, NextStep, TimelineBucket

#: How many lead messages after a business message still read it as their context.
CONTEXT_REACH = 2
#: Longest phrase kept for need / pain / prior solution, in words.
MAX_PHRASE_WORDS = 10

# "send me ..." next to an address makes e-mail the next step; "te paso mi correo" does not.
_SEND = re.compile(
    r"\b(?:mandame|mandeme|mandenme|enviame|envieme|envienme|"
    r"me (?:mandan|envian|mandas|envias|manda|envia|mande|envie|mandam|enviam)|"
    r"pode(?:m)? (?:me )?mandar|pode(?:m)? (?:me )?enviar|send (?:me|it|them|\w+ to))\b"
)
_MEETING_STEPS = {NextStep.CALL, NextStep.VIDEO_CALL, NextStep.DEMO}
_PUNCT_BREAK = re.compile(r"[!?;\n¿¡]|(?<!\d)[.,]|[.,](?!\d)")
_BUT = re.compile(r"\b(?:pero|mas|but|aunque|however)\b")
_NOT_A_NEED = re.compile(
    r"\b(?:hora|horas|horario|abren|abre|cierran|atienden|queda|quedan|ubicad\w*|direccion|"
    r"donde|onde|where|llamar|ligar|call|saber|quien|pedido|pedidos|what time|que horas|"
    r"aceptan|aceitam|tarjeta|cartao|pago|pagar|envian|envio|envios|entregan|entregam|"
    r"deliver|ship|shipping|accept|llamada|videollamada|video|reunion|demo|cita|meeting|"
    r"dias|dia|days|day|precios|prices|formas de pago|medios de pago)\b"
)
_DIGIT = re.compile(r"\d")
_BRACKET_AFTER = re.compile(r"\s*\([^()\n]{1,40}\)")
_NEGATED = re.compile(r"(?:^|\s)(?:no|nao|not)\s+$")
# A question about the lead's own action ("¿os lo puedo llevar el lunes?") asks for
# no product.
_OWN_ACTION = re.compile(r"\b(?:puedo|podemos|podria|posso|can i|can we|could i|could we)\b")
_SENTENCE_END = re.compile(r"[.!?\n](?=\s|$)")
# "1.200.000 max": a ceiling said after the amount.
_CAP_AFTER = re.compile(
    r"\s*(?:max|maximo|maxima|max\.|como maximo|a lo sumo|de tope|tope|maximum|tops|no mas)\b"
)
# "perdón, me equivoqué, son 2.500.000": a correction restates the lead's budget.
_CORRECTION = re.compile(
    r"\b(?:me equivoque|perdon|corrijo|mejor dicho|quise decir|correccion|desculpa|"
    r"quis dizer|me enganei|i meant|sorry|correction)\b\W+(?:\w+\W+){0,2}$"
)
# A lead's bare "ya" / "ahora" answering "¿para cuándo?": right away.
_WHEN_ASKED = re.compile(
    r"\b(?:para cuando|pa cuando|cuando lo (?:necesitas|necesita|quieres|quiere)|pra quando|"
    r"para quando|when do you need|by when)\b"
)
_NOW_ANSWER = re.compile(r"^\W*(?:ya|ya mismo|ahora|ahora mismo|agora|ja|now|right now)\W*$")
_YEAR = re.compile(r"(?:19[5-9]\d|20[0-4]\d)")
_UNIT_AFTER = re.compile(
    r"\s*(?:personas|persona|invitados|convidados|pessoas|people|guests|anos|ano|years|"
    r"meses|dias|horas|m2|metros|mts|km|kg|puestos|sillas|cuerpos|quartos|habitaciones|"
    r"ambientes|empleados|trabajadores|docentes|alumnos|chicos|ninos|sesiones|unidades|"
    r"units|%|x\b)"
)


@dataclass(frozen=True)
class Phrase:
    """A short text value (need, pain, prior solution) and the extractor's confidence."""

    value: str
    confidence: float


@dataclass(frozen=True)
class MessageFields:
    """What one lead message says, before merging with the rest of the conversation."""

    need: Phrase | None = None
    #: A weaker need (the lead's first question), used when nothing better is said.
    question: Phrase | None = None
    pain: Phrase | None = None
    prior_solution: Phrase | None = None
    next_step: tuple[NextStep, float] | None = None
    timeline: tuple[str, TimelineBucket, float] | None = None
    budget: tuple[Money, str, float] | None = None
    name: Found | None = None
    email: Found | None = None
    phone: Found | None = None
    company: Found | None = None
    city: Found | None = None
    #: Country cues (cities, dialect), for currencies.
    countries: tuple[str, ...] = ()
    #: ``(field, value, confidence)`` of the contact fields found, for the merge.
    contacts: tuple[tuple[str, str, float], ...] = field(default=(), init=False, compare=False)
    #: Nothing found at all: the merge skips the message.
    blank: bool = field(default=True, init=False, compare=False)

    def __post_init__(self) -> None:
        # Worked out once per reading (readings are cached), not on every merge.
        contacts = tuple(
            (key, found.value, found.confidence)
            for key in ("name", "email", "phone", "company", "city")
            if (found := getattr(self, key))
        )
        object.__setattr__(self, "contacts", contacts)
        blank = not (
            contacts
            or self.countries
            or self.need
            or self.question
            or self.pain
            or self.prior_solution
            or self.next_step
            or self.timeline
            or self.budget
        )
        object.__setattr__(self, "blank", blank)


# --- phrases ----------------------------------------------------------------------


def _clause_end(folded: str, pos: int) -> int:
    stop = lexicon().clause_stop.search(folded, pos)
    # A stop word right at the start ("para el 15" after "necesito") is part of the
    # phrase only when nothing came before it.
    while stop and stop.start() <= pos and stop.end() > pos and stop.group(0).strip():
        if not stop.group(0)[0].isalpha():
            break
        stop = lexicon().clause_stop.search(folded, stop.end())
    return stop.start() if stop else len(folded)


def _clause_start(folded: str, pos: int) -> int:
    start = 0
    for match in lexicon().clause_stop.finditer(folded, 0, pos):
        start = match.end()
    return start


def _trim_words(text: str, start: int, end: int, limit: int = MAX_PHRASE_WORDS) -> tuple[int, int]:
    words = list(re.finditer(r"\S+", text[start:end]))
    if not words:
        return start, start
    last = words[min(limit, len(words)) - 1]
    return start + words[0].start(), start + last.end()


def _phrase_after(text: str, folded: str, pos: int) -> tuple[int, int] | None:
    """The phrase from ``pos`` to the end of its clause, leading fillers stripped."""
    lex = lexicon()
    end = _clause_end(folded, pos)
    filler = lex.need_fillers.match(folded, pos, end)
    if filler:
        # Folding makes "uñas" the filler "unas": a word with an ñ is never a filler.
        tilde = re.search(r"\S*[ñÑ]", text[pos : filler.end()])
        pos = pos + tilde.start() if tilde else filler.end()
    start, end = _trim_words(text, pos, end)
    value = folded[start:end].strip(" ,-")
    if not value:
        return None
    words = re.findall(r"[\w'-]+", value)
    empty = not words or all(w in lex.need_empty for w in words)
    if empty and "ñ" not in text[start:end].lower():
        return None
    if lex.need_reject.match(value):
        return None  # "hablar con un asesor" asks for a person, not for a product
    return start, end


def _clean(text: str) -> str:
    return text.strip(" ,.-:;¡!¿?\"'")


_WHICH_THING = re.compile(
    r"\b(?:que|what|which|quais|cuales|que tipo de|what kind of|what type of)\s+"
    r"(?P<thing>(?:[\w-]+\s+){0,2}?[\w-]+)\s+"
    r"(?:do you (?:have|offer|sell|teach|do|make)|you (?:have|got|offer)|tienen|teneis|tienes|"
    r"ofrecen|ofreceis|manejan|dictan|imparten|venden|voces tem|vcs tem|voces oferecem|"
    r"voces fazem)\b(?P<tail>\s+(?:de|para|for|pra|of)\s+[^?!.,;\n]{1,40})?"
)
_STILL_AVAILABLE = re.compile(
    r"\b(?:sigue|siguen|esta|estan|continua|ainda esta|ainda tem|is|are)\s+"
    r"(?:aun\s+|still\s+)?(?:disponibles?|disponivel|available)\b"
)
_QUESTION = re.compile(r"[^?¿!.\n]{8,}\?")
_ABOUT_A_THING = re.compile(r"\s*(?:el|la|los|las|o|a|os|as|the|este|esta|ese|esa)\s+\w+")
_GREETING = re.compile(
    r"^\W*(?:hola|buenas|buenos dias|buenas tardes|buenas noches|buen dia|oi|ola|hi|hello|hey|"
    r"una pregunta|consulta|pregunta|que tal|bom dia|boa tarde|boa noite)\b[\s,!.:]*"
)


def _need(text: str, folded: str, asked: bool) -> Phrase | None:
    """What the lead looks for: the phrase after the first cue ("busco ...",
    "cuánto cuesta ..."), the answer to "¿qué te interesa?", or what "sigue
    disponible?" asks about."""
    lex = lexicon()
    # (position, confidence, span, value when it is not the span's text)
    candidates: list[tuple[int, float, tuple[int, int], str]] = []
    for pattern, confidence in ((lex.need_strong, 0.8), (lex.need_medium, 0.6)):
        for match in pattern.finditer(folded):
            if _NEGATED.search(folded, max(0, match.start() - 5), match.start()):
                continue  # "no quiere comer" is a symptom, not a wish
            span = _phrase_after(text, folded, match.end())
            if span:
                candidates.append((match.start(), confidence, span, ""))
                break
    which = _WHICH_THING.search(folded)
    if which:
        # "¿qué cursos tienen?", "what sizes do you have for the running shoes?": the
        # thing asked about, not the words around it.
        start, end = which.span("thing")
        value = text[start:end]
        if which.group("tail"):
            value += text[which.start("tail") : which.end("tail")]
        words = re.findall(r"[\w'-]+", fold(value))
        if not _NOT_A_NEED.search(fold(value)) and not all(w in lex.need_empty for w in words):
            candidates.append((which.start(), 0.6, (start, end), value))
    available = _STILL_AVAILABLE.search(folded)
    if available:
        start = _clause_start(folded, available.start())
        span = _phrase_after(text, folded, start)
        if span and span[0] < available.start():
            candidates.append((start, 0.6, (span[0], min(span[1], available.start())), ""))
    if candidates:
        _, confidence, (start, end), given = min(candidates)
        value = _clean(given or text[start:end])
        if value:
            return Phrase(value, confidence)
    if asked:
        span = _phrase_after(text, folded, 0)
        if span:
            return Phrase(_clean(text[span[0] : span[1]]), 0.7)
    return None


def _question_need(text: str, folded: str) -> Phrase | None:
    """Fallback need: the lead's first real question ("el curso de inglés es presencial?")."""
    greeting = _GREETING.match(folded)
    pos = greeting.end() if greeting else 0
    match = _QUESTION.search(folded, pos)
    # Only a question about a thing ("el curso es presencial?"), not about the lead's
    # own booking or where the business is.
    if not match or not _ABOUT_A_THING.match(folded, _clause_start(folded, match.end() - 1)):
        return None
    start, end = _trim_words(text, match.start(), match.end() - 1)
    value = _clean(text[start:end])
    words = re.findall(r"[\w'-]+", fold(value))
    if len(words) < 3 or all(w in lexicon().need_empty for w in words):
        return None
    if _NOT_A_NEED.search(fold(value)) or _OWN_ACTION.search(fold(value)):
        return None
    return Phrase(value, 0.3)


def _pain(text: str, folded: str) -> Phrase | None:
    """The problem: a problem noun ("dolor", "ruido"), or a feeling or situation
    ("tenho vergonha de sorrir", "no me motivo", "it's a mess"); a cue that names
    the product ("tratamiento de manchas") is no pain."""
    lex = lexicon()
    for match in lex.pain.finditer(folded):
        if lex.pain_product.search(folded, max(0, match.start() - 40), match.start()):
            continue
        start = _clause_start(folded, match.start())
        end = _clause_end(folded, match.end())
        start, end = _trim_words(text, start, end, limit=14)
        value = _clean(text[start:end])
        # A feeling is a pain but says nothing of what they need (see extract_fields).
        feeling = lex.pain_feeling.fullmatch(folded, match.start(), match.end())
        return Phrase(value, 0.6 if feeling else 0.7) if value else None
    return None


def _prior_span(folded: str) -> tuple[int, int] | None:
    """Where the lead says what they use or tried: from the cue to its clause's end,
    a name in brackets right after included ("my current insurer (Aviva)"). A
    clause quoting a competitor's price ("en otro taller me pasaron 300") is not one."""
    lex = lexicon()
    for match in lex.prior.finditer(folded):
        end = _clause_end(folded, match.end())
        bracket = _BRACKET_AFTER.match(folded, end)
        if bracket:
            end = bracket.end()
        if _DIGIT.search(folded, match.start(), end) and lex.not_prior.search(
            folded, match.start(), end
        ):
            continue
        return match.start(), end
    return None


def _prior(text: str, folded: str, span: tuple[int, int] | None) -> Phrase | None:
    """What the lead uses or tried, from :func:`_prior_span`'s span."""
    if span is None:
        return None
    cue = lexicon().prior.match(folded, span[0])
    cue_text = cue.group(0) if cue else ""
    start, end = _trim_words(text, span[0], span[1], limit=8)
    if text[span[0] : span[1]].rstrip().endswith(")") and end < span[1]:
        end = span[1]  # keep the bracketed name even past the word limit
    value = _clean(text[start:end])
    # The cue alone ("uso", "tuve") says nothing about what they used; a cue that
    # names it ("en otro salón", "by hand") does.
    cue_words = fold(cue_text).split()
    if len(value.split()) <= len(cue_words) and (
        not cue_words or cue_words[-1] in lexicon().prior_empty
    ):
        return None
    return Phrase(value, 0.65)


# --- next step --------------------------------------------------------------------


def _step_cues(folded: str) -> list[tuple[int, int, NextStep]]:
    return [
        (m.start(), m.end(), NextStep(m.lastgroup))
        for m in lexicon().next_step_any.finditer(folded)
        if m.lastgroup
    ]


# "posso te mandar uma proposta?": the lead offers to send; it is no request for one.
_LEAD_SENDS = re.compile(
    r"(?:posso|podemos|vou|vamos|puedo|voy a|vamos a|can i|could i|let me|i can|we can|i'll)"
    r"\s+(?:te\s+|le\s+|lhe\s+|les\s+|os\s+|you\s+)?$"
)
_SENT_BY_SOMEONE = {NextStep.QUOTE, NextStep.EMAIL}


def _explicit_step(folded: str) -> NextStep | None:
    cues = [
        c
        for c in _step_cues(folded)
        if c[2] not in _SENT_BY_SOMEONE or not _LEAD_SENDS.search(folded, max(0, c[0] - 20), c[0])
    ]
    if not cues:
        return NextStep.VISIT if lexicon().weak_visit.search(folded) else None
    kinds = {c[2] for c in cues}
    # A quote to be e-mailed is a quote (taxonomy conventions).
    if NextStep.QUOTE in kinds and NextStep.EMAIL in kinds:
        return NextStep.QUOTE
    return max(cues, key=lambda c: c[0])[2]


@lru_cache(maxsize=2048)
def _proposal(business_text: str) -> NextStep | None:
    """The one next step a business question proposes ("¿te llamo mañana?"), if any."""
    if "?" not in business_text:
        return None
    kinds = {c[2] for c in _step_cues(fold(business_text))}
    return kinds.pop() if len(kinds) == 1 else None


# --- budget -----------------------------------------------------------------------


def _budget(
    text: str, folded: str, language: str, asked: bool, taken: list[tuple[int, int]]
) -> tuple[Money, str, float] | None:
    lex = lexicon()
    best: tuple[Money, str, float] | None = None
    for money in find_money(text, language):
        if any(s < money.end and money.start < e for s, e in taken):
            continue
        left = 0
        for match in _PUNCT_BREAK.finditer(folded, 0, money.start):
            left = match.end()
        right_match = _PUNCT_BREAK.search(folded, money.end) or _BUT.search(folded, money.end)
        right = right_match.start() if right_match else len(folded)
        but = _BUT.search(folded, money.end, right)
        right = but.start() if but else right
        # "pero nos cobraba 35 mil": the part after "pero" is its own clause.
        for match in _BUT.finditer(folded, left, money.start):
            left = match.end()
        clause_before = folded[left : money.start]
        if lex.not_budget.search(folded, left, right):
            continue
        cue = bool(
            lex.budget_cue.search(clause_before[-40:])
            or _CAP_AFTER.match(folded, money.end, right)
            or _CORRECTION.search(folded, max(0, money.start - 40), money.start)
        )
        if not money.marked:
            digits = text[money.start : money.end]
            if not (cue or asked) or money.amount < 1000 or _YEAR.fullmatch(digits):
                continue
            if _UNIT_AFTER.match(folded, money.end):
                continue
        elif _UNIT_AFTER.match(folded, money.end) and not money.currency:
            continue
        confidence = 0.85 if (cue or asked) else 0.65
        best = (money, _clean(text[money.start : money.end]), confidence)
    return best


# --- one message ------------------------------------------------------------------


@dataclass(frozen=True)
class _Asks:
    """What the business message a lead answers asks for or proposes."""

    name: bool = False
    company: bool = False
    budget: bool = False
    need: bool = False
    proposal: NextStep | None = None


@lru_cache(maxsize=1024)
def _asks(context: str) -> _Asks:
    # Cached apart: the same business message is the context of several answers.
    if not context:
        return _Asks()
    lex = lexicon()
    folded = fold(context)
    return _Asks(
        name=bool(lex.name_question.search(folded)),
        company=bool(lex.company_question.search(folded)),
        budget=bool(lex.budget_question.search(folded)),
        need=bool(lex.need_question.search(folded)),
        proposal=_proposal(context),
    )


#: Lead messages whose readings are kept (about 1.4 KB each): room for the recent
#: lines of a few thousand active conversations, so that a re-analysis reads only
#: the new message instead of the whole history again.
MESSAGE_CACHE = 16384


@lru_cache(maxsize=MESSAGE_CACHE)
def message_fields(
    text: str,
    local_date: date,
    language: str,
    context: str = "",
    profile_country: str = "",
    profile_name: str = "",
) -> MessageFields:
    """Everything one lead message says. ``context`` is the business message it
    answers ("" when none); ``local_date`` the message's date in the business's zone."""
    if not text or not text.strip():
        return MessageFields()
    lex = lexicon()
    folded = fold(text)
    asks = _asks(context)
    affirmative = bool(lex.affirmative.match(folded))

    emails = find_emails(text)
    cities = find_cities(text)
    dialect = tuple(
        dict.fromkeys(m.lastgroup for m in lex.dialect_any.finditer(folded) if m.lastgroup)
    )
    # A city of several countries (Valencia, Córdoba) is no country cue by itself: the
    # other cues choose among its countries when the conversation is merged.
    countries = tuple(
        dict.fromkeys(
            [c.country for c in cities if c.country and len(city_countries(c.value)) == 1]
            + list(dialect)
        )
    )
    by_language = {"pt": "BR", "en": "US"}.get(language)
    regions = tuple(
        dict.fromkeys(
            [*countries, *([by_language] if by_language else []), profile_country or "CO"]
        )
    )
    phones = [p for p in find_phones(text, regions) if not _inside(p, emails)]
    taken = [(f.start, f.end) for f in (*emails, *phones)]

    names = [
        n
        for n in find_names(text, asks.name)
        if not _inside(n, emails)
        and not any(fold(n.value) == fold(c.value) and n.confidence < 0.8 for c in cities)
    ]
    name = max(names, key=lambda n: (n.confidence, n.start)) if names else None
    asked_company = asks.company
    # A brand inside what the lead uses today ("my current insurer (Aviva)") is a
    # competitor, not the lead's company.
    prior_span = _prior_span(folded)
    companies = [
        c
        for c in find_companies(text, asked_company)
        if fold(c.value) != fold(profile_name)
        and not (name and _overlaps(c, name))
        and not any(fold(c.value) == fold(city.value) for city in cities)
        and not _inside(c, emails)
        and not (prior_span and c.start < prior_span[1] and prior_span[0] < c.end)
    ]
    company = companies[-1] if companies else None
    cities = [
        c
        for c in cities
        if not (name and _overlaps(c, name)) and not (company and _overlaps(c, company))
    ]
    city = max(cities, key=lambda c: (c.confidence, -c.start)) if cities else None

    # Next step: the lead's own words, else what they accept of the business's proposal.
    step = _explicit_step(folded)
    step_conf = 0.8
    if step is None and emails and _SEND.search(folded):
        step = NextStep.EMAIL  # "mándame la info, pepa@x.com"
    proposal = asks.proposal
    mentions = find_timeline(text, local_date, language)
    refused = folded.startswith(("no ", "nao ", "no,"))
    if step is None and proposal and not refused and (affirmative or mentions):
        step, step_conf = proposal, 0.6

    timeline = None
    if proposal in _MEETING_STEPS and (affirmative or mentions) and step in _MEETING_STEPS:
        # The answer's first sentence dates the call or the demo: no timeline. A later
        # sentence may still say when they need it ("We need it in January").
        first = _SENTENCE_END.search(text)
        mentions = tuple(m for m in mentions if first and m.start >= first.end())
    if not mentions and _NOW_ANSWER.match(folded) and _WHEN_ASKED.search(fold(context)):
        timeline = (_clean(text), TimelineBucket.IMMEDIATE, 0.7)
    elif mentions:
        last = mentions[-1]
        timeline = (_clean(text[last.start : last.end]), last.bucket, 0.8)
    elif affirmative and "?" in context and proposal not in _MEETING_STEPS:
        # "ok" to "¿te acomoda mañana a las 10?" accepts that date; "ok" to a
        # statement ("el curso empieza el lunes") accepts nothing.
        offered = find_timeline(context, local_date, language)
        if offered:
            last = offered[-1]
            timeline = (_clean(context[last.start : last.end]), last.bucket, 0.6)

    asked_budget, asked_need = asks.budget, asks.need
    return MessageFields(
        need=_need(text, folded, asked_need),
        question=_question_need(text, folded),
        pain=_pain(text, folded),
        prior_solution=_prior(text, folded, prior_span),
        next_step=(step, step_conf) if step else None,
        timeline=timeline,
        budget=_budget(text, folded, language, asked_budget, taken),
        name=name,
        email=emails[-1] if emails else None,
        phone=phones[-1] if phones else None,
        company=company,
        city=city,
        countries=countries,
    )


def _inside(found: Found, others: list[Found]) -> bool:
    return any(_overlaps(found, o) for o in others)


def _overlaps(a: Found, b: Found) -> bool:
    return a.start < b.end and b.start < a.end


# --- the conversation -------------------------------------------------------------


def _language_code(language: Language) -> str:
    return language.value if language in (Language.ES, Language.PT, Language.EN) else "es"


#: The country a slang amount word belongs to ("lucas" -> AR), from its currency.
_HINT_COUNTRY = {currency: country for country, currency in PESO_COUNTRIES.items()}


def _conversation_country(city: str | None, cues: list[tuple[str, ...]]) -> str | None:
    """The lead's country: the city's (the one other cues agree with when the name is
    ambiguous), else the most frequent dialect cue; None when nothing tells."""
    found = Counter(c for group in cues for c in group)
    if city is not None:
        options = city_countries(city)
        if options:
            return next((o for o in options if found.get(o)), options[0])
    return found.most_common(1)[0][0] if found else None


def extract_fields(
    conversation: Conversation, profile: BusinessProfile, language: Language
) -> QualificationFields:
    """Fields from the lead's messages, later values winning (corrections)."""
    lang = _language_code(language)
    tz = profile.tz
    country, business = profile.country, profile.name
    # What each lead message says (cached per message) and its id, in order.
    reads: list[tuple[MessageFields, str]] = []
    context, since_context = "", 0
    for message in conversation.messages:
        text = message.analysed_text
        # ``Message.is_inbound``, read directly: this runs for every message.
        if message.direction is not Direction.INBOUND:
            if text:
                context, since_context = text, 0
            continue
        since_context += 1
        if not text:
            continue
        found = message_fields(
            text,
            message.timestamp.astimezone(tz).date(),
            lang,
            context if since_context <= CONTEXT_REACH else "",
            country,
            business,
        )
        reads.append((found, message.id))
    return _build(_merge(reads, lang, profile.currency))


def _merge(reads: list[tuple[MessageFields, str]], lang: str, currency: str) -> tuple:
    """The winning value of each field as ``(name, kind, value, message id, confidence)``
    (kind ``"plain"``, ``"timeline"`` or ``"budget"``), in the order the models get them."""
    # Winners so far as (value, message id, confidence); models are built at the end.
    won: dict[str, tuple[object, str, float]] = {}
    fallback_need: tuple[object, str, float] | None = None
    money: tuple[Money, str, float, str] | None = None
    cues: list[tuple[str, ...]] = []
    for found, mid in reads:
        if found.blank:
            continue
        if found.countries:
            cues.append(found.countries)
        # A vaguer need does not replace a clearer one; every other field: later wins.
        if found.need and found.need.confidence > won.get("need", ("", "", 0.0))[2]:
            won["need"] = (found.need.value, mid, found.need.confidence)
        if found.pain:
            won["pain"] = (found.pain.value, mid, found.pain.confidence)
            if found.pain.confidence >= 0.7 and (fallback_need is None or fallback_need[2] < 0.4):
                fallback_need = (found.pain.value, mid, 0.4)
        if found.question and fallback_need is None:
            fallback_need = (found.question.value, mid, found.question.confidence)
        if found.prior_solution:
            won["prior_solution"] = (
                found.prior_solution.value,
                mid,
                found.prior_solution.confidence,
            )
        if found.next_step:
            won["next_step"] = (found.next_step[0], mid, found.next_step[1])
        if found.timeline:
            won["timeline"] = (found.timeline, mid, found.timeline[2])
        if found.budget:
            money = (*found.budget, mid)
        for key, value, confidence in found.contacts:
            won[key] = (value, mid, confidence)
    if "need" not in won and fallback_need is not None:
        won["need"] = fallback_need
    merged: list[tuple] = []
    for key, (value, mid, conf) in won.items():
        if key == "timeline":
            text_, bucket, _ = value  # type: ignore[misc]
            merged.append((key, "timeline", (text_ or bucket.value, bucket), mid, conf))
        else:
            merged.append((key, "plain", value, mid, conf))
    if money is not None:
        amount, text_, conf, mid = money
        city = won.get("city")
        country = _conversation_country(str(city[0]) if city else None, cues)
        slang_country = _HINT_COUNTRY.get(amount.hint or "")
        # The slang word itself may be a dialect cue ("palos"): it must not vouch for itself.
        own = {m.lastgroup for m in lexicon().dialect_any.finditer(fold(text_ or ""))}
        if slang_country and slang_country not in own and any(slang_country in g for g in cues):
            # "900 lucas" from someone who says "che": their own pesos, even when the
            # city named is where they are moving to.
            country = slang_country
        code = resolve_currency(amount, country, lang, currency)
        budget = (amount.amount, code, text_ or str(amount.amount))
        merged.append(("budget", "budget", budget, mid, conf))
    return tuple(merged)


def _build(merged: tuple) -> QualificationFields:
    # One validation of the whole nested input: pydantic-core builds the field values
    # faster than one model call each would. The Timeline and Budget models, valid by
    # construction, are set as they are: pydantic's union validation of a model
    # instance costs more than reading a cached message.
    values: dict[str, object] = {}
    for key, kind, value, mid, conf in merged:
        if kind == "timeline":
            text, bucket = value
            value = Timeline(text=text, bucket=bucket)
        elif kind == "budget":
            amount, currency, text = value
            value = Budget(amount=amount, currency=currency, text=text)
        else:
            values[key] = {"value": value, "message_id": mid, "confidence": conf}
            continue
        values[key] = FieldValue.model_construct(value=value, message_id=mid, confidence=conf)
    return QualificationFields.model_validate(values)
