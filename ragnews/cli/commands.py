"""Command line: ``ask "QUESTION"`` and ``ragnews index|ask|delete|bench ...``.

With no ``--index``, ``ask`` uses the demo corpus shipped with ragnews: its index is built on
first use in the user's data folder (``demo_index()``), wherever ``ask`` runs. Failures end in
one line and the exit status of their kind (``ragnews.cli.exits``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import platformdirs
import typer
from rich.console import Console
from rich.markup import escape

from ragnews.cli.exits import SKIPPED, USAGE, err, fail, guarded
from ragnews.errors import IndexStoreError
from ragnews.search.options import DEFAULT_MODE, DEFAULT_WEIGHTS, MAX_K, MODES, Fusion, Kind, Mode

if TYPE_CHECKING:
    from ragnews.index.index import Index
    from ragnews.search.options import SearchOptions

DEMO_CORPUS = Path(__file__).resolve().parent.parent / "data" / "demo"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.split("\n")[0])


def demo_index() -> Path:
    """Where the demo corpus's index lives: the user's data folder (``XDG_DATA_HOME`` on Linux)."""
    return platformdirs.user_data_path("ragnews") / "indexes" / "demo"


IndexOption = Annotated[
    str | None,
    typer.Option("--index", help="Index folder or milvus:// location (default: the demo corpus)."),
]
SourceOption = Annotated[
    str | None, typer.Option("--source", help="Only articles from this source (any case).")
]
SinceOption = Annotated[
    str | None, typer.Option("--since", help="Only articles published on or after YYYY-MM-DD.")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Only articles published on or before YYYY-MM-DD.")
]
MinConfidenceOption = Annotated[
    float | None,
    typer.Option(
        "--min-confidence",
        min=0.0,
        max=1.0,
        help="Answer only at this confidence or above (default: the reader's calibrated "
        "threshold); 0 always answers with the best spans.",
    ),
]


def _quiet_models() -> None:
    """Keep model-loading progress bars and offline warnings out of the output."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _open_index(path: str | None) -> Index:
    from ragnews.index.index import Index
    from ragnews.ingest.documents import load_documents

    if path is not None:
        return Index.open(path)
    from ragnews.search.embedding import DEFAULT_MODEL

    demo = demo_index()
    try:
        return Index.open(demo, model=DEFAULT_MODEL)
    except IndexStoreError:  # not built yet, or by another version or model: build it
        err.print(f"Building the demo index in {demo}/ (first use only)...")
        return Index.build(load_documents([DEMO_CORPUS]).documents, demo, overwrite=True)


@app.command("ask")
@guarded
def ask_command(
    question: Annotated[str | None, typer.Argument(help="The question to ask.")] = None,
    index: IndexOption = None,
    k: Annotated[
        int, typer.Option("-k", min=1, max=MAX_K, help="Passages to show (the best 10 are read).")
    ] = 5,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object, on one line.")
    ] = False,
    pretty: Annotated[bool, typer.Option("--pretty", help="With --json: indented.")] = False,
    questions: Annotated[
        Path | None,
        typer.Option("--questions", help="File with one question per line; prints JSON lines."),
    ] = None,
    mode: Annotated[
        Mode, typer.Option("--mode", help="Retrieval: embeddings, BM25 or both fused.")
    ] = DEFAULT_MODE,
    weights: Annotated[
        tuple[float, float],
        typer.Option("--weights", help="Hybrid: the dense and BM25 weights, e.g. 0.7 0.3."),
    ] = DEFAULT_WEIGHTS,
    fusion: Annotated[
        Fusion,
        typer.Option("--fusion", help="Hybrid: fuse z-scores (score) or reciprocal ranks (rrf)."),
    ] = "score",
    source: SourceOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    spread: Annotated[
        bool,
        typer.Option(
            "--spread/--no-spread",
            help="Each article's best passage before any article's second (default), or "
            "passages in score order.",
        ),
    ] = True,
    around: Annotated[
        str | None,
        typer.Option(
            "--around",
            help="Prefer, among passages about as relevant, articles published near "
            "YYYY-MM-DD (for 'this week' as of that day).",
        ),
    ] = None,
    reader_path: Annotated[
        Path | None,
        typer.Option("--reader", help="A local extractive-QA checkpoint (default: ragnews's)."),
    ] = None,
    min_confidence: MinConfidenceOption = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            envvar="RAGNEWS_SERVER",
            help="Ask a running `ragnews serve` (its URL) instead of loading the models here.",
        ),
    ] = None,
) -> None:
    """Answer a question from the articles, with the paragraphs that ground it."""
    from ragnews.search.filters import Filters
    from ragnews.search.options import SearchOptions, check_question

    if (question is None) == (questions is None):
        raise typer.BadParameter("give either a QUESTION or --questions FILE")
    # what can be wrong with the request is found before any model loads
    options = SearchOptions(mode, fusion, weights, Filters(source, since, until), around, spread)
    if questions is not None:
        asked = [q.strip() for q in _read_questions(questions) if q.strip()]
    else:
        assert question is not None
        asked = [question]
    for one in asked:
        check_question(one)
    if server is not None:  # a running `ragnews serve` answers: no model loads here
        from ragnews.cli.remote import ask_server

        if index is not None or reader_path is not None:
            raise fail("--index and --reader belong to `ragnews serve`, not to --server", USAGE)
        request = {"k": k, "min_confidence": min_confidence, **_options_json(options)}
        ask_server(server, asked, request, as_json or questions is not None, pretty)
        return
    _quiet_models()
    from ragnews.answering import ask_many
    from ragnews.reading.reader import Reader
    from ragnews.render import show, to_json

    reader = Reader.load(reader_path) if reader_path is not None else None
    opened = _open_index(index)
    results = ask_many(opened, asked, k, reader, options=options, min_confidence=min_confidence)
    if questions is not None:
        for result in results:
            sys.stdout.write(json.dumps(to_json(result), ensure_ascii=False) + "\n")
    elif as_json:
        indent = 2 if pretty else None
        sys.stdout.write(json.dumps(to_json(results[0]), ensure_ascii=False, indent=indent) + "\n")
    else:
        show(results[0], opened, Console())


