"""An index of news articles: build it, open it, extend it, search it.

Example:
    >>> from ragnews import Filters, Index, SearchOptions, load_documents
    >>> docs = load_documents(["ragnews/data/demo"]).documents
    >>> index = Index.build(docs, "indexes/example")  # doctest: +SKIP
    >>> hit = index.search("Who canceled the delegation?", k=3)[0]  # doctest: +SKIP
    >>> hit.passage.paragraphs, hit.title  # doctest: +SKIP
    ((3,), 'Biden Netanyahu')
    >>> recent = SearchOptions(filters=Filters(since="2024-05-01"))
    >>> hits = index.search("power cut", 5, recent)  # doctest: +SKIP
    >>> index.delete_where(source="Valley Times", until="2024-05-31")  # doctest: +SKIP
    ('storm-2024-05-20',)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ragnews._version import __version__
from ragnews.errors import (
    EmptyCorpusError,
    IndexExistsError,
    IndexMismatchError,
    IndexStoreError,
    IndexVersionGoneError,
    SearchError,
)
from ragnews.index.homes import Folder, Location, home_of
from ragnews.index.progress import ConsoleProgress, Report, silent
from ragnews.index.snapshot import Snapshot, empty_snapshot, now, updated
from ragnews.index.store import FORMAT_NAME, FORMAT_VERSION
from ragnews.ingest.chunking import ChunkSettings
from ragnews.ingest.duplicates import DuplicateSettings, regroup
from ragnews.records import Document, Hit, Passage, Quote
from ragnews.search.backend import Scored
from ragnews.search.dedup import distinct, spread
from ragnews.search.embedding import DEFAULT_MODEL, Embedder, QueryEncoder
from ragnews.search.filters import Filters
from ragnews.search.lexical import LexicalSettings
from ragnews.search.milvus_store import MilvusStore
from ragnews.search.options import Kind, SearchOptions, check_k, check_question
from ragnews.search.ranking import (
    Ranking,
    TermSearch,
    allowed_rows,
    hybrid_depth,
    lexical_ranking,
    prefer_dated,
    rank,
)
from ragnews.search.vectors import VectorSettings


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
    """Passages of news articles, their vectors and their provenance, kept in one folder or in
    Milvus (a ``milvus://`` location: see ``ragnews.index.milvus``)."""

    def __init__(
        self, location: Location, snapshot: Snapshot, embedder: Embedder | None = None
    ) -> None:
        self.home = home_of(location)
        self._snapshot = snapshot
        self._embedder = embedder
        self._query_encoder: Embedder | QueryEncoder | None = embedder

    @property
    def location(self) -> str:
        """Where the index lives: its folder, or its ``milvus://`` location (no password)."""
        return str(self.home)

    @property
    def path(self) -> Path:
        """The folder of an index kept in a folder."""
        if not isinstance(self.home, Folder):
            raise IndexStoreError(f"{self.home}: a Milvus index has no folder")
        return self.home.path

    @staticmethod
    def exists(location: Location) -> bool:
        """Whether an index is at ``location``.

        Example:
            >>> Index.exists("indexes/no-such-index")
            False
        """
        home = home_of(location)
        return home.exists()

    # -- life cycle -------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        documents: Iterable[Document],
        path: Location,
        model: str = DEFAULT_MODEL,
        chunking: ChunkSettings | None = None,
        embedder: Embedder | None = None,
        progress: bool | Report = False,
        lexical: LexicalSettings | None = None,
        duplicates: DuplicateSettings | None = None,
        vectors: VectorSettings | None = None,
        overwrite: bool = False,
    ) -> Index:
        """Create a new index at ``path`` (a folder, or ``milvus://...``) from ``documents``.

        An index already at ``path`` is an ``IndexExistsError`` unless ``overwrite`` (then
        the new index replaces it; to add articles, use ``Index.open(path).add``). A first
        build that fails or is interrupted leaves no folder behind.

        ``chunking``, ``lexical`` (BM25 tokenisation and parameters), ``duplicates`` (when
        articles are near-duplicates) and ``vectors`` (the FAISS index type: by default exact
        up to 30,000 passages, then IVF; see ``vectors.py``) hold for the index's whole life:
        later ``add`` and ``delete`` calls reuse them.

        Example:
            >>> Index.build(docs, "indexes/big", vectors=VectorSettings("hnsw"))  # doctest: +SKIP
        """
        docs = list(documents)
        home = home_of(path)
        if not docs:
            raise EmptyCorpusError(f"{home}: no documents to index")
        home.check_new()
        first = not (home.path.exists() if isinstance(home, Folder) else home.exists())
        if not first and home.exists() and not overwrite:
            raise IndexExistsError(
                f"{home}: an index is already here; add to it with `ragnews index` "
                "(Index.open(path).add), or pass overwrite=True to replace it"
            )
        embedder = embedder or Embedder.load(model)
        lexical_settings = lexical or LexicalSettings()
        vector_settings = vectors or VectorSettings()
        created = now()
        manifest = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "ragnews_version": __version__,
            "model": {"name": embedder.name, "dimension": embedder.dimension},
            "chunking": (chunking or ChunkSettings()).to_dict(),
            "lexical": lexical_settings.to_dict(),
            "duplicates": (duplicates or DuplicateSettings()).to_dict(),
            "vectors": {**vector_settings.to_dict(), "built": {"type": "flat"}},
            "counts": {"documents": 0, "passages": 0},
            "created": created,
            "updated": created,
        }
        store = home.new_store(embedder.dimension, vector_settings, lexical_settings)
        empty = empty_snapshot(
            manifest, embedder.dimension, lexical_settings, duplicates, vector_settings, store
        )
        index = cls(home, empty, embedder)
        try:
            index.add(docs, progress=progress)
        except BaseException:
            if first and not home.exists():  # nothing was written: leave nothing behind
                home.remove()
            raise
        return index

    @classmethod
    def open(
        cls,
        path: Location,
        model: str | None = None,
        embedder: Embedder | None = None,
        *,
        max_tokens: int | None = None,
        overlap: int | None = None,
        min_tokens: int | None = None,
        vectors: Kind | None = None,
    ) -> Index:
        """Open the index at ``path`` (a folder, or ``milvus://...``).

        ``model``, the chunking sizes and ``vectors``, when given, must be what the
        index was built with (an ``IndexMismatchError`` says to rebuild it otherwise).
        ``embedder`` passes an already loaded model (it must be the index's model).

        Example:
            >>> Index.open("indexes/demo", max_tokens=120)  # doctest: +SKIP
            Traceback (most recent call last):
            ...
            ragnews.errors.IndexMismatchError: indexes/demo: built with --max-tokens 200, ...
        """
        home = home_of(path)
        path = str(home)
        snapshot = home.read()
        built_with = snapshot.manifest["model"]["name"]
        if model is not None and model != built_with:
            raise IndexMismatchError(
                f"{path}: built with embedding model {built_with!r}, not {model!r}; "
                "rebuild it or open it without a model"
            )
        if embedder is not None and embedder.name != built_with:
            raise IndexMismatchError(f"{path}: built with {built_with!r}, not {embedder.name!r}")
        kept = snapshot.vectors.settings.kind
        if vectors is not None and vectors != kept:
            raise IndexMismatchError(
                f"{path}: built with --vectors {kept}, not {vectors}; "
                "rebuild it to change the vector index"
            )
        asked_sizes = (("max_tokens", max_tokens), ("overlap", overlap), ("min_tokens", min_tokens))
        for name, asked in asked_sizes:
            built = snapshot.manifest["chunking"][name]
            if asked is not None and asked != built:
                raise IndexMismatchError(
                    f"{path}: built with --{name.replace('_', '-')} {built}, not {asked}; "
                    "rebuild it to change how articles are split"
                )
        return cls(home, snapshot, embedder)

    def add(self, documents: Iterable[Document], progress: bool | Report = False) -> AddReport:
        """Index new documents, replace those whose id is known with new text, and save.

        ``progress``: True shows each long step on stderr (``ConsoleProgress``); a ``Report``
        hears them instead.

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
            with _reporting(progress) as report:
                aliased = self._save(fresh, drop=set(), report=report) if fresh else ()
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
            self._save([], drop=set(ids))
        return tuple(ids)

    def _save(
        self, fresh: list[Document], drop: set[str], report: Report = silent
    ) -> tuple[tuple[str, str], ...]:
        """Add or replace ``fresh`` articles, remove ``drop``, regroup near-duplicates, and
        write the result as the new live version (inside ``_writing``); returns the new or
        changed ``(alias, kept)`` pairs."""
        snap = self._snapshot
        grouped = regroup(snap.documents, snap.duplicates, fresh, drop)
        snapshot = updated(snap, grouped.index, grouped.unindex, lambda: self.embedder, report)
        snapshot.duplicates = grouped.duplicates
        report("saving", 0, 1)
        snapshot.version = self.home.write(snapshot)
        report("saving", 1, 1)
        self._snapshot = snapshot
        return grouped.aliased

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer at a time (``writer_lock``); inside, the snapshot is the live one: when
        another writer saved since this index was opened, its version is read first, so no
        writer's change is lost."""
        with self.home.lock():
            live = self.home.live_version()
            if self._snapshot.version and live != self._snapshot.version:
                self._snapshot = self.home.read()
            yield

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
    def manifest(self) -> dict[str, Any]:
        return dict(self._snapshot.manifest)

    @property
    def version(self) -> str:
        """The name of the version folder this index reads (``v-000003``)."""
        return self._snapshot.version

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

    def search(self, question: str, k: int = 5, options: SearchOptions | None = None) -> list[Hit]:
        """The ``k`` passages that best answer ``question``, best first.

        ``options`` (see ``SearchOptions``) choose the ranking (``dense``, ``bm25`` or
        ``hybrid``, whose ``Hit.score`` is the fused score) and the filters, applied inside the
        search: ``k`` passages come back whenever ``k`` such passages exist.

        Example:
            >>> index.search("power cut", 3, SearchOptions("bm25"))  # doctest: +SKIP
        """
        return self.search_many([question], k, options)[0]

    def search_many(
        self, questions: Sequence[str], k: int = 5, options: SearchOptions | None = None
    ) -> list[list[Hit]]:
        """``search`` for several questions, embedding them in one batch.

        A passage whose words repeat a better-ranked one's (two articles carrying the same
        wire paragraph) is left out; ``k`` distinct passages come back whenever they exist.
        """
        options = options or SearchOptions()
        check_k(k)
        for question in questions:
            check_question(question)
        if not questions:
            return []
        try:
            return self._search_many(questions, k, options)
        except IndexVersionGoneError:  # a Milvus index changed twice since: read the live one
            self._snapshot = self.home.read()
            return self._search_many(questions, k, options)

    def _search_many(
        self, questions: Sequence[str], k: int, options: SearchOptions
    ) -> list[list[Hit]]:
        snap = self._snapshot
        repeats = snap.repeats
        depth = k + min(k, len(repeats))
        article_of = (lambda row: snap.passages[row].doc_id) if options.spread else None

        def dense(queries: npt.NDArray[np.float32], deep: int) -> list[Ranking]:
            found = snap.vectors.search(queries, deep, options.filters)
            return [_rows(snap, ranking) for ranking in found]

        terms = _term_search(snap, options.filters)
        while True:
            # the date re-orders a deeper list than the k shown, then spreads it
            asked = depth if options.around is None else max(depth, hybrid_depth(k))
            if options.around is None:
                rankings = rank(questions, asked, options, self._encode, dense, terms, article_of)
            else:
                rankings = rank(questions, asked, options, self._encode, dense, terms)
                rankings = [_dated(snap, r, options.around) for r in rankings]
                if article_of is not None:
                    rankings = [spread(r, article_of, len(r)) for r in rankings]
            found = [distinct(ranking, repeats, k) for ranking in rankings]
            # a list as long as was asked for may hold more: deepen when repeats left it short
            short = any(
                len(f) < k and len(r) == asked for f, r in zip(found, rankings, strict=True)
            )
            if not short or depth >= k + len(repeats):
                break
            depth = min(2 * depth, k + len(repeats))
        return [[_hit(snap, row, score) for row, score in ranking] for ranking in found]

    def _encode(self, questions: list[str]) -> npt.NDArray[np.float32]:
        # One at a time: in a batch, padding changes a vector's last bits, and a question
        # must score the same asked alone, in a batch or through the server.
        encoder = self.query_encoder  # loads on first use
        return np.concatenate([encoder.encode([q]) for q in questions])

    def pinned(self) -> Index:
        """This index as it is now, for reading only: what another writer saves later does not
        change it, so a question's search, reading and attribution see one version.

        Example:
            >>> view = index.pinned()  # doctest: +SKIP
            >>> hit = view.search("power cut")[0]  # doctest: +SKIP
            >>> view.documents[hit.passage.doc_id].title  # doctest: +SKIP
        """
        view = Index(self.home, self._snapshot, self._embedder)
        view._query_encoder = self.query_encoder  # loaded once, by this index, and shared
        return view


