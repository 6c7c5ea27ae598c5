from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from ragnews import Document, Embedder, load_documents  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "ragnews" / "data" / "demo"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder.load()


@pytest.fixture(scope="session")
def demo_doc() -> Document:
    return load_documents([DEMO]).documents[0]


@pytest.fixture(scope="session")
def archive_docs() -> list[Document]:
    """A small archive written for the tests: three sources, dated articles and one undated."""
    return load_documents([ROOT / "tests" / "fixtures" / "archive.jsonl"]).documents
