"""Cluster scoring and the null model's per-cluster / per-object chance, worked out by hand.

These are the behaviours the mutation run (``scripts/mutation.sh``) found untested once the weighted score was
replaced by the null model: which clusters are flagged (adjusted p, threshold, density, syndication), the
descriptive components the report shows, the explanation an investigator reads, and the chance terms. Every
expected figure below follows from the docstrings (``cib.clustering``, ``cib.schema``, ``cib.signals.null``).
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest

from cib.clustering import ClusterParams, cluster_scores
from cib.schema import EDGES, EVIDENCE
from cib.signals import encode
from cib.signals.null import fit_null

T0 = datetime(2024, 5, 1, tzinfo=UTC)
SIGNIFICANT = (40, 2.0, -30.0)  # observed, expected, log10 p of a cluster chance explains nowhere near


def _pairs(group: list[str]) -> list[tuple[str, str]]:
    return [(a, b) for i, a in enumerate(group) for b in group[i + 1:]]


def _edges(pairs: list[tuple[str, str]], *, weight: float = 0.5, n_shared: int | list[int] = 4,
           gap: float | None = 30.0, signals: tuple[str, ...] = ("co_url",)) -> pl.DataFrame:
    shared = n_shared if isinstance(n_shared, list) else [n_shared] * len(pairs)
    return pl.DataFrame([{"src": a, "dst": b, "weight": weight, "n_shared": n, "signals": list(signals),
                          "min_gap_s": gap, "median_gap_s": gap, "evidence": []}
                         for (a, b), n in zip(pairs, shared, strict=True)], schema=EDGES)


def _evidence(rows: list[tuple[str, str, str, str, str, bool | None]]) -> pl.DataFrame:
    return pl.DataFrame([{"src": s, "dst": d, "signal": sig, "object": f"o{i}", "post_a": pa, "post_b": pb,
                          "gap_s": 1.0, "idf": 1.0, "src_first": first, "expected": 0.01}
                         for i, (s, d, pa, pb, sig, first) in enumerate(rows)], schema=EVIDENCE)


def _accounts(uids: list[str], **fields: dict[str, Any]) -> pl.DataFrame:
    """Ordinary accounts (young, small, unverified); ``fields[column] = {uid: value}`` overrides."""
    base: dict[str, Any] = {"handle": "k", "created_at": None, "verified": False, "followers": None}
    rows = [{"uid": u, **{c: fields.get(c, {}).get(u, v) for c, v in base.items()}} for u in uids]
    return pl.DataFrame(rows, schema={"uid": pl.String, "handle": pl.String, "created_at": pl.Datetime("us", "UTC"),
                                      "verified": pl.Boolean, "followers": pl.Int64})


def _posts(times: dict[str, list[datetime]]) -> pl.DataFrame:
    rows = [(u, t) for u, ts in times.items() for t in ts]
    return pl.DataFrame(rows, schema={"account_uid": pl.String, "created_at": pl.Datetime("us", "UTC")}, orient="row")


def _score(groups: list[list[str]], *, edges: pl.DataFrame | None = None, evidence: pl.DataFrame | None = None,
           accounts: pl.DataFrame | None = None, posts: pl.DataFrame | None = None,
           chance: list[tuple[int, float, float]] | None = None, shareable: pl.DataFrame | None = None,
           fdr: float = 0.01, **params: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
    uids = sorted({u for g in groups for u in g})
    return cluster_scores(
        groups, edges if edges is not None else _edges([p for g in groups for p in _pairs(g)]),
        evidence if evidence is not None else pl.DataFrame(schema=EVIDENCE),
        posts if posts is not None else _posts({u: [T0] for u in uids}),
        accounts if accounts is not None else _accounts(uids), ClusterParams(**params), shareable,
        chance=chance if chance is not None else [SIGNIFICANT] * len(groups), fdr=fdr)


def _one(groups: list[list[str]], **kw: Any) -> dict[str, Any]:
    clusters, _ = _score(groups, **kw)
    assert clusters.height == 1
    row = clusters.row(0, named=True)
    return {**row, "comp": json.loads(row["components"])}


FOUR = ["x:a", "x:b", "x:c", "x:d"]


# -- which clusters are flagged -------------------------------------------------------------------------------
def test_score_comes_from_the_adjusted_p_value_over_all_clusters() -> None:
    three = ["x:p", "x:q", "x:r"]
    clusters, _ = _score([FOUR, three], chance=[SIGNIFICANT, (5, 4.0, -1.0)])
    big, small = clusters.row(0, named=True), clusters.row(1, named=True)
    # Benjamini-Hochberg over two clusters: q = p * 2 / 1 for the smallest p, p * 2 / 2 for the other
    assert big["size"] == 4 and big["rank"] == 1 and small["rank"] == 2
    assert big["log10_p"] == -30.0 and big["log10_q"] == round(-30 + math.log10(2), 4) == -29.699
    assert big["score"] == 0.297  # -log10(q) / 100
    assert (big["flagged"], big["cluster_class"]) == (True, "inauthentic")
    assert (big["observed"], big["expected"], big["z_score"]) == (40, 2.0, round(38 / math.sqrt(2), 3))
    assert small["log10_q"] == -1.0 and small["score"] == 0.01
    assert (small["flagged"], small["cluster_class"]) == (False, "below-threshold")
    assert small["z_score"] == 0.5
    # the id is "c-" + sha1 of the sorted member uids (cib.schema), whatever the cluster's figures
    assert big["cluster_id"] == "c-" + hashlib.sha1("\n".join(FOUR).encode()).hexdigest()[:12]  # noqa: S324
    again, _ = _score([FOUR], chance=[(3, 3.0, -0.1)])
    assert again["cluster_id"].to_list() == [big["cluster_id"]]


def test_flag_threshold_and_false_discovery_rate_are_inclusive() -> None:
    assert _one([FOUR], chance=[(10, 1.0, -30.0)], flag_threshold=0.3)["flagged"]
    assert not _one([FOUR], chance=[(10, 1.0, -30.0)], flag_threshold=0.3001)["flagged"]
    at_fdr = _one([FOUR], chance=[(10, 1.0, -2.0)], flag_threshold=0.0)
    assert at_fdr["flagged"] and at_fdr["log10_q"] == -2.0  # q = 0.01 = fdr
    assert not _one([FOUR], chance=[(10, 1.0, -1.999)], flag_threshold=0.0)["flagged"]
    assert _one([FOUR], chance=[(10, 1.0, -1.5)], flag_threshold=0.0, fdr=0.05)["flagged"]
    assert not _one([FOUR], chance=[(10, 1.0, -1.5)], flag_threshold=0.0)["flagged"]
    assert _one([FOUR], chance=[(900, 1.0, -250.0)])["score"] == 1.0  # capped at 1
    quiet = _one([FOUR], chance=[(0, 0.0, 0.0)], flag_threshold=0.0)
    assert (quiet["score"], quiet["flagged"], quiet["z_score"]) == (0.0, False, 0.0)
    # observed events where chance expects none: an infinite z, stored as 1e9
    assert _one([FOUR], chance=[(3, 0.0, -5.0)])["z_score"] == 1e9


def test_without_a_chance_estimate_nothing_is_flagged() -> None:
    clusters, _ = cluster_scores([FOUR], _edges(_pairs(FOUR)), pl.DataFrame(schema=EVIDENCE),
                                 _posts({u: [T0] for u in FOUR}), _accounts(FOUR), ClusterParams(flag_threshold=0.0))
    row = clusters.row(0, named=True)
    assert (row["observed"], row["expected"], row["log10_q"], row["flagged"]) == (0, 0.0, 0.0, False)


def test_a_flagged_cluster_must_be_dense() -> None:
    ring = [("x:a", "x:b"), ("x:b", "x:c"), ("x:c", "x:d"), ("x:a", "x:d")]
    loose = _one([FOUR], edges=_edges(ring))
    assert loose["k_core"] == 2 and not loose["flagged"] and loose["cluster_class"] == "below-threshold"
    assert _one([FOUR], edges=_edges(ring), min_core=2)["flagged"]
    assert _one([FOUR])["k_core"] == 3 and _one([FOUR])["flagged"]
    # a triangle cannot have a 3-core: size - 1 is enough for a small cluster
    assert _one([["x:a", "x:b", "x:c"]])["flagged"]
    path = _one([["x:a", "x:b", "x:c"]], edges=_edges([("x:a", "x:b"), ("x:b", "x:c")]))
    assert path["k_core"] == 1 and not path["flagged"]


def test_small_groups_are_dropped_and_ranks_start_at_one() -> None:
    pair = ["x:m", "x:n"]
    assert _score([pair])[0].height == 0 and _score([pair])[1].height == 0
    clusters, members = _score([pair], min_size=2)
    assert clusters["rank"].to_list() == [1] and members["account_uid"].to_list() == pair
    clusters, _ = _score([["x:a", "x:b", "x:c"], ["x:d", "x:e", "x:f"], ["x:g", "x:h", "x:i"]],
                         chance=[(9, 1.0, -30.0), (9, 1.0, -50.0), (9, 1.0, -30.0)])
    ids = clusters["cluster_id"].to_list()
    # highest score first; equal scores and p-values by cluster id
    assert clusters["rank"].to_list() == [1, 2, 3] and clusters["log10_p"].to_list() == [-50.0, -30.0, -30.0]
    assert ids[1] < ids[2]
    ties, _ = _score([["x:a", "x:b", "x:c"], ["x:d", "x:e", "x:f"]], chance=[(9, 1.0, -250.0), (9, 1.0, -300.0)])
    assert ties["score"].to_list() == [1.0, 1.0] and ties["log10_p"].to_list() == [-300.0, -250.0]


# -- syndication: established accounts publishing the same copy ------------------------------------------------
def test_established_accounts_publishing_the_same_copy_are_authentic_unless_priors_are_off() -> None:
    verified = _accounts(FOUR, verified=dict.fromkeys(FOUR, True))
    outlet = _one([FOUR], accounts=verified)
    assert (outlet["cluster_class"], outlet["flagged"], outlet["comp"]["established"]) == ("authentic", False, 1.0)
    assert "classed as authentic coordination (syndication)" in outlet["explanation"]
    assert "100% are verified, large or long-established accounts" in outlet["explanation"]
    assert _one([FOUR], accounts=verified, account_priors=False)["cluster_class"] == "inauthentic"
    half = _accounts(FOUR, verified={"x:a": True, "x:b": True})
    assert _one([FOUR], accounts=half)["cluster_class"] == "authentic"  # at least half
    quarter = _one([FOUR], accounts=_accounts(FOUR, verified={"x:a": True}))
    assert quarter["cluster_class"] == "inauthentic" and quarter["comp"]["established"] == 0.25
    # ... but a group that mostly reposts (or reuses sounds) is not publishing its own copy
    rows = [("x:a", "x:b", "a1", "b1", "co_repost", True), ("x:a", "x:c", "a2", "c2", "co_sound", True),
            ("x:b", "x:c", "b3", "c3", "co_url", True), ("x:c", "x:d", "c4", "d4", "co_caption", True)]
    assert _one([FOUR], accounts=verified, evidence=_evidence(rows))["cluster_class"] == "inauthentic"
    one_repost = [rows[0], (*rows[1][:4], "co_url", True), *rows[2:]]  # a quarter of the co-actions
    assert _one([FOUR], accounts=verified, evidence=_evidence(one_repost))["cluster_class"] == "authentic"
    plain = _one([FOUR])
    assert "authentic coordination" not in plain["explanation"] and "long-established" not in plain["explanation"]


def test_established_means_verified_large_or_old_with_a_real_audience() -> None:
    five = [*FOUR, "x:e"]
    old, young = T0 - timedelta(days=731), T0 - timedelta(days=730)  # two years = 730.5 days
    accounts = _accounts(five, followers={"x:a": 50_000, "x:b": 5_000, "x:c": 4_999, "x:d": 1_000_000 // 100},
                         created_at={"x:b": old, "x:c": old, "x:d": young}, verified={"x:e": True})
    assert _one([five], accounts=accounts)["comp"]["established"] == 0.6  # a, b, e
    accounts = _accounts(five, followers={"x:a": 49_999, "x:b": None}, created_at={"x:b": old})
    assert _one([five], accounts=accounts)["comp"]["established"] == 0.0
    # age is measured up to the newest post, not to the clock
    late = _posts({u: [T0 + timedelta(days=2)] for u in five})
    accounts = _accounts(five, followers={"x:d": 10_000}, created_at={"x:d": young})
    assert _one([five], accounts=accounts, posts=late)["comp"]["established"] == 0.2
    assert _one([five], accounts=accounts, posts=late, established_years=3.0)["comp"]["established"] == 0.0
    assert _one([five], accounts=accounts, established_min_followers=20_000, posts=late)["comp"]["established"] == 0
    big = _accounts(five, followers={"x:a": 800})
    assert _one([five], accounts=big, established_followers=800)["comp"]["established"] == 0.2


# -- descriptive components -------------------------------------------------------------------------------------
def test_density_breadth_and_lockstep_share() -> None:
    five_edges = _pairs(FOUR)[:5]  # one pair of six missing
    comp = _one([FOUR], edges=_edges(five_edges, n_shared=[2, 4, 6, 8, 10]))["comp"]
    assert comp["density"] == round(5 / 6, 4) and comp["breadth"] == 1.0  # median 6 shared items of 6
    assert _one([FOUR], edges=_edges(five_edges, n_shared=[1, 2, 3, 3, 3]))["comp"]["breadth"] == 0.5
    # lockstep share: per member, distinct posts in co-actions / posts that anyone else could share; the median
    rows = [("x:a", "x:b", "a1", "b1", "co_url", True), ("x:a", "x:c", "a1", "c1", "co_url", True),
            ("x:a", "x:b", "a2", "b2", "co_url", True)]
    shareable = pl.DataFrame({"account_uid": FOUR, "n_shareable": [4, 2, 4, 5]})
    comp = _one([FOUR], evidence=_evidence(rows), shareable=shareable)["comp"]
    assert comp["synchrony"] == 0.5  # a 2/4, b 2/2, c 1/4, d 0/5 -> upper median of [0, .25, .5, 1]
    # without shareable counts every post counts; members without any are left out
    posts = _posts({"x:a": [T0] * 2, "x:b": [T0] * 8, "x:c": [T0] * 4})
    assert _one([FOUR], evidence=_evidence(rows), posts=posts)["comp"]["synchrony"] == 0.25  # [.25, .25, 1]
    explanation = _one([FOUR], evidence=_evidence(rows), posts=posts)["explanation"]
    assert "25% of a typical member's shared posts were in lockstep with another member" in explanation
    three = ["x:a", "x:b", "x:c"]
    capped = pl.DataFrame({"account_uid": three, "n_shareable": [1, 1, 4]})
    assert _one([three], evidence=_evidence(rows), shareable=capped)["comp"]["synchrony"] == 1.0  # a ratio <= 1
    assert _one([three], shareable=capped)["comp"]["synchrony"] == 0.0


def test_machine_made_handles_and_creation_bursts_are_described_not_flagged() -> None:
    handles = {"x:a": "olena84729163", "x:b": "user5531", "x:c": "maria_2001", "x:d": None}
    row = _one([FOUR], accounts=_accounts(FOUR, handle=handles))
    assert row["comp"]["generated_handles"] == 0.5 and "50% of handles look machine-generated" in row["explanation"]
    few = _one([FOUR], accounts=_accounts(FOUR, handle={"x:a": "user5531"}))
    assert few["comp"]["generated_handles"] == 0.25 and "machine-generated" not in few["explanation"]
    five = [*FOUR, "x:e"]

    def burst(days: list[float | None], group: list[str] = five) -> dict[str, Any]:
        created = {u: T0 - timedelta(days=100 - d) for u, d in zip(group, days, strict=True) if d is not None}
        return _one([group], accounts=_accounts(group, created_at=created))

    week = burst([0, 3, 7, 20, 40])  # three inside one week (7 days inclusive)
    assert week["comp"]["creation_burst"] == 0.6 and "60% of the accounts were created within one week" in \
        week["explanation"]
    assert week["flagged"] == _one([five])["flagged"]
    assert burst([0, 3, 7.001, 20, 40])["comp"]["creation_burst"] == 0.0  # two per week is no burst
    assert burst([0, 1, 2, 3, 40])["comp"]["creation_burst"] == 0.8
    assert burst([0, 0, None, None, None])["comp"]["creation_burst"] == 0.0
    six = [*five, "x:f"]
    assert burst([0, 1, 2, None, None, None], six)["comp"]["creation_burst"] == 0.0  # 3 of 6 dates known: < 60 %
    assert burst([0, 1, 2, 30, None, None], six)["comp"]["creation_burst"] == 0.5
    assert "created within one week" not in _one([six])["explanation"]


def test_explanation_names_signals_timing_chance_structure_and_leaders() -> None:
    edges = _edges(_pairs(FOUR), signals=("co_caption", "co_url"), n_shared=5, gap=30.0)
    rows = [("x:a", "x:b", "a1", "b1", "co_url", True), ("x:a", "x:c", "a2", "c2", "co_url", True),
            ("x:a", "x:d", "a3", "d3", "co_url", True), ("x:b", "x:c", "b4", "c4", "co_url", False)]
    text = _one([FOUR], edges=edges, evidence=_evidence(rows),
                accounts=_accounts(FOUR, handle={"x:a": "lead_one"}))["explanation"]
    assert text.startswith("4 accounts on x posted the same or near-identical captions, the same links, "
                           "a median 30 s apart; expected by chance: 2.0 shared posts; observed 40 "
                           "(FDR-adjusted p = 1e-30); ")
    assert "pairs share a median 5 items" in text and "k-core 3, conductance 0.00" in text
    assert text.endswith("; posted first most often: lead_one.")
    no_handle = _one([FOUR], edges=edges, evidence=_evidence(rows), accounts=_accounts(FOUR, handle={"x:a": None}))
    assert no_handle["explanation"].endswith("posted first most often: x:a.")
    slow = _one([FOUR], edges=_edges(_pairs(FOUR), gap=5400.0, signals=("co_media", "co_odd")))["explanation"]
    assert "posted the same media, co_odd, a median 90 min apart" in slow and "posted first" not in slow
    vague = _one([FOUR], edges=_edges(_pairs(FOUR), gap=None, signals=()))["explanation"]
    assert "posted the same objects, close in time;" in vague and "pairs share a median 4 items" in vague
    mixed = ["tiktok:a", "x:b", "x:c", "telegram:d"]
    assert _one([mixed])["explanation"].startswith("4 accounts on telegram, tiktok, x posted the same links")


def test_rows_and_members_carry_activity_and_ties() -> None:
    three = ["x:a", "x:b", "x:c"]
    posts = _posts({"x:a": [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)], "x:b": [T0 - timedelta(hours=1)],
                    "x:z": [T0 + timedelta(days=9)]})
    edges = _edges([("x:a", "x:b"), ("x:a", "x:c")], weight=0.25).vstack(_edges([("x:b", "x:c")], weight=0.5)) \
        .vstack(_edges([("x:c", "x:z")], weight=0.75)).vstack(_edges([("x:y", "x:z")], weight=1.0))
    # x:c - x:z is a boundary edge, not a member's tie; x:y - x:z is elsewhere in the graph
    clusters, members = _score([three], edges=edges, posts=posts, min_core=1)
    row = clusters.row(0, named=True)
    assert (row["n_posts"], row["first_seen"], row["last_seen"]) == (4, T0 - timedelta(hours=1),
                                                                       T0 + timedelta(hours=2))
    assert row["platforms"] == ["x"] and row["signals"] == ["co_url"] and row["size"] == 3
    # cut 0.75 / min(volume inside 2 * 1.0 + 0.75, whole graph 2 * 2.75 - that)
    assert row["conductance"] == pytest.approx(0.75 / 2.75, abs=1e-4)
    ties = {r["account_uid"]: (r["degree"], r["strength"]) for r in members.iter_rows(named=True)}
    assert ties == {"x:a": (2, 0.5), "x:b": (2, 0.75), "x:c": (2, 0.75)}
    idle = _score([["x:p", "x:q", "x:r"]], posts=_posts({"x:z": [T0]}))[0].row(0, named=True)
    assert (idle["n_posts"], idle["first_seen"], idle["last_seen"]) == (0, None, None)


# -- the null model's chance of one co-action and of a whole cluster ----------------------------------------
def _null_world() -> tuple[Any, Any]:
    rows = []
    for size, obj, sig in ((2, "u2", "co_url"), (4, "u4", "co_url"), (8, "h8", "co_hashtags"),
                           (16, "u16", "co_url"), (5, "h5", "co_hashtags")):
        for i in range(size):
            rows.append({"account_uid": f"x:{i:02d}", "post_uid": f"{i}-{obj}", "ts": 700 * i, "object": obj,
                         "signal": sig})
    coded = encode(pl.DataFrame(rows))
    return coded, fit_null(coded.actions, coded.accounts.len(), window_s=1500)


def test_cluster_chance_is_the_sum_over_its_member_pairs() -> None:
    _, null = _null_world()
    members = np.array([0, 1, 3, 6, 9])
    brute = sum(null.expected(np.array([a]), np.array([b]))[0] for i, a in enumerate(members)
                for b in members[i + 1:])
    within = null.expected_within(members)
    assert within.shape == brute.shape and np.allclose(within, brute) and within[-1] > 0
    assert np.allclose(null.expected_within(members[:1]), 0.0)  # a single account has no pair


def test_chance_of_one_co_action_follows_the_configuration_model() -> None:
    coded, null = _null_world()
    objects = {key: code for code, key in enumerate(coded.objects.to_list())}
    info = {o: (s, n, q) for o, s, n, q in null.objects.select("obj", "sig", "n", "q").iter_rows()}
    deg = {(a, s): d for a, s, d in null.degrees.select("acc", "sig", "d").iter_rows()}
    rows = pl.DataFrame({"src": [0, 1, 3, 0], "dst": [15, 2, 4, 1],
                         "obj": [objects["u16"], objects["h8"], objects["h5"], 10_000]},
                        schema={"src": pl.UInt32, "dst": pl.UInt32, "obj": pl.UInt32})

    def brute(a: int, b: int, o: int) -> float:
        if o not in info:
            return 0.0
        s, n, q = info[o]
        m = null.totals[s]
        return min(1.0, deg.get((a, s), 0) * n / m) * min(1.0, deg.get((b, s), 0) * n / m) * q

    got = null.per_object(rows).to_list()
    want = [brute(a, b, o) for a, b, o in rows.iter_rows()]
    assert got == pytest.approx(want) and got[-1] == 0.0 and all(0 < g < 1 for g in got[:3])
    assert len({round(g, 9) for g in got[:3]}) == 3  # the rows keep their order


# -- cross-lingual caption groups (the model replaced by fixed vectors) ----------------------------------------
def _angle(degrees: float) -> list[float]:
    return [math.cos(math.radians(degrees)), math.sin(math.radians(degrees))]


def test_xlingual_links_by_cosine_at_the_threshold_and_groups_components() -> None:
    from cib.signals.xlingual import THRESHOLD, xlingual_groups

    def groups(vectors: dict[str, list[float]], **kw: Any) -> dict[str, str]:
        encode = lambda ts: np.array([vectors[t] for t in ts])  # noqa: E731
        return dict(xlingual_groups(pl.Series(list(vectors)), encode=encode, **kw).iter_rows())

    near, far = math.degrees(math.acos(THRESHOLD)) - 0.5, math.degrees(math.acos(THRESHOLD)) + 0.5
    assert groups({"a": _angle(0), "b": _angle(near)}) == {"a": "a", "b": "a"}
    assert groups({"a": _angle(0), "b": _angle(far)}) == {}
    # cosine, not the raw dot product: long vectors pointing apart do not match, short ones together do
    assert groups({"a": [10.0, 0.0], "b": [10.0, 10.0]}) == {}
    assert groups({"a": [0.01, 0.0], "b": [5.0, 0.0]}, threshold=1.0) == {"a": "a", "b": "a"}
    assert groups({"a": [0.0, 0.0], "b": [0.0, 0.0]}) == {}  # an empty embedding matches nothing
    for few in (["a", "b"], ["a"], []):  # nothing to link is an empty frame of the usual shape
        none = xlingual_groups(pl.Series(few, dtype=pl.String), encode=lambda ts: np.eye(2)[: len(ts)] * 0)
        assert none.schema == pl.Schema({"text": pl.String(), "group": pl.String()}) and none.height == 0
    with pytest.raises(ValueError):  # an encoder that loses a caption is an error, not a silent shift
        xlingual_groups(pl.Series(["a", "b", "c"]), encode=lambda ts: np.ones((len(ts) - 1, 2)))
    # a ~ b and b ~ c link a and c too; the group is named by its smallest caption
    chain = {"c": _angle(0), "b": _angle(25), "a": _angle(50), "z": _angle(120)}
    assert groups(chain, threshold=math.cos(math.radians(26))) == {"a": "a", "b": "a", "c": "a"}


def test_xlingual_encodes_each_distinct_caption_once_and_reuses_the_cache() -> None:
    from cib.signals.xlingual import xlingual_groups

    calls: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return np.array([[1.0, 0.0] if t in ("a", "b") else [0.0, 1.0] for t in texts])

    cache: dict[str, np.ndarray] = {"b": np.array([1.0, 0.0], dtype=np.float32)}
    out = xlingual_groups(pl.Series(["c", "b", "a", None, "a"]), cache=cache, encode=encode)
    assert dict(out.iter_rows()) == {"a": "a", "b": "a"}
    assert calls == [["a", "c"]] and sorted(cache) == ["a", "b", "c"]
    assert all(v.dtype == np.float32 for v in cache.values())
    again = xlingual_groups(pl.Series(["a", "b", "c"]), cache=cache, encode=encode)
    assert calls == [["a", "c"]] and again.equals(out)


def test_xlingual_finds_pairs_across_blocks_of_captions() -> None:
    from cib.signals.xlingual import xlingual_groups

    texts = [f"t{i:04d}" for i in range(1100)]  # more than one 1024-caption block
    index = {t: i for i, t in enumerate(texts)}
    twin = {"t1050": 5, "t1099": 1098}

    def encode(batch: list[str]) -> np.ndarray:
        out = np.zeros((len(batch), len(texts)))
        for row, t in enumerate(batch):
            out[row, twin.get(t, index[t])] = 1.0
        return out

    got = dict(xlingual_groups(pl.Series(texts[::-1]), encode=encode).iter_rows())
    assert got == {"t0005": "t0005", "t1050": "t0005", "t1098": "t1098", "t1099": "t1098"}


# -- co-timing edges, Hamming pairs, video groups, Poisson tail -------------------------------------------------
def _farm_actions() -> pl.DataFrame:
    """a, b and c post the same three links seconds apart; five bystanders post links of their own."""
    rows = [(acc, f"http://x.test/{k}", 1000 * k + i) for k in range(3) for i, acc in enumerate(["x:a", "x:b", "x:c"])]
    rows += [(f"x:by{i}", f"http://own.test/{i}", 50_000 + i) for i in range(5)]
    return pl.DataFrame([{"account_uid": a, "post_uid": f"{a}/{ts}", "ts": ts, "object": o, "signal": "co_url"}
                         for a, o, ts in rows])


def test_edges_keep_only_significant_pairs_and_carry_their_chance() -> None:
    from cib.signals import coded_edges, coded_pairs, pair_edges

    coded = encode(_farm_actions())
    pairs, _ = coded_pairs(coded, window_s=60)
    plain = coded_edges(coded, pairs)
    assert plain.select("src", "dst").rows() == [("x:a", "x:b"), ("x:a", "x:c"), ("x:b", "x:c")]
    assert plain["expected"].null_count() == 3 and plain["log10_p"].null_count() == 3
    code = {u: i for i, u in enumerate(coded.accounts.to_list())}
    significance = pl.DataFrame({"src": [code["x:a"]], "dst": [code["x:c"]], "expected": [0.25], "log10_p": [-7.5]},
                                schema={"src": pl.UInt32, "dst": pl.UInt32, "expected": pl.Float64,
                                        "log10_p": pl.Float64})
    kept = coded_edges(coded, pairs, significance=significance)
    assert kept.select("src", "dst", "expected", "log10_p").rows() == [("x:a", "x:c", 0.25, -7.5)]
    assert kept.select("n_shared", "weight").rows() == plain.filter(pl.col("dst") == "x:c", pl.col("src") == "x:a") \
        .select("n_shared", "weight").rows()
    # pair_edges passes its options through: evidence per edge, the neighbour cap, the hot-object cut
    assert plain["evidence"].list.len().to_list() == [3, 3, 3]
    assert pair_edges(_farm_actions(), window_s=60, evidence_per_edge=1)["evidence"].list.len().to_list() == [1, 1, 1]
    assert pair_edges(_farm_actions(), window_s=60, max_neighbours=1).height < 3
    assert pair_edges(_farm_actions(), window_s=60, hot_min_accounts=2).height == 0  # every shared link is hot


def test_brute_force_hamming_pairs_are_exact_across_blocks() -> None:
    from cib.signals.media import brute_pairs

    rng = np.random.default_rng(8)
    base = rng.integers(0, 2**63, size=(1, 4), dtype=np.uint64)
    words = np.repeat(base, 10, axis=0)
    for i in range(10):  # item i differs from the base in i * 3 bits of the first word
        words[i, 0] ^= np.uint64((1 << (3 * i)) - 1)

    def naive(limit: int) -> list[tuple[int, int]]:
        return [(i, j) for i in range(10) for j in range(i + 1, 10)
                if sum(bin(int(words[i, w]) ^ int(words[j, w])).count("1") for w in range(4)) <= limit]

    for block in (3, 4, 2048):
        for limit in (6, 9, 30):
            ii, jj = brute_pairs(words, max_distance=limit, block=block)
            assert list(zip(ii.tolist(), jj.tolist(), strict=True)) == naive(limit), (block, limit)
    assert (0, 3) in naive(9) and (0, 3) not in naive(8)  # the limit itself is a match
    ii, jj = brute_pairs(words[:0], max_distance=31)
    assert ii.dtype == jj.dtype == np.int64 and len(ii) == len(jj) == 0


def test_videos_match_by_the_share_of_their_own_frames() -> None:
    from cib.signals.media import video_groups

    def frame(seed: int) -> str:
        return np.random.default_rng(seed).bytes(32).hex()  # random frames are ~128 bits apart

    five_a = " ".join(frame(s) for s in (1, 2, 3, 4, 5))
    five_b = " ".join(frame(s) for s in (1, 12, 13, 14, 15))  # one shared frame of five: 20 % each way
    assert video_groups(pl.Series([five_a, five_b])).height == 0
    two = " ".join(frame(s) for s in (1, 2))  # both of its frames are in five_a: 100 % one way
    groups = video_groups(pl.Series([five_a, two, "", None]))
    assert sorted(groups["hash"].to_list()) == sorted([five_a, two]) and groups["group"].n_unique() == 1
    empty = video_groups(pl.Series([five_a, ""]))
    assert empty.schema == pl.Schema({"hash": pl.String(), "group": pl.String()}) and empty.height == 0
    assert video_groups(pl.Series([five_a, five_b])).schema == empty.schema


def test_poisson_tail_far_below_floating_point() -> None:
    from cib.signals.null import log10_poisson_sf

    def exact(k: int, lam: float) -> float:
        terms = [j * math.log(lam) - lam - math.lgamma(j + 1) for j in range(k, k + 400)]
        top = max(terms)
        return (top + math.log(sum(math.exp(t - top) for t in terms))) / math.log(10)

    k = np.array([400, 120, 60])
    lam = np.array([0.3, 2.0, 0.01])
    assert log10_poisson_sf(k, lam) == pytest.approx([exact(400, 0.3), exact(120, 2.0), exact(60, 0.01)], rel=1e-6)


def test_evidence_names_who_acted_first_and_lists_each_post_pair_once_closest_first() -> None:
    from cib.signals import coded_pairs, decode_evidence, pair_edges

    rows = [("x:a", "u1", 0), ("x:b", "u1", 50), ("x:a", "u2", 1000), ("x:b", "u2", 1010),
            ("x:b", "u3", 2000), ("x:a", "u3", 2030)]  # b first on u3; gaps 50, 10, 30
    posts = [{"account_uid": a, "post_uid": f"{a}/{ts}", "ts": ts, "object": f"http://x.test/{o}",
              "signal": "co_url"} for a, o, ts in rows]
    # a's and b's posts on u2 also share a hashtag set: one post pair, two objects
    posts += [{"account_uid": a, "post_uid": f"{a}/{ts}", "ts": ts, "object": "#one #two #three",
               "signal": "co_hashtags"} for a, o, ts in rows if o == "u2"]
    posts += [{"account_uid": f"x:by{i}", "post_uid": f"by{i}", "ts": 9000 + i, "object": f"http://own.test/{i}",
               "signal": "co_url"} for i in range(4)]
    actions = pl.DataFrame(posts)
    coded = encode(actions)
    pairs, _ = coded_pairs(coded, window_s=60)
    evidence = decode_evidence(coded, pairs).sort("object")
    assert evidence.select("src", "dst", "object", "src_first").rows() == [
        ("x:a", "x:b", "#one #two #three", True), ("x:a", "x:b", "http://x.test/u1", True),
        ("x:a", "x:b", "http://x.test/u2", True), ("x:a", "x:b", "http://x.test/u3", False)]
    edge = pair_edges(actions, window_s=60, min_shared=1).row(0, named=True)
    assert edge["n_shared"] == 3  # three co-posting events, not four objects
    assert edge["evidence"] == ["x:a/1000|x:b/1010", "x:a/2030|x:b/2000", "x:a/0|x:b/50"]  # closest first, once


def _post_rows(rows: list[dict[str, Any]]) -> pl.LazyFrame:
    base = {"created_at": T0, "urls": [], "repost_of": None, "repost_account_uid": None, "text_norm": None,
            "hashtags": [], "media": [], "sound_id": None, "effect_ids": []}
    return pl.DataFrame([{**base, **r} for r in rows], schema_overrides={
        "media": pl.List(pl.Struct({"key": pl.String, "kind": pl.String, "url": pl.String, "path": pl.String,
                                    "sha256": pl.String, "pdq": pl.String, "phash": pl.String})),
        "urls": pl.List(pl.String), "hashtags": pl.List(pl.String), "effect_ids": pl.List(pl.String),
        "repost_of": pl.String, "repost_account_uid": pl.String, "text_norm": pl.String, "sound_id": pl.String,
        "created_at": pl.Datetime("us", "UTC")}).lazy()


def test_near_duplicate_captions_and_images_are_the_same_kind_of_object() -> None:
    from cib.signals import actions

    a = "the election was stolen share before they delete this"
    b = "the election was stolen share before they delete it"
    far = format(int("f" * 64, 16) ^ (((1 << 32) - 1) << 100), "064x")  # 32 bits from all-f, 63 from near
    near = format(int("f" * 64, 16) ^ ((1 << 31) - 1), "064x")

    def photo(key: str, pdq: str) -> dict[str, Any]:
        return {"key": key, "kind": "photo", "url": None, "path": None, "sha256": None, "pdq": pdq, "phash": None}

    posts = _post_rows([{"uid": "x:1", "account_uid": "x:a", "text_norm": a, "media": [photo("x:p1", "f" * 64)]},
                        {"uid": "x:2", "account_uid": "x:b", "text_norm": b, "media": [photo("x:p2", near)]},
                        {"uid": "x:3", "account_uid": "x:c", "media": [photo("x:p3", far)]}])
    acts = actions(posts)
    by_kind = {(o.split(":", 1)[0], s) for o, s in acts.select("object", "signal").iter_rows()}
    assert ("capn", "co_caption") in by_kind and ("cap", "co_caption") in by_kind
    capn = acts.filter(pl.col("object").str.starts_with("capn:"))
    assert capn["post_uid"].sort().to_list() == ["x:1", "x:2"] and capn["object"].n_unique() == 1
    pdq = acts.filter(pl.col("object").str.starts_with("pdq:"))
    assert pdq["post_uid"].sort().to_list() == ["x:1", "x:2"] and set(pdq["signal"]) == {"co_media"}
    assert actions(posts, pdq_distance=32).filter(pl.col("object").str.starts_with("pdq:")).height == 3


def test_null_timing_share_counts_account_pairs_that_met_and_leaves_hot_objects_out() -> None:
    acts = pl.DataFrame({"acc": [0, 1, 2, 0, 3], "obj": [0, 0, 0, 1, 1], "ts": [0, 5000, 10_000, 0, 30],
                         "sig": [0, 0, 0, 0, 0]},
                        schema={"acc": pl.UInt32, "obj": pl.UInt32, "ts": pl.Int64, "sig": pl.UInt8})
    q = dict(fit_null(acts, 4, window_s=60).objects.select("obj", "q").iter_rows())
    assert q == {0: 0.0, 1: 1.0}  # object 0: none of its 3 action pairs within 60 s; object 1: its only one
    met = pl.DataFrame({"src": [0], "dst": [1], "obj": [0]}, schema={"src": pl.UInt32, "dst": pl.UInt32,
                                                                    "obj": pl.UInt32})
    q = dict(fit_null(acts, 4, window_s=60, pairs=met).objects.select("obj", "q").iter_rows())
    assert q[0] == pytest.approx(1 / 3) and q[1] == 1.0  # one of object 0's three account pairs met
    lone = acts.filter(pl.col("obj") == 0).head(1)
    assert fit_null(lone, 4, window_s=60).objects["q"].to_list() == [1.0]  # a single action: no timing evidence
    # objects touched by more than hot_limit accounts are left out of the chance (as they are left out of pairing)
    lam = {limit: fit_null(acts, 4, window_s=60, pairs=met, hot_limit=limit).expected(np.array([1]), np.array([2]))
           [0, -1] for limit in (None, 3, 2.9)}
    assert lam[None] == lam[3] > lam[2.9] > 0
