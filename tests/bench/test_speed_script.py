"""``benchmarks/speed.py`` times each stage of a real build from its progress reports."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ragnews import Document, Embedder
from tests.conftest import ROOT


def test_the_speed_benchmark_times_every_stage_of_a_build(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder
) -> None:
    spec = importlib.util.spec_from_file_location("speed", ROOT / "benchmarks" / "speed.py")
    assert spec is not None and spec.loader is not None
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)
    index, seconds, stages = speed.build(archive_docs, tmp_path / "index", embedder)
    assert len(index) > 0
    assert {"chunking", "quotations", "embedding", "BM25", "saving", "other"} <= set(stages)
    assert stages["embedding"] > 0 and sum(stages.values()) == pytest.approx(seconds)
