"""The null model: how many co-actions would two accounts share *by chance*?

Under the null, accounts act independently. Account *a* touches object *o* with probability
``π_a(o) = min(1, d_a,s · n_o / M_s)`` — its own activity on that kind of object (``d_a,s``: distinct objects of
signal *s* it touched) times the object's own popularity (``n_o`` accounts; ``M_s`` = all account–object
incidences of signal *s*): a Chung–Lu bipartite configuration model. Two accounts that both touch *o* land
within the window with probability ``q_o``, the share of all pairs of *o*'s own actions that lie within the
window — the object's popularity **over time**: breaking news shared by hundreds in one burst has ``q_o ≈ 1``,
a meme re-uploaded for days a small ``q_o``. The expected number of co-actions of a pair is then

    λ_ab = Σ_o π_a(o) · π_b(o) · q_o

computed in closed form over (signal × log₂-popularity) strata — one dot product of two short account
vectors per candidate pair, so the null costs O(candidate pairs), never O(accounts²). The observed count is
compared with a Poisson(λ) upper tail, in cumulative popularity tiers (objects touched by < 4, < 16, < 64,
< 256 accounts, all) so that a few co-actions on rare objects are not drowned by the many a pair could have
by chance on popular ones; the smallest tier p-value is Bonferroni-corrected for the five tiers.
Benjamini–Hochberg controls the false discovery rate over all candidate pairs (and, in `cib.clustering`,
over clusters).

Heavy news sharers meet on breaking news because each of them shares almost all of it (π close to 1):
chance explains them. A farm meets again and again on objects nobody else touches (π tiny): chance
does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import gammainc, gammaln

__all__ = ["TIERS", "Null", "benjamini_hochberg", "fit_null", "log10_poisson_sf", "tiered"]

_BINS = 24  # log2 popularity bins per signal (objects touched by 1 … 2**24 accounts)
TIERS = (2, 4, 6, 8, _BINS)  # cumulative popularity tiers: objects touched by fewer than 2**t accounts


@dataclass
class Null:
    """A fitted null model: per-account strata vectors and per-object chance terms."""

    vectors: np.ndarray  # account code -> G vector (float64, accounts × strata)
    bins: np.ndarray  # stratum column -> its log2 popularity bin
    objects: pl.DataFrame  # obj, sig, n, q
    degrees: pl.DataFrame  # acc, sig, d
    totals: dict[int, float]  # sig -> M_s

    def expected(self, src: np.ndarray, dst: np.ndarray, chunk: int = 500_000) -> np.ndarray:
        """λ for each (src, dst) pair of account codes, per tier: an array ``pairs × len(TIERS)``."""
        out = np.empty((len(src), len(TIERS)), dtype=np.float64)
        masks = [self.bins < t for t in TIERS]
        for lo in range(0, len(src), chunk):
            prod = self.vectors[src[lo:lo + chunk]] * self.vectors[dst[lo:lo + chunk]]
            for i, mask in enumerate(masks):
                out[lo:lo + chunk, i] = prod[:, mask].sum(axis=1)
        return out

    def expected_within(self, members: np.ndarray) -> np.ndarray:
        """λ per tier summed over every unordered pair of `members` (account codes): a cluster's chance."""
        g = self.vectors[members]
        total = g.sum(axis=0)
        per_column = np.maximum(0.0, (total * total - (g * g).sum(axis=0)) / 2)
        return np.array([per_column[self.bins < t].sum() for t in TIERS])

    def per_object(self, rows: pl.DataFrame) -> pl.Series:
        """``π_a(o) · π_b(o) · q_o`` for rows with coded ``src, dst, obj``: the chance of that one co-action."""
        totals = pl.DataFrame({"sig": list(self.totals), "m": list(self.totals.values())},
                              schema={"sig": pl.UInt8, "m": pl.Float64})
        deg = self.degrees
        out = (rows.select("src", "dst", "obj").with_row_index("_i")
               .join(self.objects, on="obj", how="left").join(totals, on="sig", how="left")
               .join(deg.rename({"acc": "src", "d": "da"}), on=["src", "sig"], how="left")
               .join(deg.rename({"acc": "dst", "d": "db"}), on=["dst", "sig"], how="left")
               .sort("_i")
               .select(e=((pl.col("da") * pl.col("n") / pl.col("m")).clip(0, 1)
                          * (pl.col("db") * pl.col("n") / pl.col("m")).clip(0, 1) * pl.col("q")).fill_null(0.0)))
        return out["e"]