def _options_json(options: SearchOptions) -> dict[str, object]:
    """``options`` as the server's request fields."""
    filters = options.filters
    return {
        "mode": options.mode,
        "fusion": options.fusion,
        "weights": list(options.weights),
        "source": filters.source,
        "since": filters.since,
        "until": filters.until,
        "around": options.around,
        "spread": options.spread,
    }


def _read_questions(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise fail(f"{path}: cannot read questions ({e})", USAGE) from e


@app.command("index")
@guarded
def index_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of articles.")],
    index: Annotated[
        str,
        typer.Option(
            "--index",
            help="Index folder, or milvus://FILE.db (Milvus Lite) or milvus://HOST:PORT/NAME "
            "(a Milvus server), to create or extend.",
        ),
    ],
    model: Annotated[str | None, typer.Option(help="Embedding model (new index only).")] = None,
    max_tokens: Annotated[
        int | None, typer.Option(help="Passage size in tokens (new index; default 200).")
    ] = None,
    overlap: Annotated[
        int | None,
        typer.Option(help="Token overlap inside long paragraphs (new index; default 40)."),
    ] = None,
    min_tokens: Annotated[
        int | None,
        typer.Option(
            help="Consecutive paragraphs are packed into one passage up to this many tokens "
            "(new index; default 120)."
        ),
    ] = None,
    vectors: Annotated[
        Kind | None,
        typer.Option(
            "--vectors",
            help="Vector index (new index): auto (exact up to 30,000 passages, then IVF), "
            "flat, ivf or hnsw.",
        ),
    ] = None,
) -> None:
    """Create an index from articles, or add articles to an existing one."""
    _quiet_models()
    from ragnews.index.index import Index
    from ragnews.index.progress import ConsoleProgress
    from ragnews.ingest.chunking import ChunkSettings
    from ragnews.ingest.documents import load_documents
    from ragnews.search.embedding import DEFAULT_MODEL
    from ragnews.search.vectors import VectorSettings

    with ConsoleProgress() as progress:  # one set of bars: reading, then indexing
        loaded = load_documents(paths, progress)
        for problem in loaded.errors:
            progress.console.print(f"[red]skipped[/red] {escape(str(problem))}")
        for warning in loaded.warnings:  # read, with what was fixed or left out
            progress.console.print(f"[yellow]warning[/yellow] {escape(str(warning))}")
        if not loaded.documents:
            raise typer.Exit(SKIPPED)
        if Index.exists(index):
            opened = Index.open(
                index,
                model=model,
                max_tokens=max_tokens,
                overlap=overlap,
                min_tokens=min_tokens,
                vectors=vectors,
            )
            report = opened.add(loaded.documents, progress=progress)
        else:
            try:
                default = ChunkSettings()
                settings = ChunkSettings(
                    default.max_tokens if max_tokens is None else max_tokens,
                    default.overlap if overlap is None else overlap,
                    default.min_tokens if min_tokens is None else min_tokens,
                )
            except ValueError as e:
                raise fail(str(e), USAGE) from e
            opened = Index.build(
                loaded.documents,
                index,
                model=model or DEFAULT_MODEL,
                chunking=settings,
                progress=progress,
                vectors=VectorSettings(vectors or "auto"),
            )
            report = None
    added = len(loaded.documents) if report is None else len(report.added)
    replaced = 0 if report is None else len(report.replaced)
    unchanged = 0 if report is None else len(report.unchanged)
    aliased = (
        tuple((i, k) for i in sorted(opened.all_documents) if (k := opened.alias_of(i)))
        if report is None
        else report.aliased
    )
    for alias, kept in aliased:
        err.print(f"alias {escape(alias)} of {escape(kept)} (near-duplicate, not indexed)")
    Console(highlight=False).print(
        f"{index}: {added} added, {replaced} replaced, {unchanged} unchanged, "
        f"{len(loaded.errors)} skipped; {len(opened.documents)} articles, {len(opened)} passages, "
        f"{len(aliased)} kept as aliases"
    )
    if loaded.errors:
        raise typer.Exit(SKIPPED)


