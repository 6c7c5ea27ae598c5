"""Every error ragnews raises on purpose derives from ``RagnewsError``::

RagnewsError
├── DocumentError        a file or line that is not a readable article (file, line, reason)
├── IndexStoreError      base of errors about where an index lives (a folder or Milvus:
│   │                        a bad milvus:// location, a Milvus that cannot be reached)
│   ├── IndexNotFoundError   no index at that path
│   ├── IndexExistsError     an index is already there (building would replace it)
│   ├── IndexDamagedError    a file of the index is missing, unreadable or altered
│   ├── IndexMismatchError   built with another model or format version
│   └── IndexVersionGoneError  the Milvus version being searched was dropped (read again)
├── EmptyCorpusError     nothing readable to index
├── SearchError          a search or filter that cannot run (unknown mode, malformed date)
└── ReaderError          reader weights or checkpoint that cannot be used
"""

from __future__ import annotations

from pathlib import Path


class RagnewsError(Exception):
    """Base class of ragnews errors."""


class DocumentError(RagnewsError):
    """A file, or one line of a JSONL file, that cannot be read as an article.

    Example:
        >>> str(DocumentError("news.jsonl", "missing 'text'", line=3))
        "news.jsonl:3: missing 'text'"
    """

    def __init__(self, path: str | Path, reason: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


class IndexStoreError(RagnewsError):
    """Base class of errors about where an index lives: its folder, or its Milvus."""


class IndexNotFoundError(IndexStoreError):
    """There is no ragnews index at the given path."""


class IndexExistsError(IndexStoreError):
    """``Index.build`` was asked to create an index where one already is."""


class IndexDamagedError(IndexStoreError):
    """A file of the index's live version is missing, unreadable or not what was written."""


class IndexMismatchError(IndexStoreError):
    """The index was built with another embedding model or an unknown format version."""


class IndexVersionGoneError(IndexStoreError):
    """The version of a Milvus index being searched is gone: writers replaced it since."""


class EmptyCorpusError(RagnewsError):
    """No readable article was given to index."""


class SearchError(RagnewsError, ValueError):
    """A search, filter or deletion that cannot run; also a ``ValueError``.

    Example:
        >>> isinstance(SearchError("unknown retrieval mode 'bm42'"), ValueError)
        True
    """


class ReaderError(RagnewsError):
    """The reader's weights cannot be loaded or used."""
