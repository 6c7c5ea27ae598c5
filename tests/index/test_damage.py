"""An index that is missing, damaged, interrupted or already there is a clear error, never a
wrong answer or a silent loss."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ragnews import (
    Document,
    Embedder,
    Index,
    IndexDamagedError,
    IndexExistsError,
    IndexNotFoundError,
)
from ragnews.errors import IndexStoreError
from ragnews.index.store import MANIFEST


@pytest.fixture()
def saved(saved_archive: Path) -> Path:
    return saved_archive


def live(path: Path) -> Path:
    return path / (path / "CURRENT").read_text().strip()


FILES = [
    "vectors.faiss",
    "vectors.json",
    "records.sqlite",
    "bm25.data.npy",
    "bm25.indices.npy",
    "bm25.indptr.npy",
    "bm25.terms.json",
    "minhash.npy",
]


def test_the_manifest_lists_every_file_of_a_version(saved: Path) -> None:
    names = {p.name for p in live(saved).iterdir()} - {MANIFEST}
    assert names == set(FILES)


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("damage", ["truncated", "one byte changed", "removed"])
def test_any_damaged_file_is_found_on_open(
    saved: Path, tmp_path: Path, name: str, damage: str, embedder: Embedder
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    target = live(copy) / name
    data = target.read_bytes()
    if damage == "truncated":
        target.write_bytes(data[: len(data) // 2])
    elif damage == "one byte changed":
        target.write_bytes(data[:-1] + bytes([data[-1] ^ 0x01]))
    else:
        target.unlink()
    with pytest.raises(IndexDamagedError, match=rf"index damaged: .*{name}.*rebuild it"):
        Index.open(copy, embedder=embedder)


def test_a_manifest_or_version_that_is_gone_is_damage(saved: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    (live(copy) / MANIFEST).write_text("{not json")
    with pytest.raises(IndexDamagedError, match="manifest.json unreadable"):
        Index.open(copy)
    (copy / "CURRENT").write_text("v-999999\n")
    with pytest.raises(IndexDamagedError, match="v-999999/manifest.json unreadable"):
        Index.open(copy)


def test_building_over_an_index_is_refused_unless_asked(
    saved: Path, tmp_path: Path, archive_docs: list[Document], embedder: Embedder
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    with pytest.raises(IndexExistsError, match="an index is already here"):
        Index.build(archive_docs[:1], copy, embedder=embedder)
    assert len(Index.open(copy).all_documents) == len(archive_docs)  # nothing lost
    replaced = Index.build(archive_docs[:1], copy, embedder=embedder, overwrite=True)
    assert list(Index.open(copy).documents) == list(replaced.documents) == [archive_docs[0].id]


def test_an_interrupted_first_build_leaves_nothing(
    tmp_path: Path,
    archive_docs: list[Document],
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("ragnews.index.homes.write_snapshot", interrupt)
    path = tmp_path / "new"
    with pytest.raises(KeyboardInterrupt):
        Index.build(archive_docs, path, embedder=embedder)
    assert not path.exists()


def test_a_folder_where_no_index_was_written_says_so(tmp_path: Path) -> None:
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "LOCK").touch()
    with pytest.raises(IndexNotFoundError, match="no index was ever written here"):
        Index.open(tmp_path / "half")
    (tmp_path / "file").write_text("not an index")
    with pytest.raises(IndexNotFoundError, match="a file, not an index directory"):
        Index.open(tmp_path / "file")
    with pytest.raises(IndexStoreError, match="a file, not an index directory"):
        Index.build([Document("d", "T", "Text.")], tmp_path / "file")
