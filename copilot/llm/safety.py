"""Lead text is untrusted: clean it, fence it, redact it, and check what comes back.

- :func:`clean` strips invisible and control characters (zero-width, bidi
  overrides, C0/C1 controls) that could hide instructions or fake markers.
- :func:`delimiter` makes the per-request marker that fences the conversation
  in the user message. It is derived from a hash of the exact text it fences,
  so no text can contain its own marker (and a stray occurrence is escaped),
  yet equal requests stay equal, which the cache needs.
- :class:`Redactor` swaps emails and phone numbers for placeholders before
  text leaves the machine and puts them back in the extracted fields.
- :func:`injection_cues` spots lines that try to steer the assistant.
- :func:`unsupported_claims` finds prices, dates, links and promises in a
  reply that neither the business facts nor the lead's own words hold.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from copilot.engines.rules.normalize import normalize
from copilot.profile import BusinessProfile, all_versions
from copilot.taxonomy import Language

_KEEP = {"\n", "\t"}


def clean(text: str) -> str:
    """Remove control (Cc), format (Cf: zero-width, bidi) and private-use characters,
    keeping newlines and tabs; normalise to NFC."""
    text = unicodedata.normalize("NFC", text)
    if text.replace("\n", "").replace("\t", "").isprintable():
        return text  # the common case, checked in C
    return "".join(
        ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in ("Cc", "Cf", "Co")
    )


def delimiter(text: str, salt: str = "") -> str:
    """A marker tag for fencing ``text``: ``LEAD_`` plus 16 hex characters of a hash."""
    digest = hashlib.sha256(f"{salt}\x00{text}".encode()).hexdigest()[:16]
    return f"LEAD_{digest}"


def escape_markers(text: str, tag: str) -> str:
    """Defuse any occurrence of ``tag`` (and of marker-like brackets) inside lead text."""
    return text.replace(tag, tag.lower().replace("lead_", "lead-")).replace("<<<", "‹‹‹")


# --- redaction ----------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 7+ digits with optional +, spaces, dots, dashes or parentheses between them.
_PHONE = re.compile(r"(?<![\w])\+?\d[\d\s().-]{5,}\d(?![\w])")


@dataclass
class Redactor:
    """Replaces emails and phone numbers with ``[EMAIL_1]``/``[PHONE_1]`` placeholders
    and remembers them, so values the model copies back can be restored locally."""

    values: dict[str, str] = field(default_factory=dict)

    def _swap(self, kind: str, match: re.Match[str]) -> str:
        original = match.group(0)
        if kind == "PHONE" and sum(ch.isdigit() for ch in original) < 7:
            return original
        for placeholder, value in self.values.items():
            if value == original:
                return placeholder
        placeholder = f"[{kind}_{sum(k.startswith(f'[{kind}') for k in self.values) + 1}]"
        self.values[placeholder] = original
        return placeholder

    def redact(self, text: str) -> str:
        """``text`` with emails and phone numbers replaced by placeholders."""
        text = _EMAIL.sub(lambda m: self._swap("EMAIL", m), text)
        return _PHONE.sub(lambda m: self._swap("PHONE", m), text)

    def restore(self, text: str | None) -> str | None:
        """Put the original values back in place of placeholders."""
        if not text or not self.values:
            return text
        for placeholder, value in self.values.items():
            text = text.replace(placeholder, value)
        return text


# --- injection cues -------------------------------------------------------------

_INJECTION = re.compile(
    "|".join(
        [
            r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions?|rules|prompt|above|previous)",
            r"\b(ignora|olvida|olvidate)\b.{0,40}\b(instrucciones|reglas|prompt|anterior)",
            r"\b(ignore|esqueca|esquece)\b.{0,40}\b(instrucoes|regras|prompt|anterior)",
            r"\b(system prompt|prompt del sistema|prompt do sistema|developer message)\b",
            r"\byou are now\b|\bahora eres\b|\bagora voce e\b|\bact as\b|\bactua como\b",
            r"\b(new|nuevas|novas) (instructions|instrucciones|instrucoes)\b",
            r"<\|?(im_start|im_end|system|endoftext)\|?>|\[/?inst\]|^\s*#+\s*system\b",
            r"\b(reveal|muestra|revela|mostra)\b.{0,30}\b(prompt|instrucciones|instructions|instrucoes)",
            r"\blead_[0-9a-f]{6,}\b",
        ]
    ),
    re.M,
)


def injection_cues(text: str) -> list[str]:
    """Phrases in ``text`` that try to give the assistant instructions."""
    return [m.group(0) for m in _INJECTION.finditer(normalize(text))]


# --- reply checks ----------------------------------------------------------------

_LINK = re.compile(
    r"(?:https?://|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|co|net|org|io|br|es|mx|ar|cl|pe|app|link|ly|me|info|shop|store)\b(?:/\S*)?",
    re.I,
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_DATE_WORDS = frozenset(
    [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "setiembre",
        "octubre",
        "noviembre",
        "diciembre",
        "janeiro",
        "fevereiro",
        "marco",
        "maio",
        "junho",
        "julho",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "lunes",
        "martes",
        "miercoles",
        "jueves",
        "viernes",
        "sabado",
        "domingo",
        "segunda",
        "terca",
        "quarta",
        "quinta",
        "sexta",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "manana",
        "hoy",
        "pasado",
        "amanha",
        "hoje",
        "tomorrow",
        "today",
        "tonight",
        "weekend",
        "finde",
    ]
)
_PROMISES = re.compile(
    r"\b(garantiz\w*|garant\w*|gratis|gratuit\w*|sin costo|sem custo|free|descuento\w*|desconto\w*"
    r"|discount\w*|promo\w*|oferta\w*|offer\w*|regal\w*|reembols\w*|refund\w*|devolu\w*"
    r"|te prometo|prometemos|prometo|promise\w*|sin falta|sem falta|100 ?%|envio gratis)\b"
)


def _facts_corpus(profile: BusinessProfile) -> str:
    facts = profile.facts
    # Every language's version of a fact: a reply in any of them is grounded.
    parts: list[str] = [profile.name, facts.address or "", *all_versions(facts.hours_text)]
    parts += [facts.maps_url or "", facts.website or "", *all_versions(facts.delivery_time)]
    parts += all_versions(facts.payment_methods) + facts.delivery_areas
    parts += all_versions(facts.catalog) + all_versions(facts.value)
    parts += [f"{k} {v}" for k, v in facts.extra.items()]
    for item in facts.price_list:
        parts += [*all_versions(item.item), *all_versions(item.unit), *all_versions(item.note)]
        parts += [*item.aliases, _plain_number(item.price)]
    return normalize(" \n ".join(parts))


def _plain_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def number_values(text: str) -> set[str]:
    """Numbers in ``text`` in a canonical form: thousands separators removed, a decimal
    part kept when it is not a 3-digit group ("1.890.000" and "1,890,000" -> "1890000")."""
    values: set[str] = set()
    for raw in _NUMBER.findall(text):
        groups = re.split(r"[.,]", raw)
        if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]):
            values.add(str(int("".join(groups))))
        else:
            values.update(str(int(g)) for g in groups if g)
    return values


def _link_key(link: str) -> str:
    link = re.sub(r"^(https?://)?(www\.)?", "", link.lower())
    return link.rstrip(".,;:!?)/")


def unsupported_claims(text: str, profile: BusinessProfile, lead_texts: list[str]) -> list[str]:
    """Problems with a reply text: each price, date, link or promise that neither the
    business facts nor the lead's own words hold. Empty when the text is safe."""
    corpus = _facts_corpus(profile)
    lead = normalize(" \n ".join(lead_texts))
    said = f"{corpus}\n{lead}"
    norm = normalize(text)
    problems: list[str] = []
    known_links = {_link_key(u) for u in (profile.facts.website, profile.facts.maps_url) if u}
    for link in _LINK.findall(text):
        key = _link_key(link)
        if not any(key == k or key.startswith(k) or k.startswith(key) for k in known_links):
            problems.append(f"a link not in the facts: {link}")
    allowed_numbers = number_values(said) | {
        _plain_number(item.price) for item in profile.facts.price_list
    }
    text_wo_links = _LINK.sub(" ", text)
    for number in sorted(number_values(text_wo_links) - allowed_numbers):
        problems.append(f"a number (price, date or quantity) not in the facts: {number}")
    for word in set(re.findall(r"[a-z]+", norm)) & _DATE_WORDS:
        if not re.search(rf"\b{word}\b", said):
            problems.append(f"a date not in the facts: {word}")
    for match in _PROMISES.finditer(norm):
        if match.group(0) not in corpus:
            problems.append(f"a promise not in the facts: {match.group(0)}")
    return problems


