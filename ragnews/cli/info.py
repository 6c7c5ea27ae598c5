"""What an index holds, for ``ragnews info``: counts, model, settings, size, newest articles.

Example:
    >>> summary = describe(Index.open("indexes/mynews"))  # doctest: +SKIP
    >>> summary["counts"]  # doctest: +SKIP
    {'articles': 1565, 'aliases': 21, 'passages': 71335, 'quotations': 9120}
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from ragnews.index.index import Index

NEWEST = 5


def describe(index: Index) -> dict[str, Any]:
    """The index's manifest facts, its counts and size, and its newest articles."""
    manifest = index.manifest
    dated = sorted(index.documents.values(), key=lambda d: (d.published, d.id), reverse=True)
    return {
        "path": index.location,
        "version": index.version,
        "format_version": manifest["format_version"],
        "ragnews_version": manifest["ragnews_version"],
        "model": manifest["model"],
        "chunking": manifest["chunking"],
        "vectors": manifest["vectors"],
        "counts": {
            "articles": len(index.documents),
            "aliases": len(index.all_documents) - len(index.documents),
            "passages": len(index),
            "quotations": sum(len(index.quotes(d)) for d in index.documents),
        },
        "bytes": index.home.size(),
        "created": manifest["created"],
        "updated": manifest["updated"],
        "newest": [
            {"id": d.id, "published": d.published, "source": d.source, "title": d.title}
            for d in dated[:NEWEST]
        ],
    }


def show_info(summary: dict[str, Any], console: Console) -> None:
    """``describe``'s facts as two tables that fit 80 columns."""
    counts = summary["counts"]
    built = summary["vectors"].get("built", {})
    facts = Table(show_header=False, box=None, pad_edge=False)
    facts.add_column(style="bold")
    facts.add_column(overflow="fold")
    for name, value in [
        ("index", f"{summary['path']} ({summary['version']}, format {summary['format_version']})"),
        ("articles", f"{counts['articles']:,} (+{counts['aliases']:,} kept as aliases)"),
        ("passages", f"{counts['passages']:,}; {counts['quotations']:,} quotations"),
        ("size", f"{summary['bytes'] / 1e6:,.1f} MB"),
        ("model", f"{summary['model']['name']} ({summary['model']['dimension']} dimensions)"),
        ("passages of", f"at most {summary['chunking']['max_tokens']} tokens"),
        ("vectors", f"{summary['vectors']['kind']} (built: {built.get('type', '?')})"),
        ("updated", f"{summary['updated']} (created {summary['created']})"),
    ]:
        facts.add_row(name, value)
    console.print(facts)
    newest = Table(title="Newest articles", title_justify="left", expand=False)
    for column in ("published", "source", "title"):
        newest.add_column(column, overflow="fold", max_width=44 if column == "title" else 18)
    for article in summary["newest"]:
        newest.add_row(article["published"] or "-", article["source"] or "-", article["title"])
    console.print(newest)
