"""Repeated media: perceptual hashes within a Hamming threshold (PDQ ≤ 31 bits of 256, the trust-and-safety
convention; pHash ≤ 8 of 64), grouped into connected components; videos grouped by vPDQ frame-set matching.

Scale: `near_pairs` is an exact multi-index hash (Norouzi et al.): the hash is cut into 16-bit words; two
hashes within `d` bits agree within ``d // words`` bits on at least one word (pigeonhole), so each hash only
visits the buckets of its own word values and their bit flips instead of every other hash. A pair is emitted
once, by the first word on which it meets. The kernel is compiled with numba and runs one thread per word.

Examples
--------
>>> a = "f" * 64
>>> b = "e" + "f" * 63          # 1 bit away
>>> c = "0" * 64                # 256 bits away
>>> perceptual_groups(pl.Series([a, b, c]))["group"].to_list()
['efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', 'efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff']
"""

from __future__ import annotations

import hashlib
import itertools
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import polars as pl

__all__ = ["brute_pairs", "components", "hamming_pairs", "near_pairs", "pack_hex", "perceptual_groups",
           "video_groups"]

_EMPTY = {"hash": pl.String(), "group": pl.String()}


def pack_hex(hex_hashes: list[str] | pl.Series) -> np.ndarray:
    """Hex digests (a multiple of 16 hex chars) as an ``(n, words)`` uint64 array, big-endian words.

    >>> pack_hex(["00000000000000010000000000000002"]).tolist()
    [[1, 2]]
    """
    values = list(hex_hashes)
    if not values:
        return np.zeros((0, 4), dtype=np.uint64)
    raw = np.frombuffer(bytes.fromhex("".join(values)), dtype=">u8")
    return raw.reshape(len(values), len(values[0]) // 16).astype(np.uint64)


@numba.njit(cache=True, nogil=True)
def _popcount(x: np.uint64) -> int:  # pragma: no cover - compiled
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@numba.njit(cache=True, nogil=True)
def _word(row: np.ndarray, c: int) -> int:  # pragma: no cover - compiled
    return int((row[c // 4] >> np.uint64(48 - 16 * (c % 4))) & np.uint64(0xFFFF))


@numba.njit(cache=True, nogil=True)
def _chunk_pairs(words: np.ndarray, c: int, max_d: int, big_r: int, r: int,
                 probes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Pairs i < j within `max_d` bits that meet first on 16-bit word `c` (within `r` bits) of 32-bit
    chunk ``c // 2`` (within `big_r` bits); see `near_pairs`."""
    n, nw = words.shape
    keys = np.empty(n, dtype=np.int64)
    for i in range(n):
        keys[i] = _word(words[i], c)
    order = np.argsort(keys, kind="mergesort")
    starts = np.zeros(65537, dtype=np.int64)
    for i in range(n):
        starts[keys[i] + 1] += 1
    for k in range(65536):
        starts[k + 1] += starts[k]
    rows = np.empty((n, nw), dtype=np.uint64)  # rows in bucket order: a bucket is contiguous in memory
    wide = np.empty(n, dtype=np.uint64)  # the 32-bit chunk holding word c, the cheap first filter
    half = 2 * (c // 2)
    for p in range(n):
        rows[p] = words[order[p]]
        wide[p] = np.uint64((_word(rows[p], half) << 16) | _word(rows[p], half + 1))
    cap = 1024
    out_i = np.empty(cap, dtype=np.int64)
    out_j = np.empty(cap, dtype=np.int64)
    m = 0
    for p in range(n):
        key = keys[order[p]]
        for t in range(probes.shape[0]):
            v = key ^ probes[t]
            if v < key:  # the pair is visited from the bucket with the smaller key
                continue
            first = p + 1 if v == key else starts[v]
            for q in range(first, starts[v + 1]):
                if _popcount(wide[p] ^ wide[q]) > big_r:
                    continue
                d = 0
                for w in range(nw):
                    d += _popcount(rows[p, w] ^ rows[q, w])
                if d > max_d:
                    continue
                earlier = False
                for c2 in range(c):
                    h2 = 2 * (c2 // 2)
                    if (_popcount(np.uint64(_word(rows[p], c2) ^ _word(rows[q], c2))) <= r
                            and _popcount(np.uint64(_word(rows[p], h2) ^ _word(rows[q], h2)))
                            + _popcount(np.uint64(_word(rows[p], h2 + 1) ^ _word(rows[q], h2 + 1))) <= big_r):
                        earlier = True
                        break
                if earlier:
                    continue
                if m == cap:
                    cap *= 2
                    grown_i = np.empty(cap, dtype=np.int64)
                    grown_j = np.empty(cap, dtype=np.int64)
                    grown_i[:m] = out_i[:m]
                    grown_j[:m] = out_j[:m]
                    out_i, out_j = grown_i, grown_j
                out_i[m] = min(order[p], order[q])
                out_j[m] = max(order[p], order[q])
                m += 1
    return out_i[:m], out_j[:m]


def near_pairs(words: np.ndarray, *, max_distance: int, threads: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Every index pair ``i < j`` of rows of `words` (``(n, k)`` uint64) within `max_distance` differing bits,
    each exactly once, sorted; the same pairs as `brute_pairs` (tested), sub-quadratic on spread-out hashes.

    Two-level pigeonhole: within distance ``d`` some 32-bit chunk differs in at most ``R = d // chunks``
    bits, and one 16-bit half of that chunk in at most ``R // 2`` (PDQ at 31: 3 and 1).

    >>> w = pack_hex(["f" * 64, "e" + "f" * 63, "0" * 64])
    >>> [p.tolist() for p in near_pairs(w, max_distance=31)]
    [[0], [1]]
    """
    n, nw = words.shape
    big_r = max_distance // (nw * 2)
    r = big_r // 2
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if r > 2:
        return brute_pairs(words, max_distance=max_distance)
    probes = np.array([0] + [sum(1 << b for b in bits) for k in range(1, r + 1)
                             for bits in itertools.combinations(range(16), k)], dtype=np.int64)
    words = np.ascontiguousarray(words, dtype=np.uint64)
    with ThreadPoolExecutor(max(1, threads)) as pool:
        parts = list(pool.map(lambda c: _chunk_pairs(words, c, max_distance, big_r, r, probes), range(nw * 4)))
    ii = np.concatenate([p[0] for p in parts])
    jj = np.concatenate([p[1] for p in parts])
    order = np.lexsort((jj, ii))
    return ii[order], jj[order]


def brute_pairs(words: np.ndarray, *, max_distance: int, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """The reference: blocked all-against-all comparison (numpy popcount), quadratic."""
    out_i: list[np.ndarray] = []
    out_j: list[np.ndarray] = []
    n = len(words)
    for lo in range(0, n, block):
        left = words[lo:lo + block]
        for lo2 in range(lo, n, block):
            right = words[lo2:lo2 + block]
            dist = np.zeros((len(left), len(right)), dtype=np.int32)
            for w in range(words.shape[1]):
                dist += np.bitwise_count(left[:, None, w] ^ right[None, :, w]).astype(np.int32)
            ii, jj = np.nonzero(dist <= max_distance)
            keep = lo + ii < lo2 + jj
            out_i.append(lo + ii[keep])
            out_j.append(lo2 + jj[keep])
    if not out_i:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ii_all, jj_all = np.concatenate(out_i).astype(np.int64), np.concatenate(out_j).astype(np.int64)
    order = np.lexsort((jj_all, ii_all))
    return ii_all[order], jj_all[order]


def hamming_pairs(hex_hashes: list[str], *, max_distance: int, block: int = 2048) -> list[tuple[int, int]]:
    """Index pairs (i < j) of equal-length hex hashes within `max_distance` differing bits."""
    ii, jj = near_pairs(pack_hex(hex_hashes), max_distance=max_distance)
    return list(zip(ii.tolist(), jj.tolist(), strict=True))


@numba.njit(cache=True)
def _union(n: int, ii: np.ndarray, jj: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    parent = np.arange(n)
    for k in range(ii.shape[0]):
        a, b = ii[k], jj[k]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a != b:
            parent[max(a, b)] = min(a, b)
    for x in range(n):
        root = x
        while parent[root] != root:
            root = parent[root]
        parent[x] = root
    return parent


def components(n: int, ii: np.ndarray, jj: np.ndarray) -> np.ndarray:
    """The smallest index of each item's connected component (union-find over the pairs).

    >>> components(4, np.array([1, 2]), np.array([2, 3])).tolist()
    [0, 1, 1, 1]
    """
    return _union(n, np.asarray(ii, dtype=np.int64), np.asarray(jj, dtype=np.int64))


def perceptual_groups(hashes: pl.Series, *, max_distance: int = 31, brute: bool = False) -> pl.DataFrame:
    """``hash -> group`` for hex perceptual hashes that have a neighbour within `max_distance` bits.

    The group is the smallest hash of the connected component. No size cut-off: the index is exact and
    sub-quadratic (``brute=True`` uses the quadratic reference instead, for tests and benchmarks).
    """
    unique = hashes.drop_nulls().unique().sort()
    if unique.len() < 2:
        return pl.DataFrame(schema=_EMPTY)
    words = pack_hex(unique)
    finder = brute_pairs if brute else near_pairs
    ii, jj = finder(words, max_distance=max_distance)
    if not len(ii):
        return pl.DataFrame(schema=_EMPTY)
    root = components(len(unique), ii, jj)
    members = np.unique(np.concatenate([ii, jj]))
    return pl.DataFrame({"hash": unique.gather(members), "group": unique.gather(root[members])})


def video_groups(frames: pl.Series, *, max_distance: int = 31, min_share: float = 0.8) -> pl.DataFrame:
    """``hash -> group`` for videos given as space-separated frame PDQ hashes (the ``vpdq`` media column).

    Two videos match when at least `min_share` of one's frames have a frame of the other within
    `max_distance` bits (either direction: ThreatExchange's vPDQ rule); matches are grouped into connected
    components. The group is a digest of the component's smallest member.

    >>> a = " ".join(["f" * 64, "0" * 64])
    >>> b = " ".join(["e" + "f" * 63, "1" + "0" * 63])
    >>> video_groups(pl.Series([a, b, "a" * 64]))["group"].n_unique()
    1
    """
    unique = frames.drop_nulls().unique().sort()
    unique = unique.filter(unique.str.len_chars() > 0)
    if unique.len() < 2:
        return pl.DataFrame(schema=_EMPTY)
    lists = [dict.fromkeys(v.split()) for v in unique.to_list()]
    owner = np.repeat(np.arange(len(lists)), [len(x) for x in lists])
    sizes = np.array([len(x) for x in lists])
    ii, jj = near_pairs(pack_hex([h for x in lists for h in x]), max_distance=max_distance)
    va, vb = owner[ii], owner[jj]
    cross = va != vb
    hits = pl.DataFrame({"frame": np.concatenate([ii[cross], jj[cross]]),
                         "video": np.concatenate([va[cross], vb[cross]]),
                         "other": np.concatenate([vb[cross], va[cross]])}).unique()
    shares = (hits.group_by("video", "other").agg(pl.len().alias("found"))
              .with_columns(share=pl.col("found") / pl.col("video").map_elements(lambda v: sizes[v],
                                                                                 return_dtype=pl.Int64)))
    matched = shares.filter(pl.col("share") >= min_share)
    if not matched.height:
        return pl.DataFrame(schema=_EMPTY)
    a = matched["video"].to_numpy().astype(np.int64)
    b = matched["other"].to_numpy().astype(np.int64)
    root = components(len(lists), np.minimum(a, b), np.maximum(a, b))
    members = np.unique(np.concatenate([a, b]))
    names = {int(r): hashlib.sha256(unique[int(r)].encode()).hexdigest()[:32] for r in set(root[members])}
    return pl.DataFrame({"hash": unique.gather(members), "group": [names[int(root[m])] for m in members]},
                        schema=_EMPTY)
