"""The labels the copilot speaks, as enums.

The values are the wire values fixed by ``docs/taxonomy.md``: enum values
in the models, JSON in the API and labels in eval datasets. Never rename them.
"""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    """What an inbound message asks for now (one primary label)."""

    GREETING = "greeting"
    PRODUCT_INQUIRY = "product_inquiry"
    PRICING = "pricing"
    AVAILABILITY = "availability"
    PURCHASE_INTENT = "purchase_intent"
    MEETING_REQUEST = "meeting_request"
    PROVIDES_INFO = "provides_info"
    BUSINESS_INFO = "business_info"
    ORDER_STATUS = "order_status"
    SUPPORT = "support"
    COMPLAINT = "complaint"
    HUMAN_REQUEST = "human_request"
    OPT_OUT = "opt_out"
    SPAM = "spam"
    OTHER = "other"


class Origin(StrEnum):
    """Where the lead came from (one per conversation)."""

    AD = "ad"
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    WEBSITE = "website"
    QR = "qr"
    REFERRAL = "referral"
    CAMPAIGN = "campaign"
    UNKNOWN = "unknown"


class OriginSource(StrEnum):
    """Which kind of evidence decided the origin (metadata beats text cues)."""

    REFERRAL_METADATA = "referral_metadata"
    ENTRY_POINT = "entry_point"
    CAMPAIGN_CONTEXT = "campaign_context"
    TEXT = "text"
    NONE = "none"


class TimelineBucket(StrEnum):
    """For when the lead needs it, counted from the message date."""

    IMMEDIATE = "immediate"
    THIS_MONTH = "this_month"
    LATER = "later"
    UNKNOWN = "unknown"


class NextStep(StrEnum):
    """How the lead prefers to go on."""

    CALL = "call"
    VIDEO_CALL = "video_call"
    VISIT = "visit"
    DEMO = "demo"
    QUOTE = "quote"
    WHATSAPP = "whatsapp"
    EMAIL = "email"


class HandoffReason(StrEnum):
    """Why a person must take over now."""

    HUMAN_REQUEST = "human_request"
    COMPLAINT = "complaint"
    HOT_LEAD = "hot_lead"
    COMPLEX = "complex"
    SENSITIVE = "sensitive"
    STUCK = "stuck"
    LOW_CONFIDENCE = "low_confidence"


class TemplateKey(StrEnum):
    """Which reply template to suggest next."""

    WELCOME = "welcome"
    QUALIFICATION = "qualification"
    SOFT_FOLLOWUP = "soft_followup"
    PROPOSAL_FOLLOWUP = "proposal_followup"
    REACTIVATION = "reactivation"
    OUT_OF_HOURS = "out_of_hours"
    ACKNOWLEDGEMENT = "acknowledgement"
    HANDOFF_NOTICE = "handoff_notice"
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"
    BUSINESS_ANSWER = "business_answer"


class TemplateCategory(StrEnum):
    """Meta's template category, which sets what a template send costs."""

    MARKETING = "marketing"
    UTILITY = "utility"
    AUTHENTICATION = "authentication"


class Stage(StrEnum):
    """Pipeline stage of a conversation."""

    NEW = "new"
    QUALIFIED = "qualified"
    PROPOSAL_SENT = "proposal_sent"
    WON = "won"
    LOST = "lost"


class LostReason(StrEnum):
    """Why a lead was lost."""

    NO_BUDGET = "no_budget"
    NO_RESPONSE = "no_response"
    CHOSE_COMPETITOR = "chose_competitor"
    NOT_INTERESTED = "not_interested"
    NOT_NOW = "not_now"
    INVALID = "invalid"


class Language(StrEnum):
    """Languages the copilot answers in; ``und`` when it cannot tell."""

    ES = "es"
    PT = "pt"
    EN = "en"
    UNDETERMINED = "und"


class Direction(StrEnum):
    """Whether a message came from the lead or went to the lead."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Author(StrEnum):
    """Who wrote a message. ``phone_echo`` is a Coexistence echo: the owner typed it
    in the WhatsApp Business App on the phone, so it counts as a person's answer."""

    LEAD = "lead"
    AGENT = "agent"
    BOT = "bot"
    PHONE_ECHO = "phone_echo"


class MessageType(StrEnum):
    """WhatsApp message kinds, as the Cloud API names them."""

    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    INTERACTIVE = "interactive"
    BUTTON = "button"
    REACTION = "reaction"
    ORDER = "order"
    TEMPLATE = "template"
    SYSTEM = "system"
    UNSUPPORTED = "unsupported"
    UNKNOWN = "unknown"


class DeliveryStatus(StrEnum):
    """Delivery state of an outbound message, in the order it advances."""

    PENDING = "pending"
    OUTBOX = "outbox"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"


#: Qualification fields, in the order the copilot asks for missing ones.
FIELD_NAMES: tuple[str, ...] = (
    "need",
    "timeline",
    "budget",
    "next_step",
    "name",
    "prior_solution",
    "pain",
    "email",
    "phone",
    "company",
    "city",
)

#: Fields whose absence makes the copilot ask a qualification question (the
#: profile's default ``ask_for``).
KEY_FIELDS: tuple[str, ...] = FIELD_NAMES[:5]

#: Fields that make a lead qualified once known (the profile's default ``qualified_when``).
QUALIFYING_FIELDS: tuple[str, ...] = ("need", "timeline", "next_step")

#: The same fields as the ``fields`` datasets, their scores and the agents'
#: corrections name them: a timeline is judged by its bucket.
DATASET_FIELD_NAMES: tuple[str, ...] = tuple(
    "timeline_bucket" if name == "timeline" else name for name in FIELD_NAMES
)
