from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import faiss
import pytest
import torch
import transformers
from transformers import BertConfig, BertForQuestionAnswering, PreTrainedTokenizerFast

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# the demo index goes to the user's data folder: a fresh one for the tests
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="ragnews-tests-")

from ragnews import Document, Embedder, Index, load_documents  # noqa: E402

transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # as the CLI is
from ragnews.ingest.chunking import ChunkSettings  # noqa: E402
from ragnews.reading.reader import CALIBRATION_FILE, Reader  # noqa: E402
from ragnews.search.embedding import BASE_MODEL, resolve_model  # noqa: E402
from ragnews.search.lexical import Lexical  # noqa: E402
from ragnews.search.vector_store import FaissStore  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "ragnews" / "data" / "demo"
SHARED = ROOT.parent / "shared"
PARAGRAPHS = ChunkSettings(min_tokens=0)  # one passage per paragraph: no packing
# Words that tokenizers split in awkward places: quotes, accents, dashes, long words.
WORDS = [
    "Netanyahu",
    "canceled",
    "the",
    "delegation",
    "“talks,”",
    "U.S.",
    "2024",
    "é",
    "—",
    "Washington.",
    "x" * 30,
    "said",
    "Indyk",
]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder.load()


@pytest.fixture(scope="session")
def base_embedder() -> Embedder:
    """all-MiniLM-L6-v2, which the default model was fine-tuned from, in fp32."""
    return Embedder.load(BASE_MODEL, precision="fp32")


@pytest.fixture(scope="session")
def demo_doc() -> Document:
    return load_documents([DEMO]).documents[0]


@pytest.fixture(scope="session")
def saved_archive(
    tmp_path_factory: pytest.TempPathFactory, archive_docs: list[Document], embedder: Embedder
) -> Path:
    """The archive indexed once, on disk, a passage per paragraph (``PARAGRAPHS``) so that
    searches have many passages to rank; tests that change it work on a copy."""
    path = tmp_path_factory.mktemp("saved") / "archive"
    Index.build(archive_docs, path, embedder=embedder, chunking=PARAGRAPHS)
    return path


@pytest.fixture(scope="session")
def archive_docs() -> list[Document]:
    """A small archive written for the tests: three sources, dated articles and one undated."""
    return load_documents([ROOT / "tests" / "fixtures" / "archive.jsonl"]).documents


@pytest.fixture(scope="session")
def tokenizer() -> PreTrainedTokenizerFast:
    loaded: PreTrainedTokenizerFast = PreTrainedTokenizerFast.from_pretrained(
        resolve_model(BASE_MODEL)
    )
    return loaded


def save_tiny_reader(path: Path, positions: int = 128) -> Path:
    """A 2-layer BERT with a random span head, saved as any local checkpoint would be, for
    inputs of up to ``positions`` word pieces."""
    torch.manual_seed(0)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(resolve_model(BASE_MODEL))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=positions,
    )
    BertForQuestionAnswering(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    calibration = {"max_length": 48, "stride": 16, "threshold": 0.0}  # never abstains
    (path / CALIBRATION_FILE).write_text(json.dumps(calibration))
    return path


@pytest.fixture(scope="session")
def tiny_reader(tmp_path_factory: pytest.TempPathFactory) -> Reader:
    return Reader.load(save_tiny_reader(tmp_path_factory.mktemp("tiny-reader")))


def faiss_of(index: Index) -> faiss.Index:
    """The FAISS index of an index kept in a folder."""
    vectors = index._snapshot.vectors
    assert isinstance(vectors, FaissStore)
    return vectors.faiss_index


def lexical_of(index: Index) -> Lexical:
    """ragnews's own BM25 of an index kept in a folder."""
    lexical = index._snapshot.lexical
    assert lexical is not None
    return lexical