def fit_null(actions: pl.DataFrame, n_accounts: int, *, window_s: int, hot_limit: float | None = None,
             pairs: pl.DataFrame | None = None) -> Null:
    """Fit the null on coded actions (``acc, obj, ts, sig``); objects above `hot_limit` accounts are left out,
    as they are left out of pairing.

    ``q_o`` is the larger of two timing shares of the object: its action pairs within the window, and — when
    the candidate `pairs` (``src, dst, obj``) are given — its *account* pairs that met within the window at
    least once, which counts accounts that use one object many times (a popular sound) correctly.

    Examples
    --------
    >>> acts = pl.DataFrame({"acc": [0, 1, 0, 1, 2], "obj": [0, 0, 1, 1, 1], "ts": [0, 10, 0, 5000, 9],
    ...                      "sig": [0, 0, 0, 0, 0]}, schema={"acc": pl.UInt32, "obj": pl.UInt32,
    ...                      "ts": pl.Int64, "sig": pl.UInt8})
    >>> null = fit_null(acts, 3, window_s=60)
    >>> null.objects.sort("obj")["q"].round(3).to_list()   # object 1: one of its three pairs is within 60 s
    [1.0, 0.333]
    >>> round(float(null.expected(np.array([0]), np.array([1]))[0, -1]), 3)   # all tiers
    1.12
    """
    acts = actions.select("acc", "obj", "ts", "sig").sort("obj", "ts")
    objs, ts = acts["obj"].to_numpy().astype(np.int64), acts["ts"].to_numpy().astype(np.int64)
    if len(ts):
        key = (objs << 34) | (ts - ts.min())
        within = np.searchsorted(key, key + window_s, side="right") - np.arange(len(key)) - 1
    else:
        within = np.zeros(0, dtype=np.int64)
    timing = (acts.with_columns(w=pl.Series(within, dtype=pl.Int64))
              .group_by("obj").agg(sig=pl.col("sig").first(), m=pl.len(), w=pl.col("w").sum(),
                                   n=pl.col("acc").n_unique()))
    if pairs is not None:
        met = pairs.group_by("obj").agg(c=pl.len())
        timing = timing.join(met, on="obj", how="left").with_columns(pl.col("c").fill_null(0))
    else:
        timing = timing.with_columns(c=pl.lit(0, pl.UInt32))
    objects = timing.select("obj", "sig", "n", q=pl.when(pl.col("m") >= 2)
                            .then(pl.max_horizontal(pl.col("w") / (pl.col("m") * (pl.col("m") - 1) / 2),
                                                    pl.col("c") / (pl.col("n") * (pl.col("n") - 1) / 2)))
                            .otherwise(1.0).clip(0.0, 1.0))
    degrees = acts.unique(["acc", "obj"]).group_by("acc", "sig").agg(d=pl.len().cast(pl.Float64))
    totals = {int(s): float(m) for s, m in objects.group_by("sig").agg(m=pl.col("n").sum()).iter_rows()}
    pairable = objects.filter(pl.col("n") <= hot_limit) if hot_limit else objects
    strata = (pairable.with_columns(k=pl.col("sig").cast(pl.Int64) * _BINS
                                    + pl.col("n").cast(pl.Float64).log(2).floor().cast(pl.Int64).clip(0, _BINS - 1))
              .group_by("k").agg(sig=pl.col("sig").first(), Q=pl.col("q").sum(),
                                 R=(pl.col("n").cast(pl.Float64) ** 2 * pl.col("q")).sum())
              .filter(pl.col("Q") > 0).sort("k"))
    vectors = np.zeros((max(n_accounts, 1), max(strata.height, 1)), dtype=np.float64)
    bins = np.full(max(strata.height, 1), _BINS, dtype=np.int64)
    for col, (k, sig, q_sum, r_sum) in enumerate(strata.iter_rows()):
        bins[col] = k % _BINS
        n_rep = math.sqrt(r_sum / q_sum)
        sub = degrees.filter(pl.col("sig") == sig)
        accs = sub["acc"].to_numpy().astype(np.int64)
        vectors[accs, col] = np.minimum(1.0, sub["d"].to_numpy() * n_rep / totals[int(sig)]) * math.sqrt(q_sum)
    return Null(vectors=vectors, bins=bins, objects=objects.select("obj", "sig", "n", "q"), degrees=degrees, totals=totals)


def log10_poisson_sf(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """log10 P(X ≥ observed) for X ~ Poisson(expected), accurate far into the tail (no underflow to -inf).

    Examples
    --------
    >>> log10_poisson_sf(np.array([0, 1, 41]), np.array([2.0, 0.5, 0.4])).round(2).tolist()
    [0.0, -0.41, -66.01]
    """
    k = np.asarray(observed, dtype=np.float64)
    lam = np.maximum(np.asarray(expected, dtype=np.float64), 1e-12)
    out = np.zeros_like(k)
    pos = k > 0
    with np.errstate(divide="ignore"):
        p = gammainc(k[pos], lam[pos])  # P(X >= k) = regularised lower incomplete gamma P(k, λ)
        logp = np.log10(np.where(p > 1e-250, p, np.nan))
    # deep tail: log of the leading term k·log λ − λ − log k! plus a geometric-series correction
    kk, ll = k[pos], lam[pos]
    lead = (kk * np.log(ll) - ll - gammaln(kk + 1) - np.log1p(-np.minimum(ll / (kk + 1), 0.999))) / math.log(10)
    out[pos] = np.where(np.isnan(logp) | (logp < -250), lead, logp)
    return np.minimum(out, 0.0)


def tiered(observed: np.ndarray, expected: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, the tier with the smallest Poisson p-value: (observed, expected, log10 p × number of tiers).

    Examples
    --------
    >>> o, e, p = tiered(np.array([[5, 5, 6, 6, 7]]), np.array([[0.01, 0.01, 0.5, 2.0, 9.0]]))
    >>> int(o[0]), float(e[0]), round(float(p[0]), 2)
    (5, 0.01, -11.38)
    """
    logs = log10_poisson_sf(observed.ravel(), expected.ravel()).reshape(observed.shape)
    best = np.argmin(logs, axis=1)
    rows = np.arange(len(best))
    corrected = np.minimum(0.0, logs[rows, best] + math.log10(observed.shape[1]))
    return observed[rows, best], expected[rows, best], corrected


def benjamini_hochberg(log10_p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (as log10) for log10 p-values.

    Examples
    --------
    >>> benjamini_hochberg(np.log10(np.array([0.01, 0.04, 0.03, 0.5]))).round(3).tolist()
    [-1.398, -1.273, -1.273, -0.301]
    """
    m = len(log10_p)
    if m == 0:
        return np.zeros(0)
    order = np.argsort(log10_p, kind="stable")
    ranked = log10_p[order] + math.log10(m) - np.log10(np.arange(1, m + 1))
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(ranked, 0.0)
    return out
