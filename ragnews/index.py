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
from ragnews.duplicates import Duplicates, DuplicateSettings, distinct, regroup, repeated_rows
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
    live_version,
    read_snapshot,
    write_snapshot,
)
from ragnews.vectors import VectorSettings, all_vectors, build_vectors, describe


@dataclass(frozen=True)
class AddReport:
    """What ``Index.add`` did with each document id.

    ``aliased``: ``(alias, kept)`` pairs for articles now kept only as an alias of a
    near-duplicate (new ones, and known ones that a longer version displaced).
    """

    added: tuple[str, ...]
    replaced: tuple[str, ...]
    unchanged: tuple[str, ...]
    aliased: tuple[tuple[str, str], ...] = ()


class Index:
    """Passages of news articles, their vectors and their provenance, kept under one directory."""

    def __init__(self, path: Path, snapshot: Snapshot, embedder: Embedder | None = None) -> None:
        self.path = path
        self._snapshot = snapshot
        self._embedder = embedder
        self._query_encoder: Embedder | QueryEncoder | None = embedder
        self._repeats: tuple[Snapshot, dict[int, int]] | None = None

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
        duplicates: DuplicateSettings | None = None,
        vectors: VectorSettings | None = None,
    ) -> Index:
        """Create a new index at ``path`` (replacing any index there) from ``documents``.

        ``chunking``, ``lexical`` (BM25 tokenisation and parameters), ``duplicates`` (when
        articles are near-duplicates) and ``vectors`` (the FAISS index type: by default exact
        up to 30,000 passages, then IVF; see ``vectors.py``) hold for the index's whole life:
        later ``add`` and ``delete`` calls reuse them.

        Example:
            >>> Index.build(docs, "indexes/big", vectors=VectorSettings("hnsw"))  # doctest: +SKIP
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
            "duplicates": (duplicates or DuplicateSettings()).to_dict(),
            "vectors": {**(vectors or VectorSettings()).to_dict(), "built": {"type": "flat"}},
            "counts": {"documents": 0, "passages": 0},
            "created": now,
            "updated": now,
        }
        no_terms = Lexical.build([], lexical)
        nothing = np.zeros((0, embedder.dimension), dtype=np.float32)
        no_vectors = build_vectors(nothing, embedder.dimension, VectorSettings())
        empty = Snapshot(manifest, {}, [], {}, no_vectors, no_terms)
        empty.duplicates = Duplicates(duplicates or DuplicateSettings())
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
        """Index new documents, replace those whose id is known with new text, and save.

        An article that near-duplicates another one is kept once: the other becomes its
        alias (see ``aliases``), listed in the report's ``aliased``.
        """
        docs = list(documents)
        added: list[str] = []
        replaced: list[str] = []
        unchanged: list[str] = []
        fresh: list[Document] = []
        with self._writing():
            known_texts = {i: d.text for i, d in self.all_documents.items()}
            for doc in docs:
                known = known_texts.get(doc.id)
                if known == doc.text:
                    unchanged.append(doc.id)
                    continue
                (replaced if known is not None else added).append(doc.id)
                fresh.append(doc)
            aliased = self._save(fresh, drop=set(), progress=progress) if fresh else ()
        return AddReport(tuple(added), tuple(replaced), tuple(unchanged), aliased)

    def delete(self, ids: Iterable[str]) -> tuple[str, ...]:
        """Remove the documents with these ids and save; returns the ids that were indexed.

        Unknown ids are left out of the result, not an error; nothing is saved when no id is
        known. Deleting every document leaves an empty index, which searches return nothing from.
        An alias id is known: it is removed alone. Deleting a kept article promotes one of its
        aliases in its place (the one that would have been kept without it).

        Example:
            >>> index.delete(["harbor-2024-03-01", "no-such-id"])  # doctest: +SKIP
            ('harbor-2024-03-01',)
        """
        wanted = list(dict.fromkeys(ids))
        with self._writing():
            known = self.all_documents
            return self._delete([i for i in wanted if i in known])

    def delete_where(
        self, source: str | None = None, since: str | None = None, until: str | None = None
    ) -> tuple[str, ...]:
        """Remove every document that all the given conditions match (see ``Filters``).

        At least one condition is required; returns the ids removed, aliases included.

        Example:
            >>> index.delete_where(source="Coastal Herald", since="2024-04-01")  # doctest: +SKIP
            ('budget-2024-04-12', 'ferry-2024-07-15')
        """
        filters = Filters(source, since, until)
        if not filters.active:
            raise SearchError("delete_where needs a source, since or until")
        with self._writing():
            docs = self.all_documents.values()
            return self._delete([d.id for d in docs if filters.allows(d)])

    def _delete(self, ids: list[str]) -> tuple[str, ...]:
        if ids:
            self._save([], drop=set(ids), progress=False)
        return tuple(ids)

    def _save(
        self, fresh: list[Document], drop: set[str], progress: bool
    ) -> tuple[tuple[str, str], ...]:
        """Add or replace ``fresh`` articles, remove ``drop``, regroup near-duplicates, and
        write the result as the new live version (inside ``_writing``); returns the new or
        changed ``(alias, kept)`` pairs."""
        snap = self._snapshot
        grouped = regroup(snap.documents, snap.duplicates, fresh, drop)
        snapshot = self._with(grouped.index, drop=grouped.unindex, progress=progress)
        snapshot.duplicates = grouped.duplicates
        snapshot.version = write_snapshot(self.path, snapshot)
        self._snapshot = snapshot
        return grouped.aliased

    def _with(self, fresh: list[Document], drop: set[str], progress: bool) -> Snapshot:
        """A new snapshot: this one without the ``drop`` ids, plus ``fresh`` documents.

        Rows are sorted by ``(doc_id, start)``, and the BM25 matrix and the FAISS index are
        rebuilt from all passages (BM25's statistics span the whole corpus; the FAISS index's
        type and parameters follow its size), so the result is the snapshot that building from
        scratch on the same documents gives.
        """
        from ragnews.quotes import find_quotes

        snap = self._snapshot
        dimension = snap.vectors.d
        keep = [row for row, p in enumerate(snap.passages) if p.doc_id not in drop]
        old_vectors = all_vectors(snap.vectors)
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
        lexical = Lexical.build(
            _lexical_texts(passages, documents, snap.lexical.settings), snap.lexical.settings
        )
        manifest = dict(snap.manifest)
        manifest["counts"] = {"documents": len(documents), "passages": len(passages)}
        manifest["updated"] = _now()
        how = VectorSettings.from_dict(snap.manifest["vectors"])
        index = build_vectors(vectors, dimension, how)
        manifest["vectors"] = {**how.to_dict(), "built": describe(index)}
        return Snapshot(manifest, documents, passages, quotes, index, lexical)

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

    @property
    def all_documents(self) -> dict[str, Document]:
        """Every article the index holds: the kept ones (``documents``) and their aliases."""
        aliases = self._snapshot.duplicates.aliases
        return {**self._snapshot.documents, **{i: a.document for i, a in aliases.items()}}

    def aliases(self, doc_id: str) -> tuple[str, ...]:
        """Ids of the articles kept only as near-duplicates of the article ``doc_id``.

        Example:
            >>> index.aliases("storm-2024-05-20")  # doctest: +SKIP
            ('storm-2024-05-20-wire',)
        """
        return self._snapshot.duplicates.of(doc_id)

    def alias_of(self, doc_id: str) -> str | None:
        """The id of the kept article that ``doc_id`` is an alias of (``None``: not an alias)."""
        alias = self._snapshot.duplicates.aliases.get(doc_id)
        return None if alias is None else alias.of

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
            fusion: How ``hybrid`` fuses: ``score`` (weighted sum of each ranking's scores
                as z-scores) or ``rrf`` (reciprocal rank fusion); see ``ragnews.fusion``.
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
        """``search`` for several questions, embedding them in one batch.

        A passage whose words repeat a better-ranked one's (two articles carrying the same
        wire paragraph) is left out; ``k`` distinct passages come back whenever they exist.
        """
        checked, method = check_mode(mode), check_fusion(fusion)
        filters = Filters(source, since, until)
        if not questions:
            return []
        snap = self._snapshot
        allowed = allowed_rows(snap.passages, snap.documents, filters)
        repeats = self._repeated_rows()
        depth = k + min(k, len(repeats))
        while True:
            rankings = rank(
                snap.vectors,
                snap.lexical,
                questions,
                depth,
                checked,
                self._encode,
                allowed,
                weights,
                method,
            )
            found = [distinct(ranking, repeats, k) for ranking in rankings]
            short = any(
                len(f) < k and len(r) == depth for f, r in zip(found, rankings, strict=True)
            )
            if not short or depth >= k + len(repeats):
                break
            depth = min(2 * depth, k + len(repeats))
        return [[self._hit(row, score) for row, score in ranking] for ranking in found]

    def _repeated_rows(self) -> dict[int, int]:
        """Rows whose passage repeats another row's words (see ``repeated_rows``), cached."""
        if self._repeats is None or self._repeats[0] is not self._snapshot:
            texts = [p.text for p in self._snapshot.passages]
            self._repeats = (self._snapshot, repeated_rows(texts))
        return self._repeats[1]

    def _encode(self, questions: list[str]) -> npt.NDArray[np.float32]:
        return self.query_encoder.encode(questions)  # the encoder loads on first use

    def _hit(self, row: int, score: float) -> Hit:
        passage = self._snapshot.passages[row]
        title = self._snapshot.documents[passage.doc_id].title
        return Hit(passage, score, title, self.aliases(passage.doc_id))


def _lexical_texts(
    passages: list[Passage], documents: dict[str, Document], settings: LexicalSettings
) -> list[str]:
    """What BM25 reads of each passage: its text, after its article's title if ``titles``."""
    if not settings.titles:
        return [p.text for p in passages]
    return [f"{documents[p.doc_id].title}\n{p.text}" for p in passages]


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
