"""``ragnews serve``'s API on a real index and reader: the same answers as ``ask``, bad
requests refused with the field named, writes that need a token when one is set."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from ragnews import Document, Embedder, Index, SearchOptions, ask_many
from ragnews.answering import default_reader
from ragnews.cli.commands import app as cli
from ragnews.reading.reader import Reader
from ragnews.render import show, to_json
from ragnews.serve.app import MAX_BODY, create_app
from ragnews.serve.background import serving
from tests.conftest import ROOT

QUESTION = "How many homes lost power?"
runner = CliRunner()


@pytest.fixture(scope="module")
def index(
    tmp_path_factory: pytest.TempPathFactory, archive_docs: list[Document], embedder: Embedder
) -> Index:
    return Index.build(archive_docs, tmp_path_factory.mktemp("serve") / "idx", embedder=embedder)


@pytest.fixture(scope="module")
def client(index: Index, tiny_reader: Reader) -> TestClient:
    return TestClient(create_app(index, tiny_reader))


def test_ask_answers_as_the_library_and_the_command_line_do(
    client: TestClient, index: Index, tiny_reader: Reader
) -> None:
    body = {"question": QUESTION, "k": 3, "mode": "bm25", "text": True}
    out = client.post("/ask", json=body).json()
    [local] = ask_many(index, [QUESTION], 3, tiny_reader, options=SearchOptions("bm25"))
    text = out.pop("text")
    assert out == json.loads(json.dumps(to_json(local)))
    printed = io.StringIO()
    show(local, index, Console(file=printed, width=80, highlight=False))
    assert text == printed.getvalue()
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["passages"] == len(index)
    searched = client.post("/search", json={"question": QUESTION, "k": 3, "mode": "bm25"})
    passages = searched.json()["passages"]
    assert [p["doc_id"] for p in passages] == [p["doc_id"] for p in to_json(local)["passages"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "question"),
        ({"question": ""}, "question"),
        ({"question": "x" * 10_000}, "question"),
        ({"question": "Who?", "k": 0}, "k"),
        ({"question": "Who?", "k": 101}, "k"),
        ({"question": "Who?", "mode": "bm42"}, "mode"),
        ({"question": "Who?", "weights": [1]}, "weights"),
        ({"question": "Who?", "min_confidence": 2}, "min_confidence"),
        ({"question": 42}, "question"),
    ],
)
def test_a_malformed_question_names_its_field(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    response = client.post("/ask", json=body)
    assert response.status_code == 422
    assert field in [part for error in response.json()["detail"] for part in error["loc"]]


def test_bad_dates_and_huge_bodies_are_4xx(client: TestClient) -> None:
    dated = client.post("/ask", json={"question": "Who?", "since": "2024-13-01"})
    assert dated.status_code == 400 and "since must be a date" in dated.text
    around = client.post("/ask", json={"question": "Who?", "around": "June"})
    assert around.status_code == 400 and "around must be a date" in around.text
    huge = client.post(
        "/ask", content=b"x" * (MAX_BODY + 1), headers={"content-type": "text/plain"}
    )
    assert huge.status_code == 413


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.dictionaries(
        st.sampled_from(["question", "k", "mode", "since", "weights", "text", "width", "x"]),
        st.none()
        | st.integers(-5, 500)
        | st.text(max_size=20)
        | st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=3),
    )
)
def test_fuzzed_requests_never_fail_inside(client: TestClient, body: dict[str, object]) -> None:
    for path in ("/ask", "/search"):
        response = client.post(path, json=body)
        assert response.status_code in (200, 400, 422), response.text


def test_articles_are_added_read_and_deleted_and_need_the_token(
    index: Index, tiny_reader: Reader, tmp_path: Path, embedder: Embedder
) -> None:
    own = Index.build(list(index.all_documents.values())[:2], tmp_path / "own", embedder=embedder)
    client = TestClient(create_app(own, tiny_reader, token="s3cret"))
    article = {
        "id": "tides",
        "title": "Tide tables",
        "text": "High tide is at noon.",
        "source": "Coast",
    }
    assert client.post("/articles", json=[article]).status_code == 401
    auth = {"authorization": "Bearer s3cret"}
    added = client.post("/articles", json=[article], headers=auth).json()
    assert added["added"] == ["tides"]
    jsonl = '{"id": "ferry", "text": "The ferry runs hourly."}\n{"title": "no text"}'
    bad = client.post(
        "/articles", content=jsonl, headers={**auth, "content-type": "application/x-ndjson"}
    )
    assert bad.status_code == 422 and "missing or empty 'text'" in bad.text
    assert "ferry" not in Index.open(own.path).all_documents  # nothing half-added
    assert client.get("/articles/tides").json()["source"] == "Coast"
    assert client.get("/articles/nope").status_code == 404
    assert client.delete("/articles", params={"source": "coast"}, headers=auth).json() == {
        "deleted": ["tides"]
    }
    assert client.delete("/articles", headers=auth).status_code == 422
    assert "tides" not in Index.open(own.path).all_documents


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_doc: Document, embedder: Embedder) -> Index:
    return Index.build([demo_doc], tmp_path_factory.mktemp("demo") / "idx", embedder=embedder)


@pytest.fixture(scope="module")
def served(demo: Index) -> Iterator[str]:
    """The server of the demo index on a free localhost port, with ragnews's own reader."""
    with serving(create_app(demo, default_reader())) as url:
        yield url


@pytest.mark.parametrize("flags", [["--json"], ["--json", "--pretty"], []])
def test_ask_with_a_server_prints_what_ask_prints(
    served: str, demo: Index, flags: list[str], monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> None:
    monkeypatch.setattr(Embedder, "load", classmethod(lambda cls, *a, **k: embedder))
    asked = ["ask", "How did Martin Indyk describe Netanyahu's cancellation of the talks?", *flags]
    local = runner.invoke(cli, [*asked, "--index", str(demo.path)])
    remote = runner.invoke(cli, [*asked, "--server", served])
    assert local.exit_code == remote.exit_code == 0, remote.output
    assert remote.stdout == local.stdout and "totally staged" in remote.stdout


def test_demo_questions_get_the_same_answers_from_a_server(
    served: str, demo: Index, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> None:
    monkeypatch.setattr(Embedder, "load", classmethod(lambda cls, *a, **k: embedder))
    # every second demo question: answers, abstentions and quotations (each read takes time)
    lines = (ROOT / "benchmarks" / "demo_questions.jsonl").read_text().splitlines()[1::2]
    questions = tmp_path / "questions.txt"
    questions.write_text("\n".join(json.loads(line)["question"] for line in lines))
    local = runner.invoke(cli, ["ask", "--questions", str(questions), "--index", str(demo.path)])
    remote = runner.invoke(cli, ["ask", "--questions", str(questions), "--server", served])
    assert local.exit_code == remote.exit_code == 0, remote.output
    assert remote.stdout == local.stdout and remote.stdout.count("\n") == len(lines)


def test_ask_with_a_server_loads_no_model_library(served: str) -> None:
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from ragnews.cli.commands import app\n"
        f"args = ['ask', {QUESTION!r}, '--server', {served!r}, '--json']\n"
        "result = CliRunner().invoke(app, args)\n"
        "loaded = {m.split('.')[0] for m in sys.modules} & {'torch', 'faiss', 'numpy', 'spacy'}\n"
        "print(result.exit_code, sorted(loaded))\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "0 []", run.stderr
