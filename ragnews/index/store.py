"""The on-disk layout of an index, and how it is written so that a crash loses nothing.

An index is a directory::

    indexes/NAME/
        CURRENT              name of the live version, replaced atomically (os.replace)
        v-000002/            one complete version
            manifest.json    format and ragnews versions, model, chunking, BM25 and vector
                             index settings, counts, times, and every other file's sha256
            vectors.faiss    FAISS's own format: flat, IVF or HNSW by size (see ``vectors.py``)
            vectors.json     each vector's passage key and its article's source and date
            records.sqlite   documents, passages, quotes and aliases (no pickle anywhere)
            bm25.*           the passages' BM25 matrix, .npy + JSON (see ``lexical.py``)
            minhash.npy      every article's MinHash, kept or alias (see ``duplicates.py``)

Passage rows are in ``(doc_id, start)`` order: row ``i`` of the vectors and of the BM25
matrix is passage ``i``.

A save writes a new version beside the live one, syncs it to disk, then swaps ``CURRENT``.
A process killed at any point leaves either the old or the new version live, never a mix;
readers that opened the old version keep reading it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ragnews.errors import (
    IndexDamagedError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexStoreError,
)
from ragnews.index.snapshot import Snapshot
from ragnews.ingest.duplicates import Alias, Duplicates, DuplicateSettings
from ragnews.records import Document, Passage, Quote
from ragnews.search.lexical import Lexical, LexicalSettings
from ragnews.search.vector_store import FaissStore

# 3: IVF/HNSW vector indexes; aliases of near-duplicate articles
# 4: vectors.json: the vector backend's passage keys and filter fields beside vectors.faiss
# and every file's sha256 in the manifest, checked on open
# 5: passages pack short paragraphs (chunking.min_tokens) and are embedded after their
# article's title (chunking.context)
FORMAT_VERSION = 5
FORMAT_NAME = "ragnews-index"
MANIFEST = "manifest.json"


def is_index(path: Path) -> bool:
    return (path / "CURRENT").is_file()


def live_version(path: Path) -> str:
    """The name of the live version directory ('' when there is no index at ``path``)."""
    return (path / "CURRENT").read_text(encoding="utf-8").strip() if is_index(path) else ""


def read_snapshot(path: Path) -> Snapshot:
    """Load the live version of the index at ``path``.

    Every file is checked against the checksum its manifest records, so a damaged index is an
    ``IndexDamagedError`` that names the file, never a wrong answer.
    """
    if not is_index(path):
        raise IndexNotFoundError(_missing(path))
    version = path / (path / "CURRENT").read_text(encoding="utf-8").strip()
    try:
        manifest = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _damaged(path, f"{version.name}/{MANIFEST} unreadable ({e})") from e
    if manifest.get("format") != FORMAT_NAME or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{path}: index format {manifest.get('format')!r} version "
            f"{manifest.get('format_version')!r}; this ragnews reads {FORMAT_NAME!r} version "
            f"{FORMAT_VERSION}; rebuild it: remove {path} and run `ragnews index` again"
        )
    _check_files(path, version, manifest)
    try:
        return _read_version(version, manifest)
    except (OSError, sqlite3.Error, KeyError, ValueError, RuntimeError) as e:
        raise _damaged(path, f"{version.name} unreadable ({e})") from e


def _read_version(version: Path, manifest: dict[str, Any]) -> Snapshot:
    vectors = FaissStore.load(version)
    documents, passages, quotes = _read_records(version / "records.sqlite")
    aliases = _read_aliases(version / "records.sqlite")
    duplicates = Duplicates.load(
        version,
        DuplicateSettings(**manifest["duplicates"]),
        [*documents, *aliases],
        aliases,
    )
    if len(vectors) != len(passages):
        raise ValueError(f"{len(vectors)} vectors for {len(passages)} passages")
    settings = LexicalSettings(**manifest["lexical"])
    lexical = Lexical.load(version, settings, len(passages))
    return Snapshot(
        manifest, documents, passages, quotes, vectors, lexical, version.name, duplicates
    )


def _check_files(path: Path, version: Path, manifest: dict[str, Any]) -> None:
    """Each file the manifest lists has the checksum it records."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise _damaged(path, f"{version.name}/{MANIFEST} lists no files")
    for name, digest in sorted(files.items()):
        try:
            actual = _sha256(version / name)
        except OSError as e:
            raise _damaged(path, f"{version.name}/{name} missing ({e.strerror})") from e
        if actual != digest:
            raise _damaged(path, f"{version.name}/{name} does not match its checksum")


def _damaged(path: Path, what: str) -> IndexDamagedError:
    return IndexDamagedError(
        f"{path}: index damaged: {what}; rebuild it: remove {path} and run `ragnews index` again"
    )