_STOPWORDS = {
    Language.ES: set(
        [
            "el",
            "la",
            "los",
            "las",
            "de",
            "que",
            "y",
            "en",
            "un",
            "una",
            "por",
            "para",
            "con",
            "no",
            "es",
            "te",
            "tu",
            "su",
            "lo",
            "al",
            "del",
            "se",
            "le",
            "como",
            "pero",
            "mas",
            "muy",
            "si",
            "hola",
            "gracias",
            "tenemos",
            "puedes",
            "quieres",
            "estamos",
        ]
    ),
    Language.PT: set(
        [
            "o",
            "a",
            "os",
            "as",
            "de",
            "que",
            "e",
            "em",
            "um",
            "uma",
            "por",
            "para",
            "com",
            "nao",
            "e",
            "voce",
            "seu",
            "sua",
            "do",
            "da",
            "no",
            "na",
            "se",
            "como",
            "mas",
            "muito",
            "sim",
            "ola",
            "obrigado",
            "temos",
            "pode",
            "quer",
            "estamos",
        ]
    ),
    Language.EN: set(
        [
            "the",
            "a",
            "an",
            "of",
            "that",
            "and",
            "in",
            "to",
            "for",
            "with",
            "not",
            "is",
            "you",
            "your",
            "it",
            "at",
            "on",
            "be",
            "we",
            "are",
            "how",
            "but",
            "very",
            "yes",
            "hi",
            "hello",
            "thanks",
            "have",
            "can",
            "want",
        ]
    ),
}


def guess_language(text: str) -> Language:
    """A coarse stopword vote, used only to veto a reply in the wrong language;
    ``und`` when the text is too short or the vote is close."""
    tokens = re.findall(r"[a-z]+", normalize(text))
    if len(tokens) < 4:
        return Language.UNDETERMINED
    scores = {lang: sum(t in words for t in tokens) for lang, words in _STOPWORDS.items()}
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < 2 or top - second < 2:
        return Language.UNDETERMINED
    return best
