"""An index that lives in Milvus: every version's vectors, BM25 and records in two collections.

``milvus://PATH.db`` is a Milvus Lite file (``milvus:///abs/news.db`` or
``milvus://indexes/news.db``: one index per file, one process at a time);
``milvus://[USER:PASSWORD@]HOST[:PORT][/NAME]`` is a Milvus server or cluster (port 19530 and
name ``ragnews`` by default), which any number of processes on any machines share. An index
named ``NAME`` is the collections whose names start with ``NAME__``:

- ``NAME__live``: one row naming the live version and its two collections;
- ``NAME__<id>``: the version's passages (``MilvusStore``: key, vector, BM25 text, source, day);
- ``NAME__<id>_records``: the version's manifest, articles (text and metadata, passage offsets
  and paragraphs, quotations and speakers, MinHash signature) and aliases, one JSON document
  each, cut into parts a ``VARCHAR`` holds.

A change writes a new version's collections beside the live ones (the unchanged passages'
vectors are copied, never embedded again), has Milvus persist them, then swaps the one
``live`` row, as a folder index swaps ``CURRENT``: a process killed at any point leaves the old
version or the new one live, never a mix, and the collections it left half-written are dropped
by the next change. The version before the live one is kept for readers that still search it.
So every version equals one built from scratch on the same articles, BM25 statistics included.

Example:
    >>> home = MilvusHome.parse("milvus://indexes/news.db")
    >>> home.uri.endswith("indexes/news.db"), home.name
    (True, 'ragnews')
    >>> MilvusHome.parse("milvus://reader:pw@db.example.org/news").describe()
    'milvus://db.example.org:19530/news'
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ragnews.errors import (
    IndexDamagedError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexStoreError,
)
from ragnews.index.lock import file_lock
from ragnews.index.snapshot import Snapshot
from ragnews.ingest.duplicates import Alias, Duplicates, DuplicateSettings
from ragnews.records import Document, Passage, Quote
from ragnews.search.lexical import LexicalSettings
from ragnews.search.milvus_store import PAGE, MilvusStore, connect, create, loaded, pages
from ragnews.search.vectors import VectorSettings

SCHEME = "milvus://"
DEFAULT_NAME = "ragnews"
DEFAULT_PORT = 19530
PART_CHARS = 16_000  # characters of a JSON document per row (UTF-8: at most 64,000 bytes)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,199}")
_LIVE = "live"
REBUILD = "rebuild it into a new milvus:// location (or Index.build(..., overwrite=True))"


@dataclass(frozen=True)
class MilvusHome:
    """Where a Milvus index lives: the Milvus (``uri``: a Lite file or a server's address),
    the index's ``name`` and, for a server, its ``token`` (``user:password``)."""

    uri: str
    name: str = DEFAULT_NAME
    token: str = ""

    @classmethod
    def parse(cls, location: str) -> MilvusHome:
        """The home a ``milvus://`` location names, or an ``IndexStoreError`` saying why not."""
        if not location.startswith(SCHEME):
            raise IndexStoreError(f"{location}: not a milvus:// location")
        rest = location[len(SCHEME) :]
        if rest.split("?")[0].endswith(".db"):
            return cls(str(Path(rest).resolve()))
        parts = urlsplit("//" + rest)
        name = parts.path.strip("/") or DEFAULT_NAME
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError:
            raise IndexStoreError(f"{location}: the port is not a number") from None
        if not parts.hostname:
            raise IndexStoreError(
                f"{location}: name a Milvus Lite file (milvus://path/news.db) "
                "or a server (milvus://host:19530/name)"
            )
        if not _NAME.fullmatch(name):
            raise IndexStoreError(
                f"{location}: index name {name!r}: letters, digits and _ only, "
                "not starting with a digit"
            )
        token = ""
        if parts.username is not None:
            token = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        return cls(f"http://{parts.hostname}:{port}", name, token)

    @property
    def lite(self) -> bool:
        """Whether the index is a Milvus Lite file."""
        return not self.uri.startswith("http://")

    def describe(self) -> str:
        """The location, without a password: ``milvus://host:19530/name``."""
        if self.lite:
            return f"{SCHEME}{self.uri}"
        return f"{SCHEME}{self.uri.removeprefix('http://')}/{self.name}"

    def __str__(self) -> str:
        return self.describe()

    # -- the Home contract (``ragnews.index.homes``) ------------------------------------------

    def exists(self) -> bool:
        if self.lite and not Path(self.uri).exists():
            return False
        return self._pointer() is not None

    def live_version(self) -> str:
        pointer = self._pointer()
        return "" if pointer is None else str(pointer["version"])

    def check_new(self) -> None:
        """An ``IndexStoreError`` when a new index cannot be made here."""
        if self.lite and (Path(self.uri) / "CURRENT").is_file():
            raise IndexStoreError(f"{self}: a folder index, not a Milvus Lite file")
        if self.lite:
            Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
        self._client()

    def new_store(
        self, dimension: int, vectors: VectorSettings, lexical: LexicalSettings
    ) -> MilvusStore:
        """An empty collection for a new index's passages."""
        return MilvusStore(
            dimension,
            self.uri,
            settings=vectors,
            lexical=lexical,
            token=self.token,
            family=self.name,
        )

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """One writer at a time: a lock file beside a Lite file. A server has no lock:
        run one writer (one ``ragnews index`` job) per index."""
        if self.lite:
            with file_lock(Path(f"{self.uri}.lock")):
                yield
        else:
            yield

    def read(self) -> Snapshot:
        pointer = self._pointer() if self.exists() else None
        if pointer is None:
            raise IndexNotFoundError(f"{self}: no ragnews index here")
        documents: dict[str, Document] = {}
        passages: list[Passage] = []
        quotes: dict[str, list[Quote]] = {}
        signatures: dict[str, Any] = {}
        aliases: dict[str, Alias] = {}
        manifest: dict[str, Any] | None = None
        try:
            for kind, key, body in self._records(str(pointer["records"])):
                if kind == "manifest":
                    manifest = body
                elif kind == "article":
                    doc = _document(key, body["document"])
                    documents[key] = doc
                    passages += [
                        Passage(key, s, e, doc.text[s:e], tuple(p)) for s, e, p in body["passages"]
                    ]
                    quotes[key] = [Quote(s, e, speaker) for s, e, speaker in body["quotes"]]
                    signatures[key] = body["minhash"]
                else:
                    aliases[key] = Alias(_document(key, body["document"]), body["of"])
                    signatures[key] = body["minhash"]
        except (KeyError, ValueError, TypeError) as e:
            raise self._damaged(f"records unreadable ({e})") from e
        if manifest is None:
            raise self._damaged("no manifest")
        _check_format(self, manifest)
        passages.sort(key=lambda p: (p.doc_id, p.start, p.end))
        vectors = MilvusStore(
            int(manifest["model"]["dimension"]),
            self.uri,
            str(pointer["passages"]),
            settings=VectorSettings.from_dict(manifest["vectors"]),
            lexical=LexicalSettings(**manifest["lexical"]),
            token=self.token,
            family=self.name,
        )
        counts = manifest["counts"]
        held = (len(documents), len(passages), len(vectors))
        if held != (counts["documents"], counts["passages"], counts["passages"]):
            raise self._damaged(
                f"{held[0]} articles, {held[1]} passages and {held[2]} vectors where the "
                f"manifest counts {counts['documents']} and {counts['passages']}"
            )
        import numpy as np

        settings = DuplicateSettings(**manifest["duplicates"])
        duplicates = Duplicates(
            settings,
            {k: np.asarray(v, dtype=np.uint32) for k, v in signatures.items()},
            aliases,
        )
        return Snapshot(
            manifest,
            documents,
            passages,
            quotes,
            vectors,
            None,
            str(pointer["version"]),
            duplicates,
        )

    def write(self, snapshot: Snapshot) -> str:
        """Write ``snapshot`` (its vectors already in a collection of their own) as the new
        live version; name it."""
        vectors = snapshot.vectors
        assert isinstance(vectors, MilvusStore)
        client = self._client()
        live = self._pointer()
        kept = {vectors.collection}
        if live is not None:
            kept |= {str(live["passages"]), str(live["records"])}
        self._drop_others(keep=kept)  # what a killed change left half-written
        records = f"{vectors.collection}_records"
        _create_records(client, records)
        rows = list(_record_rows(snapshot))
        for start in range(0, len(rows), PAGE):
            client.insert(records, rows[start : start + PAGE])
        client.flush(records)
        vectors.flush()
        number = int(live["version"].split("-")[1]) + 1 if live is not None else 1
        name = f"v-{number:06d}"
        pointer = {"version": name, "passages": vectors.collection, "records": records}
        if not client.has_collection(self._live):
            _create_records(client, self._live)
        client.upsert(self._live, [_row("pointer", _LIVE, 0, json.dumps(pointer))])
        client.flush(self._live)
        if live is not None:  # keep the version before for readers still searching it
            self._drop_others(keep={*kept, records})
        return name

    def remove(self) -> None:
        """Drop every collection of this index (a first build that failed)."""
        self._drop_others(keep=set(), pointer_too=True)

    def size(self) -> int:
        """Bytes on disk, for Milvus Lite (0 for a server: Milvus keeps its own accounts)."""
        if not self.lite:
            return 0
        root = Path(self.uri)
        files = [root] if root.is_file() else [f for f in root.rglob("*") if f.is_file()]
        return sum(f.stat().st_size for f in files)

    # -- inside --------------------------------------------------------------------------------

    @property
    def _live(self) -> str:
        return f"{self.name}__{_LIVE}"

    def _client(self) -> Any:
        return connect(self.uri, self.token)

    def _pointer(self) -> dict[str, Any] | None:
        client = self._client()
        if not client.has_collection(self._live):
            return None
        loaded(client, self._live)
        rows = client.query(self._live, ids=[_pk("pointer", _LIVE, 0)], output_fields=["body"])
        return json.loads(rows[0]["body"]) if rows else None

    def _records(self, collection: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every JSON document of a records collection: ``(kind, key, document)``."""
        client = self._client()
        if not client.has_collection(collection):
            raise self._damaged(f"collection {collection} is missing")
        loaded(client, collection)
        parts: dict[tuple[str, str], dict[int, str]] = {}
        for batch in pages(client, collection, ["pk", "body"]):
            for row in batch:
                kind, key, part = json.loads(base64.urlsafe_b64decode(row["pk"]))
                parts.setdefault((kind, key), {})[int(part)] = row["body"]
        for (kind, key), pieces in sorted(parts.items()):
            if sorted(pieces) != list(range(len(pieces))):
                raise self._damaged(f"{kind} {key!r} has parts missing")
            yield kind, key, json.loads("".join(pieces[i] for i in range(len(pieces))))

    def _drop_others(self, keep: set[str], pointer_too: bool = False) -> None:
        client = self._client()
        for collection in client.list_collections():
            ours = collection.startswith(f"{self.name}__")
            if ours and collection not in keep and (pointer_too or collection != self._live):
                client.drop_collection(collection)

    def _damaged(self, what: str) -> IndexDamagedError:
        return IndexDamagedError(f"{self}: index damaged: {what}; {REBUILD}")


def is_milvus(location: str | Path) -> bool:
    """Whether ``location`` names a Milvus index (``milvus://...``)."""
    return isinstance(location, str) and location.startswith(SCHEME)


def _check_format(home: MilvusHome, manifest: dict[str, Any]) -> None:
    from ragnews.index.store import FORMAT_NAME, FORMAT_VERSION

    if manifest.get("format") != FORMAT_NAME or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{home}: index format {manifest.get('format')!r} version "
            f"{manifest.get('format_version')!r}; this ragnews reads {FORMAT_NAME!r} version "
            f"{FORMAT_VERSION}; {REBUILD}"
        )


def _create_records(client: Any, collection: str) -> None:
    """A collection of JSON documents in parts (Milvus needs a vector field: a 2-d one)."""
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=4096)
    schema.add_field("body", DataType.VARCHAR, max_length=65_535)
    schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index("unused", index_type="FLAT", metric_type="L2")
    create(client, collection, schema, index)


def _record_rows(snapshot: Snapshot) -> Iterator[dict[str, Any]]:
    """The rows of a version's records: its manifest, articles and aliases."""
    by_doc: dict[str, list[list[Any]]] = {}
    for p in snapshot.passages:
        by_doc.setdefault(p.doc_id, []).append([p.start, p.end, list(p.paragraphs)])
    signatures = snapshot.duplicates.signatures
    yield from _parts("manifest", "", snapshot.manifest)
    for doc_id, doc in snapshot.documents.items():
        body = {
            "document": _fields(doc),
            "passages": by_doc.get(doc_id, []),
            "quotes": [[q.start, q.end, q.speaker] for q in snapshot.quotes.get(doc_id, [])],
            "minhash": [int(v) for v in signatures[doc_id]],
        }
        yield from _parts("article", doc_id, body)
    for alias_id, alias in snapshot.duplicates.aliases.items():
        body = {
            "document": _fields(alias.document),
            "of": alias.of,
            "minhash": [int(v) for v in signatures[alias_id]],
        }
        yield from _parts("alias", alias_id, body)


def _parts(kind: str, key: str, body: Any) -> Iterator[dict[str, Any]]:
    text = json.dumps(body, ensure_ascii=False)
    for part, start in enumerate(range(0, max(len(text), 1), PART_CHARS)):
        yield _row(kind, key, part, text[start : start + PART_CHARS])


def _row(kind: str, key: str, part: int, body: str) -> dict[str, Any]:
    return {"pk": _pk(kind, key, part), "body": body, "unused": [0.0, 0.0]}


def _pk(kind: str, key: str, part: int) -> str:
    raw = json.dumps([kind, key, part], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _fields(doc: Document) -> dict[str, Any]:
    return {
        "title": doc.title,
        "text": doc.text,
        "source": doc.source,
        "url": doc.url,
        "published": doc.published,
        "origin": doc.origin,
        "paragraphs": [list(span) for span in doc.paragraph_spans],
    }


def _document(doc_id: str, fields: dict[str, Any]) -> Document:
    spans = tuple((int(s), int(e)) for s, e in fields["paragraphs"])
    return Document(
        doc_id,
        fields["title"],
        fields["text"],
        fields["source"],
        fields["url"],
        fields["published"],
        fields["origin"],
        paragraph_spans=spans,
    )