def _rows(snap: Snapshot, found: Scored) -> Ranking:
    """Scored keys as rows of the snapshot (keys it does not hold are left out)."""
    rows = snap.rows
    return [(rows[key], score) for key, score in found if key in rows]


def _term_search(snap: Snapshot, filters: Filters) -> TermSearch:
    """BM25 over the snapshot's passages, filtered: ragnews's own, or the vector store's."""
    lexical, vectors = snap.lexical, snap.vectors
    if lexical is not None:
        allowed = allowed_rows(snap.passages, snap.documents, filters)
        return lambda question, k: lexical_ranking(lexical, question, k, allowed)
    assert isinstance(vectors, MilvusStore)
    return lambda question, k: _rows(snap, vectors.search_text([question], k, filters)[0])


def _dated(snap: Snapshot, ranking: Ranking, around: str) -> Ranking:
    dates = [snap.documents[snap.passages[row].doc_id].published for row, _ in ranking]
    return prefer_dated(ranking, dates, around)


def _hit(snap: Snapshot, row: int, score: float) -> Hit:
    passage = snap.passages[row]
    doc = snap.documents[passage.doc_id]
    aliases = snap.duplicates.of(passage.doc_id)
    return Hit(passage, score, doc.title, aliases, doc.source, doc.published, doc.url)


@contextlib.contextmanager
def _reporting(progress: bool | Report) -> Iterator[Report]:
    """The report ``progress`` asks for: none, the console's (stopped at the end), or its own."""
    if progress is True:
        with ConsoleProgress() as console:
            yield console
    elif progress is False:
        yield silent
    else:
        yield progress
