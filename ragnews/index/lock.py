"""One writer at a time per index directory; readers never wait.

Example:
    >>> with writer_lock(Path("indexes/demo")):  # doctest: +SKIP
    ...     pass  # read the live version, change it, write a new one
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = "LOCK"


@contextlib.contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    """Hold the exclusive write lock of the index at ``path`` (created when missing)."""
    path.mkdir(parents=True, exist_ok=True)
    with file_lock(path / LOCK_FILE):
        yield


@contextlib.contextmanager
def file_lock(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``lock`` (created when missing)."""
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
