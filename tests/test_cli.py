from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragnews import Document, Embedder, Index
from ragnews import cli as cli_module
from ragnews.cli import app

from .conftest import DEMO, ROOT

runner = CliRunner()


@pytest.fixture()
def reuse_embedder(monkeypatch: pytest.MonkeyPatch, embedder: Embedder) -> None:
    """The CLI loads the model itself; hand it the loaded one to keep the suite fast."""
    monkeypatch.setattr(Embedder, "load", classmethod(lambda cls, *a, **k: embedder))


def test_ask_json_on_the_demo_corpus_builds_its_index_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reuse_embedder: None
) -> None:
    monkeypatch.chdir(tmp_path)
    first = runner.invoke(app, ["ask", "Who canceled the delegation?", "--json", "-k", "3"])
    assert first.exit_code == 0, first.output
    out = json.loads(first.stdout)
    assert set(out) == {"question", "abstained", "answers", "passages"}
    assert out["question"] == "Who canceled the delegation?"
    assert len(out["passages"]) == 3
    assert 3 in [p["paragraph"] for p in out["passages"]]
    article = (DEMO / "biden-netanyahu.txt").read_text(encoding="utf-8")
    for p in out["passages"]:
        assert set(p) == {"doc_id", "title", "paragraph", "start", "end", "text", "score"}
        assert article[p["start"] : p["end"]] == p["text"]
    for a in out["answers"]:
        assert article[a["start"] : a["end"]] == a["text"]
    assert (tmp_path / cli_module.DEMO_INDEX / "CURRENT").exists()
    version = (tmp_path / cli_module.DEMO_INDEX / "CURRENT").read_text()
    again = runner.invoke(app, ["ask", "Who is Martin Indyk?", "--json"])
    assert again.exit_code == 0
    assert (tmp_path / cli_module.DEMO_INDEX / "CURRENT").read_text() == version


def test_index_then_batch_questions_in_order(
    tmp_path: Path, reuse_embedder: None, archive_docs: list[Document]
) -> None:
    idx = tmp_path / "archive"
    made = runner.invoke(
        app, ["index", str(ROOT / "tests/fixtures/archive.jsonl"), "--index", str(idx)]
    )
    assert made.exit_code == 0, made.output
    assert "4 added" in made.stderr
    questions = tmp_path / "q.txt"
    questions.write_text("How many homes lost power?\n\nWho designed the library?\n")
    result = runner.invoke(
        app, ["ask", "--questions", str(questions), "--index", str(idx), "-k", "2"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == [
        "How many homes lost power?",
        "Who designed the library?",
    ]
    assert lines[0]["passages"][0]["doc_id"] == "storm-2024-05-20"
    assert lines[1]["passages"][0]["doc_id"] == "library-2024-06-02"
    assert all(len(line["passages"]) == 2 for line in lines)


def test_index_reports_bad_files_and_keeps_the_good(tmp_path: Path, reuse_embedder: None) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Tide tables\nHigh tide comes at noon on Sunday.\n")
    (corpus / "bad.jsonl").write_text('{"id": "x", "title": "no text"}\n')
    idx = tmp_path / "idx"
    result = runner.invoke(app, ["index", str(corpus), "--index", str(idx)])
    assert result.exit_code == 1
    assert f"{corpus / 'bad.jsonl'}:1: missing or empty 'text'" in result.stderr
    assert [d.title for d in Index.open(idx).documents.values()] == ["Tide tables"]


def test_ask_on_a_missing_index_fails_clearly(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "Anything?", "--index", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "no ragnews index" in result.stderr


def test_readable_output_marks_the_paragraph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reuse_embedder: None
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["ask", "Who canceled the delegation?", "-k", "3"])
    assert result.exit_code == 0, result.output
    assert "Biden Netanyahu — paragraph 3" in result.stdout
    assert "delegation to Washington was canceled" in " ".join(result.stdout.split())