@app.command("delete")
@guarded
def delete_command(
    index: Annotated[
        str, typer.Option("--index", help="Index folder or milvus:// location to delete from.")
    ],
    ids: Annotated[list[str] | None, typer.Argument(help="Ids of the articles to remove.")] = None,
    source: SourceOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
) -> None:
    """Remove articles from an index, by id or by source and publication date.

    Prints the ids removed, one per line; ids that are not in the index are reported.
    """
    from ragnews.index.index import Index

    by_filter = any(v is not None for v in (source, since, until))
    if bool(ids) == by_filter:
        raise typer.BadParameter("give either article IDS or --source/--since/--until")
    opened = Index.open(index)
    if ids:
        removed = opened.delete(ids)
    else:
        removed = opened.delete_where(source=source, since=since, until=until)
    for doc_id in removed:
        sys.stdout.write(doc_id + "\n")
    unknown = [i for i in dict.fromkeys(ids or []) if i not in removed]
    if unknown:
        err.print(f"not in the index: {escape(', '.join(unknown))}")
    err.print(
        f"{index}: {len(removed)} deleted; "
        f"{len(opened.documents)} articles, {len(opened)} passages left"
    )


@app.command("bench")
@guarded
def bench_command(
    path: Annotated[
        Path, typer.Argument(help="SQuAD .json, hf500 *_questions.jsonl, BEIR folder or .jsonl.")
    ],
    index: Annotated[
        str | None,
        typer.Option(
            "--index",
            help="Build the index here (a folder or milvus:// location), or reuse it if it "
            "holds the corpus.",
        ),
    ] = None,
    k: Annotated[
        int, typer.Option("-k", min=1, max=MAX_K, help="Passages retrieved per question.")
    ] = 20,
    mode: Annotated[
        list[str] | None,
        typer.Option("--mode", help=f"Retrieval mode, repeatable: {', '.join(MODES)} (dense)."),
    ] = None,
    reader: Annotated[
        bool, typer.Option("--reader/--no-reader", help="Also read and score answers.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    save_run: Annotated[
        Path | None,
        typer.Option("--save-run", help="TREC run file; several modes write FILE-MODE.ext each."),
    ] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="PNG of recall@1..20.")] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Only the first N questions.")
    ] = None,
    answerable_only: Annotated[
        bool, typer.Option("--answerable-only", help="Skip unanswerable questions (SQuAD 2.0).")
    ] = False,
    min_confidence: MinConfidenceOption = None,
) -> None:
    """Score retrieval (and answers) on a question set, indexing its corpus first."""
    _quiet_models()
    from dataclasses import replace

    from ragnews.bench.datasets import answerable_only as keep_answerable
    from ragnews.bench.datasets import load_question_set
    from ragnews.bench.report import save_runs, show_report
    from ragnews.bench.run import run_benchmark

    for out in (save_run, plot):  # before a long run, not after it
        if out is not None and not out.parent.is_dir():
            raise fail(f"{out}: no such directory {out.parent}", USAGE)
    question_set = load_question_set(path)
    if answerable_only:
        question_set = keep_answerable(question_set)
    if limit is not None:
        question_set = replace(question_set, questions=question_set.questions[:limit])
    report = run_benchmark(
        question_set, index, k, mode or ["dense"], reader, min_confidence=min_confidence
    )
    for written in save_runs(report, save_run) if save_run else []:
        err.print(f"wrote {written}")
    if plot is not None:
        from ragnews.bench.plot import plot_recall

        err.print(f"wrote {plot_recall(report, plot)}")
    if reader and not question_set.has_answers:
        err.print(f"{question_set.name} has no answers: answer metrics skipped")
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        show_report(report, Console())


@app.command("info")
@guarded
def info_command(
    index: Annotated[
        str, typer.Option("--index", help="Index folder or milvus:// location to describe.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Describe an index: counts, model, settings, size on disk and the newest articles."""
    from ragnews.cli.info import describe, show_info
    from ragnews.index.index import Index

    summary = describe(Index.open(index))
    if as_json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
    else:
        show_info(summary, Console())


@app.command("serve")
@guarded
def serve_command(
    index: IndexOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(envvar="RAGNEWS_TOKEN", help="Needed to change the index over HTTP."),
    ] = None,
) -> None:
    """Answer over HTTP (API and OpenAPI at /docs), the models loaded once."""
    if host not in LOCAL_HOSTS and token is None:
        raise fail(
            f"listening on {host} lets anyone reach the server: give --token (or RAGNEWS_TOKEN) "
            "so that only you can change the index",
            USAGE,
        )
    _quiet_models()
    import uvicorn

    from ragnews.serve.app import create_app

    served = create_app(_open_index(index), token=token)
    err.print(f"ragnews serve: http://{host}:{port}/ (API at /docs); Ctrl-C stops it")
    uvicorn.run(served, host=host, port=port, log_level="warning")


def main() -> None:
    """Entry point of the ``ragnews`` command."""
    app()


def ask_main() -> None:
    """Entry point of the ``ask`` command."""
    typer.run(ask_command)
