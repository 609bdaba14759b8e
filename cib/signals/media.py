"""Repeated media: perceptual hashes within a Hamming threshold (PDQ ≤ 31 bits of 256, the trust-and-safety
convention; pHash ≤ 10 of 64), grouped into connected components."""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["hamming_pairs", "perceptual_groups"]


def perceptual_groups(hashes: pl.Series, *, max_distance: int = 31, block: int = 2048,
                      max_unique: int = 100_000) -> pl.DataFrame:
    """``hash -> group`` for hex perceptual hashes that have a neighbour within `max_distance` bits.

    The group is the smallest hash of the connected component. Comparison is blocked brute force on packed
    64-bit words (numpy popcount); above `max_unique` distinct hashes only exact matches are used.

    Examples
    --------
    >>> a = "f" * 64
    >>> b = "e" + "f" * 63          # 1 bit away
    >>> c = "0" * 64                # 256 bits away
    >>> perceptual_groups(pl.Series([a, b, c]))["group"].to_list()
    ['efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', 'efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff']
    """
    unique = hashes.drop_nulls().unique().sort()
    empty = pl.DataFrame(schema={"hash": pl.String(), "group": pl.String()})
    if unique.len() < 2 or unique.len() > max_unique:
        return empty
    values = unique.to_list()
    pairs = hamming_pairs(values, max_distance=max_distance, block=block)
    if not pairs:
        return empty
    parent = list(range(len(values)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members = sorted({i for pair in pairs for i in pair})
    return pl.DataFrame({"hash": [values[i] for i in members], "group": [values[find(i)] for i in members]})


def hamming_pairs(hex_hashes: list[str], *, max_distance: int, block: int = 2048) -> list[tuple[int, int]]:
    """Index pairs (i < j) of equal-length hex hashes within `max_distance` differing bits."""
    words = len(hex_hashes[0]) // 16
    packed = np.array([[int(h[k * 16:(k + 1) * 16], 16) for k in range(words)] for h in hex_hashes],
                      dtype=np.uint64)
    out: list[tuple[int, int]] = []
    n = len(packed)
    for lo in range(0, n, block):
        left = packed[lo:lo + block]
        for lo2 in range(lo, n, block):
            right = packed[lo2:lo2 + block]
            dist = np.zeros((len(left), len(right)), dtype=np.int32)
            for w in range(words):
                dist += np.bitwise_count(left[:, None, w] ^ right[None, :, w]).astype(np.int32)
            ii, jj = np.nonzero(dist <= max_distance)
            for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
                if lo + i < lo2 + j:
                    out.append((lo + i, lo2 + j))
    return out
