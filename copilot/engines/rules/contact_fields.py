"""Contact data in one lead message: e-mail, phone, name, company and city.

Values keep the lead's own spelling (casing, accents); matching runs on
:func:`~copilot.engines.rules.normalize.fold` text, which has the same length, so
a span found there cuts the value out of the original. Phones go through
``phonenumbers`` (the country of a city the lead names first, then the business's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from copilot.engines.rules.fields_lexicon import lexicon
from copilot.engines.rules.normalize import fold

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_PHONE_HINT = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_UPPER_INSIDE = re.compile(r"(?<!^)[A-ZÀ-ÖØ-Þ]")
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_CONNECTORS = {"de", "del", "la", "las", "los", "y", "&", "da", "do", "dos", "das", "e", "of"}
_CITY_PRESENCE = re.compile(
    r"(?:estoy en|estamos en|vivo en|vivimos en|soy de|somos de|ando en|desde|resido en|"
    r"ubicad[oa]s? en|queda en|moro em|moramos em|sou de|somos de|estou em|i'm in|i am in|"
    r"i live in|we're in|we are in|based in|from|en|em|in|de|a|para|to|near|cerca a|"
    r"cerca de)\s+$"
)
_NOT_CITY_BEFORE = re.compile(
    r"(?:calle|carrera|avenida|av\.?|barrio|colonia|edificio|conjunto|hotel|colegio|"
    r"universidad|banco|clinica|club|parque|plaza|centro comercial|cc|sin)\s+$"
    r"|(?:^|[,;]\s*)(?:no|not|nao)\s+$"
)
_SENTENCE_START = {"hola", "buenas", "buenos", "buen", "hi", "hello", "hey", "oi", "ola",
                   "gracias", "ok", "si", "sim", "yes", "claro", "perfecto", "listo"}  # fmt: skip


@dataclass(frozen=True)
class Found:
    """A value found in a message, with its span and how sure the extractor is."""

    value: str
    start: int
    end: int
    confidence: float
    country: str | None = None


def find_emails(text: str) -> list[Found]:
    """E-mail addresses, as written."""
    out = []
    for match in _EMAIL.finditer(text):
        value = match.group(0).rstrip(".")
        if "." in value.split("@", 1)[1]:
            out.append(Found(value, match.start(), match.start() + len(value), 0.95))
    return out


def find_phones(text: str, regions: tuple[str, ...]) -> list[Found]:
    """Phone numbers in E.164 form, tried with each default region in turn (the
    lead's country cues first, then the business's). A number still unread that
    looks like a phone ("call me on 07700 900123", "tel 55 1234 5678") is read with
    the regions of :data:`FALLBACK_REGIONS`: a valid number first, else a number of
    a possible length (test and fictional ranges are not "valid")."""
    if not _PHONE_HINT.search(text):
        return []
    seen: dict[int, Found] = {}
    for region in regions:
        _match_phones(text, region, phonenumbers.Leniency.VALID, seen)
    if _unread_phone_like(text, seen):
        folded = fold(text)
        extra = tuple(r for r in FALLBACK_REGIONS if r not in regions)
        for region in extra:
            _match_phones(text, region, phonenumbers.Leniency.VALID, seen, folded)
        for region in (*regions, *extra):
            if not _unread_phone_like(text, seen):
                break
            _match_phones(text, region, phonenumbers.Leniency.POSSIBLE, seen, folded)
    return [seen[k] for k in sorted(seen)]


#: Regions tried for a phone-like number no cue region reads, most frequent first.
FALLBACK_REGIONS = ("MX", "ES", "GB", "AR", "CL", "PE", "UY", "US", "BR")
_PHONE_CUE = re.compile(
    r"(?:tel|tlf|telefono|fono|cel|celular|movil|mobile|phone|whatsapp|whats|wpp|zap|numero|"
    r"number|contacto|llamar|llamame|llamenme|marcame|ligar|liga|call|ring|text|me on|al|"
    r"en el|no)\W{0,3}$"
)
_ID_BEFORE = re.compile(
    r"(?:pedido|orden|order|cedula|cc|nit|dni|nie|rut|cpf|cnpj|ref|factura|guia|id|#|n°|nº)"
    r"\W{0,3}$"
)


def _unread_phone_like(text: str, seen: dict[int, Found]) -> bool:
    """A run of 8+ digits no phone found covers and that is not an amount."""
    for hint in _PHONE_HINT.finditer(text):
        raw = hint.group(0)
        if any(f.start < hint.end() and hint.start() < f.end for f in seen.values()):
            continue
        if sum(ch.isdigit() for ch in raw) < 8 or re.fullmatch(r"\d{1,3}(?:\.\d{3})+", raw):
            continue
        return True
    return False


def _match_phones(
    text: str,
    region: str,
    leniency: phonenumbers.Leniency,
    seen: dict[int, Found],
    folded: str | None = None,
) -> None:
    """Add the numbers ``region`` reads in ``text`` to ``seen`` (by start). With
    ``folded`` (a fallback region), only numbers after a phone cue ("tel", "call me
    on") or written in groups, never after an order or ID word."""
    try:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
            if any(f.start <= match.start < f.end for f in seen.values()):
                continue
            raw = match.raw_string
            # "$1.200.000" and "1.100.000" are money, not phones.
            before = text[max(0, match.start - 2) : match.start]
            if "$" in before or re.fullmatch(r"\d{1,3}(?:\.\d{3})+", raw):
                continue
            if folded is not None:
                left = folded[max(0, match.start - 24) : match.start]
                grouped = bool(re.search(r"\d[\s-]\d", raw))
                if _ID_BEFORE.search(left) or not (grouped or _PHONE_CUE.search(left)):
                    continue
                if match.number.italian_leading_zero:
                    continue  # a trunk "0" the region does not use: not its number
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            seen[match.start] = Found(e164, match.start, match.end, 0.9 if folded is None else 0.7)
    except Exception:  # phonenumbers raises on odd input; a phone is never worth a crash
        return


def _tokens_from(text: str, pos: int, *, limit: int = 4) -> list[re.Match[str]]:
    """Word tokens from ``pos`` up to a punctuation mark or digit."""
    out: list[re.Match[str]] = []
    cursor = pos
    while len(out) < limit:
        gap = re.match(r"[ \t]*", text[cursor:])
        cursor += gap.end() if gap else 0
        match = _TOKEN.match(text, cursor)
        if not match:
            break
        out.append(match)
        cursor = match.end()
    return out


def _capitalised(word: str) -> bool:
    return word[:1].isupper()


def _capitalised_after_connectors(tokens: list[re.Match[str]], index: int) -> bool:
    """True when the first token from ``index`` past at most one more connector is
    capitalised ("de [la] Abuela")."""
    if index < len(tokens) and fold(tokens[index].group(0)) in _CONNECTORS:
        index += 1
    return index < len(tokens) and _capitalised(tokens[index].group(0))


def _name_from(text: str, pos: int, strong: bool) -> tuple[str, int, int] | None:
    """A person's name starting at ``pos``: capitalised words (any first word after a
    strong cue such as "me llamo"); stops at connectors and lowercase words."""
    lex = lexicon()
    tokens = _tokens_from(text, pos)
    picked: list[re.Match[str]] = []
    for i, token in enumerate(tokens):
        word = token.group(0)
        low = fold(word)
        if low in lex.not_names or low in _CONNECTORS:
            break
        if not _capitalised(word) and not (strong and i == 0):
            if not (strong and picked and not _capitalised(picked[0].group(0))):
                break
            if low in lex.need_empty or len(picked) >= 2:
                break
        picked.append(token)
        if len(picked) == 3:
            break
    if not picked:
        return None
    start, end = picked[0].start(), picked[-1].end()
    return text[start:end], start, end


def find_names(text: str, asked_name: bool) -> list[Found]:
    """The lead's name: after "me llamo", "soy", "meu nome é", "I'm"..., or the whole
    short reply when the business just asked for it."""
    lex = lexicon()
    folded = fold(text)
    out: list[Found] = []
    for match in lex.name_strong.finditer(folded):
        got = _name_from(text, match.end(), strong=True)
        if got:
            out.append(Found(got[0], got[1], got[2], 0.9))
    for match in lex.name_weak.finditer(folded):
        if match.group(0) == "con" and not asked_name:
            continue
        got = _name_from(text, match.end(), strong=False)
        if got:
            out.append(Found(got[0], got[1], got[2], 0.75))
    signed = _sign_off_name(text)
    if signed:
        out.append(signed)
    if asked_name and not out:
        got = _answer_name(text)
        if got:
            out.append(got)
    return out


_CAP_WORD = r"[A-ZÀ-ÖØ-Þ][\w'’-]*"
_VALEDICTION = (
    r"(?i:saludos|un saludo|gracias|muchas gracias|thanks|thank you|cheers|regards|best|"
    r"best regards|kind regards|obrigad[oa]|abra[cç]os|abs|att|atte|atentamente|cordialmente|"
    r"besos|beijos|bjs)"
)
# A name at the very end: after a dash ("- Priya", "— Sophie, Leeds"), after a
# valediction ("Saludos, Marta"), or after a sentence as "Name Surname, Place".
_SIGN_OFF = re.compile(
    rf"(?:(?P<dash>(?:^|\s)[-–—~]+[ \t]*)|(?P<val>\b{_VALEDICTION}[,!.]?[ \t]+)|"
    rf"(?P<stop>[.!?\n][ \t]*))"
    rf"(?P<title>(?i:dr|dra|doctor|doctora|prof|profe|sr|sra|mr|mrs|ms)\.?[ \t]+)?"
    rf"(?P<name>{_CAP_WORD}(?:[ \t]+{_CAP_WORD}){{0,2}})"
    rf"(?:[ \t]*(?:&|and|y|e)[ \t]+{_CAP_WORD})?"  # "Chloe & Sam": the first signs
    rf"(?P<tail>[ \t]*,[ \t]*{_CAP_WORD}[^,.!?\n]{{0,40}})?[ \t]*[.!]?\s*$"
)


def _sign_off_name(text: str) -> Found | None:
    """The name a message is signed with ("... ¿me mandáis presupuesto? - Priya")."""
    pos = max(0, len(text) - 90)
    if not _ENDS_CAPITALISED.search(text, max(pos, len(text) - 50)):
        return None  # most messages end in lowercase or a question: no signature
    while (match := _SIGN_OFF.search(text, pos)) is not None:
        pos = match.start() + 1
        confidence = _signature_confidence(match)
        if confidence:
            start, end = match.span("name")
            return Found(text[start:end], start, end, confidence)
    return None


def _signature_confidence(match: re.Match[str]) -> float:
    """How sure a sign-off match is a name (0: it is not)."""
    lex = lexicon()
    words = [fold(w) for w in match.group("name").split()]
    if any(
        w in lex.not_names
        or w in lex.need_empty
        or w in _SENTENCE_START
        or w in lex.cities
        or w in lex.name_closers
        for w in words
    ):
        return 0.0
    if fold(match.group("name")) in lex.cities or _VALEDICTION_WORDS.match(words[0]):
        return 0.0
    if match.group("dash"):
        return 0.8
    if match.group("title"):
        return 0.75  # "... ? Dr. Luis Paredes"
    if match.group("val"):
        return 0.75
    if match.group("tail") and len(words) >= 2:
        return 0.75  # "... ? Tom Hughes, Leeds"
    if not match.group("tail") and len(words) == 1:
        return 0.6  # "... this evening? Claire"
    if match.group("tail") and _tail_is_place_or_company(match.group("tail")):
        return 0.7  # "... ? Nina, Bristol Bikes Ltd"
    return 0.0  # a capitalised end of several words ("Feliz Navidad") is no signature


def _tail_is_place_or_company(tail: str) -> bool:
    """True when a signature's ", ..." part is a gazetteer city or a business name."""
    lex = lexicon()
    rest = tail.strip(" \t,.!")
    if fold(rest) in lex.cities or lex.company_suffix.search(rest):
        return True
    words = [fold(w) for w in rest.split()]
    return bool(words) and (words[0] in lex.company_heads or words[-1] in lex.company_tails)


_ENDS_CAPITALISED = re.compile(r"[A-ZÀ-ÖØ-Þ][\w'’-]*[ \t]*[.!]?\s*$")
_VALEDICTION_WORDS = re.compile(_VALEDICTION + r"$")


_ANSWER_LEAD = re.compile(
    r"^\W*(?:(?:si|sí|sim|claro|ok|okay|dale|listo|perd[oó]n|perdao|sorry|ah|bueno|"
    r"es|soy|sou|con|com|it's|i'm|my name is|me llamo|me chamo|mi nombre es|meu nome é)\b"
    r"[\s,.:!-]*)*",
    re.IGNORECASE,
)


def _answer_name(text: str) -> Found | None:
    """A reply to "¿con quién tengo el gusto?": its first segment, when it looks
    like a name (1 to 4 words, no digits, not a common word)."""
    lex = lexicon()
    lead = _ANSWER_LEAD.match(text)
    start = lead.end() if lead else 0
    # A dot ends the segment only at a word's end ("Laura. Gracias", not "ana.p@x.co").
    segment = re.split(r"[,;:!?\n(]|\.(?=\s|$)", text[start:], maxsplit=1)[0].rstrip()
    if not segment or any(ch.isdigit() or ch == "@" for ch in segment):
        return None
    words = segment.split()
    if not 1 <= len(words) <= 4:
        return None
    folded = [fold(w) for w in words]
    if any(w in lex.not_names or w in lex.need_empty for w in folded):
        return None
    if not all(_TOKEN.fullmatch(w) for w in words):
        return None
    if len(words) > 1 and not all(_capitalised(w) or fold(w) in _CONNECTORS for w in words):
        return None
    return Found(segment, start, start + len(segment), 0.8)


def find_companies(text: str, asked_company: bool = False) -> list[Found]:
    """Business names: "X SAS/SL/Ltda/Inc", "Distribuidora X", "X Logistics",
    "(X)" after a business noun, and "trabajo en X" / "de la empresa X"."""
    lex = lexicon()
    folded = fold(text)
    if not _UPPER_INSIDE.search(text) and not (asked_company and "," in text):
        return []  # every company rule needs a capitalised word
    tokens = list(_TOKEN.finditer(text))
    out: list[Found] = []

    def run_back(index: int) -> int:
        """First token index of the capitalised run ending at ``index``."""
        first = index
        j = index - 1
        while j >= 0 and first - j <= 5:
            word = tokens[j].group(0)
            gap = text[tokens[j].end() : tokens[first].start()]
            if gap.strip() not in ("", "&"):
                break
            if _capitalised(word) and fold(word) not in _SENTENCE_START:
                first = j
            elif fold(word) in _CONNECTORS and j > 0 and _capitalised(tokens[j - 1].group(0)):
                j -= 1
                continue
            else:
                break
            j -= 1
        return first

    def run_forward(index: int) -> int:
        last = index
        j = index + 1
        while j < len(tokens) and j - index <= 5:
            word = tokens[j].group(0)
            # From the previous token: a connector ("de" in "La Fonda de Mary") is no gap.
            gap = text[tokens[j - 1].end() : tokens[j].start()]
            if gap.strip() not in ("", "&"):
                break
            if _capitalised(word):
                last = j
            elif fold(word) in _CONNECTORS and _capitalised_after_connectors(tokens, j + 1):
                pass  # "Pan de la Abuela": connectors inside the name
            else:
                break
            j += 1
        return last

    for match in lex.company_suffix.finditer(text):
        if not match.group(0)[:1].isupper():
            continue
        before = [i for i, t in enumerate(tokens) if t.end() <= match.start()]
        if not before:
            continue
        last = before[-1]
        if text[tokens[last].end() : match.start()].strip() not in ("", ","):
            continue
        first = run_back(last)
        if _capitalised(tokens[first].group(0)):
            end = match.end()
            if text[end - 1] == "." and (end == len(text) or not text[end].strip()):
                # "Transportes Andinos SAC." at a sentence end: the dot ends the sentence.
                dotted = text[tokens[last].end() : end].count(".")
                end -= 1 if dotted == 1 else 0
            value = text[tokens[first].start() : end].strip()
            out.append(Found(value, tokens[first].start(), end, 0.9))
    for i, token in enumerate(tokens):
        word = token.group(0)
        low = fold(word)
        if low in lex.company_heads and _capitalised(word):
            last = run_forward(i)
            if last > i:
                out.append(
                    Found(
                        text[token.start() : tokens[last].end()],
                        token.start(),
                        tokens[last].end(),
                        0.8,
                    )
                )
        elif low in lex.company_tails and _capitalised(word) and i > 0:
            first = run_back(i)
            if first < i:
                out.append(
                    Found(
                        text[tokens[first].start() : token.end()],
                        tokens[first].start(),
                        token.end(),
                        0.8,
                    )
                )
    for match in re.finditer(r"\(([^()\n]{2,40})\)", text):
        inner = match.group(1).strip()
        words = inner.split()
        if 1 <= len(words) <= 4 and all(_capitalised(w) or fold(w) in _CONNECTORS for w in words):
            out.append(Found(inner, match.start(1), match.end(1), 0.7))
    for match in lex.company_cue.finditer(folded):
        following = _tokens_from(text, match.end())
        if following and _capitalised(following[0].group(0)):
            index = next(i for i, t in enumerate(tokens) if t.start() == following[0].start())
            last = run_forward(index)
            out.append(
                Found(
                    text[tokens[index].start() : tokens[last].end()],
                    tokens[index].start(),
                    tokens[last].end(),
                    0.75,
                )
            )
    for match in _NAME_OF_COMPANY.finditer(text):
        out.append(Found(match.group("co"), match.start("co"), match.end("co"), 0.7))
    if asked_company and not out:
        segments = [s.strip() for s in re.split(r"[,.;\n]", text)]
        if (
            len(segments) >= 2
            and segments[1]
            and all(_capitalised(w) for w in segments[1].split()[:3])
        ):
            start = text.find(segments[1])
            out.append(Found(segments[1], start, start + len(segments[1]), 0.6))
    return _widest(out)


# "soy Ricardo de Tacos El Güero", "I'm Ana from Blue Fox Studio": two or more
# capitalised words after the lead's name (a city of that shape is dropped later).
_NAME_OF_COMPANY = re.compile(
    rf"(?i:\b(?:soy|sou|i'm|i am|this is|habla|le habla|te habla|les habla)[ \t]+)"
    rf"{_CAP_WORD}(?:[ \t]+{_CAP_WORD})?[ \t]+(?i:de|del|from|da|do|at)[ \t]+"
    rf"(?P<co>{_CAP_WORD}(?:[ \t]+(?:(?:de|del|la|las|los|el|y|&|da|do|dos|e|of)[ \t]+)?"
    rf"{_CAP_WORD}){{1,4}})"
)


def _widest(found: list[Found]) -> list[Found]:
    """Drop values inside a wider one; keep the order of appearance."""
    kept = [
        f
        for f in found
        if not any(
            o is not f
            and o.start <= f.start
            and f.end <= o.end
            and (o.end - o.start) > (f.end - f.start)
            for o in found
        )
    ]
    unique = {(f.start, f.end): f for f in kept}
    return sorted(unique.values(), key=lambda f: f.start)


def find_cities(text: str) -> list[Found]:
    """Cities of the gazetteer, as written, with their country; a city the lead says
    they are in ("estoy en", "soy de", "moro em") is surer than a passing mention,
    and a negated one ("no Bogotá") is left out."""
    lex = lexicon()
    folded = fold(text)
    if lex.city_first_words.isdisjoint(_WORD.findall(folded)):
        return []  # no word can start a city name (most lines): skip the walk below
    out: list[Found] = []
    words = list(_WORD.finditer(folded))
    taken_until = -1
    for i, first in enumerate(words):
        if first.start() < taken_until or first.group(0) not in lex.city_first_words:
            continue
        # Longest gazetteer name starting at this word ("viña del mar" over "viña").
        for size in range(min(lex.city_max_words, len(words) - i), 0, -1):
            last = words[i + size - 1]
            key = folded[first.start() : last.end()]
            city = lex.cities.get(key)
            if city is None:
                continue
            start, end = first.start(), last.end()
            taken_until = end
            if key in lex.city_capitalised and not text[start].isupper():
                break
            before = folded[max(0, start - 24) : start]
            if _NOT_CITY_BEFORE.search(before):
                break
            confidence = 0.85 if _CITY_PRESENCE.search(before) else 0.7
            out.append(Found(text[start:end], start, end, confidence, city.countries[0]))
            break
    return out


def city_countries(value: str) -> tuple[str, ...]:
    """Countries a gazetteer city belongs to (empty when unknown)."""
    city = lexicon().cities.get(fold(value))
    return city.countries if city else ()
