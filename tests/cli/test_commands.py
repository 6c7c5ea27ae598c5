from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragnews import Document, Embedder, Index
from ragnews.cli import commands as cli_module
from ragnews.cli.commands import app
from ragnews.ingest.documents import load_documents
from ragnews.search.embedding import BASE_MODEL, DEFAULT_MODEL
from tests.conftest import DEMO, ROOT

runner = CliRunner()


@pytest.fixture()
def reuse_embedder(monkeypatch: pytest.MonkeyPatch, embedder: Embedder) -> None:
    """The CLI loads the model itself; hand it the loaded one to keep the suite fast."""
    monkeypatch.setattr(Embedder, "load", classmethod(lambda cls, *a, **k: embedder))


def test_ask_json_on_the_demo_corpus_builds_its_index_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reuse_embedder: None
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    first = runner.invoke(app, ["ask", "Who canceled the delegation?", "--json", "-k", "3"])
    assert first.exit_code == 0, first.output
    assert first.stdout.count("\n") == 1  # one object, one line
    out = json.loads(first.stdout)
    assert set(out) == {"question", "abstained", "answers", "passages"}
    assert out["question"] == "Who canceled the delegation?"
    assert len(out["passages"]) == 3
    assert 3 in [p["paragraph"] for p in out["passages"]]
    article = (DEMO / "biden-netanyahu.txt").read_text(encoding="utf-8")
    for p in out["passages"]:
        assert set(p) == {
            "doc_id",
            "title",
            "paragraph",
            "start",
            "end",
            "text",
            "score",
            "aliases",
            "source",
            "published",
            "url",
        }
        assert article[p["start"] : p["end"]] == p["text"]
    for a in out["answers"]:
        assert article[a["start"] : a["end"]] == a["text"]
    demo = cli_module.demo_index()
    assert demo == tmp_path / "data" / "ragnews" / "indexes" / "demo"
    assert (demo / "CURRENT").exists() and not (tmp_path / "indexes").exists()
    version = (demo / "CURRENT").read_text()
    again = runner.invoke(app, ["ask", "Who is Martin Indyk?", "--json"])
    assert again.exit_code == 0
    assert (demo / "CURRENT").read_text() == version
    forced = runner.invoke(
        app, ["ask", "Who won the World Cup?", "--json", "--min-confidence", "0"]
    )
    assert forced.exit_code == 0, forced.output
    best = json.loads(forced.stdout)["answers"][0]
    assert not json.loads(forced.stdout)["abstained"]
    assert article[best["start"] : best["end"]] == best["text"]
    refused = runner.invoke(app, ["ask", "Who is Martin Indyk?", "--min-confidence", "2"])
    assert refused.exit_code == 2
    # A demo index built with an earlier default model is built again with today's.
    Index.build(load_documents([DEMO]).documents, demo, model=BASE_MODEL, overwrite=True)
    assert runner.invoke(app, ["ask", "Who is Martin Indyk?"]).exit_code == 0
    assert Index.open(demo).model == DEFAULT_MODEL


def test_index_then_batch_questions_in_order(
    tmp_path: Path, reuse_embedder: None, archive_docs: list[Document]
) -> None:
    idx = tmp_path / "archive"
    made = runner.invoke(
        app, ["index", str(ROOT / "tests/fixtures/archive.jsonl"), "--index", str(idx)]
    )
    assert made.exit_code == 0, made.output
    assert "8 added" in made.stdout  # the summary; progress and warnings go to stderr
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
    assert result.exit_code == 3
    assert "no ragnews index" in result.stderr


def test_readable_output_marks_the_paragraph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reuse_embedder: None
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["ask", "Who canceled the delegation?", "-k", "3"])
    assert result.exit_code == 0, result.output
    assert "Biden Netanyahu — paragraphs 3-5" in result.stdout
    assert "delegation to Washington was canceled" in " ".join(result.stdout.split())


