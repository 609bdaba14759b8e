"""The null model: Poisson tails, Benjamini-Hochberg, λ against brute force and simulation, and the two
behaviours it exists for (news junkies explained by chance, a farm on rare objects not)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from cib.signals import coded_pairs, encode
from cib.signals.null import benjamini_hochberg, fit_null, log10_poisson_sf


def test_poisson_tail_matches_scipy_and_never_underflows() -> None:
    k = np.array([0, 1, 2, 5, 10, 30, 3, 12])
    lam = np.array([0.5, 0.5, 3.0, 1.2, 4.0, 10.0, 0.01, 0.2])
    ours = log10_poisson_sf(k, lam)
    reference = np.log10(stats.poisson.sf(k - 1, lam))
    assert np.allclose(ours, reference, atol=1e-6)
    deep = log10_poisson_sf(np.array([400]), np.array([0.3]))[0]
    assert np.isfinite(deep) and deep < -700  # scipy itself underflows to 0 here


def test_benjamini_hochberg_matches_the_definition() -> None:
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 1e-4, size=20)])
    adjusted = 10 ** benjamini_hochberg(np.log10(p))
    order = np.argsort(p)
    m = len(p)
    brute = np.empty(m)
    for i, idx in enumerate(order):
        brute[idx] = min(1.0, min(p[order[j]] * m / (j + 1) for j in range(i, m)))
    assert np.allclose(adjusted, brute)
    assert (adjusted[p < 1e-4] <= 0.01).sum() == 20 and (adjusted[p > 0.2] > 0.05).all()


def _acts(rows: list[tuple[str, str, int, str]]) -> pl.DataFrame:
    return pl.DataFrame([{"account_uid": a, "post_uid": f"{a}-{o}-{t}", "ts": t, "object": o, "signal": "co_url"}
                         for a, o, t, _ in rows])


def test_expected_equals_the_sum_over_objects_when_strata_are_exact() -> None:
    # four objects of popularity 2, 4, 8, 16: one per log2 stratum, so the closed form is exact
    rows = []
    for size, obj in ((2, "u2"), (4, "u4"), (8, "u8"), (16, "u16")):
        for i in range(size):
            rows.append((f"x:{i:02d}", obj, 1000 * i, ""))
    coded = encode(_acts(rows))
    null = fit_null(coded.actions, coded.accounts.len(), window_s=1500)
    objects = null.objects.join(pl.DataFrame({"obj": list(range(coded.objects.len())),
                                              "key": coded.objects.to_list()},
                                             schema={"obj": pl.UInt32, "key": pl.String}), on="obj")
    m = float(objects["n"].sum())
    deg = dict(null.degrees.select("acc", "d").iter_rows())
    a, b = 0, 1  # both touched every object
    brute = sum(min(1, deg[a] * n / m) * min(1, deg[b] * n / m) * q for n, q in objects.select("n", "q").iter_rows())
    assert null.expected(np.array([a]), np.array([b]))[0, -1] == pytest.approx(brute)


def test_expected_agrees_with_simulating_the_null() -> None:
    """Draw worlds from the null itself (accounts pick objects ∝ popularity, times from the object's own
    distribution) and count co-actions within the window: the mean matches λ within sampling error."""
    rng = np.random.default_rng(7)
    n_acc, n_obj, window = 60, 120, 600
    popularity = rng.integers(2, 12, size=n_obj)
    centre = rng.uniform(0, 86400 * 3, size=n_obj)
    spread = rng.choice([300.0, 3600.0, 40000.0], size=n_obj)
    rows = []
    for o in range(n_obj):
        for acc in rng.choice(n_acc, size=popularity[o], replace=False):
            rows.append((f"x:{acc:03d}", f"o{o:03d}", int(centre[o] + rng.normal(0, spread[o])), ""))
    coded = encode(_acts(rows))
    null = fit_null(coded.actions, coded.accounts.len(), window_s=window)
    src, dst = np.array([0, 1, 2, 3]), np.array([4, 5, 6, 7])
    lam = null.expected(src, dst)[:, -1]  # all tiers
    deg = dict(null.degrees.select("acc", "d").iter_rows())
    m = float(null.objects["n"].sum())
    n_o = null.objects["n"].to_numpy()
    q_o = null.objects["q"].to_numpy()
    sims = []
    for _ in range(4000):
        hit_a = rng.uniform(size=(len(src), len(n_o))) < np.minimum(1, np.outer([deg[int(a)] for a in src], n_o) / m)
        hit_b = rng.uniform(size=(len(src), len(n_o))) < np.minimum(1, np.outer([deg[int(b)] for b in dst], n_o) / m)
        close = rng.uniform(size=(len(src), len(n_o))) < q_o
        sims.append((hit_a & hit_b & close).sum(axis=1))
    simulated = np.mean(sims, axis=0)
    assert np.allclose(lam, simulated, rtol=0.35, atol=0.02), (lam, simulated)


def test_junkies_are_chance_but_a_farm_on_rare_objects_is_not() -> None:
    """Heavy accounts that share every breaking story meet by chance; six accounts that meet on rare links
    again and again, seconds apart, do not."""
    rng = np.random.default_rng(1)
    rows: list[tuple[str, str, int, str]] = []
    crowd = [f"x:c{i:03d}" for i in range(150)]
    junkies = [f"x:j{i:02d}" for i in range(8)]
    farm = [f"x:f{i:02d}" for i in range(6)]
    for e in range(12):  # breaking news: a crowd plus every junkie within minutes
        t0 = 86400 * e
        for acc in list(rng.choice(crowd, size=60, replace=False)) + junkies:
            rows.append((acc, f"news{e}", t0 + int(rng.exponential(300)), ""))
    for acc in junkies + crowd:  # everyday links
        for _k in range(40 if acc in junkies else 6):
            rows.append((acc, f"u{rng.integers(0, 400)}", int(rng.uniform(0, 86400 * 14)), ""))
    for c in range(10):  # the farm: rare links, seconds apart
        for acc in farm:
            rows.append((acc, f"campaign{c}", 86400 * c + 7000 + int(rng.uniform(0, 60)), ""))
    coded = encode(_acts(rows).unique(["account_uid", "post_uid", "object"]))
    pairs, _ = coded_pairs(coded, window_s=3600, max_neighbours=200)
    null = fit_null(coded.actions, coded.accounts.len(), window_s=3600, pairs=pairs)
    from cib.scoring import pair_significance

    tested = pair_significance(pairs, null)
    names = coded.accounts.to_list()
    tested = tested.with_columns(a=pl.col("src").map_elements(lambda i: names[i], return_dtype=pl.String),
                                 b=pl.col("dst").map_elements(lambda i: names[i], return_dtype=pl.String))
    junk = tested.filter(pl.col("a").str.starts_with("x:j") & pl.col("b").str.starts_with("x:j"))
    bots = tested.filter(pl.col("a").str.starts_with("x:f") & pl.col("b").str.starts_with("x:f"))
    assert junk.height == 28 and bots.height == 15
    assert junk["o4"].min() >= 8  # they do meet, on almost every story …
    assert (junk["log10_q"] > np.log10(0.2)).all()  # … but chance explains it
    assert (bots["log10_q"] < np.log10(0.01)).all() and (bots["log10_p"] < -6).all()
