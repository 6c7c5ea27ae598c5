"""BM25 over an index's passages: built with bm25s, saved as ``.npy`` + JSON, scored with numpy.

bm25s tokenises the passages (lowercase, English stopwords, Snowball English stemmer) and
precomputes every term's BM25 score in every passage (Lucene variant, k1=1.5, b=0.75) as a
sparse matrix with one column per term. A question's scores are the sums of its terms'
columns, so searching needs only the tokenizer and numpy. Terms are numbered in sorted order:
the same passages in the same order always give the same matrix. Nothing is pickled.

In an index version directory::

    bm25.data.npy      scores of the matrix's stored entries (float32, CSC order)
    bm25.indices.npy   passage row of each entry (int32)
    bm25.indptr.npy    where each term's column starts in data/indices (int64, terms + 1)
    bm25.terms.json    the terms, sorted; a term's column is its position

Example:
    >>> lexical = Lexical.build(["The bridge reopened on Friday.", "A storm cut power."])
    >>> [round(float(s), 3) for s in lexical.scores("When did the bridges reopen?")]
    [0.555, 0.0]
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ragnews.errors import IndexMismatchError

FILES = ("bm25.data.npy", "bm25.indices.npy", "bm25.indptr.npy", "bm25.terms.json")
_METHODS = ("lucene", "robertson", "atire")  # bm25s's variants without a non-occurrence term


@dataclass(frozen=True)
class LexicalSettings:
    """How passages become terms and terms become scores; kept in the index's manifest.

    ``titles``: a passage's terms include its article's title (a headline or an entity's name
    says what every paragraph is about: BEIR dbpedia nDCG@10 0.332 -> 0.368).
    """

    titles: bool = True
    stopwords: str = "en"
    stemmer: str | None = "english"
    k1: float = 1.5
    b: float = 0.75
    method: str = "lucene"

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            raise ValueError(f"BM25 method {self.method!r} is not one of {_METHODS}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class Lexical:
    """The BM25 matrix of ``rows`` passages: column ``terms[t]`` holds term ``t``'s scores."""

    settings: LexicalSettings
    terms: dict[str, int]
    data: npt.NDArray[np.float32]
    indices: npt.NDArray[np.int32]
    indptr: npt.NDArray[np.int64]
    rows: int

    @classmethod
    def build(cls, texts: Sequence[str], settings: LexicalSettings | None = None) -> Lexical:
        """Tokenise ``texts`` (one per row) and compute their BM25 matrix."""
        import bm25s

        settings = settings or LexicalSettings()
        tokens = tokenize(texts, settings)
        terms = {t: i for i, t in enumerate(sorted({t for doc in tokens for t in doc}))}
        if not terms:  # no passage holds a word that counts: every score is 0
            no_entries = np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int32)
            return cls(settings, {}, *no_entries, np.zeros(1, dtype=np.int64), len(texts))
        bm25 = bm25s.BM25(k1=settings.k1, b=settings.b, method=settings.method)
        ids = [[terms[t] for t in doc] for doc in tokens]
        bm25.index((ids, terms), create_empty_token=False, show_progress=False)
        return cls(
            settings,
            terms,
            np.asarray(bm25.scores["data"], dtype=np.float32),
            np.asarray(bm25.scores["indices"], dtype=np.int32),
            np.asarray(bm25.scores["indptr"], dtype=np.int64),
            len(texts),
        )

    def scores(self, question: str) -> npt.NDArray[np.float32]:
        """The BM25 score of every row for ``question`` (0 where no term is shared)."""
        out = np.zeros(self.rows, dtype=np.float32)
        for term in tokenize([question], self.settings)[0]:
            column = self.terms.get(term)
            if column is not None:
                start, end = self.indptr[column], self.indptr[column + 1]
                out[self.indices[start:end]] += self.data[start:end]  # rows unique per column
        return out

    def save(self, directory: Path) -> None:
        """Write the four files into ``directory``."""
        data, indices, indptr, terms = (directory / name for name in FILES)
        np.save(data, self.data, allow_pickle=False)
        np.save(indices, self.indices, allow_pickle=False)
        np.save(indptr, self.indptr, allow_pickle=False)
        terms.write_text(json.dumps(list(self.terms), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, settings: LexicalSettings, rows: int) -> Lexical:
        """Read what ``save`` wrote, checking that it describes ``rows`` passages."""
        data, indices, indptr = (np.load(directory / n, allow_pickle=False) for n in FILES[:3])
        names = json.loads((directory / FILES[3]).read_text(encoding="utf-8"))
        consistent = (
            indptr.shape == (len(names) + 1,)
            and int(indptr[0]) == 0
            and int(indptr[-1]) == len(data) == len(indices)
            and (not len(indices) or 0 <= int(indices.min()) <= int(indices.max()) < rows)
        )
        if not consistent:
            raise IndexMismatchError(f"{directory}: the BM25 files do not match {rows} passages")
        terms = {t: i for i, t in enumerate(names)}
        return cls(settings, terms, data, indices, indptr, rows)


def tokenize(texts: Sequence[str], settings: LexicalSettings) -> list[list[str]]:
    """bm25s's tokenizer (words of 2+ letters or digits, lowercased) with the settings' stopwords
    and stemmer.

    Example:
        >>> tokenize(["The bridges reopened on Friday."], LexicalSettings())
        [['bridg', 'reopen', 'friday']]
    """
    import bm25s

    tokens: list[list[str]] = bm25s.tokenize(
        list(texts),
        lower=True,
        stopwords=settings.stopwords,
        stemmer=_stemmer(settings.stemmer),
        return_ids=False,
        show_progress=False,
    )
    return tokens


@functools.cache
def _stemmer(language: str | None) -> Any:
    if language is None:
        return None
    import Stemmer

    return Stemmer.Stemmer(language)
