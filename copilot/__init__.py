"""Lead Copilot: answer WhatsApp sales leads with context.

from copilot import Copilot
analysis = Copilot().analyze_text("hola! cuanto sale el sofá de 3 puestos?")
analysis.intent.label, analysis.reply.text
"""

from pathlib import Path

# The wheel installs integrations/ and evals/ inside this package (see
# pyproject.toml), so they are imported as copilot.integrations and
# copilot.evals and no generic top-level name is installed. A checkout keeps
# them beside copilot/: there this package's search path also covers the
# checkout's root, and the same imports work.
if not (Path(__file__).parent / "integrations").is_dir():
    __path__.append(str(Path(__file__).resolve().parent.parent))

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
