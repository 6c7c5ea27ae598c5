"""``ragnews serve``: the index, its embedding model and the reader loaded once, over HTTP.

Endpoints (the app describes itself at ``/openapi.json``, and ``/docs`` shows it):

| method and path | what it does |
|---|---|
| ``GET /`` | the page: a question box, the answer highlighted in its paragraph, filters |
| ``GET /health`` | version, articles and passages |
| ``POST /ask`` | ``ask --json``'s object; ``"text": true`` adds what ``ask`` prints |
| ``POST /search`` | the passages only |
| ``POST /articles`` | add articles: a JSON list, or JSONL sent as ``application/x-ndjson`` |
| ``DELETE /articles`` | delete by ``ids``, or by ``source`` / ``since`` / ``until`` |
| ``GET /articles/{id}`` | one article, with its aliases |

A malformed request is a 4xx JSON error whose ``detail`` names the field, and changes nothing.
Writes go through the index's locked, atomic update; questions are answered meanwhile (each
reads the version that was live when it came). With a ``token``, the endpoints that change
the index need ``Authorization: Bearer TOKEN``.

Example:
    >>> client = TestClient(create_app(Index.open("indexes/mynews")))  # doctest: +SKIP
    >>> asked = {"question": "Who canceled the delegation?"}
    >>> client.post("/ask", json=asked).json()["answers"][0]["text"]  # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from rich.console import Console

from ragnews._version import __version__
from ragnews.answering import ask_many, default_reader
from ragnews.errors import IndexStoreError, RagnewsError
from ragnews.index.index import Index
from ragnews.ingest.documents import load_jsonl
from ragnews.reading.reader import Reader
from ragnews.records import Document, Hit, Result
from ragnews.render import show, to_json
from ragnews.search.filters import Filters
from ragnews.search.options import (
    DEFAULT_WEIGHTS,
    MAX_K,
    MAX_QUESTION,
    Fusion,
    Mode,
    SearchOptions,
)

MAX_BODY = 5_000_000  # bytes a request body may have
PAGE = Path(__file__).with_name("page.html")  # no build step, nothing from the internet
NDJSON = "application/x-ndjson"


class Search(BaseModel):
    """A question and how to search for it, as ``ask``'s options."""

    question: str = Field(min_length=1, max_length=MAX_QUESTION)
    k: int = Field(5, ge=1, le=MAX_K)
    mode: Mode = "hybrid"
    fusion: Fusion = "score"
    weights: tuple[float, float] = DEFAULT_WEIGHTS
    source: str | None = None
    since: str | None = None
    until: str | None = None
    around: str | None = None
    spread: bool = True

    def options(self) -> SearchOptions:
        return SearchOptions(
            self.mode,
            self.fusion,
            self.weights,
            Filters(self.source, self.since, self.until),
            self.around,
            self.spread,
        )


class Ask(Search):
    """A question to answer; ``text`` adds what ``ask`` prints, ``width`` columns wide."""

    min_confidence: float | None = Field(None, ge=0.0, le=1.0)
    text: bool = False
    width: int = Field(80, ge=40, le=240)


class Article(BaseModel):
    """An article to add, as a line of a JSONL file (``text`` required)."""

    id: str | None = None
    title: str = ""
    text: str = Field(min_length=1)
    url: str = ""
    source: str = ""
    published: str = ""


