"""The FAISS index that holds an index's passage vectors, its type chosen by corpus size.

Vectors are normalised, so inner product is cosine similarity. Up to ``EXACT_LIMIT`` vectors
the index is exact (``IndexFlatIP``): a query scans every vector, 1.7 ms at 30,000 on one
core, 6.8 ms at 50,000. Above it the index is ``IndexIVFFlat`` (inverted lists, ``nlist``
about the square root of the number of vectors, trained on evenly spaced rows), which
``benchmarks/scale.py`` measured 7x faster to build than HNSW at 1,000,000 vectors (every
save rebuilds it), smaller, and as fast to search at the same recall; ``IndexHNSWFlat``
(M=32) is there by hand. The search breadth (IVF ``nprobe``,
HNSW ``efSearch``) is chosen from the data: ``CALIBRATION`` evenly spaced vectors are asked
for their 10 nearest others and the breadth doubles until the approximate answer holds
``RECALL_TARGET`` of the exact one.

Every build of the same vectors in the same order gives the same flat and IVF index (k-means
starts from a fixed seed), so an updated index equals one rebuilt from scratch. An HNSW graph
built on several threads depends on their timing: its searches are approximate and may differ
slightly from a rebuilt graph's.

Example:
    >>> import numpy as np
    >>> rows = np.eye(4, 8, dtype=np.float32)
    >>> index = build_vectors(rows, 8, VectorSettings())
    >>> describe(index)
    {'type': 'flat'}
    >>> scores, found = search_vectors(index, rows[2:3], 2, allowed=np.array([1, 0, 1, 1], bool))
    >>> found.tolist()
    [[2, 0]]
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from ragnews.search.options import KINDS, Kind

EXACT_LIMIT = 30_000  # flat p50: 1.7 ms at 30k x 384-d, 6.8 ms at 50k (RESULTS.md, "Scale")
RECALL_TARGET = 0.95
CALIBRATION = 200  # vectors asked for their neighbours when choosing nprobe / efSearch
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_LIMIT = 1024
TRAIN_PER_LIST = 64  # IVF k-means trains on at most this many vectors per list

Vectors = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class VectorSettings:
    """Which FAISS index holds the vectors; kept in the manifest, so updates keep it.

    ``kind`` ``auto`` is exact up to ``exact_limit`` vectors and IVF above; ``flat``, ``ivf``
    and ``hnsw`` force a type whatever the size. ``nlist``, ``nprobe``, ``ef_search`` (0 =
    chosen from the data) and ``hnsw_m`` fix the approximate indexes' parameters by hand.

    Example:
        >>> VectorSettings().resolve(10_000), VectorSettings().resolve(2_000_000)
        ('flat', 'ivf')
        >>> VectorSettings(kind="hnsw").resolve(10)
        'hnsw'
    """

    kind: Kind = "auto"
    exact_limit: int = EXACT_LIMIT
    recall_target: float = RECALL_TARGET
    nlist: int = 0
    nprobe: int = 0
    ef_search: int = 0
    hnsw_m: int = HNSW_M

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"vector index kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if not 0 < self.recall_target <= 1:
            raise ValueError(f"recall_target must be in (0, 1], not {self.recall_target}")

    def resolve(self, count: int) -> Kind:
        """The index type for ``count`` vectors."""
        if self.kind != "auto":
            return self.kind
        return "flat" if count <= self.exact_limit else "ivf"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> VectorSettings:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in saved.items() if k in names})


def build_vectors(vectors: Vectors, dimension: int, settings: VectorSettings) -> faiss.Index:
    """A FAISS index of ``vectors`` (rows in order) of the type ``settings`` gives their count."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    count = len(vectors)
    kind = settings.resolve(count)
    if kind == "flat" or count == 0:
        flat = faiss.IndexFlatIP(dimension)
        if count:
            flat.add(vectors)
        return flat
    if kind == "hnsw":
        hnsw = faiss.IndexHNSWFlat(dimension, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        hnsw.add(vectors)
        hnsw.hnsw.efSearch = settings.ef_search or _calibrate(hnsw, vectors, settings)
        return hnsw
    nlist = settings.nlist or max(1, round(math.sqrt(count)))
    nlist = min(nlist, count)
    quantizer = faiss.IndexFlatIP(dimension)
    ivf = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.seed = 1234
    train = vectors[_spaced(count, TRAIN_PER_LIST * nlist)]
    ivf.train(train)
    ivf.add(vectors)
    ivf.make_direct_map()  # rows can be read back (updates rebuild from them)
    ivf.nprobe = settings.nprobe or _calibrate(ivf, vectors, settings)
    return ivf


def describe(index: faiss.Index) -> dict[str, Any]:
    """The index's type and search parameters, as the manifest records them."""
    if isinstance(index, faiss.IndexHNSWFlat):
        m = int(index.hnsw.nb_neighbors(1))  # type: ignore[attr-defined]
        return {"type": "hnsw", "M": m, "ef_search": int(index.hnsw.efSearch)}
    if isinstance(index, faiss.IndexIVFFlat):
        return {"type": "ivf", "nlist": int(index.nlist), "nprobe": int(index.nprobe)}
    return {"type": "flat"}


def all_vectors(index: faiss.Index) -> Vectors:
    """Every vector in the index, in row order."""
    if index.ntotal == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return np.asarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)


