"""Reply suggestion: template choice, rendering, 24-hour window (docs/taxonomy.md).

Template choice follows the taxonomy's "first rule that applies" order:

1. opted out (flag, or the latest intent is ``opt_out``) -> ``opt_out_confirmation``
2. a person took the conversation over -> ``handoff_notice``
3. the lead wrote last, outside business hours -> ``out_of_hours``
4. only inbound so far: waited longer than ``first_response_sla_minutes`` ->
   ``acknowledgement``, else ``welcome`` (exactly the SLA is still within it)
5. the lead wrote last, recently, asking what the facts answer -> ``business_answer``
6. the lead wrote last, recently, key fields missing -> ``qualification``
7. silence: ``reactivation_days`` or more since the lead's last message, or stage
   ``lost`` -> ``reactivation``; stage ``qualified``/``proposal_sent`` after an
   exchange, lead silent ``proposal_followup_days`` or more -> ``proposal_followup``;
   our last message unanswered ``soft_followup_hours`` or more -> ``soft_followup``.

"Recently" means within the 24-hour customer-service window (free-form replies
can only be sent inside it; :mod:`copilot.window` decides). Defaults where no rule applies (documented choices):

- lead wrote last, recently, nothing missing and no fact asked -> ``proposal_followup``
  (the lead is qualified: propose the concrete next step);
- lead wrote last more than 24 h ago, no silence rule due -> ``acknowledgement``
  (we owe them an answer; it is the approved "we got your message" template);
- we wrote last, no follow-up due yet -> ``soft_followup`` from :func:`choose_template`,
  but :func:`suggest_reply` returns ``None``: nothing is due, nobody writes twice.

In :func:`suggest_reply`, after rules 1-3, a handoff for ``human_request``,
``complaint``, ``sensitive``, ``stuck`` or ``complex`` turns the reply into
``handoff_notice`` so the way to a person is explicit (out of hours the
``out_of_hours`` reply, which says when we reopen, wins). Once a person has
written after taking over, rule 2 is skipped: the notice has been given.

Wording inside the 24-hour window (:func:`suggest_reply`; the template key stays
the rule's): what the business facts say to the lead's latest line leads the
reply in every turn, inside the welcome on a first message (with its promise,
only offered within the SLA), after "thanks for your patience" past the SLA,
after the out-of-hours notice, before the next question; a topic the facts do
not settle gets what they do say (the cities served). Losses, objections,
complaints, media and a customer's thanks get words of their own
(:mod:`copilot.turns`). The reply is in one language: the facts' (the lead's,
or the default language when a fact lacks it), else the template's.

When we wrote last but only automatically (no person has answered yet), the lead
still waits: :func:`suggest_reply` gives the first-contact reply instead of
nothing. :func:`refresh_reply` recomputes a stored analysis's reply at a later
moment (the inbox's clock tick does, so suggestions stay current).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from copilot.engines.base import Understanding
from copilot.facts import (
    FactAnswer,
    answer_language,
    answer_question,
    fact_answer,
    hours_phrase,
    need_phrase,
    next_opening,
    response_time_phrase,
    wording,
)
from copilot.grounding import check_free_text
from copilot.handoff import decide_handoff
from copilot.models import (
    Analysis,
    Conversation,
    ConversationState,
    Handoff,
    QualificationFields,
    SuggestedReply,
)
from copilot.profile import BusinessProfile, versions
from copilot.questions import next_question, question_for, welcome_question
from copilot.render import clean_name, clean_value, render, variables_in
from copilot.state import conversation_state
from copilot.state import missing_fields as fields_missing
from copilot.taxonomy import HandoffReason, Intent, Language, NextStep, Stage, TemplateKey
from copilot.turns import ORDINARY, Turn, about_an_order, is_courtesy, turn_of
from copilot.window import open_after

#: Handoff reasons whose reply is the handoff notice (a person must answer these).
NOTICE_REASONS = frozenset(
    {
        HandoffReason.HUMAN_REQUEST,
        HandoffReason.COMPLAINT,
        HandoffReason.SENSITIVE,
        HandoffReason.STUCK,
        HandoffReason.COMPLEX,
    }
)

#: Choices that neither a handoff nor an engine proposal may override.
_FIXED = frozenset(
    {TemplateKey.OPT_OUT_CONFIRMATION, TemplateKey.HANDOFF_NOTICE, TemplateKey.OUT_OF_HOURS}
)

#: Replies where an engine's free text (already checked by the engine) may replace
#: the rendered template inside the 24-hour window: conversational turns only, never
#: the notices whose wording the business fixed, nor fact answers (the facts are
#: worded by the library itself).
FREE_TEXT_KEYS = frozenset(
    {TemplateKey.WELCOME, TemplateKey.QUALIFICATION, TemplateKey.PROPOSAL_FOLLOWUP}
)

#: Longest ``need`` shown in a follow-up ("... con {need}").
MAX_NEED_CHARS = 80


@dataclass(frozen=True)
class _Choice:
    key: TemplateKey
    due: bool = True
    answer: str | None = None
    facts: FactAnswer | None = None


def _intent(understanding: Understanding | None) -> Intent | None:
    if understanding is None or understanding.intent is None:
        return None
    return understanding.intent.label


def _choose(
    state: ConversationState,
    understanding: Understanding | None,
    profile: BusinessProfile,
    text: str | None,
    *,
    takeover_noticed: bool = False,
) -> _Choice:
    intent = _intent(understanding)
    # 1. opt-out beats everything, even out of hours.
    if state.opted_out or intent is Intent.OPT_OUT:
        return _Choice(TemplateKey.OPT_OUT_CONFIRMATION)
    # 2. a person took over.
    if state.assigned_human_took_over and not takeover_noticed:
        return _Choice(TemplateKey.HANDOFF_NOTICE)
    lead_last = state.last_message_from == "lead"
    hours_in = state.hours_since_last_inbound
    # What the facts say to the lead's latest line (answered in every turn below).
    facts = None
    if lead_last and open_after(hours_in) and text:
        language = answer_language(understanding.language if understanding else None, profile)
        fields = understanding.fields if understanding else None
        facts = fact_answer(text, profile, language, intent, fields)
    # 3. the lead is waiting and we are closed.
    if lead_last and not state.within_business_hours:
        return _Choice(TemplateKey.OUT_OF_HOURS, facts=facts)
    # 4. first contact: nobody has written to the lead yet.
    if state.outbound_count == 0 and state.inbound_count > 0:
        waited = state.minutes_waiting_for_first_reply
        if waited is None and state.hours_since_last_inbound is not None:
            waited = state.hours_since_last_inbound * 60  # a lower bound
        past_sla = waited is not None and waited > profile.first_response_sla_minutes
        key = TemplateKey.ACKNOWLEDGEMENT if past_sla else TemplateKey.WELCOME
        return _Choice(key, facts=facts)

    if lead_last and open_after(hours_in):
        # 5. a question the business's facts answer.
        if facts is not None and facts.complete:
            return _Choice(TemplateKey.BUSINESS_ANSWER, answer=facts.text, facts=facts)
        if facts is None and text is None:
            answer = _facts_answer(text, intent, profile, profile.default_language, None)
            if answer is not None:
                return _Choice(TemplateKey.BUSINESS_ANSWER, answer=answer)
        # 6. one question for the next missing field.
        if state.missing_fields:
            return _Choice(TemplateKey.QUALIFICATION, facts=facts)
        # Default: a qualified lead wrote; propose the concrete next step.
        return _Choice(TemplateKey.PROPOSAL_FOLLOWUP, facts=facts)

    # 7. silence. The lead's silence is measured from their last message.
    follow = profile.follow_ups
    silent = hours_in if hours_in is not None else state.hours_since_last_outbound
    if state.stage is Stage.LOST or (
        silent is not None and silent >= follow.reactivation_days * 24
    ):
        return _Choice(TemplateKey.REACTIVATION)
    exchanged = state.inbound_count > 0 and state.outbound_count > 0
    if (
        state.stage in (Stage.QUALIFIED, Stage.PROPOSAL_SENT)
        and exchanged
        and silent is not None
        and silent >= follow.proposal_followup_days * 24
    ):
        return _Choice(TemplateKey.PROPOSAL_FOLLOWUP)
    if lead_last:
        # Default: the lead wrote over a day ago and is still waiting for us.
        return _Choice(TemplateKey.ACKNOWLEDGEMENT)
    unanswered = state.hours_since_last_outbound
    due = unanswered is not None and unanswered >= follow.soft_followup_hours
    return _Choice(TemplateKey.SOFT_FOLLOWUP, due=due)


def _facts_answer(
    text: str | None,
    intent: Intent | None,
    profile: BusinessProfile,
    language: Language,
    fields: QualificationFields | None,
) -> str | None:
    if text is not None:
        return answer_question(text, profile, language, intent, fields)
    # No text (a caller with only a state and an intent): hours and address are
    # the only business_info facts that need no detail from the question.
    if intent is Intent.BUSINESS_INFO and (profile.facts.hours_text or profile.facts.address):
        return ""
    return None


def choose_template(
    state: ConversationState,
    understanding: Understanding | None,
    profile: BusinessProfile,
    text: str | None = None,
) -> TemplateKey:
    """The template to suggest, by the taxonomy's first-rule-that-applies order.
    The eval runner calls this with a dataset's given state.

    ``text`` is the lead's latest message: with it, rule 5 checks that the
    profile's facts really answer it (which price-list item, which city). Without
    it only an ``business_info`` intent counts as a fact question.
    """
    return _choose(state, understanding, profile, text).key


# --- rendering ------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """A template filled in: its text, the language it is in and the values used."""

    text: str
    language: Language
    variables: dict[str, str]


def _lead_name(fields: QualificationFields | None, contact_name: str | None) -> str:
    value = fields.name.value if fields is not None and fields.name else None
    return clean_name(value if isinstance(value, str) else None) or clean_name(contact_name)


def _need(fields: QualificationFields | None, language: Language, profile: BusinessProfile) -> str:
    # Never the lead's own words: the catalog's or price list's name for the need
    # in the reply's language, else a neutral phrase.
    value = fields.need.value if fields is not None and fields.need else None
    value = value if isinstance(value, str) else ""
    named = need_phrase(value, profile, language) if value else None
    return clean_value(named or "", MAX_NEED_CHARS) or wording(language)["need_fallback"]


def _next_step(fields: QualificationFields | None, language: Language) -> str:
    steps = wording(language)["next_step"]
    value = fields.next_step.value if fields is not None and fields.next_step else None
    # Stored fields read back from JSON hold the step's code as a plain string.
    code = value.value if isinstance(value, NextStep) else value
    if isinstance(code, str) and code in NextStep._value2member_map_:
        return steps.get(code, steps["default"])
    return steps["default"]


def _person_is_answering(conversation: Conversation) -> bool:
    for message in reversed(conversation.messages):
        if not message.is_inbound:
            return message.is_human_answer
    return False


def _question(
    key: TemplateKey,
    missing_fields: Sequence[str],
    language: Language,
    recent_ours: Sequence[str] = (),
) -> str:
    if key is TemplateKey.WELCOME:
        return welcome_question(list(missing_fields), language)
    return next_question(list(missing_fields), language, list(recent_ours)) or question_for(
        "next_step", language
    )


def render_template(
    profile: BusinessProfile,
    key: TemplateKey,
    language: Language | str | None,
    now: datetime,
    *,
    fields: QualificationFields | None = None,
    contact_name: str | None = None,
    agent_name: str | None = None,
    missing_fields: Sequence[str] | None = None,
    recent_ours: Sequence[str] = (),
    question: str | None = None,
    answer: str | None = None,
) -> Rendered | None:
    """Fill template ``key`` of ``profile``: the one renderer behind suggestions,
    automatic messages and follow-ups. ``None`` when it renders empty.

    ``language`` is the lead's (the profile's default for ``und`` or an unknown
    code; Spanish when the template has no text in it). Values come from the
    profile, the known ``fields`` and the contact's name, all cleaned: the
    lead's name (``fields.name`` first), the owner's ``agent_name`` (else neutral
    words, never the profile's ``agent_name``), the SLA in words ("1 hora"), the hours and the next opening in
    words ("mañana a las 10:00", "el sábado a las 10:00"). ``question`` is asked
    for the first of ``missing_fields`` (default: the profile's ``ask_for`` minus
    the known fields) unless given; ``recent_ours`` are our latest messages, so
    a question is not asked twice in a row.
    """
    lang = answer_language(language, profile)
    template = profile.templates[key]
    if not getattr(template, lang.value, None):
        lang = Language.ES
    text = template.text_for(lang)

    def missing() -> list[str]:
        if missing_fields is not None:
            return list(missing_fields)
        return fields_missing(profile, fields)

    producers = {
        "business_name": lambda: clean_value(profile.name),
        # The conversation's owner, else neutral words: the notice never names a
        # person who does not own the conversation.
        "agent_name": lambda: clean_name(agent_name) or wording(lang)["agent_fallback"],
        "lead_name": lambda: f", {name}" if (name := _lead_name(fields, contact_name)) else "",
        "response_time": lambda: response_time_phrase(profile.first_response_sla_minutes, lang),
        "question": lambda: question or _question(key, missing(), lang, recent_ours),
        "answer": lambda: answer or "",
        "need": lambda: _need(fields, lang, profile),
        "next_step": lambda: _next_step(fields, lang),
        "hours": lambda: hours_phrase(profile, lang),
        "address": lambda: profile.facts.address or "",
        "opening_time": lambda: next_opening(profile, now, lang),
    }
    values = {name: producers[name]() for name in variables_in(text) if name in producers}
    rendered = render(text, values)
    if not rendered:
        return None
    return Rendered(rendered, lang, values)


def render_reply(
    key: TemplateKey,
    conversation: Conversation,
    fields: QualificationFields,
    state: ConversationState,
    profile: BusinessProfile,
    language: Language,
    now: datetime,
    answer: str | None = None,
    question: str | None = None,
) -> SuggestedReply | None:
    """Render template ``key`` for ``conversation`` as a suggested reply (through
    :func:`render_template`). ``None`` when it renders empty. ``question``
    replaces the library's qualification question (an engine's checked proposal)."""
    recent_ours = [m.text or "" for m in conversation.messages if not m.is_inbound][-2:]
    rendered = render_template(
        profile,
        key,
        language,
        now,
        fields=fields,
        contact_name=conversation.contact.name,
        agent_name=conversation.owner_name,
        missing_fields=state.missing_fields,
        recent_ours=recent_ours,
        question=question,
        answer=answer,
    )
    if rendered is None:
        return None
    return SuggestedReply(
        template=key,
        text=rendered.text,
        language=rendered.language,
        requires_approved_template=not state.window_open,
        category=profile.templates[key].category,
        variables=rendered.variables,
    )


def suggest_reply(
    conversation: Conversation,
    understanding: Understanding,
    handoff: Handoff,
    state: ConversationState,
    profile: BusinessProfile,
    now: datetime,
) -> SuggestedReply | None:
    """The suggested reply, rendered in the lead's language from the profile.

    Inside the 24-hour window every turn answers first what the facts say to the
    lead's latest line (on the first message too, inside the welcome), and a
    few turns get words of their own (:mod:`copilot.turns`): a gracious close
    for a lost lead (``lost`` proposed to the agent), acknowledgement, value and
    a next step after a price objection, an apology for the specific problem
    before the handoff notice of a complaint, and receipt of media that the
    copilot cannot read. Outside the window the template goes as written.

    ``None`` when the lead never wrote (nothing to answer; outbound-only
    conversations are the inbox's follow-up business) or when we wrote last and
    no follow-up is due yet.
    """
    last = conversation.last_inbound
    if last is None:
        return None
    language = answer_language(understanding.language, profile)
    text = last.analysed_text
    takeover_noticed = state.assigned_human_took_over and _person_is_answering(conversation)
    choice = _choose(state, understanding, profile, text, takeover_noticed=takeover_noticed)
    if not choice.due:
        choice = _still_waiting(state, understanding, profile, text)
        if choice is None:
            return None
    key, answer = choice.key, choice.answer
    if key not in _FIXED and handoff.needed and handoff.reason in NOTICE_REASONS:
        key = TemplateKey.HANDOFF_NOTICE
    proposed_language = language
    key, language, answer = _engine_proposal(
        understanding, key, language, answer, text, state, profile
    )
    facts = choice.facts
    if facts is not None and (language is not proposed_language or key is not choice.key):
        # Word the facts in the reply's final language (the engine may have changed it).
        facts = fact_answer(
            text,
            profile,
            answer_language(language, profile),
            _intent(understanding),
            understanding.fields,
        )
    if key is TemplateKey.BUSINESS_ANSWER:
        if facts is not None and facts.complete:
            answer, language = facts.text, facts.language
        else:
            final = answer_question(
                text,
                profile,
                answer_language(language, profile),
                _intent(understanding),
                understanding.fields,
            )
            answer = final if final is not None else answer
    turn = ORDINARY
    if state.window_open:
        turn = turn_of(last, _intent(understanding), handoff.reason if handoff.needed else None)
        if (
            turn.kind is None
            and key in (TemplateKey.QUALIFICATION, TemplateKey.PROPOSAL_FOLLOWUP)
            and is_courtesy(last)
            and (conversation.stage is Stage.WON or about_an_order(conversation))
        ):
            # A customer thanking us for an answer about their order: no sales nudge.
            turn = Turn("courtesy")
    if facts is not None and state.window_open and key is not TemplateKey.BUSINESS_ANSWER:
        # The facts decide the language of the whole reply (default language when a
        # fact lacks the lead's): the template around them follows.
        language = facts.language
    reply = _compose(
        key,
        turn,
        facts if state.window_open else None,
        conversation,
        understanding,
        state,
        profile,
        language,
        now,
        answer,
    )
    return _with_free_text(reply, understanding, state, conversation, profile)


def _still_waiting(
    state: ConversationState,
    understanding: Understanding,
    profile: BusinessProfile,
    text: str,
) -> _Choice | None:
    """We wrote last, but only automatically: no person has answered the lead yet
    (the automatic acknowledgement or out-of-hours reply is not an answer). Inside
    the window the lead still waits for one: the first-contact reply, past the SLA
    without its promise. ``None`` otherwise (nothing is due)."""
    if state.minutes_waiting_for_first_reply is None or not state.window_open:
        return None
    language = answer_language(understanding.language, profile)
    facts = fact_answer(text, profile, language, _intent(understanding), understanding.fields)
    past_sla = state.minutes_waiting_for_first_reply > profile.first_response_sla_minutes
    key = TemplateKey.ACKNOWLEDGEMENT if past_sla else TemplateKey.WELCOME
    return _Choice(key, facts=facts)


def refresh_reply(
    conversation: Conversation,
    analysis: Analysis,
    profile: BusinessProfile,
    now: datetime,
) -> SuggestedReply | None:
    """The suggested reply recomputed as of ``now`` from a stored analysis, without
    running the engine again: what changes with time (the SLA passing, business
    hours, the window closing) and with the conversation (a new message, a new
    owner in ``conversation.owner_name``) is read afresh. An engine's free text is
    not kept: the library's own wording is used."""
    understanding = Understanding(
        language=analysis.language,
        intent=analysis.intent,
        origin=analysis.origin,
        fields=analysis.fields,
        signals=analysis.signals,
        engine=analysis.engine,
    )
    state = conversation_state(conversation, analysis.fields, profile, now)
    handoff = decide_handoff(conversation, understanding, state)
    return suggest_reply(conversation, understanding, handoff, state, profile, now)


#: Templates whose text the facts' answer may lead (inside the window).
_ANSWERED_KEYS = frozenset(
    {
        TemplateKey.WELCOME,
        TemplateKey.ACKNOWLEDGEMENT,
        TemplateKey.QUALIFICATION,
        TemplateKey.PROPOSAL_FOLLOWUP,
        TemplateKey.OUT_OF_HOURS,
    }
)


def _compose(
    key: TemplateKey,
    turn: Turn,
    facts: FactAnswer | None,
    conversation: Conversation,
    understanding: Understanding,
    state: ConversationState,
    profile: BusinessProfile,
    language: Language,
    now: datetime,
    answer: str | None,
) -> SuggestedReply | None:
    """The reply of template ``key``, worded for ``turn`` and led by the facts."""
    fields = understanding.fields
    question = _proposed_slot(understanding, key, "question")
    lang = answer_language(language, profile)
    if not getattr(profile.templates[key], lang.value, None):
        lang = Language.ES  # the template has no text in the lead's language
        # The whole reply follows the template's language: the facts too, or none.
        text = conversation.last_inbound.analysed_text if conversation.last_inbound else ""
        intent = _intent(understanding)
        if facts is not None:
            facts = fact_answer(text, profile, lang, intent, fields)
        if key is TemplateKey.BUSINESS_ANSWER and answer:
            answer = answer_question(text, profile, lang, intent, fields) or answer
    if facts is not None and facts.language is not lang:
        facts = None  # never a fragment in another language than the reply's
    words_ = wording(lang)
    turns = words_["turns"]
    name = _lead_name(fields, conversation.contact.name)
    lead_name = f", {name}" if name else ""

    def own(text: str, kind: str, **update: object) -> SuggestedReply | None:
        base = render_reply(key, conversation, fields, state, profile, lang, now)
        if base is None:
            return None
        return base.model_copy(
            update={"text": text, "language": lang, "variables": {}, "turn": kind, **update}
        )

    if key is TemplateKey.HANDOFF_NOTICE and turn.kind == "complaint":
        problem = words_["problems"].get(turn.problem or "default") or words_["problems"]["default"]
        apology = render(turns["complaint"], {"problem": problem, "lead_name": lead_name})
        if turn.media == "image":
            apology += " " + turns["photo_received"]
        notice = render_reply(key, conversation, fields, state, profile, lang, now)
        if notice is None:
            return None
        return notice.model_copy(update={"text": f"{apology} {notice.text}", "turn": "complaint"})
    if key is TemplateKey.OUT_OF_HOURS and turn.kind == "loss":
        text = render(turns["loss_close"], {"lead_name": lead_name})
        return own(text, "loss", propose_stage=Stage.LOST, propose_lost_reason=turn.lost_reason)
    if key in _FIXED:
        base = render_reply(key, conversation, fields, state, profile, lang, now, answer)
        if base is None or key is not TemplateKey.OUT_OF_HOURS:
            return base
        # Closed: when we reopen, and still what fits the turn.
        if turn.kind == "complaint":
            problem = (
                words_["problems"].get(turn.problem or "default") or words_["problems"]["default"]
            )
            apology = render(turns["complaint"], {"problem": problem, "lead_name": lead_name})
            return base.model_copy(update={"text": f"{apology} {base.text}", "turn": "complaint"})
        if turn.kind == "media":
            media = turns.get(f"media_{turn.media}") or turns["media_other"]
            extra = f"{media} {turns['media_ask']}"
            return base.model_copy(update={"text": f"{base.text} {extra}", "turn": "media"})
        if facts is not None:
            return base.model_copy(update={"text": f"{base.text} {facts.text}", "turn": "answer"})
        return base
    if turn.kind == "courtesy":
        return own(render(turns["courtesy"], {"lead_name": lead_name}), "courtesy")
    if turn.kind == "loss":
        text = render(turns["loss_close"], {"lead_name": lead_name})
        return own(text, "loss", propose_stage=Stage.LOST, propose_lost_reason=turn.lost_reason)
    if turn.kind == "objection":
        value = _value(profile, lang)
        step = render(turns["objection_next"], {"next_step": _next_step(fields, lang)})
        parts = [render(turns["objection"], {"lead_name": lead_name})]
        if value:
            parts.append(value)
        if facts is not None and facts.language is lang:
            parts.append(facts.text)
        parts.append(step)
        return own(" ".join(parts), "objection")
    if turn.kind == "media":
        media = turns.get(f"media_{turn.media}") or turns["media_other"]
        ask = f"{media} {turns['media_ask']}"
        if key is TemplateKey.WELCOME:
            reply = render_reply(key, conversation, fields, state, profile, lang, now, question=ask)
            return reply.model_copy(update={"turn": "media"}) if reply else None
        return own(ask, "media")
    if facts is None or key not in _ANSWERED_KEYS:
        return render_reply(key, conversation, fields, state, profile, lang, now, answer, question)
    if key is TemplateKey.WELCOME:
        # The welcome's presence and promise, then the answer, then one question.
        base = render_reply(key, conversation, fields, state, profile, lang, now)
        follow = question or (base.variables.get("question") if base else "") or ""
        lead = f"{facts.text} {follow}".strip()
        reply = render_reply(key, conversation, fields, state, profile, lang, now, question=lead)
        return reply.model_copy(update={"turn": "answer"}) if reply else None
    if key is TemplateKey.ACKNOWLEDGEMENT:
        # Past the promised time: thanks for waiting (no promise), the answer, a question.
        greeting = render(
            turns["thanks_wait"],
            {"lead_name": lead_name, "business_name": clean_value(profile.name)},
        )
        follow = question or _question(TemplateKey.WELCOME, state.missing_fields, lang)
        return own(f"{greeting} {facts.text} {follow}".strip(), "answer")
    if key is TemplateKey.QUALIFICATION:
        base = render_reply(key, conversation, fields, state, profile, lang, now, None, question)
        follow = base.text if base else ""
        return own(f"{facts.text} {follow}".strip(), "answer")
    # A qualified lead: the answer, then the concrete next step.
    step = render(turns["next_step_ask"], {"next_step": _next_step(fields, lang)})
    return own(f"{facts.text} {step}", "answer")


def _value(profile: BusinessProfile, language: Language) -> str | None:
    value = profile.facts.value
    if value is None:
        return None
    return versions(value, profile.default_language).get(language.value)  # type: ignore[return-value]


def _proposed_slot(understanding: Understanding, key: TemplateKey, name: str) -> str | None:
    """A slot value the engine proposed for this very template (checked by the engine)."""
    proposal = understanding.reply
    if proposal is None or proposal.template is not key:
        return None
    return proposal.variables.get(name) or None


def _with_free_text(
    reply: SuggestedReply | None,
    understanding: Understanding,
    state: ConversationState,
    conversation: Conversation,
    profile: BusinessProfile,
) -> SuggestedReply | None:
    """Inside the 24-hour window, an engine's short free text may replace the
    rendered template of a conversational turn, once it passes
    :func:`copilot.grounding.check_free_text` (the lead's language, grounded in
    the facts, no echo of the lead, no placeholder or raw value); the template
    choice, category and language stay the library's. When it fails, the
    library's reply is kept and ``free_text_rejected`` says why. A reply the
    library worded for the turn (the facts' answer, a close, an apology, media
    received) is kept: free text would drop the answer the facts give."""
    proposal = understanding.reply
    if (
        reply is None
        or reply.turn is not None
        or proposal is None
        or not proposal.text.strip()
        or reply.template not in FREE_TEXT_KEYS
        or proposal.template is not reply.template
    ):
        return reply
    problems = check_free_text(
        proposal.text,
        language=reply.language.value,
        profile=profile,
        lead_texts=[m.text or "" for m in conversation.messages if m.is_inbound],
        window_open=state.window_open,
    )
    if proposal.language is not reply.language:
        problems.insert(
            0, f"written for {proposal.language.value}, the reply is in {reply.language.value}"
        )
    if problems:
        return reply.model_copy(update={"free_text_rejected": ", ".join(problems)})
    return reply.model_copy(update={"text": proposal.text.strip(), "variables": {}})


def _engine_proposal(
    understanding: Understanding,
    key: TemplateKey,
    language: Language,
    answer: str | None,
    text: str,
    state: ConversationState,
    profile: BusinessProfile,
) -> tuple[TemplateKey, Language, str | None]:
    """Honour the engine's proposed reply when it passes the checks.

    The engine's template key is taken unless a fixed rule decided (opt-out,
    takeover, out of hours); ``business_answer`` only when the facts really
    answer; ``opt_out_confirmation`` only with an opt-out intent. Its language
    is taken when it is one we answer in. Its free text is used only inside the
    24-hour window and only for conversational turns (:func:`_with_free_text`),
    after the engine's own checks against the profile's facts.
    """
    proposal = understanding.reply
    if proposal is None or key in _FIXED:
        return key, language, answer
    if proposal.language is not Language.UNDETERMINED:
        language = proposal.language
    proposed = proposal.template
    if proposed is TemplateKey.BUSINESS_ANSWER:
        fact = answer_question(
            text,
            profile,
            answer_language(language, profile),
            _intent(understanding),
            understanding.fields,
        )
        if fact is None:
            return key, language, answer
        return proposed, language, fact
    if (
        proposed is TemplateKey.OPT_OUT_CONFIRMATION
        and _intent(understanding) is not Intent.OPT_OUT
    ):
        return key, language, answer
    if proposed is TemplateKey.QUALIFICATION and not state.missing_fields:
        return key, language, answer
    if key is TemplateKey.BUSINESS_ANSWER and answer is not None and proposed is not key:
        # The facts answer the question: an answer beats the engine's generic reply.
        return key, language, answer
    return proposed, language, None
