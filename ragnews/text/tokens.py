"""tiktoken's cl100k encoding, loaded from the copy shipped inside ragnews (no download).

Example:
    >>> len(cl100k().encode("Who canceled the delegation?"))
    5
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import tiktoken

# tiktoken looks for a cached encoding under the sha1 of its download address; the file in this
# folder is that encoding (sha256 223921b7...), so tiktoken never needs the network.
_CACHE = Path(__file__).resolve().parent.parent / "data" / "tiktoken"


@functools.cache
def cl100k() -> tiktoken.Encoding:
    """The cl100k_base encoding (the caller's own TIKTOKEN_CACHE_DIR is left as it was)."""
    previous = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(_CACHE)
    try:
        return tiktoken.get_encoding("cl100k_base")
    finally:
        if previous is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = previous
