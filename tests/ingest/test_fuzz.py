"""Whatever bytes a file holds, loading reports it or reads it: nothing escapes as a traceback
and every article read has text."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragnews import DocumentError, load_documents

SUFFIXES = st.sampled_from([".txt", ".md", ".html", ".jsonl"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
RECORDS = st.dictionaries(
    st.sampled_from(["id", "title", "text", "url", "source", "published", "other"]),
    JSON_VALUES | st.text(max_size=60),
)


def check(path: Path) -> None:
    loaded = load_documents([path])
    for doc in loaded.documents:
        assert doc.text.strip() and doc.id
        assert all(doc.text[s:e] for s, e in doc.paragraph_spans)
    for problem in [*loaded.errors, *loaded.warnings]:
        assert isinstance(problem, DocumentError) and problem.path == str(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2000), suffix=SUFFIXES)
def test_random_bytes_are_read_or_reported(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        check(path)


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(RECORDS | JSON_VALUES | st.text(max_size=40), max_size=6))
def test_random_jsonl_is_read_or_reported_line_by_line(lines: list[object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.jsonl"
        path.write_text(
            "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines), encoding="utf-8"
        )
        check(path)


TAGS = st.sampled_from(["p", "div", "article", "h1", "time", "script", "meta", "footer", "span"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(st.tuples(TAGS, st.text(max_size=80), st.booleans()), min_size=1, max_size=12)
)
def test_random_html_is_read_or_reported(parts: list[tuple[str, str, bool]]) -> None:
    body = "".join(f"<{t}>{text}" + (f"</{t}>" if closed else "") for t, text, closed in parts)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.html"
        path.write_text(f"<html><head><title>T</title></head><body>{body}</body></html>")
        check(path)
