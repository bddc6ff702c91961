"""The machinery behind the ``llm`` and ``hybrid`` engines.

- :mod:`~copilot.llm.schema`: the output schema (pydantic, strict-mode ready).
- :mod:`~copilot.llm.context`: builds the one request of an analysis.
- :mod:`~copilot.llm.safety`: cleaning, fencing and redacting lead text; reply checks.
- :mod:`~copilot.llm.calls`: the two retry layers (transport, one re-ask).
- :mod:`~copilot.llm.store`: the SQLite cache and token ledger, cassettes.
- :mod:`~copilot.llm.cost`: the price table; :mod:`~copilot.llm.tokens`: offline token counts.
- :mod:`~copilot.llm.provider`: request/response types and the provider protocol;
  the providers themselves live in :mod:`copilot.integrations.llm`.
"""