def create_app(index: Index, reader: Reader | None = None, token: str | None = None) -> FastAPI:
    """The HTTP app over ``index``, reading with ``reader`` (default: ragnews's own)."""
    app = FastAPI(title="ragnews", version=__version__, summary=__doc__.split("\n")[0])
    chosen = reader or default_reader()

    @app.middleware("http")
    async def cap_body(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        size = request.headers.get("content-length", "0")
        if not size.isdigit() or int(size) > MAX_BODY:
            return _error(413, ["body"], f"a body of at most {MAX_BODY:,} bytes")
        return await call_next(request)

    @app.exception_handler(RagnewsError)
    async def ragnews_error(request: Request, error: RagnewsError) -> Response:
        status = 503 if isinstance(error, IndexStoreError) else 400
        return _error(status, ["body"], str(error))

    def writer(authorization: str | None) -> None:
        if token is not None and not secrets.compare_digest(
            (authorization or "").encode(), f"Bearer {token}".encode()
        ):
            raise HTTPException(401, [_field(["header", "authorization"], "a token is needed")])

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        """The page for asking: one question box, the answer in its paragraph, filters."""
        return PAGE.read_text(encoding="utf-8")

    @app.get("/health")
    def health() -> dict[str, Any]:
        """The server's version and what its index holds."""
        return {
            "status": "ok",
            "version": __version__,
            "articles": len(index.documents),
            "passages": len(index),
        }

    @app.post("/ask")
    def ask(request: Ask) -> dict[str, Any]:
        """The answer and its grounding passages: the object ``ask --json`` prints."""
        view = index.pinned()  # the version this question is answered and shown from
        [result] = ask_many(
            view,
            [request.question],
            request.k,
            chosen,
            options=request.options(),
            min_confidence=request.min_confidence,
        )
        out = to_json(result)
        if request.text:
            buffer = io.StringIO()
            show(result, view, Console(file=buffer, width=request.width, highlight=False))
            out["text"] = buffer.getvalue()
        return out

    @app.post("/search")
    def search(request: Search) -> dict[str, Any]:
        """The passages for a question, without reading them."""
        hits = index.search(request.question, request.k, request.options())
        passages = to_json(_unread(request.question, hits))["passages"]
        return {"question": request.question, "passages": passages}

    @app.post("/articles")
    async def add(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        """Add articles (replacing those whose id is known with new text)."""
        writer(authorization)
        documents = await _articles(request)
        report = index.add(documents)
        return {
            "added": report.added,
            "replaced": report.replaced,
            "unchanged": report.unchanged,
            "aliased": [list(pair) for pair in report.aliased],
        }

    @app.delete("/articles")
    def delete(
        ids: Annotated[list[str] | None, Query()] = None,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        """Delete articles by id, or every article the filters match."""
        writer(authorization)
        by_filter = any(v is not None for v in (source, since, until))
        if bool(ids) == by_filter:
            raise HTTPException(422, [_field(["query"], "give either ids or source/since/until")])
        removed = index.delete(ids or []) if ids else index.delete_where(source, since, until)
        return {"deleted": list(removed)}

    @app.get("/articles/{doc_id}")
    def article(doc_id: str) -> dict[str, Any]:
        """One article, with the ids of the near-duplicates kept as its aliases."""
        doc = index.all_documents.get(doc_id)
        if doc is None:
            raise HTTPException(404, [_field(["path", "doc_id"], f"no article {doc_id!r}")])
        return {
            "id": doc.id,
            "title": doc.title,
            "text": doc.text,
            "source": doc.source,
            "url": doc.url,
            "published": doc.published,
            "alias_of": index.alias_of(doc.id),
            "aliases": list(index.aliases(doc.id)),
        }

    return app


async def _articles(request: Request) -> list[Document]:
    """The articles of a request: JSONL (``application/x-ndjson``) or a JSON list."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith(NDJSON):
        try:
            loaded = load_jsonl(body.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise HTTPException(400, [_field(["body"], "not UTF-8")]) from e
        if loaded.errors:
            raise HTTPException(
                422, [_field(["body", e.line or 0], e.reason) for e in loaded.errors]
            )
        return loaded.documents
    try:
        articles = [Article.model_validate(a) for a in _json_list(body)]
    except ValueError as e:
        raise HTTPException(422, [_field(["body"], str(e).splitlines()[0])]) from e
    return load_jsonl("\n".join(a.model_dump_json() for a in articles)).documents


def _json_list(body: bytes) -> list[Any]:
    value = json.loads(body)
    if not isinstance(value, list):
        raise ValueError("expected a JSON list of articles")
    return value


def _unread(question: str, hits: list[Hit]) -> Result:
    """Passages found but not read: a result with no answer (the search endpoint's)."""
    return Result(question, False, (), tuple(hits))


def _field(location: list[str | int], message: str) -> dict[str, Any]:
    return {"loc": location, "msg": message}


def _error(status: int, location: list[str | int], message: str) -> JSONResponse:
    return JSONResponse({"detail": [_field(location, message)]}, status_code=status)
