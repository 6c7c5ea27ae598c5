"""An index of news articles: build it, open it, extend it, search it.

Example:
    >>> from ragnews import Index, load_documents
    >>> docs = load_documents(["ragnews/data/demo"]).documents
    >>> index = Index.build(docs, "indexes/example")  # doctest: +SKIP
    >>> hit = index.search("Who canceled the delegation?", k=3)[0]  # doctest: +SKIP
    >>> hit.passage.paragraphs, hit.title  # doctest: +SKIP
    ((3,), 'Biden Netanyahu')
    >>> hits = index.search("power cut", mode="hybrid", since="2024-05-01")  # doctest: +SKIP
    >>> index.delete_where(source="Valley Times", until="2024-05-31")  # doctest: +SKIP
    ('storm-2024-05-20',)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ragnews import __version__
from ragnews.chunking import ChunkSettings, chunk_document
from ragnews.embedding import DEFAULT_MODEL, Embedder, QueryEncoder
from ragnews.errors import EmptyCorpusError, IndexMismatchError, SearchError
from ragnews.filters import Filters
from ragnews.lexical import Lexical, LexicalSettings
from ragnews.records import Document, Hit, Passage, Quote
from ragnews.retrieval import (
    DEFAULT_MODE,
    DEFAULT_WEIGHTS,
    allowed_rows,
    check_fusion,
    check_mode,
    rank,
)
from ragnews.store import (
    FORMAT_NAME,
    FORMAT_VERSION,
    Snapshot,
    flat_vectors,
    live_version,
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
        lexical: LexicalSettings | None = None,
    ) -> Index:
        """Create a new index at ``path`` (replacing any index there) from ``documents``.

        ``chunking`` and ``lexical`` (BM25 tokenisation and parameters) hold for the index's
        whole life: later ``add`` calls reuse them.
        """
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
            "lexical": (lexical or LexicalSettings()).to_dict(),
            "counts": {"documents": 0, "passages": 0},
            "created": now,
            "updated": now,
        }
        no_terms = Lexical.build([], lexical)
        empty = Snapshot(manifest, {}, [], {}, flat_vectors(embedder.dimension), no_terms)
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
        docs = list(documents)
        added: list[str] = []
        replaced: list[str] = []
        unchanged: list[str] = []
        fresh: list[Document] = []
        with self._writing():
            for doc in docs:
                known = self._snapshot.documents.get(doc.id)
                if known is not None and known.text == doc.text:
                    unchanged.append(doc.id)
                    continue
                (replaced if known is not None else added).append(doc.id)
                fresh.append(doc)
            if fresh:
                self._save(fresh, drop={d.id for d in fresh}, progress=progress)
        return AddReport(tuple(added), tuple(replaced), tuple(unchanged))

    def delete(self, ids: Iterable[str]) -> tuple[str, ...]:
        """Remove the documents with these ids and save; returns the ids that were indexed.

        Unknown ids are left out of the result, not an error; nothing is saved when no id is
        known. Deleting every document leaves an empty index, which searches return nothing from.

        Example:
            >>> index.delete(["harbor-2024-03-01", "no-such-id"])  # doctest: +SKIP
            ('harbor-2024-03-01',)
        """
        wanted = list(dict.fromkeys(ids))
        with self._writing():
            return self._delete([i for i in wanted if i in self._snapshot.documents])

    def delete_where(
        self, source: str | None = None, since: str | None = None, until: str | None = None
    ) -> tuple[str, ...]:
        """Remove every document that all the given conditions match (see ``Filters``).

        At least one condition is required; returns the ids removed.

        Example:
            >>> index.delete_where(source="Coastal Herald", since="2024-04-01")  # doctest: +SKIP
            ('budget-2024-04-12', 'ferry-2024-07-15')
        """
        filters = Filters(source, since, until)
        if not filters.active:
            raise SearchError("delete_where needs a source, since or until")
        with self._writing():
            docs = self._snapshot.documents.values()
            return self._delete([d.id for d in docs if filters.allows(d)])

    def _delete(self, ids: list[str]) -> tuple[str, ...]:
        if ids:
            self._save([], drop=set(ids), progress=False)
        return tuple(ids)

    def _save(self, fresh: list[Document], drop: set[str], progress: bool) -> None:
        """Apply a change and write it as the new live version (inside ``_writing``)."""
        self._snapshot = self._with(fresh, drop=drop, progress=progress)
        self._snapshot.version = write_snapshot(self.path, self._snapshot)

    def _with(self, fresh: list[Document], drop: set[str], progress: bool) -> Snapshot:
        """A new snapshot: this one without the ``drop`` ids, plus ``fresh`` documents.

        Rows are sorted by ``(doc_id, start)`` and the BM25 matrix is rebuilt from all
        passages (its statistics span the whole corpus), so the result is the snapshot that
        building from scratch on the same documents gives.
        """
        from ragnews.quotes import find_quotes

        snap = self._snapshot
        dimension = snap.vectors.d
        keep = [row for row, p in enumerate(snap.passages) if p.doc_id not in drop]
        old_vectors = (
            snap.vectors.reconstruct_n(0, snap.vectors.ntotal)
            if snap.vectors.ntotal
            else np.zeros((0, dimension), dtype=np.float32)
        )
        new_passages: list[Passage] = []
        new_vectors = np.zeros((0, dimension), dtype=np.float32)
        if fresh:  # the embedding model loads only when there is something to embed
            settings = ChunkSettings(**snap.manifest["chunking"])
            embedder = self.embedder
            new_passages = _chunk(fresh, settings, embedder)
            new_vectors = embedder.encode([p.text for p in new_passages], progress=progress)
        documents = {k: d for k, d in snap.documents.items() if k not in drop}
        documents.update({d.id: d for d in fresh})
        quotes = {k: q for k, q in snap.quotes.items() if k not in drop}
        quotes.update({d.id: find_quotes(d.text) for d in fresh})
        passages = [snap.passages[row] for row in keep] + new_passages
        order = sorted(range(len(passages)), key=lambda i: _row_key(passages[i]))
        passages = [passages[i] for i in order]
        vectors = np.concatenate([old_vectors[keep], new_vectors])[order].astype(np.float32)
        lexical = Lexical.build([p.text for p in passages], snap.lexical.settings)
        manifest = dict(snap.manifest)
        manifest["counts"] = {"documents": len(documents), "passages": len(passages)}
        manifest["updated"] = _now()
        return Snapshot(
            manifest, documents, passages, quotes, flat_vectors(dimension, vectors), lexical
        )

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer at a time per index directory (readers never wait).

        Inside, the snapshot is the live one: when another writer saved since this index was
        opened, its version is read first, so no writer's change is lost.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / "LOCK", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                live = live_version(self.path)
                if self._snapshot.version and live != self._snapshot.version:
                    self._snapshot = read_snapshot(self.path)
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

    def search(
        self,
        question: str,
        k: int = 5,
        mode: str = DEFAULT_MODE,
        *,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        weights: tuple[float, float] = DEFAULT_WEIGHTS,
        fusion: str = "score",
    ) -> list[Hit]:
        """The ``k`` passages that best answer ``question``, best first.

        Args:
            mode: ``dense`` (embedding similarity), ``bm25`` (shared terms; only passages
                that share one) or ``hybrid`` (both fused; ``Hit.score`` is then the fused
                score).
            source, since, until: Only passages of articles these match (see ``Filters``),
                applied inside the search: ``k`` come back whenever ``k`` such passages exist.
            weights: The dense and BM25 rankings' weights in ``hybrid`` mode.
            fusion: How ``hybrid`` fuses: ``score`` (weighted sum of each ranking's min-max
                normalised scores) or ``rrf`` (reciprocal rank fusion); see ``ragnews.fusion``.
        """
        return self.search_many(
            [question],
            k,
            mode,
            source=source,
            since=since,
            until=until,
            weights=weights,
            fusion=fusion,
        )[0]

    def search_many(
        self,
        questions: Sequence[str],
        k: int = 5,
        mode: str = DEFAULT_MODE,
        *,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        weights: tuple[float, float] = DEFAULT_WEIGHTS,
        fusion: str = "score",
    ) -> list[list[Hit]]:
        """``search`` for several questions, embedding them in one batch."""
        checked, method = check_mode(mode), check_fusion(fusion)
        filters = Filters(source, since, until)
        if not questions:
            return []
        snap = self._snapshot
        allowed = allowed_rows(snap.passages, snap.documents, filters)
        rankings = rank(
            snap.vectors,
            snap.lexical,
            questions,
            k,
            checked,
            self._encode,
            allowed,
            weights,
            method,
        )
        return [[self._hit(row, score) for row, score in ranking] for ranking in rankings]

    def _encode(self, questions: list[str]) -> npt.NDArray[np.float32]:
        return self.query_encoder.encode(questions)  # the encoder loads on first use

    def _hit(self, row: int, score: float) -> Hit:
        passage = self._snapshot.passages[row]
        return Hit(passage, score, self._snapshot.documents[passage.doc_id].title)


def _row_key(passage: Passage) -> tuple[str, int, int]:
    return passage.doc_id, passage.start, passage.end


def _chunk(documents: list[Document], settings: ChunkSettings, embedder: Embedder) -> list[Passage]:
    """Passages of ``documents`` that all fit the embedding model.

    Token-sized passages almost always fit, so they are checked in one batch and only a
    document with a passage too long for the model is cut again, checking every piece.
    """
    passages = [p for d in documents for p in chunk_document(d, settings)]
    fitting = embedder.fits_many([p.text for p in passages])
    redo = {p.doc_id for p, ok in zip(passages, fitting, strict=True) if not ok}
    if not redo:
        return passages
    by_doc: dict[str, list[Passage]] = {}
    for passage in passages:
        by_doc.setdefault(passage.doc_id, []).append(passage)
    for doc in documents:
        if doc.id in redo:
            by_doc[doc.id] = chunk_document(doc, settings, embedder.fits)
    return [p for d in documents for p in by_doc.get(d.id, [])]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
