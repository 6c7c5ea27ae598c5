"""``ragnews index`` killed at any moment leaves an index that opens with the old articles or
the new ones, never a mix, and the next run finishes the job."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ragnews import Document, Embedder, Index
from tests.conftest import ROOT

RUN = "from ragnews.cli.commands import main; main()"


@pytest.mark.slow
def test_index_killed_at_random_moments_keeps_old_or_new(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder
) -> None:
    path = tmp_path / "index"
    Index.build(archive_docs[:3], path, embedder=embedder)
    old = set(Index.open(path).all_documents)
    new = old | {d.id for d in archive_docs}
    command = [sys.executable, "-c", RUN, "index", str(ROOT / "tests/fixtures/archive.jsonl")]
    command += ["--index", str(path)]
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True, timeout=300)  # a whole run
    whole = time.perf_counter() - started
    Index.build(archive_docs[:3], path, embedder=embedder, overwrite=True)
    rng = random.Random(25)
    for _ in range(2):
        run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.4 * whole, whole))  # mostly while embedding or saving
        run.kill()
        run.wait()
        held = set(Index.open(path).all_documents)
        assert held in (old, new)
        if held == new:
            Index.build(archive_docs[:3], path, embedder=embedder, overwrite=True)
    subprocess.run(command, capture_output=True, check=True, timeout=300)
    assert set(Index.open(path).all_documents) == new
    assert not list(path.glob("*.tmp")) and len(list(path.glob("v-*"))) <= 2
