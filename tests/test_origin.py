"""Origin detection: entry points beat referral metadata beats campaign context beats text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from copilot.engines.rules.origin import (
    detect_origin,
    origin_from_entry_points,
    origin_from_referral,
    origin_from_text,
)
from copilot.models import Conversation, Message, MessageContext, Referral
from copilot.profile import BusinessProfile
from copilot.taxonomy import Author, Direction, MessageType, Origin, OriginSource

T = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)

AD = {
    "source_url": "https://fb.me/2ZulEu42P",
    "source_id": "120208434531180125",
    "source_type": "ad",
    "headline": "Sofás en promoción",
    "body": "Hasta 30%",
    "media_type": "image",
    "image_url": "https://scontent.xx.fbcdn.net/ad.jpg",
    "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ",
}


def lead(text: str, mid: str = "m1", **kwargs) -> Message:
    return Message(id=mid, text=text, timestamp=T, **kwargs)


def conv(*messages: Message) -> Conversation:
    return Conversation(messages=list(messages))


def with_entry_points(profile: BusinessProfile, entry_points: dict[str, str]) -> BusinessProfile:
    return profile.model_copy(
        update={"entry_points": {k: Origin(v) for k, v in entry_points.items()}}
    )


# --- referral metadata ---------------------------------------------------------


def test_ad_referral_is_ad_even_when_the_text_names_a_network(profile):
    c = conv(lead("Vi su perfil en Instagram, cuánto sale?", referral=Referral(**AD)))
    result = detect_origin(c, profile)
    assert result.label is Origin.AD
    assert result.source is OriginSource.REFERRAL_METADATA
    assert "Sofás en promoción" in result.evidence


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.instagram.com/p/C8kP2vRr4Tn/", Origin.INSTAGRAM),
        ("https://instagram.com/reel/C9xYz/", Origin.INSTAGRAM),
        ("https://www.facebook.com/mueblesroble/posts/111", Origin.FACEBOOK),
        ("https://fb.me/abc", Origin.FACEBOOK),
        (None, Origin.FACEBOOK),
    ],
)
def test_post_referral_is_facebook_unless_the_url_is_instagram(url, expected):
    result = origin_from_referral(Referral(source_type="post", source_url=url))
    assert result is not None and result.label is expected


def test_referral_with_click_id_but_no_type_is_an_ad():
    assert origin_from_referral(Referral(ctwa_clid="ARA123")).label is Origin.AD


def test_empty_referral_is_no_evidence(profile):
    assert origin_from_referral(Referral()) is None
    c = conv(lead("Hola, una amiga me pasó su número", referral=Referral()))
    assert detect_origin(c, profile).label is Origin.REFERRAL


def test_entry_point_beats_referral_metadata(profile):
    # docs/datasets.md's origins example: the business's own prefilled text is the
    # most specific evidence, even when the message also carries an ad referral.
    p = with_entry_points(profile, {"Hola! Vengo de la web": "website"})
    c = conv(lead("Hola! Vengo de la web, quiero info del curso", referral=Referral(**AD)))
    assert detect_origin(c, p).label is Origin.WEBSITE


def test_referral_beats_non_matching_entry_point(profile):
    p = with_entry_points(profile, {"QR-TIENDA-01": "qr"})
    c = conv(lead("Hola, info del curso", referral=Referral(**AD)))
    assert detect_origin(c, p).label is Origin.AD


# --- entry points ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hola! Vengo de la web de Muebles Roble", Origin.WEBSITE),
        ("Hola! Vengo de la web de Muebles Roble, quiero cotizar un comedor", Origin.WEBSITE),
        ("hola vengo de la web de muebles roble", Origin.WEBSITE),
        ("QR-TIENDA-01", Origin.QR),
        ("qr-feria quiero el catálogo", Origin.QR),
        ("Hola, vi su perfil de Instagram", Origin.INSTAGRAM),
    ],
)
def test_demo_profile_entry_points_match_on_equal_or_prefix(profile, text, expected):
    result = detect_origin(conv(lead(text)), profile)
    assert result.label is expected
    assert result.source is OriginSource.ENTRY_POINT


def test_entry_point_code_must_match_whole_words():
    eps = {"QR-TIENDA-01": Origin.QR}
    assert origin_from_entry_points("QR-TIENDA-010", eps) is None
    assert origin_from_entry_points("hola QR-TIENDA-01", eps) is None  # not at the start
    assert origin_from_entry_points("  qr-tienda-01 ", eps).label is Origin.QR


def test_longest_entry_point_wins():
    eps = {"Hola": Origin.WEBSITE, "Hola desde la feria": Origin.QR}
    assert origin_from_entry_points("Hola desde la feria!", eps).label is Origin.QR
    assert origin_from_entry_points("Hola, info", eps).label is Origin.WEBSITE


def test_non_matching_entry_points_are_no_evidence(profile):
    result = detect_origin(conv(lead("Hola, cuánto vale el escritorio?")), profile)
    assert result.label is Origin.UNKNOWN
    assert result.source is OriginSource.NONE


def test_entry_point_beats_text_cue(profile):
    c = conv(lead("QR-FERIA hola, mi cuñado me recomendó"))
    assert detect_origin(c, profile).label is Origin.QR


# --- campaign context -----------------------------------------------------------


def test_template_reply_is_campaign_and_beats_text(profile):
    c = conv(lead("dale, vi su publicidad", context=MessageContext(is_template_reply=True)))
    result = detect_origin(c, profile)
    assert result.label is Origin.CAMPAIGN
    assert result.source is OriginSource.CAMPAIGN_CONTEXT


def test_campaign_payload_is_campaign(profile):
    c = conv(lead("Sí", context=MessageContext(campaign_payload="BLACKFRIDAY_YES")))
    result = detect_origin(c, profile)
    assert result.label is Origin.CAMPAIGN
    assert "BLACKFRIDAY_YES" in result.evidence


def test_conversation_opened_by_a_business_template_is_campaign(profile):
    opener = Message(
        id="o1",
        text="Hola! Tenemos 20% en sofás este fin de semana",
        timestamp=T,
        direction=Direction.OUTBOUND,
        author=Author.BOT,
        type=MessageType.TEMPLATE,
    )
    c = conv(opener, lead("me interesa", mid="m2"))
    assert detect_origin(c, profile).label is Origin.CAMPAIGN


def test_later_template_reply_does_not_rewrite_origin(profile):
    c = conv(
        lead("Hola, los vi en insta"),
        lead("sí", mid="m2", context=MessageContext(is_template_reply=True)),
    )
    assert detect_origin(c, profile).label is Origin.INSTAGRAM


# --- text cues --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hola vi su anuncio en Instagram, tienen el sofá en gris?", Origin.AD),
        ("buenas vi la publicidad de la promo", Origin.AD),
        ("vi o anúncio no instagram, ainda vale?", Origin.AD),
        ("Saw your Instagram ad, do you have size 8?", Origin.AD),
        ("Hola! Los vi en insta y me encantaron", Origin.INSTAGRAM),
        ("Oi! Achei vocês pelo instagram", Origin.INSTAGRAM),
        ("Hola, entré por su página de Facebook", Origin.FACEBOOK),
        ("Vi su publicación en Marketplace del comedor", Origin.FACEBOOK),
        ("Hola, les escribo desde su página web", Origin.WEBSITE),
        ("llené el formulario de la web pero nadie me llamó", Origin.WEBSITE),
        ("Hi, I got your number from your website", Origin.WEBSITE),
        ("Hola, me recomendó Juan Pérez", Origin.REFERRAL),
        ("Buenas! una amiga me pasó su número", Origin.REFERRAL),
        ("Oi, foi indicação da Carla", Origin.REFERRAL),
        ("My neighbor recommended you", Origin.REFERRAL),
        ("Escaneé el código QR de la vitrina", Origin.QR),
        ("Recebi a mensagem de vocês sobre a promoção", Origin.CAMPAIGN),
    ],
)
def test_text_cues(text, expected):
    result = origin_from_text([text])
    assert result is not None
    assert result.label is expected
    assert result.source is OriginSource.TEXT
    assert result.evidence


@pytest.mark.parametrize(
    "text",
    [
        "quiero poner un anuncio en su página",
        "tienen instagram? quiero ver más fotos",
        "me pueden mandar el formulario de inscripción?",
        "cual es su pagina web?",
        "te aviso mañana",
        "vi el anuncio de empleo, siguen buscando vendedor?",
        "Hola, soy cliente de ustedes hace años",
        "estoy buscando apartamento en Chía",
    ],
)
def test_lines_that_only_mention_a_source_are_no_cue(text):
    assert origin_from_text([text]) is None


def test_google_is_unknown_but_quoted():
    result = origin_from_text(["Los encontré en Google, hacen envíos?"])
    assert result.label is Origin.UNKNOWN
    assert "google" in result.evidence


def test_text_cue_in_a_later_early_message_counts(profile):
    c = conv(lead("hola"), lead("los vi en insta, tienen aretes?", mid="m2"))
    assert detect_origin(c, profile).label is Origin.INSTAGRAM


def test_ad_cue_beats_network_across_messages(profile):
    c = conv(lead("los sigo en instagram"), lead("y vi su anuncio del descuento", mid="m2"))
    assert detect_origin(c, profile).label is Origin.AD


def test_no_inbound_message_is_unknown(profile):
    assert detect_origin(Conversation(), profile).label is Origin.UNKNOWN


# --- referral phrasings found by the blind evaluation (helper I1) ----------------------


@pytest.mark.parametrize(
    "text",
    [
        "hi, my coworker sent me your number, are you taking new clients?",
        "someone shared your contact with me... I mean, my mum passed on your details",
        "I heard about you from my neighbour",
        "un compañero del trabajo me habló muy bien de ustedes",
        "minha irmã falou de vocês, fazem unha de gel?",
    ],
)
def test_a_person_passing_on_the_number_is_referral(profile, text):
    result = detect_origin(conv(lead(text)), profile)
    assert result.label is Origin.REFERRAL


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("heard about you from your website", Origin.WEBSITE),
        ("heard about you from Instagram", Origin.INSTAGRAM),
    ],
)
def test_hearing_about_a_channel_is_that_channel_not_a_referral(profile, text, expected):
    assert detect_origin(conv(lead(text)), profile).label is expected
