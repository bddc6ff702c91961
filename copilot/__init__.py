"""Lead Copilot: answer WhatsApp sales leads with context.

from copilot import Copilot
analysis = Copilot().analyze_text("hola! cuanto sale el sofá de 3 puestos?")
analysis.intent.label, analysis.reply.text
"""

from copilot.facade import Copilot
from copilot.models import Analysis, Contact, Conversation, Message
from copilot.profile import BusinessProfile, ProfileError, load_profile

__all__ = [
    "Analysis",
    "BusinessProfile",
    "Contact",
    "Conversation",
    "Copilot",
    "Message",
    "ProfileError",
    "load_profile",
]
__version__ = "0.1.0"
