"""Where an index lives: a folder on disk (the default) or Milvus (``milvus://...``).

Both homes keep whole versions and swap the live one in one step, so ``Index`` reads, writes
and locks through this one contract and works the same on either.

Example:
    >>> home_of("indexes/demo")
    Folder(path=PosixPath('indexes/demo'))
    >>> home_of("milvus://indexes/news.db").name
    'ragnews'
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ragnews.errors import IndexStoreError
from ragnews.index.lock import writer_lock
from ragnews.index.milvus import MilvusHome, is_milvus
from ragnews.index.snapshot import Snapshot
from ragnews.index.store import is_index, live_version, read_snapshot, write_snapshot
from ragnews.search.lexical import LexicalSettings
from ragnews.search.milvus_store import MilvusStore
from ragnews.search.vectors import VectorSettings


class Home(Protocol):
    """What ``Index`` needs of the place an index lives."""

    def exists(self) -> bool:
        """Whether an index is here."""
        ...

    def live_version(self) -> str:
        """The name of the live version ('' when there is no index)."""
        ...

    def check_new(self) -> None:
        """An ``IndexStoreError`` when a new index cannot be made here."""
        ...

    def new_store(
        self, dimension: int, vectors: VectorSettings, lexical: LexicalSettings
    ) -> MilvusStore | None:
        """The empty vector store of a new index (``None``: FAISS and ragnews's BM25)."""
        ...

    def lock(self) -> AbstractContextManager[None]:
        """Hold the one writer's lock."""
        ...

    def read(self) -> Snapshot:
        """The live version."""
        ...

    def write(self, snapshot: Snapshot) -> str:
        """Write ``snapshot`` as the new live version; its name."""
        ...

    def remove(self) -> None:
        """Remove what a first build that failed left."""
        ...

    def size(self) -> int:
        """Bytes the live version takes on this machine's disk."""
        ...


@dataclass(frozen=True)
class Folder:
    """An index in a folder (``ragnews.index.store``): FAISS vectors, BM25, SQLite records."""

    path: Path

    def __str__(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        return is_index(self.path)

    def live_version(self) -> str:
        return live_version(self.path)

    def check_new(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise IndexStoreError(f"{self.path}: a file, not an index directory")

    def new_store(
        self, dimension: int, vectors: VectorSettings, lexical: LexicalSettings
    ) -> MilvusStore | None:
        return None

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with writer_lock(self.path):
            yield

    def read(self) -> Snapshot:
        return read_snapshot(self.path)

    def write(self, snapshot: Snapshot) -> str:
        return write_snapshot(self.path, snapshot)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def size(self) -> int:
        version = self.path / self.live_version()
        return sum(f.stat().st_size for f in version.iterdir() if f.is_file())


Location = str | Path | Home


def home_of(location: Location) -> Home:
    """The home ``location`` names: ``milvus://...`` is Milvus, anything else a folder (a
    home is itself)."""
    if not isinstance(location, str | Path):
        return location
    if is_milvus(location):
        return MilvusHome.parse(str(location))
    return Folder(Path(location))
