"""Every failure a user can cause ends in one line and the exit status of its kind
(``ragnews.cli.exits``); no question is too empty, too long or too greedy to answer safely."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ragnews import Embedder, Index, SearchError, SearchOptions, ask
from ragnews.answering import READ
from ragnews.cli.commands import app
from ragnews.cli.exits import INDEX, INTERNAL, USAGE
from ragnews.reading.reader import Reader
from ragnews.search.filters import Filters
from ragnews.search.options import MAX_K, MAX_QUESTION

runner = CliRunner()


@pytest.fixture()
def archive(saved_archive: Path) -> Path:
    return saved_archive


@pytest.fixture()
def reuse_embedder(monkeypatch: pytest.MonkeyPatch, embedder: Embedder) -> None:
    monkeypatch.setattr(Embedder, "load", classmethod(lambda cls, *a, **k: embedder))


def one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "", "--json"], "the question is empty"),
        (["ask", "   ", "--json"], "the question is empty"),
        (["ask", "Why? " * 1001], f"at most {MAX_QUESTION:,} are read"),
        (["ask", "Who?", "--since", "2024-13-01"], "since must be a date"),
        (["ask", "Who?", "--around", "last week"], "around must be a date"),
    ],
)
def test_a_bad_question_or_filter_is_a_usage_error(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == USAGE
    line = one_line_error(result.stderr)
    assert message in line and len(line) < 200  # an overlong question is not echoed back


def test_k_is_capped_with_a_clear_message(archive: Path) -> None:
    result = runner.invoke(app, ["ask", "Who?", "--index", str(archive), "-k", "100000"])
    said = " ".join(re.sub("[│╭╮╰╯─]", " ", result.output).split())
    assert result.exit_code == USAGE and f"less than or equal to {MAX_K}" in said
    with pytest.raises(SearchError, match=f"k must be at most {MAX_K}"):
        Index.open(archive).search("Who designed the library?", MAX_K + 1)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_a_question_with_no_passage_abstains(
    archive: Path, mode: str, reuse_embedder: None
) -> None:
    args = ["ask", "Tomasz Wielgus", "--index", str(archive), "--json", "--mode", mode]
    if mode != "bm25":  # only BM25 can find nothing without a filter
        args += ["--source", "No Such Paper"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["abstained"] and out["answers"] == [] and out["passages"] == []


def test_the_reader_reads_the_best_passages_only(
    archive: Path, monkeypatch: pytest.MonkeyPatch, tiny_reader: Reader
) -> None:
    read: list[int] = []
    real = Reader.read_many

    def counting(self: Reader, items: list[tuple[str, list[str]]], **kwargs: int) -> object:
        read.extend(len(contexts) for _, contexts in items)
        return real(self, items, **kwargs)

    monkeypatch.setattr(Reader, "read_many", counting)
    index = Index.open(archive)
    result = ask(index, "Who designed the library?", 30, tiny_reader)
    assert len(result.hits) == min(30, len(index)) and read == [READ]
    nothing = ask(
        index, "Who?", 5, tiny_reader, options=SearchOptions(filters=Filters(source="None"))
    )
    assert nothing.abstained and nothing.hits == ()


def test_index_problems_exit_3_with_what_to_do(archive: Path, tmp_path: Path) -> None:
    plain_file = tmp_path / "file"
    plain_file.write_text("x")
    damaged = tmp_path / "damaged"
    shutil.copytree(archive, damaged)
    version = damaged / (damaged / "CURRENT").read_text().strip()
    records = version / "records.sqlite"
    records.write_bytes(records.read_bytes()[:1000])
    gone = tmp_path / "gone"
    shutil.copytree(archive, gone)
    (gone / "CURRENT").write_text("v-000042\n")
    for index, message in [
        (plain_file, "a file, not an index directory"),
        (damaged, "records.sqlite does not match its checksum; rebuild it"),
        (gone, "index damaged: v-000042/manifest.json unreadable"),
        (tmp_path / "nowhere", "no ragnews index here"),
    ]:
        result = runner.invoke(app, ["ask", "Who?", "--index", str(index)])
        assert result.exit_code == INDEX, result.output
        assert message in one_line_error(result.stderr)


def test_anything_unexpected_is_one_line_and_exit_4(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("ragnews.index.index.Index.search_many", broken)
    result = runner.invoke(app, ["ask", "Who?", "--index", str(archive)])
    assert result.exit_code == INTERNAL
    assert "internal error: RuntimeError: disk on fire" in one_line_error(result.stderr)
    monkeypatch.setenv("RAGNEWS_DEBUG", "1")
    debugged = runner.invoke(app, ["ask", "Who?", "--index", str(archive)])
    assert isinstance(debugged.exception, RuntimeError)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    question=st.text(max_size=60) | st.sampled_from(["Who designed the library?", "", " "]),
    k=st.integers(-3, 150),
    mode=st.sampled_from(["dense", "bm25", "hybrid", "bm42"]),
    fusion=st.sampled_from(["score", "rrf", "max"]),
    weights=st.tuples(st.floats(-1, 2), st.floats(-1, 2)),
    since=st.sampled_from([None, "2024-05-01", "2024-13-01", "yesterday"]),
    source=st.sampled_from([None, "Valley Times", "No Such Paper", ""]),
    confidence=st.sampled_from([None, "0", "0.5", "1.5", "-1"]),
)
def test_any_ask_options_end_in_an_answer_or_a_usage_error(
    archive: Path,
    reuse_embedder: None,
    question: str,
    k: int,
    mode: str,
    fusion: str,
    weights: tuple[float, float],
    since: str | None,
    source: str | None,
    confidence: str | None,
) -> None:
    args = ["ask", question, "--index", str(archive), "--json", "-k", str(k), "--mode", mode]
    args += ["--fusion", fusion, "--weights", str(weights[0]), str(weights[1])]
    for flag, value in (("--since", since), ("--source", source), ("--min-confidence", confidence)):
        if value is not None:
            args += [flag, value]
    result = runner.invoke(app, args)
    assert result.exit_code in (0, USAGE), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code == 0:
        out = json.loads(result.stdout)
        assert len(out["passages"]) <= k and out["abstained"] == (not out["answers"])
