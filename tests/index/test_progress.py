"""Indexing tells how its long steps go: bars on a terminal, one line per step in a log."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from ragnews import Document, Embedder, Index, load_documents
from ragnews.index.progress import ConsoleProgress

STEPS = ["chunking", "quotations", "embedding", "BM25", "saving"]


def test_a_log_gets_one_line_per_step_and_no_redrawn_bars(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder
) -> None:
    heard: list[tuple[str, int, int]] = []
    index = Index.build(
        archive_docs[:4], tmp_path / "a", embedder=embedder, progress=lambda *r: heard.append(r)
    )
    assert [step for step, done, total in heard if done == total] == STEPS
    assert ("embedding", len(index), len(index)) in heard
    before = len(index)
    log = io.StringIO()
    with ConsoleProgress(Console(file=log, force_terminal=False, width=80)) as progress:
        index.add(archive_docs[4:], progress=progress)
    lines = log.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == STEPS and "\r" not in log.getvalue()
    assert lines[2].startswith(f"embedding: {len(index) - before:,} in ")


def test_reading_files_reports_each_file(tmp_path: Path) -> None:
    for name in ("a.txt", "b.md", "c.txt"):
        (tmp_path / name).write_text(f"Story {name}\n\nIt happened today.\n")
    heard: list[tuple[str, int, int]] = []
    loaded = load_documents([tmp_path], lambda *r: heard.append(r))
    assert len(loaded.documents) == 3 and heard == [("reading", i, 3) for i in (1, 2, 3)]
