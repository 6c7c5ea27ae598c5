"""``ragnews info`` describes an index in 80 columns, or as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from ragnews import Document, Embedder, Index
from ragnews.cli.commands import app
from ragnews.cli.info import describe, show_info

runner = CliRunner()


def test_info_counts_settings_size_and_newest_articles(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder
) -> None:
    index = Index.build(archive_docs, tmp_path / "archive", embedder=embedder)
    result = runner.invoke(app, ["info", "--index", str(index.path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["counts"]["passages"] == len(index)
    assert summary["counts"]["articles"] + summary["counts"]["aliases"] == len(archive_docs)
    assert summary["model"]["name"] == "ragnews-minilm-qa" and summary["bytes"] > 10_000
    dates = [a["published"] for a in summary["newest"]]
    assert dates == sorted(dates, reverse=True) and dates[0] == max(
        d.published for d in archive_docs
    )
    console = Console(width=80, record=True)
    show_info(describe(index), console)
    text = console.export_text()
    assert "Newest articles" in text and f"{len(index):,}" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    missing = runner.invoke(app, ["info", "--index", str(tmp_path / "none")])
    assert missing.exit_code == 3 and "no ragnews index" in missing.stderr
