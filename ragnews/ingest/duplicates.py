"""Near-duplicate articles (a story re-headlined, trimmed or re-wrapped) and repeated passages.

An article's text becomes the set of its 5-word shingles (case-folded words; punctuation,
line breaks and the title play no part), sketched by a 128-permutation MinHash (datasketch).
Two articles are near-duplicates when their sketches agree on at least ``threshold`` (0.7) of
the permutations, an estimate of the shingle sets' Jaccard similarity: a wire story with one of
six paragraphs trimmed measured 0.84 (median), two stories sharing two of six paragraphs at
most 0.48 (``benchmarks/duplicates.py``). Candidates come from LSH bands (count and width
chosen by datasketch for a 2% weight on false positives), kept as sorted numpy arrays: an
article is compared with the few others that share a band, never with the whole archive.
(datasketch's own ``MinHashLSH`` took 7 s to insert 100,000 signatures here, on every save.)

Of each group of near-duplicates one article is kept (indexed); the others are its *aliases*.
Articles are visited longest first (most words), then earliest published (dated before
undated), then by id; each becomes an alias of the first kept article it near-duplicates, or
is kept. The grouping depends only on the set of articles, never on the order they came in:
an index changed by any sequence of adds and deletes groups like one rebuilt from scratch, and
deleting a kept article promotes the alias that would have been kept without it.

Example:
    >>> settings = DuplicateSettings()
    >>> story = " ".join(f"Paragraph {i} of the wire story says something new." for i in range(12))
    >>> trimmed = story.rsplit(" Paragraph", 1)[0]
    >>> similarity(settings.signature(story), settings.signature(trimmed)) >= settings.threshold
    True
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ragnews.errors import IndexMismatchError
from ragnews.records import Document

FILE = "minhash.npy"
Signature = npt.NDArray[np.uint32]
_WORD = re.compile(r"\w+")
_SCHEME = "affine32"  # datasketch's bijective 32-bit permutations: values fit uint32


@dataclass(frozen=True)
class DuplicateSettings:
    """How articles are compared; kept in the index's manifest."""

    threshold: float = 0.7
    shingle: int = 5
    num_perm: int = 128
    seed: int = 1

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ValueError(f"duplicate threshold must be in (0, 1], got {self.threshold}")
        if self.shingle < 1 or self.num_perm < 8:
            raise ValueError("a shingle needs at least 1 word and a MinHash 8 permutations")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def signature(self, text: str) -> Signature:
        """The MinHash of ``text``'s shingles (``num_perm`` uint32 values)."""
        from datasketch import MinHash  # imported on first use: it costs searches 0.3 s

        minhash = MinHash(
            self.num_perm, self.seed, permutations=_permutations(self), scheme=_SCHEME
        )
        minhash.update_batch([s.encode("utf-8") for s in shingles(text, self.shingle)])
        return np.asarray(minhash.hashvalues, dtype=np.uint32)

    @functools.cached_property
    def bands(self) -> tuple[int, int]:
        """LSH ``(bands, rows per band)``: at the threshold a pair shares a band with p > 0.98."""
        from datasketch import MinHashLSH

        lsh = MinHashLSH(self.threshold, self.num_perm, weights=(0.02, 0.98))
        return int(lsh.b), int(lsh.r)


@functools.cache
def _permutations(settings: DuplicateSettings) -> Any:
    from datasketch import MinHash

    return MinHash(settings.num_perm, settings.seed, scheme=_SCHEME).permutations


def words(text: str) -> list[str]:
    """The case-folded words of ``text``: what near-duplicates and repeated passages compare."""
    return _WORD.findall(text.casefold())


def shingles(text: str, size: int) -> set[str]:
    """Every run of ``size`` consecutive words (the whole text when it is shorter).

    Example:
        >>> sorted(shingles("The ferry runs, at dawn.", 3))
        ['ferry runs at', 'runs at dawn', 'the ferry runs']
    """
    found = words(text)
    if len(found) <= size:
        return {" ".join(found) or text.strip()}
    return {" ".join(found[i : i + size]) for i in range(len(found) - size + 1)}


def similarity(a: Signature, b: Signature) -> float:
    """The share of permutations on which two signatures agree (estimated Jaccard)."""
    return float(np.count_nonzero(a == b)) / len(a)


@dataclass(frozen=True)
class Alias:
    """An article not indexed because it near-duplicates the kept article ``of``."""

    document: Document
    of: str


@dataclass(frozen=True, eq=False)
class Duplicates:
    """Every article's signature, kept or alias, and which articles are aliases of which."""

    settings: DuplicateSettings = DuplicateSettings()
    signatures: Mapping[str, Signature] = field(default_factory=dict)
    aliases: Mapping[str, Alias] = field(default_factory=dict)

    def of(self, kept_id: str) -> tuple[str, ...]:
        """The ids of the aliases of the kept article ``kept_id``, sorted."""
        return self._by_kept.get(kept_id, ())

    @functools.cached_property
    def _by_kept(self) -> dict[str, tuple[str, ...]]:
        grouped: dict[str, list[str]] = {}
        for alias_id, alias in sorted(self.aliases.items()):
            grouped.setdefault(alias.of, []).append(alias_id)
        return {k: tuple(v) for k, v in grouped.items()}

    def save(self, directory: Path) -> None:
        """Write the signatures as ``minhash.npy``, one row per article in id order."""
        rows = [self.signatures[i] for i in sorted(self.signatures)]
        matrix = np.stack(rows) if rows else np.zeros((0, self.settings.num_perm), np.uint32)
        np.save(directory / FILE, matrix, allow_pickle=False)

    @classmethod
    def load(
        cls,
        directory: Path,
        settings: DuplicateSettings,
        ids: Sequence[str],
        aliases: dict[str, Alias],
    ) -> Duplicates:
        """Read what ``save`` wrote for the articles ``ids`` (kept and aliases)."""
        matrix = np.load(directory / FILE, allow_pickle=False)
        if matrix.shape != (len(ids), settings.num_perm):
            raise IndexMismatchError(
                f"{directory / FILE}: {matrix.shape} signatures for {len(ids)} articles"
            )
        return cls(settings, dict(zip(sorted(ids), matrix, strict=True)), aliases)


