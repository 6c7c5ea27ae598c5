"""What a person reads fits 80 columns: answer panels and benchmark tables."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from ragnews import Document, Embedder, Index, ask
from ragnews.bench.report import (
    HEADERS,
    REPORTED,
    BenchReport,
    ModeResult,
    Timing,
    _answer_table,
    show_report,
)
from ragnews.reading.reader import Reader
from ragnews.render import show


def test_answer_panels_fit_80_columns_with_whole_titles(
    tmp_path: Path, demo_doc: Document, embedder: Embedder, tiny_reader: Reader
) -> None:
    headline = "Delegation canceled: a headline far longer than any panel has room for " * 2
    long = Document("long", headline, "Who canceled the delegation? The prime minister did.")
    index = Index.build([demo_doc, long], tmp_path / "i", embedder=embedder)
    result = ask(index, "Who canceled the delegation?", 5, tiny_reader)
    console = Console(width=80, record=True)
    show(result, index, console)
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    titles = [line for line in lines if line.startswith("╭─ [")]
    assert len(titles) == 5 and all(
        "paragraph" in t and t.rstrip("─╮ ").endswith(")") for t in titles
    )
    assert any("Delegation canceled: a headline…" in t for t in titles)


def test_the_answer_table_has_a_row_per_measure_in_80_columns() -> None:
    answers = {name: 87.5 for name in HEADERS}
    console = Console(width=80, record=True)
    console.print(_answer_table(answers, 61.2))
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = {
        cells[1].strip(): cells[2].strip() for line in lines if len(cells := line.split("│")) == 4
    }
    assert rows == {name: "88" if "(questions)" in name else "87.5" for name in HEADERS.values()}


def test_the_retrieval_table_fits_80_columns_unabridged() -> None:
    mode = ModeResult({n: 1.0 for n in REPORTED}, [1.0] * 20, 1313.1, 1114.5, 1200.0, {})
    counts = {"documents": 1, "passages": 31, "questions": 64, "judged": 64}
    report = BenchReport("set", "model", 20, counts, Timing(2.5, 12.5, 1), {"hybrid": mode})
    console = Console(width=80, record=True)
    show_report(report, console)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80 and "…" not in text
    assert "hybrid" in text and "1313.1" in text and "1114.5" in text