def search_vectors(
    index: faiss.Index,
    queries: Vectors,
    k: int,
    allowed: Mask | None = None,
    exact_below: int = EXACT_LIMIT,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """The ``k`` allowed rows of highest inner product with each query (FAISS's arrays).

    Rows missing are ``-1``. With a filter an approximate search can find fewer than ``k``
    allowed rows (they sit outside the lists or graph region it visits); those queries are
    searched again exactly, so ``min(k, allowed rows)`` come back. A filter that leaves at
    most ``exact_below`` rows is searched exactly from the start: as fast as a flat index of
    that size, and complete.
    """
    bits = None if allowed is None else np.packbits(allowed, bitorder="little")
    selector = None if bits is None else faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))
    reachable = index.ntotal if allowed is None else int(allowed.sum())
    want = min(k, reachable)
    exact = isinstance(index, faiss.IndexFlat) or (allowed is not None and reachable <= exact_below)
    target, params = _exact(index, selector) if exact else (index, _params(index, selector, k))
    scores, rows = target.search(queries, k, params=params)
    short = np.count_nonzero(rows >= 0, axis=1) < want
    if short.any():
        target, params = _exact(index, selector)
        scores[short], rows[short] = target.search(queries[short], k, params=params)
    return scores, rows


def _params(
    index: faiss.Index, selector: faiss.IDSelector | None, k: int
) -> faiss.SearchParameters:
    if isinstance(index, faiss.IndexHNSWFlat):
        params = _breadth(index, max(int(index.hnsw.efSearch), k))
    elif isinstance(index, faiss.IndexIVFFlat):
        params = _breadth(index, int(index.nprobe))
    else:
        params = faiss.SearchParameters()
    return _selecting(params, selector)


def _selecting(
    params: faiss.SearchParameters, selector: faiss.IDSelector | None
) -> faiss.SearchParameters:
    """``params``, limited to the rows ``selector`` allows (all rows without one)."""
    if selector is not None:
        params.sel = selector
    return params


def _breadth(index: faiss.Index, breadth: int) -> faiss.SearchParameters:
    """Search parameters that visit ``breadth`` IVF lists or keep ``breadth`` HNSW candidates."""
    if isinstance(index, faiss.IndexIVFFlat):
        ivf = faiss.SearchParametersIVF()
        ivf.nprobe = breadth
        return ivf
    hnsw = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # missing from the stubs
    hnsw.efSearch = breadth
    return hnsw  # type: ignore[no-any-return]


def _exact(
    index: faiss.Index, selector: faiss.IDSelector | None
) -> tuple[faiss.Index, faiss.SearchParameters]:
    """An exact search over the same vectors: the flat storage, or IVF probing every list."""
    if isinstance(index, faiss.IndexHNSWFlat):
        index = faiss.downcast_index(index.storage)
    if isinstance(index, faiss.IndexIVFFlat):
        params = _breadth(index, int(index.nlist))
    else:
        params = faiss.SearchParameters()
    return index, _selecting(params, selector)


def _calibrate(index: faiss.Index, vectors: Vectors, settings: VectorSettings) -> int:
    """The smallest power-of-two breadth whose recall@10 on the data reaches the target."""
    count = len(vectors)
    rows = _spaced(count, CALIBRATION)
    k = min(11, count)  # each sample vector finds itself: ask one deeper and drop it
    _, truth = faiss.knn(vectors[rows], vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
    breadth, limit = 16, HNSW_EF_LIMIT
    if isinstance(index, faiss.IndexIVFFlat):
        breadth, limit = 1, int(index.nlist)
    while True:
        _, found = index.search(vectors[rows], k, params=_breadth(index, breadth))
        if breadth >= limit or _recall(found, truth, rows) >= settings.recall_target:
            return min(breadth, limit)
        breadth *= 2


def _recall(found: npt.NDArray[np.int64], truth: npt.NDArray[np.int64], rows: Any) -> float:
    hits = 0
    wanted = 0
    for own, got, want in zip(rows, found, truth, strict=True):
        expected = [r for r in want if r != own][:10]
        hits += len(set(expected) & {r for r in got if r != own})
        wanted += len(expected)
    return hits / max(wanted, 1)


def _spaced(count: int, most: int) -> npt.NDArray[np.int64]:
    """At most ``most`` evenly spaced rows of ``count`` (all of them when that is fewer)."""
    if count <= most:
        return np.arange(count, dtype=np.int64)
    return np.linspace(0, count - 1, most).astype(np.int64)