def _missing(path: Path) -> str:
    """Why there is no index at ``path``, in words that say what to do."""
    if path.exists() and not path.is_dir():
        return f"{path}: a file, not an index directory"
    if path.is_dir() and not any(c.name.startswith("v-") and c.is_dir() for c in path.iterdir()):
        if any(path.iterdir()):
            return (
                f"{path}: no index was ever written here (a first build was interrupted?); "
                "run `ragnews index` to build it"
            )
    return f"{path}: no ragnews index here (no CURRENT file)"


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write_snapshot(path: Path, snapshot: Snapshot) -> str:
    """Write ``snapshot`` as a new version of the index at ``path``, make it live, name it."""
    path.mkdir(parents=True, exist_ok=True)
    live = live_version(path) or "v-000000"
    _remove_unfinished(path, live)
    name = f"v-{int(live.split('-')[1]) + 1:06d}"
    if not isinstance(snapshot.vectors, FaissStore) or snapshot.lexical is None:
        raise IndexStoreError(f"{path}: a folder holds FAISS vectors and ragnews's BM25 only")
    tmp = path / f"{name}.tmp"
    tmp.mkdir()
    snapshot.vectors.save(tmp)
    _write_records(tmp / "records.sqlite", snapshot)
    snapshot.lexical.save(tmp)
    snapshot.duplicates.save(tmp)
    files = {child.name: _sha256(child) for child in sorted(tmp.iterdir())}
    manifest = {**snapshot.manifest, "files": files}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    for child in tmp.iterdir():
        _fsync(child)
    _fsync(tmp)
    tmp.rename(path / name)
    pointer = path / "CURRENT.tmp"
    pointer.write_text(name + "\n")
    _fsync(pointer)
    os.replace(pointer, path / "CURRENT")
    _fsync(path)
    _remove_old_versions(path, keep={live, name})
    return name


def _read_records(
    db_path: Path,
) -> tuple[dict[str, Document], list[Passage], dict[str, list[Quote]]]:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        documents = {}
        for row in db.execute(
            "SELECT id, title, text, source, url, published, origin, paragraphs FROM documents"
        ):
            doc_id, title, text, source, url, published, origin, paragraphs = row
            spans = tuple((int(s), int(e)) for s, e in json.loads(paragraphs))
            documents[doc_id] = Document(
                doc_id, title, text, source, url, published, origin, paragraph_spans=spans
            )
        passages = [
            Passage(doc_id, start, end, documents[doc_id].text[start:end], tuple(json.loads(p)))
            for doc_id, start, end, p in db.execute(
                "SELECT doc_id, start, end, paragraphs FROM passages ORDER BY row"
            )
        ]
        quotes: dict[str, list[Quote]] = {}
        for doc_id, start, end, speaker in db.execute(
            "SELECT doc_id, start, end, speaker FROM quotes ORDER BY doc_id, start"
        ):
            quotes.setdefault(doc_id, []).append(Quote(start, end, speaker))
    finally:
        db.close()
    return documents, passages, quotes


def _write_records(db_path: Path, snapshot: Snapshot) -> None:
    db = sqlite3.connect(db_path)
    try:
        db.executescript(
            """
            CREATE TABLE documents (id TEXT PRIMARY KEY, title TEXT, text TEXT, source TEXT,
                url TEXT, published TEXT, origin TEXT, paragraphs TEXT);
            CREATE TABLE passages (row INTEGER PRIMARY KEY, doc_id TEXT REFERENCES documents(id),
                start INTEGER, end INTEGER, paragraphs TEXT);
            CREATE TABLE quotes (doc_id TEXT REFERENCES documents(id), start INTEGER,
                end INTEGER, speaker TEXT);
            CREATE TABLE aliases (id TEXT PRIMARY KEY, of_id TEXT REFERENCES documents(id),
                title TEXT, text TEXT, source TEXT, url TEXT, published TEXT, origin TEXT);
            """
        )
        db.executemany(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    d.id,
                    d.title,
                    d.text,
                    d.source,
                    d.url,
                    d.published,
                    d.origin,
                    json.dumps(d.paragraph_spans),
                )
                for d in snapshot.documents.values()
            ),
        )
        db.executemany(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?)",
            (
                (row, p.doc_id, p.start, p.end, json.dumps(p.paragraphs))
                for row, p in enumerate(snapshot.passages)
            ),
        )
        db.executemany("INSERT INTO quotes VALUES (?, ?, ?, ?)", _quote_rows(snapshot.quotes))
        db.executemany(
            "INSERT INTO aliases VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (i, a.of, d.title, d.text, d.source, d.url, d.published, d.origin)
                for i, a in snapshot.duplicates.aliases.items()
                for d in [a.document]
            ),
        )
        db.commit()
    finally:
        db.close()


def _read_aliases(db_path: Path) -> dict[str, Alias]:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT id, of_id, title, text, source, url, published, origin FROM aliases"
        ).fetchall()
    finally:
        db.close()
    return {row[0]: Alias(Document(row[0], *row[2:]), row[1]) for row in rows}


def _quote_rows(quotes: dict[str, list[Quote]]) -> Iterable[tuple[str, int, int, str | None]]:
    for doc_id, items in quotes.items():
        for q in items:
            yield doc_id, q.start, q.end, q.speaker


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_unfinished(path: Path, live: str) -> None:
    """Drop what a save killed mid-way left behind: it never became live."""
    for child in path.iterdir():
        newer = child.name.startswith("v-") and child.name > live
        if child.suffix == ".tmp" or newer:
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def _remove_old_versions(path: Path, keep: set[str]) -> None:
    for child in path.glob("v-*"):
        if child.is_dir() and child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)