@pytest.fixture()
def archive_index(tmp_path: Path, reuse_embedder: None) -> Path:
    idx = tmp_path / "archive"
    made = runner.invoke(
        app, ["index", str(ROOT / "tests/fixtures/archive.jsonl"), "--index", str(idx)]
    )
    assert made.exit_code == 0, made.output
    return idx


def test_ask_with_a_mode_and_filters(archive_index: Path) -> None:
    base = ["ask", "How many homes lost power?", "--index", str(archive_index), "--json"]
    herald = {"harbor-2024-03-01", "budget-2024-04-12", "ferry-2024-07-15"}
    for mode in ("dense", "bm25", "hybrid"):
        result = runner.invoke(app, [*base, "--mode", mode, "-k", "2"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["passages"][0]["doc_id"] == "storm-2024-05-20"
    filtered = runner.invoke(app, [*base, "--mode", "hybrid", "--source", "coastal herald"])
    assert filtered.exit_code == 0, filtered.output
    passages = json.loads(filtered.stdout)["passages"]
    assert {p["doc_id"] for p in passages[:3]} == herald  # spread: one article each first
    near = runner.invoke(app, [*base, "--around", "2024-05-20"])
    assert near.exit_code == 0, near.output
    assert json.loads(near.stdout)["passages"][0]["doc_id"] == "storm-2024-05-20"
    dated = runner.invoke(app, [*base, "--since", "2024-06-01", "--until", "2024-08-31"])
    assert dated.exit_code == 0, dated.output
    assert {p["doc_id"] for p in json.loads(dated.stdout)["passages"]} == {
        "library-2024-06-02",
        "ferry-2024-07-15",
        "wildfire-2024-08-03",
    }


def test_ask_hybrid_weights_and_fusion(archive_index: Path) -> None:
    base = ["ask", "Who designed the library?", "--index", str(archive_index), "--json", "-k", "4"]

    def passages(*options: str) -> list[tuple[str, int]]:
        result = runner.invoke(app, [*base, *options])
        assert result.exit_code == 0, result.output
        return [(p["doc_id"], p["start"]) for p in json.loads(result.stdout)["passages"]]

    dense = passages("--mode", "dense")
    assert passages("--mode", "hybrid", "--weights", "1", "0") == dense
    assert passages("--weights", "1", "0", "--fusion", "rrf") == dense
    assert passages("--weights", "0", "1")[0] == passages("--mode", "bm25")[0]
    bad = runner.invoke(app, [*base, "--weights", "0", "0"])
    assert bad.exit_code == 2 and "not all zero" in bad.stderr
    unknown = runner.invoke(app, [*base, "--fusion", "max"])
    assert unknown.exit_code == 2 and "'max' is not one of" in unknown.output


def test_ask_refuses_unknown_modes_and_bad_dates(archive_index: Path) -> None:
    base = ["ask", "Anything?", "--index", str(archive_index)]
    mode = runner.invoke(app, [*base, "--mode", "bm42"])
    assert mode.exit_code == 2
    assert "'bm42' is not one of 'dense'," in mode.output
    date = runner.invoke(app, [*base, "--since", "2024-13-01"])
    assert date.exit_code == 2
    assert "since must be a date as YYYY-MM-DD, not '2024-13-01'" in date.stderr


def test_delete_by_id_and_by_filter(archive_index: Path) -> None:
    idx = str(archive_index)
    by_id = runner.invoke(app, ["delete", "storm-2024-05-20", "no-such-id", "--index", idx])
    assert by_id.exit_code == 0, by_id.output
    assert by_id.stdout == "storm-2024-05-20\n"
    assert "not in the index: no-such-id" in by_id.stderr
    assert "1 deleted; 7 articles" in by_id.stderr
    by_filter = runner.invoke(app, ["delete", "--index", idx, "--source", "Valley Times"])
    assert by_filter.exit_code == 0, by_filter.output
    assert sorted(by_filter.stdout.split()) == ["library-2024-06-02", "marathon-2024-09-08"]
    assert "storm-2024-05-20" not in Index.open(archive_index).documents
    assert len(Index.open(archive_index).documents) == 5
    for args in (["--index", idx], ["x", "--source", "Valley Times", "--index", idx]):
        refused = runner.invoke(app, ["delete", *args])
        assert refused.exit_code == 2
        assert "give either article IDS or --source/--since/--until" in refused.output
    missing = runner.invoke(app, ["delete", "x", "--index", str(archive_index.parent / "none")])
    assert missing.exit_code == 3 and "no ragnews index" in missing.stderr


def test_ask_reads_with_any_local_checkpoint(tmp_path: Path, reuse_embedder: None) -> None:
    from tests.conftest import save_tiny_reader

    idx = tmp_path / "archive"
    assert (
        runner.invoke(
            app, ["index", str(ROOT / "tests/fixtures/archive.jsonl"), "--index", str(idx)]
        ).exit_code
        == 0
    )
    checkpoint = save_tiny_reader(tmp_path / "tiny")
    result = runner.invoke(
        app,
        [
            "ask",
            "Who designed the library?",
            "--index",
            str(idx),
            "--reader",
            str(checkpoint),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert not out["abstained"] and out["answers"]  # its threshold never abstains
    texts = {d.id: d.text for d in Index.open(idx).documents.values()}
    for answer in out["answers"]:
        assert texts[answer["doc_id"]][answer["start"] : answer["end"]] == answer["text"]
    missing = runner.invoke(
        app, ["ask", "Who?", "--index", str(idx), "--reader", str(tmp_path / "none")]
    )
    assert missing.exit_code == 2 and "no question-answering model" in missing.stderr


def test_index_with_a_chosen_vector_index_keeps_it(tmp_path: Path, reuse_embedder: None) -> None:
    idx = tmp_path / "hnsw"
    archive = str(ROOT / "tests/fixtures/archive.jsonl")
    made = runner.invoke(app, ["index", archive, "--index", str(idx), "--vectors", "hnsw"])
    assert made.exit_code == 0, made.output
    assert Index.open(idx).manifest["vectors"]["built"]["type"] == "hnsw"
    again = runner.invoke(app, ["index", str(DEMO), "--index", str(idx)])
    assert again.exit_code == 0, again.output
    assert Index.open(idx).manifest["vectors"]["built"]["type"] == "hnsw"
    changed = runner.invoke(app, ["index", str(DEMO), "--index", str(idx), "--vectors", "ivf"])
    assert changed.exit_code == 3
    assert "built with --vectors hnsw, not ivf; rebuild it" in changed.stderr
    split = runner.invoke(app, ["index", str(DEMO), "--index", str(idx), "--overlap", "20"])
    assert split.exit_code == 3
    assert "built with --overlap 40, not 20; rebuild it" in split.stderr
    same = ["index", str(DEMO), "--index", str(idx), "--max-tokens", "200", "--overlap", "40"]
    assert runner.invoke(app, same).exit_code == 0
    unknown = runner.invoke(app, ["index", archive, "--index", str(idx), "--vectors", "annoy"])
    assert unknown.exit_code == 2 and "annoy" in unknown.stderr


def test_index_splits_as_asked_and_keeps_it(tmp_path: Path, reuse_embedder: None) -> None:
    idx = tmp_path / "small"
    made = runner.invoke(
        app, ["index", str(DEMO), "--index", str(idx), "--max-tokens", "60", "--overlap", "10"]
    )
    assert made.exit_code == 0, made.output
    built = Index.open(idx)
    assert built.manifest["chunking"] == {
        "max_tokens": 60,
        "overlap": 10,
        "min_tokens": 120,
        "context": "title",
    }
    assert len(built) > 31  # the demo's 31 paragraphs make 10 passages at 200 tokens
    again = runner.invoke(app, ["index", str(DEMO), "--index", str(idx), "--max-tokens", "200"])
    assert again.exit_code == 3
    assert "built with --max-tokens 60, not 200; rebuild it" in again.stderr
