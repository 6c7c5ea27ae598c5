"""An index of news articles: build it, open it, extend it, search it.

Example:
    >>> from ragnews import Index, load_documents
    >>> docs = load_documents(["ragnews/data/demo"]).documents
    >>> index = Index.build(docs, "indexes/example")  # doctest: +SKIP
    >>> hit = index.search("Who canceled the delegation?", k=3)[0]  # doctest: +SKIP
    >>> hit.passage.paragraphs, hit.title  # doctest: +SKIP
    ((3,), 'Biden Netanyahu')
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ragnews import __version__
from ragnews.chunking import ChunkSettings, chunk_document
from ragnews.embedding import DEFAULT_MODEL, Embedder, QueryEncoder
from ragnews.errors import EmptyCorpusError, IndexMismatchError
from ragnews.records import Document, Hit, Passage, Quote
from ragnews.store import (
    FORMAT_NAME,
    FORMAT_VERSION,
    Snapshot,
    flat_vectors,
    read_snapshot,
    write_snapshot,
)


@dataclass(frozen=True)
class AddReport:
    """What ``Index.add`` did with each document id."""

    added: tuple[str, ...]
    replaced: tuple[str, ...]
    unchanged: tuple[str, ...]


class Index:
    """Passages of news articles, their vectors and their provenance, kept under one directory."""

    def __init__(self, path: Path, snapshot: Snapshot, embedder: Embedder | None = None) -> None:
        self.path = path
        self._snapshot = snapshot
        self._embedder = embedder
        self._query_encoder: Embedder | QueryEncoder | None = embedder

    # -- life cycle -------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        documents: Iterable[Document],
        path: str | Path,
        model: str = DEFAULT_MODEL,
        chunking: ChunkSettings | None = None,
        embedder: Embedder | None = None,
        progress: bool = False,
    ) -> Index:
        """Create a new index at ``path`` (replacing any index there) from ``documents``."""
        docs = list(documents)
        if not docs:
            raise EmptyCorpusError(f"{path}: no documents to index")
        embedder = embedder or Embedder.load(model)
        now = _now()
        manifest = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "ragnews_version": __version__,
            "model": {"name": embedder.name, "dimension": embedder.dimension},
            "chunking": (chunking or ChunkSettings()).to_dict(),
            "counts": {"documents": 0, "passages": 0},
            "created": now,
            "updated": now,
        }
        empty = Snapshot(manifest, {}, [], {}, flat_vectors(embedder.dimension))
        index = cls(Path(path), empty, embedder)
        index.add(docs, progress=progress)
        return index

    @classmethod
    def open(
        cls, path: str | Path, model: str | None = None, embedder: Embedder | None = None
    ) -> Index:
        """Open the index at ``path``; ``model``, when given, must be the one it was built with.

        ``embedder`` passes an already loaded model (it must be the index's model).
        """
        snapshot = read_snapshot(Path(path))
        built_with = snapshot.manifest["model"]["name"]
        if model is not None and model != built_with:
            raise IndexMismatchError(
                f"{path}: built with embedding model {built_with!r}, not {model!r}; "
                "rebuild it or open it without a model"
            )
        if embedder is not None and embedder.name != built_with:
            raise IndexMismatchError(f"{path}: built with {built_with!r}, not {embedder.name!r}")
        return cls(Path(path), snapshot, embedder)

    def add(self, documents: Iterable[Document], progress: bool = False) -> AddReport:
        """Index new documents, replace those whose id is known with new text, and save."""
        snap = self._snapshot
        added: list[str] = []
        replaced: list[str] = []
        unchanged: list[str] = []
        fresh: list[Document] = []
        for doc in documents:
            known = snap.documents.get(doc.id)
            if known is not None and known.text == doc.text:
                unchanged.append(doc.id)
                continue
            (replaced if known is not None else added).append(doc.id)
            fresh.append(doc)
        if fresh:
            with self._write_lock():
                self._snapshot = self._with(fresh, drop={d.id for d in fresh}, progress=progress)
                write_snapshot(self.path, self._snapshot)
        return AddReport(tuple(added), tuple(replaced), tuple(unchanged))

    def _with(self, fresh: list[Document], drop: set[str], progress: bool) -> Snapshot:
        """A new snapshot: this one without the ``drop`` ids, plus ``fresh`` documents."""
        from ragnews.quotes import find_quotes

        snap = self._snapshot
        keep = [row for row, p in enumerate(snap.passages) if p.doc_id not in drop]
        old_vectors = (
            snap.vectors.reconstruct_n(0, snap.vectors.ntotal)
            if snap.vectors.ntotal
            else np.zeros((0, snap.vectors.d), dtype=np.float32)
        )
        settings = ChunkSettings(**snap.manifest["chunking"])
        embedder = self.embedder
        new_passages = [p for doc in fresh for p in chunk_document(doc, settings, embedder.fits)]
        new_vectors = embedder.encode([p.text for p in new_passages], progress=progress)
        documents = {k: d for k, d in snap.documents.items() if k not in drop}
        documents.update({d.id: d for d in fresh})
        quotes = {k: q for k, q in snap.quotes.items() if k not in drop}
        quotes.update({d.id: find_quotes(d.text) for d in fresh})
        passages = [snap.passages[row] for row in keep] + new_passages
        vectors = np.concatenate([old_vectors[keep], new_vectors]).astype(np.float32)
        manifest = dict(snap.manifest)
        manifest["counts"] = {"documents": len(documents), "passages": len(passages)}
        manifest["updated"] = _now()
        return Snapshot(
            manifest, documents, passages, quotes, flat_vectors(snap.vectors.d, vectors)
        )

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        """One writer at a time per index directory (readers never wait)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / "LOCK", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- contents ---------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The index's embedding model, loaded on first use."""
        if self._embedder is None:
            self._embedder = Embedder.load(self.model)
        return self._embedder

    @property
    def query_encoder(self) -> Embedder | QueryEncoder:
        """What embeds questions: the light ``QueryEncoder`` when the model allows it."""
        if self._query_encoder is None:
            self._query_encoder = QueryEncoder.load(self.model) or self.embedder
        return self._query_encoder

    @property
    def model(self) -> str:
        return str(self._snapshot.manifest["model"]["name"])

    @property
    def manifest(self) -> dict[str, object]:
        return dict(self._snapshot.manifest)

    @property
    def documents(self) -> dict[str, Document]:
        return self._snapshot.documents

    @property
    def passages(self) -> list[Passage]:
        return self._snapshot.passages

    def quotes(self, doc_id: str) -> list[Quote]:
        """The quotations found in one document, in text order."""
        return self._snapshot.quotes.get(doc_id, [])

    def __len__(self) -> int:
        return len(self._snapshot.passages)

    # -- retrieval --------------------------------------------------------------------------

    def search(self, question: str, k: int = 5) -> list[Hit]:
        """The ``k`` passages closest to ``question``, best first."""
        return self.search_many([question], k)[0]

    def search_many(self, questions: Sequence[str], k: int = 5) -> list[list[Hit]]:
        """``search`` for several questions, embedding them in one batch."""
        if not questions:
            return []
        vectors = self.query_encoder.encode(list(questions))
        scores, rows = self._snapshot.vectors.search(vectors, min(k, len(self)))
        return [
            [self._hit(int(row), float(score)) for score, row in zip(s, r, strict=True) if row >= 0]
            for s, r in zip(scores, rows, strict=True)
        ]

    def _hit(self, row: int, score: float) -> Hit:
        passage = self._snapshot.passages[row]
        return Hit(passage, score, self._snapshot.documents[passage.doc_id].title)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
