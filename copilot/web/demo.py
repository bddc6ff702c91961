"""Where ``lead-copilot serve --demo`` looks for the demo loader (see :mod:`copilot.demo`)."""

from copilot.demo import load_demo

__all__ = ["load_demo"]
