from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragnews import DocumentError, load_documents
from ragnews.ingest.documents import document_id
from tests.conftest import DEMO


def test_demo_article_loads_with_its_paragraphs() -> None:
    loaded = load_documents([DEMO])
    assert loaded.errors == []
    [doc] = loaded.documents
    assert len(doc.paragraph_spans) == 31
    third = doc.text[slice(*doc.paragraph_spans[2])]
    assert third.startswith("In response, Prime Minister Netanyahu")
    assert doc.id == document_id(doc.text)


def test_jsonl_keeps_metadata_and_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "news.jsonl"
    lines = [
        json.dumps(
            {
                "id": "a",
                "title": "A",
                "text": "Alpha text.",
                "url": "u",
                "source": "S",
                "published": "2024-03-01T10:00:00Z",
            }
        ),
        "{not json",
        json.dumps({"id": "b", "title": "B"}),
        "",
        json.dumps({"title": "C", "text": "Gamma text.", "published": "yesterday"}),
        json.dumps({"title": "D", "text": "Delta text."}),
        json.dumps({"id": "a", "text": "Alpha again."}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = load_documents([path])
    assert [(d.id, d.title, d.published) for d in loaded.documents] == [
        ("a", "A", "2024-03-01"),
        (document_id("Gamma text."), "C", ""),
        (document_id("Delta text."), "D", ""),
    ]
    assert loaded.documents[0].source == "S" and loaded.documents[0].url == "u"
    assert [(e.line, e.reason.split(" at column")[0]) for e in loaded.errors] == [
        (2, "malformed JSON"),
        (3, "missing or empty 'text'"),
        (7, "duplicate id 'a'"),
    ]
    assert [(w.line, w.reason) for w in loaded.warnings] == [
        (5, "'published' is not an ISO date: 'yesterday'; indexed without a date")
    ]
    assert all(e.path == str(path) for e in loaded.errors)
    assert str(loaded.errors[0]) == f"{path}:2: malformed JSON at column 2: " + (
        "Expecting property name enclosed in double quotes"
    )


def test_bad_files_are_named_and_good_files_still_load(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Headline here\nThe body of the story.\n")
    (tmp_path / "empty.md").write_text("  \n\n")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "latin1.txt").write_bytes("First line\nCaf\xe9 au lait\n".encode("latin-1"))
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    loaded = load_documents([tmp_path, tmp_path / "missing.txt"])
    assert [d.title for d in loaded.documents] == ["Headline here", "First line"]
    assert "Café au lait" in loaded.documents[1].text  # read in the encoding detected
    [warning] = loaded.warnings
    assert warning.path.endswith("latin1.txt") and warning.reason.startswith("not UTF-8: read as")
    reasons = {Path(e.path).name: (e.reason, e.line) for e in loaded.errors}
    assert reasons == {
        "binary.txt": ("binary file, not text", None),
        "empty.md": ("empty file", None),
        "notes.pdf": ("unsupported file type '.pdf'", None),
        "missing.txt": ("no such file or directory", None),
    }


def test_markdown_title_and_html_main_text(tmp_path: Path) -> None:
    (tmp_path / "story.md").write_text("# Port strike ends\n\nDock workers returned on Monday.\n")
    html = (
        "<html><head><title>Strike ends | Daily</title></head><body><nav>Home | World</nav>"
        "<article><h1>Port strike ends</h1><p>Dock workers returned to work on Monday after a"
        " ten-day strike over pay that had stranded forty ships in the harbour.</p><p>The union"
        " said members voted by a wide margin to accept a raise of six percent over two years."
        "</p></article><footer>Copyright</footer></body></html>"
    )
    (tmp_path / "story.html").write_text(html)
    docs = {Path(d.origin).suffix: d for d in load_documents([tmp_path]).documents}
    assert docs[".md"].title == "Port strike ends"
    assert "Dock workers returned to work on Monday" in docs[".html"].text
    assert "Copyright" not in docs[".html"].text and "Home | World" not in docs[".html"].text


def test_error_message_names_file_and_line() -> None:
    assert str(DocumentError("x.jsonl", "missing or empty 'text'", 4)) == (
        "x.jsonl:4: missing or empty 'text'"
    )


@pytest.mark.parametrize(
    ("head", "published"),
    [
        ("", ""),  # only a copyright line: no date, never the copyright's year
        ('<meta property="article:published_time" content="2023-05-02T10:00:00Z">', "2023-05-02"),
        (
            '<script type="application/ld+json">{"@type": "NewsArticle", '
            '"datePublished": "2022-11-30"}</script>',
            "2022-11-30",
        ),
    ],
)
def test_html_dates_come_from_metadata_only(tmp_path: Path, head: str, published: str) -> None:
    html = (
        f"<html><head><title>Storm hits coast</title>{head}</head><body><article>"
        "<h1>Storm hits coast</h1><p>A storm hit the coast on Monday, cutting power to thousands"
        " of homes across the region, officials said.</p><p>Crews worked through the night to"
        " restore power to the worst-hit towns.</p></article>"
        "<footer>Copyright 2024 Valley Times</footer></body></html>"
    )
    (tmp_path / "storm.html").write_text(html)
    loaded = load_documents([tmp_path / "storm.html"])
    assert loaded.documents[0].published == published
    missing = [w.reason for w in loaded.warnings]
    assert missing == ([] if published else ["no publication date in its metadata; none indexed"])