@dataclass(frozen=True)
class Regrouped:
    """The articles after a change, and what the index must do about it.

    ``index``: kept articles to index (new, replaced or promoted); ``unindex``: ids of
    previously kept articles whose passages go (deleted, replaced or demoted); ``aliased``:
    ``(alias, kept)`` pairs that are new or changed, in alias id order.
    """

    duplicates: Duplicates
    index: list[Document]
    unindex: set[str]
    aliased: tuple[tuple[str, str], ...]


def regroup(
    kept: Mapping[str, Document],
    duplicates: Duplicates,
    fresh: Sequence[Document],
    drop: set[str],
) -> Regrouped:
    """Add ``fresh`` articles (replacing any with their id), remove ``drop``, regroup.

    Only the near-duplicate components that the change touches are visited again; every
    other article keeps its place, which is the one a regrouping from scratch gives it.
    """
    settings = duplicates.settings
    incoming = {d.id: d for d in fresh}
    gone = set(drop) | set(incoming)
    articles = {i: d for i, d in kept.items() if i not in gone}
    articles.update({i: a.document for i, a in duplicates.aliases.items() if i not in gone})
    articles.update(incoming)
    signatures = {i: s for i, s in duplicates.signatures.items() if i in articles}
    signatures.update({i: settings.signature(d.text) for i, d in incoming.items()})
    table = _BandTable(settings, signatures)
    seeds = set(incoming)
    for old in gone & duplicates.signatures.keys():
        seeds.update(table.neighbours(duplicates.signatures[old]))
    touched = table.components(seeds)
    aliases = {i: a for i, a in duplicates.aliases.items() if i in articles and i not in touched}
    now_kept = {i for i in kept if i in articles and i not in touched}
    chosen: list[str] = []
    for doc_id in sorted(touched, key=lambda i: _priority(articles[i])):
        near = table.neighbours(signatures[doc_id], doc_id)
        target = next((k for k in chosen if k in near), None)
        if target is None:
            chosen.append(doc_id)
        else:
            aliases[doc_id] = Alias(articles[doc_id], target)
    now_kept.update(chosen)
    index = [d for i, d in incoming.items() if i in now_kept]
    index += [articles[i] for i in sorted(now_kept - set(kept) - set(incoming))]
    changed = (
        (i, a.of)
        for i, a in aliases.items()
        if i in incoming or i not in duplicates.aliases or duplicates.aliases[i].of != a.of
    )
    return Regrouped(
        Duplicates(settings, signatures, aliases),
        index,
        {i for i in kept if i not in now_kept or i in gone},
        tuple(sorted(changed)),
    )


def _priority(doc: Document) -> tuple[int, bool, str, str]:
    return -len(words(doc.text)), not doc.published, doc.published, doc.id


class _BandTable:
    """LSH over signatures: per band, the rows' band hashes sorted for binary search."""

    def __init__(self, settings: DuplicateSettings, signatures: Mapping[str, Signature]) -> None:
        self.threshold = settings.threshold
        self.ids = list(signatures)
        self.signatures = signatures
        bands, width = settings.bands
        rng = np.random.default_rng(0)
        self.mix = rng.integers(1, 2**63, size=(bands, width), dtype=np.uint64) | np.uint64(1)
        self.width = width
        matrix = (
            np.stack([signatures[i] for i in self.ids])
            if self.ids
            else np.zeros((0, settings.num_perm), np.uint32)
        )
        keys = self._keys(matrix)
        self.order = np.argsort(keys, axis=0, kind="stable")
        self.sorted = np.take_along_axis(keys, self.order, axis=0)

    def _keys(self, matrix: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint64]:
        """One 64-bit hash per band per row (equal bands give equal hashes)."""
        bands = len(self.mix)
        used = matrix[:, : bands * self.width].astype(np.uint64)
        shaped = used.reshape(len(matrix), bands, self.width)
        with np.errstate(over="ignore"):  # multiplication modulo 2**64
            keys: npt.NDArray[np.uint64] = (shaped * self.mix).sum(axis=2, dtype=np.uint64)
        return keys

    def neighbours(self, signature: Signature, own_id: str | None = None) -> set[str]:
        """Ids of the articles sharing a band with ``signature`` and similar enough to it."""
        keys = self._keys(signature[None, :])[0]
        rows: set[int] = set()
        for band, key in enumerate(keys):
            column = self.sorted[:, band]
            low, high = np.searchsorted(column, key, "left"), np.searchsorted(column, key, "right")
            rows.update(self.order[low:high, band].tolist())
        found = (self.ids[r] for r in rows)
        return {
            i
            for i in found
            if i != own_id and similarity(signature, self.signatures[i]) >= self.threshold
        }

    def components(self, seeds: set[str]) -> set[str]:
        """Every article joined to a seed by a chain of near-duplicates, seeds included."""
        reached = set(seeds)
        frontier = list(seeds)
        while frontier:
            doc_id = frontier.pop()
            for other in self.neighbours(self.signatures[doc_id], doc_id) - reached:
                reached.add(other)
                frontier.append(other)
        return reached
