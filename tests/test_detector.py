"""Exact figures of the detector's building blocks, computed by hand (the fast subset mutation testing uses).

Every number below was worked out on paper from the module docstrings, not copied from a run.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from cib.clustering import ClusterParams, _duration, cluster_scores, communities, looks_generated
from cib.schema import CLUSTERS, EDGES, MEMBERS
from cib.signals import actions, coded_edges, coded_pairs, encode, pair_edges
from cib.signals.media import hamming_pairs, perceptual_groups

T0 = datetime(2024, 5, 1, tzinfo=UTC)


# -- clustering ---------------------------------------------------------------------------------------------
def _edges(rows: list[tuple[str, str, float, int, float]]) -> pl.DataFrame:
    return pl.DataFrame([{"src": s, "dst": d, "weight": w, "n_shared": n, "signals": ["co_url"], "min_gap_s": g,
                          "median_gap_s": g, "evidence": []} for s, d, w, n, g in rows], schema=EDGES)


def test_communities_split_components_and_order_them() -> None:
    assert communities(pl.DataFrame(schema=EDGES), ClusterParams()) == []
    edges = _edges([("x:a", "x:b", 0.9, 3, 1), ("x:a", "x:c", 0.9, 3, 1), ("x:b", "x:c", 0.9, 3, 1),
                    ("x:p", "x:q", 0.9, 3, 1), ("x:p", "x:r", 0.9, 3, 1), ("x:q", "x:r", 0.9, 3, 1),
                    ("x:p", "x:s", 0.9, 3, 1), ("x:q", "x:s", 0.9, 3, 1), ("x:r", "x:s", 0.9, 3, 1)])
    assert communities(edges, ClusterParams()) == [["x:p", "x:q", "x:r", "x:s"], ["x:a", "x:b", "x:c"]]
    pair = _edges([("x:m", "x:n", 0.5, 3, 1)])
    assert communities(pair, ClusterParams()) == [["x:m", "x:n"]]
    # equal sizes are ordered by their first member
    two = _edges([("x:d", "x:e", 0.9, 3, 1), ("x:b", "x:c", 0.9, 3, 1)])
    assert communities(two, ClusterParams()) == [["x:b", "x:c"], ["x:d", "x:e"]]


def test_resolution_splits_weakly_joined_groups() -> None:
    rows = []
    for group in (("x:a", "x:b", "x:c", "x:d"), ("x:e", "x:f", "x:g", "x:h")):
        rows += [(u, v, 1.0, 3, 1) for i, u in enumerate(group) for v in group[i + 1:]]
    edges = _edges([*rows, ("x:d", "x:e", 0.05, 3, 1)])
    assert len(communities(edges, ClusterParams(resolution=1.0))) == 2
    assert communities(edges, ClusterParams(resolution=0.001)) == [["x:a", "x:b", "x:c", "x:d", "x:e", "x:f",
                                                                     "x:g", "x:h"]]


@pytest.mark.parametrize("handle,expected", [
    ("anna83920147", True), ("maria.12345", True), ("maria_1234", True), ("ANNA12345", True), ("ab12345", True),
    ("user5531", True), ("user1", True), ("a1b2c3d4e5f6g7h88", True),
    ("anna_koval", False), ("maria123", False), ("abcd123", False), ("kyiv_independent", False),
    ("x123456z", False), ("1234anna", False), ("a1b2c3d4e5f6g7h8", False), ("", False), (None, False),
])
def test_generated_handle_pattern(handle: str | None, expected: bool) -> None:
    assert looks_generated(handle) is expected


def test_durations_in_explanations() -> None:
    assert [_duration(s) for s in (0, 119, 120, 7199, 7200, 36_000)] == ["0 s", "119 s", "2 min", "120 min",
                                                                          "2.0 h", "10.0 h"]


def _cluster_inputs() -> tuple[list[list[str]], pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    group = ["x:a", "x:b", "x:c", "x:d"]
    edges = _edges([("x:a", "x:b", 0.2, 2, 10.0), ("x:a", "x:c", 0.3, 3, 30.0), ("x:b", "x:c", 0.1, 4, 50.0),
                    ("x:a", "x:z", 0.9, 9, 1.0)])  # the last edge leaves the group and must be ignored
    evidence = pl.DataFrame({"src": ["x:a", "x:a", "x:a", "x:a", "x:a"], "dst": ["x:b", "x:b", "x:c", "x:c", "x:z"],
                             "post_a": ["p:a1", "p:a2", "p:a1", "p:a1", "p:a3"],
                             "post_b": ["p:b1", "p:b2", "p:c1", "p:c1", "p:z1"]})
    posts = pl.DataFrame({"account_uid": ["x:a"] * 3 + ["x:b", "x:c", "x:z"],
                          "created_at": [T0 + timedelta(hours=h) for h in (5, 1, 9, 2, 20, 0)]})
    accounts = pl.DataFrame([
        {"uid": "x:a", "handle": "olena84729163", "created_at": T0, "verified": False, "followers": 49_999},
        {"uid": "x:b", "handle": "user5531", "created_at": T0 + timedelta(days=1), "verified": None, "followers": None},
        {"uid": "x:c", "handle": "kyiv_independent", "created_at": T0 + timedelta(days=6, hours=23),
         "verified": False, "followers": 50_000},
        {"uid": "x:d", "handle": "maria", "created_at": T0 + timedelta(days=30), "verified": True, "followers": 3},
    ])
    shareable = pl.DataFrame({"account_uid": group, "n_shareable": [3, 2, 4, 5]})
    return [group, ["x:y", "x:z"]], edges, evidence, posts, accounts, shareable


def test_cluster_components_score_and_explanation() -> None:
    groups, edges, evidence, posts, accounts, shareable = _cluster_inputs()
    clusters, members = cluster_scores(groups, edges, evidence, posts, accounts, ClusterParams(), shareable)
    assert clusters.schema == CLUSTERS and members.schema == MEMBERS
    assert clusters.height == 1  # the two-account group is below min_size
    row = clusters.row(0, named=True)
    assert row["cluster_id"] == "c-" + hashlib.sha1(b"x:a\nx:b\nx:c\nx:d").hexdigest()[:12]
    # density 3/6; strength mean(0.2, 0.3, 0.1)/0.35; breadth median(2, 3, 4)/6; synchrony: evidence posts per
    # member over shareable posts = a 2/3, b 2/2, c 1/4, d 0/5 -> sorted [0, .25, .67, 1], the middle-upper .67;
    # burst: a, b, c created within 7 days -> 3/4; generated handles a, b -> 2/4; anomaly = max = .75;
    # authentic: d verified, c has 50 000 followers (a has 49 999) -> 2/4
    assert json.loads(row["components"]) == {"strength": 0.5714, "density": 0.5, "breadth": 0.5, "synchrony": 0.6667,
                                             "anomaly": 0.75, "authentic": 0.5}
    raw = (0.30 * 0.2 / 0.35 + 0.20 * 2 / 3 + 0.25 * 0.5 + 0.10 * 0.5 + 0.15 * 0.75) * (1 - 0.6 * 0.5)
    assert row["score"] == round(raw, 4) == 0.4146 and row["flagged"] is False and row["rank"] == 1
    # the threshold is compared with the score as stored and shown (0.4146), not the unrounded 0.414583
    at_shown, _ = cluster_scores(groups, edges, evidence, posts, accounts, ClusterParams(flag_threshold=0.4146),
                                 shareable)
    assert at_shown["flagged"].to_list() == [True]
    assert (row["size"], row["platforms"], row["signals"], row["n_posts"]) == (4, ["x"], ["co_url"], 5)
    assert (row["first_seen"], row["last_seen"]) == (T0 + timedelta(hours=1), T0 + timedelta(hours=20))
    assert row["explanation"] == (
        "4 accounts on x posted the same links, a median 30 s apart; 67% of a typical member's shared posts "
        "were in lockstep with another member; pairs share a median 3 items; 75% of the accounts were created "
        "within one week; 50% of handles look machine-generated; 50% are verified or large established accounts "
        "(score lowered).")
    assert members.rows() == [(row["cluster_id"], "x:a", 2, 0.5), (row["cluster_id"], "x:b", 2, 0.3),
                              (row["cluster_id"], "x:c", 2, 0.4), (row["cluster_id"], "x:d", 0, 0.0)]


def test_cluster_flag_rank_and_fallbacks() -> None:
    groups, edges, evidence, posts, accounts, _ = _cluster_inputs()
    strong = ["x:p", "x:q", "x:r"]
    tight = _edges([("x:p", "x:q", 0.9, 12, 5.0), ("x:p", "x:r", 0.9, 12, 5.0), ("x:q", "x:r", 0.9, 12, 5.0)])
    ev = pl.DataFrame({"src": ["x:p", "x:p"], "dst": ["x:q", "x:r"], "post_a": ["p:p1", "p:p1"],
                       "post_b": ["p:q1", "p:r1"]})
    more_posts = pl.concat([posts, pl.DataFrame({"account_uid": strong, "created_at": [T0] * 3})])
    clusters, members = cluster_scores([groups[0], strong], pl.concat([edges, tight]), pl.concat([evidence, ev]),
                                       more_posts, accounts, ClusterParams(min_size=3, flag_threshold=0.4))
    # without `shareable` every post is the denominator: p, q, r each have one post, all in the evidence
    top = clusters.row(0, named=True)
    assert clusters["rank"].to_list() == [1, 2] and top["size"] == 3 and top["flagged"] is True
    assert json.loads(top["components"]) == {"strength": 1.0, "density": 1.0, "breadth": 1.0, "synchrony": 1.0,
                                             "anomaly": 0.0, "authentic": 0.0}
    assert top["score"] == 0.85 and "were created" not in top["explanation"] and "look machine" not in top["explanation"]
    assert "(score lowered)" not in top["explanation"] and "a median 5 s apart" in top["explanation"]
    # the second cluster: synchrony over all posts now (a 2/3, b 1/1, c 1/1, d has none) -> [2/3, 1, 1] -> 1
    second = clusters.row(1, named=True)
    assert json.loads(second["components"])["synchrony"] == 1.0 and second["flagged"] is True
    assert set(members["cluster_id"]) == set(clusters["cluster_id"])
    empty_c, empty_m = cluster_scores([], edges.head(0), evidence.head(0), posts, accounts, ClusterParams())
    assert empty_c.schema == CLUSTERS and empty_c.height == 0 and empty_m.schema == MEMBERS and empty_m.height == 0


def test_cluster_without_evidence_or_account_rows() -> None:
    group = ["x:a", "x:b", "x:c"]
    edges = _edges([("x:a", "x:b", 0.35, 6, 4000.0), ("x:b", "x:c", 0.35, 6, 9000.0)])
    evidence = pl.DataFrame(schema={"src": pl.String, "dst": pl.String, "post_a": pl.String, "post_b": pl.String})
    posts = pl.DataFrame(schema={"account_uid": pl.String, "created_at": pl.Datetime("us", "UTC")})
    accounts = pl.DataFrame(schema={"uid": pl.String, "handle": pl.String, "created_at": pl.Datetime("us", "UTC"),
                                    "verified": pl.Boolean, "followers": pl.Int64})
    clusters, _ = cluster_scores([group], edges, evidence, posts, accounts, ClusterParams())
    row = clusters.row(0, named=True)
    assert json.loads(row["components"]) == {"strength": 1.0, "density": 0.6667, "breadth": 1.0, "synchrony": 0.0,
                                             "anomaly": 0.0, "authentic": 0.0}
    assert row["score"] == round(0.30 + 0.25 + 0.10 * 2 / 3, 4) and row["n_posts"] == 0
    assert row["first_seen"] is None and row["last_seen"] is None
    assert "a median 108 min apart" in row["explanation"] and "0% of a typical member" in row["explanation"]


# -- co-timing ------------------------------------------------------------------------------------------------
def _acts(rows: list[tuple[str, str, int, str]], signal: str = "co_url") -> pl.DataFrame:
    return pl.DataFrame({"account_uid": [r[0] for r in rows], "post_uid": [r[1] for r in rows],
                         "ts": [r[2] for r in rows], "object": [r[3] for r in rows], "signal": [signal] * len(rows)})


def test_encode_idf_and_mass() -> None:
    coded = encode(_acts([("x:a", "p1", 0, "u1"), ("x:b", "p2", 5, "u1"), ("x:a", "p3", 9, "u2"),
                          ("x:c", "p4", 9, "u3"), ("x:d", "p5", 9, "u3")]))
    assert coded.accounts.to_list() == ["x:a", "x:b", "x:c", "x:d"] and coded.signals == ["co_url"]
    assert coded.posts.to_list() == ["p1", "p2", "p3", "p4", "p5"] and coded.objects.to_list() == ["u1", "u2", "u3"]
    import math

    idf = dict(coded.idf.iter_rows())
    assert idf == pytest.approx({0: math.log(4 / 2), 1: math.log(4), 2: math.log(4 / 2)})
    assert dict(coded.mass.iter_rows()) == pytest.approx({0: math.log(2) + math.log(4), 1: math.log(2),
                                                          2: math.log(2), 3: math.log(2)})
    single = encode(_acts([("x:a", "p1", 0, "u1")]))
    assert single.idf["idf"].to_list() == [pytest.approx(math.log(2))]  # n_accounts floored at 2


def test_pairs_keep_the_closest_co_action_per_object_and_respect_the_cap() -> None:
    acts = _acts([("x:a", "p1", 0, "u"), ("x:b", "p2", 100, "u"), ("x:a", "p3", 150, "u"), ("x:c", "p4", 400, "u")])
    coded = encode(acts)
    pairs, capped = coded_pairs(coded, window_s=300)
    # a–b: gaps 100 (p1,p2) and 50 (p2,p3) -> the closest; b–c: 300 (inclusive); a–c: 250 (p3,p4)
    got = sorted((coded.accounts[s], coded.accounts[d], g) for s, d, g in pairs.select("src", "dst", "gap_s").rows())
    assert got == [("x:a", "x:b", 50), ("x:a", "x:c", 250), ("x:b", "x:c", 300)] and capped == 0
    every, _ = coded_pairs(coded, window_s=300, per_object="all")
    assert every.height == 4  # (p1,p2), (p2,p3), (p3,p4), (p2,p4); (p1,p3) is the same account
    one, capped = coded_pairs(coded, window_s=300, max_neighbours=1)
    assert capped == 1 and one.height == 2  # only next neighbours: b–c (p2, p4) is never looked at
    hot, capped = coded_pairs(coded, window_s=300, hot_min_accounts=2)
    assert hot.height == 0 and capped == 1  # touched by 3 accounts > max(2, 1 % of 3)
    kept, capped = coded_pairs(coded, window_s=300, hot_min_accounts=3)
    assert kept.height == 3 and capped == 0
    share, capped = coded_pairs(coded, window_s=300, hot_min_accounts=1, hot_share=1.0)
    assert share.height == 3 and capped == 0  # the limit is max(1, 100 % of 3 accounts) = 3


def test_edges_count_events_and_normalise_weights() -> None:
    import math

    rows = [(acc, f"{acc}{k}", 60 * k + off, f"rare{k}") for k in range(3) for acc, off in (("x:a", 0), ("x:b", 7))]
    rows += [("x:a", "x:a-own", 900, "own-a"), ("x:c", "x:c0", 5000, "rare0"), ("x:d", "x:d0", 9000, "other")]
    acts = _acts(rows)
    coded = encode(acts)
    pairs, _ = coded_pairs(coded, window_s=30)
    edges = coded_edges(coded, pairs, min_shared=3, min_weight=0.0)
    assert edges.schema == EDGES and edges.select("src", "dst", "n_shared").rows() == [("x:a", "x:b", 3)]
    n = 4
    idf_rare0, idf_rare, idf_own = math.log(n / 3), math.log(n / 2), math.log(n)
    shared = idf_rare0 + 2 * idf_rare
    mass_a, mass_b = shared + idf_own, shared
    row = edges.row(0, named=True)
    assert row["weight"] == pytest.approx(shared / math.sqrt(mass_a * mass_b), abs=1e-9)
    assert (row["min_gap_s"], row["median_gap_s"], row["signals"]) == (7.0, 7.0, ["co_url"])
    assert sorted(row["evidence"]) == ["x:a0|x:b0", "x:a1|x:b1", "x:a2|x:b2"]
    few = coded_edges(coded, pairs, min_shared=3, min_weight=0.0, evidence_per_edge=2)
    assert few["evidence"].to_list()[0] == ["x:a1|x:b1", "x:a2|x:b2"]  # rarest objects first
    assert coded_edges(coded, pairs, min_shared=4, min_weight=0.0).height == 0
    assert coded_edges(coded, pairs, min_shared=3, min_weight=row["weight"] + 1e-6).height == 0
    assert coded_edges(coded, pairs, min_shared=3, min_weight=row["weight"]).height == 1
    assert coded_edges(coded, pairs.head(0), min_shared=1, min_weight=0.0).schema == EDGES
    assert pair_edges(acts.head(0)).schema == EDGES


def test_one_post_sharing_three_objects_is_one_event() -> None:
    rows = []
    for k in range(2):
        for acc, off in (("x:a", 0), ("x:b", 5)):
            post = f"{acc}{k}"
            rows += [(acc, post, 100 * k + off, f"url{k}"), (acc, post, 100 * k + off, f"tag{k}")]
    edges = pair_edges(_acts(rows), window_s=60, min_shared=1, min_weight=0.0)
    assert edges["n_shared"].to_list() == [2]
    assert pair_edges(_acts(rows), window_s=60, min_shared=3, min_weight=0.0).height == 0


# -- objects: every signal becomes its own object -------------------------------------------------------------
def _post(uid: str, account: str, **fields: object) -> dict:
    base = {"uid": uid, "account_uid": account, "created_at": T0, "urls": [], "repost_of": None,
            "repost_account_uid": None, "text_norm": None, "hashtags": [], "media": [], "sound_id": None,
            "effect_ids": []}
    return {**base, **fields}


def _frame(rows: list[dict]) -> pl.LazyFrame:
    return pl.DataFrame(rows, schema_overrides={
        "media": pl.List(pl.Struct({"key": pl.String, "kind": pl.String, "url": pl.String, "path": pl.String,
                                    "sha256": pl.String, "pdq": pl.String, "phash": pl.String})),
        "urls": pl.List(pl.String), "hashtags": pl.List(pl.String), "effect_ids": pl.List(pl.String),
        "repost_of": pl.String, "repost_account_uid": pl.String, "text_norm": pl.String, "sound_id": pl.String,
        "created_at": pl.Datetime("us", "UTC"),
    }).lazy()


def _objects(frame: pl.DataFrame) -> list[tuple[str, str]]:
    return sorted((s, o.split(":", 1)[0]) for s, o in frame.select("signal", "object").rows())


def test_actions_cover_every_signal() -> None:
    pdq = "f" * 64
    media = [{"key": "x:photo:1", "kind": "photo", "url": None, "path": None, "sha256": None, "pdq": pdq,
              "phash": "ff00ff00ff00ff00"},
             {"key": "tiktok:sound:9", "kind": "sound", "url": None, "path": None, "sha256": None, "pdq": None,
              "phash": None}]
    rows = [_post("x:1", "x:a", urls=["https://e.com/1", "https://e.com/2"], created_at=T0 + timedelta(seconds=61)),
            _post("x:2", "x:a", repost_of="x:99"),
            _post("telegram:3", "telegram:a", repost_account_uid="telegram:src", text_norm="forwarded words"),
            _post("x:4", "x:a", text_norm="one two three four", hashtags=["b", "a", "c"]),
            _post("x:5", "x:a", text_norm="one two three", hashtags=["a", "b"]),
            _post("x:6", "x:a", media=media, sound_id="777", effect_ids=["e1", None]),
            _post("x:7", "x:b", media=[{**media[0], "key": "x:photo:2", "pdq": "f" * 63 + "e",
                                        "phash": "ff00ff00ff00ff01"}])]  # a re-encoded copy elsewhere
    acts = actions(_frame(rows), near_duplicates=False)
    assert acts.schema == pl.Schema({"account_uid": pl.String, "post_uid": pl.String, "ts": pl.Int64,
                                     "object": pl.String, "signal": pl.String})
    got = sorted(acts.select("post_uid", "object", "signal").rows())
    by_post: dict[str, list[tuple[str, str]]] = {}
    for post, obj, sig in got:
        by_post.setdefault(post, []).append((obj, sig))
    assert by_post["x:1"] == [("url:https://e.com/1", "co_url"), ("url:https://e.com/2", "co_url")]
    assert by_post["x:2"] == [("repost:x:99", "co_repost")]
    (fwd, sig), = by_post["telegram:3"]  # a forward is not also a caption: its text is the source's
    assert fwd.startswith("fwd:telegram:src:") and sig == "co_repost"
    assert sorted(s for _, s in by_post["x:4"]) == ["co_caption", "co_hashtags"]
    assert ("tags:a b c", "co_hashtags") in by_post["x:4"]
    assert "x:5" not in by_post  # three words and two hashtags are below both minimums
    assert sorted(by_post["x:6"]) == sorted([
        ("media:x:photo:1", "co_media"), ("pdq:" + "f" * 63 + "e", "co_media"), ("phash:ff00ff00ff00ff00", "co_media"),
        ("sound:777", "co_sound"), ("effect:e1", "co_sound")])
    assert acts.filter(pl.col("post_uid") == "x:1")["ts"].to_list() == [int(T0.timestamp()) + 61] * 2
    looser = actions(_frame(rows), near_duplicates=False, min_caption_tokens=3, min_hashtags=2)
    assert {o.split(":", 1)[0] for o in looser.filter(pl.col("post_uid") == "x:5")["object"]} == {"cap", "tags"}


def test_forwards_of_the_same_item_match_and_near_duplicate_captions_group() -> None:
    rows = [_post("telegram:1", "telegram:a", repost_account_uid="telegram:src", text_norm="the same words"),
            _post("telegram:2", "telegram:b", repost_account_uid="telegram:src", text_norm="the same words"),
            _post("telegram:3", "telegram:c", repost_account_uid="telegram:src", text_norm="other words"),
            _post("x:1", "x:a", text_norm="they are lying to you about the grain deal today"),
            _post("x:2", "x:b", text_norm="they are lyng to you about the grain deal today")]
    acts = actions(_frame(rows))
    fwd = acts.filter(pl.col("object").str.starts_with("fwd:"))
    assert fwd.group_by("object").agg(pl.len())["len"].sort().to_list() == [1, 2]
    near = acts.filter(pl.col("object").str.starts_with("capn:"))
    assert sorted(near["post_uid"]) == ["x:1", "x:2"] and near["object"].n_unique() == 1
    assert actions(_frame(rows), near_duplicates=False).filter(pl.col("object").str.starts_with("capn:")).height == 0
    strict = actions(_frame(rows), caption_threshold=0.99)
    assert strict.filter(pl.col("object").str.starts_with("capn:")).height == 0


def test_perceptual_groups_and_hamming_pairs() -> None:
    a = "0" * 64
    b = format(0b111, "064x")  # 3 bits from a
    c = format((1 << 40) - 1, "064x")  # 40 bits from a
    assert hamming_pairs([a, b, c], max_distance=3) == [(0, 1)]
    assert hamming_pairs([a, b, c], max_distance=2) == []
    assert hamming_pairs([a, b, c], max_distance=40) == [(0, 1), (0, 2), (1, 2)]
    groups = perceptual_groups(pl.Series([a, b, c, a]), max_distance=3)
    assert dict(groups.iter_rows()) == {a: a, b: a}
    assert perceptual_groups(pl.Series([c]), max_distance=3).height == 0


def test_cluster_ties_order_and_rounding() -> None:
    def cid(group: list[str]) -> str:
        return "c-" + hashlib.sha1("\n".join(group).encode()).hexdigest()[:12]

    g1, g2 = ["x:k1", "x:k2", "x:k3"], ["x:m1", "x:m2", "x:m3"]
    high, low = sorted([g1, g2], key=cid, reverse=True)  # `high` has the larger id
    rows = [(g[i], g[j], 0.123456, 3, 10.0) for g in (g1, g2) for i, j in ((0, 1), (0, 2), (1, 2))]
    evidence = pl.DataFrame(schema={"src": pl.String, "dst": pl.String, "post_a": pl.String, "post_b": pl.String})
    posts = pl.DataFrame({"account_uid": g1 + g2, "created_at": [T0] * 6})
    accounts = pl.DataFrame({"uid": g1 + g2, "handle": ["k"] * 6, "created_at": [None] * 6,
                             "verified": [True, False, False] * 2, "followers": [1] * 6},
                            schema_overrides={"created_at": pl.Datetime("us", "UTC")})
    clusters, members = cluster_scores([["x:s1", "x:s2"], high, low], _edges(rows), evidence, posts, accounts,
                                       ClusterParams())
    # equal scores: the smaller id ranks first; the small group before them does not stop the loop
    assert clusters["cluster_id"].to_list() == [cid(low), cid(high)] and clusters["score"].n_unique() == 1
    assert json.loads(clusters["components"][0])["authentic"] == 0.3333  # 1 of 3 verified, 4 decimals
    assert members.rows() == sorted(members.rows()) and members.height == 6
    assert set(members["strength"]) == {0.2469}  # two edges of 0.123456 each, 4 decimals
    solo, _ = cluster_scores([["x:k1"]], _edges(rows).head(0), evidence, posts, accounts, ClusterParams(min_size=1))
    assert json.loads(solo["components"][0])["density"] == 0.0  # one account: no possible pair, no density


def _one_cluster(group: list[str], *, created_days: list[float | None] | None = None,
                 handles: list[str] | None = None, edges: pl.DataFrame | None = None,
                 evidence: list[tuple[str, str, str, str]] = (), shareable: list[int] | None = None) -> dict:
    n = len(group)
    days = created_days if created_days is not None else [None] * n
    accounts = pl.DataFrame({"uid": group, "handle": handles or ["k"] * n,
                             "created_at": [None if d is None else T0 + timedelta(days=d) for d in days],
                             "verified": [False] * n, "followers": [None] * n},
                            schema_overrides={"created_at": pl.Datetime("us", "UTC"), "followers": pl.Int64})
    ev = pl.DataFrame(list(evidence), schema={"src": pl.String, "dst": pl.String, "post_a": pl.String,
                                              "post_b": pl.String}, orient="row")
    posts = pl.DataFrame({"account_uid": group, "created_at": [T0] * n})
    share = pl.DataFrame({"account_uid": group, "n_shareable": shareable}) if shareable else None
    clusters, _ = cluster_scores([group], edges if edges is not None else pl.DataFrame(schema=EDGES), ev, posts,
                                 accounts, ClusterParams(min_size=1), share)
    row = clusters.row(0, named=True)
    return {**json.loads(row["components"]), "explanation": row["explanation"]}


def test_creation_burst_window_is_seven_days_inclusive() -> None:
    ten = [f"x:{i:02d}" for i in range(10)]
    # exactly 6 of 10 creation dates known (the minimum, 60 %); three fall in one 7-day window, ends included
    at_edge = _one_cluster(ten, created_days=[0, 3.5, 7, 20, 40, 60, None, None, None, None])
    assert at_edge["anomaly"] == 0.3 and "30% of the accounts were created within one week" in at_edge["explanation"]
    # 7.5 days apart: only two in any window, and fewer than three is no burst at all
    past = _one_cluster(ten, created_days=[0, 3.5, 7.5, 20, 40, 60, None, None, None, None])
    assert past["anomaly"] == 0.0 and "were created" not in past["explanation"]
    # 5 of 10 known is below 60 %: not judged
    assert _one_cluster(ten, created_days=[0, 1, 2, 3, 4] + [None] * 5)["anomaly"] == 0.0
    six = [f"x:{i}" for i in range(6)]
    assert _one_cluster(six, created_days=[0, 1, 2, None, None, None])["anomaly"] == 0.0  # 3 < 60 % of 6
    assert _one_cluster(six[:3], created_days=[0, 1, 2])["anomaly"] == 1.0  # three of three, the minimum


def test_generated_handles_at_the_reporting_boundary() -> None:
    ten = [f"x:{i:02d}" for i in range(10)]
    three = _one_cluster(ten, handles=["anna83920147", "user5531", "ab12345"] + ["anna_koval"] * 7)
    assert three["anomaly"] == 0.3 and "30% of handles look machine-generated" in three["explanation"]
    two = _one_cluster(ten, handles=["anna83920147", "user5531"] + ["anna_koval"] * 8)
    assert two["anomaly"] == 0.2 and "look machine" not in two["explanation"]


def test_synchrony_caps_and_counts_members_without_evidence() -> None:
    # a shows up in 3 evidence posts but had 1 shareable post: capped at 1, never above
    capped = _one_cluster(["x:a", "x:b", "x:c"], shareable=[1, 1, 1],
                          evidence=[("x:a", "x:b", "p:a1", "p:b1"), ("x:a", "x:b", "p:a2", "p:b2"),
                                    ("x:a", "x:c", "p:a3", "p:c1")])
    assert capped["synchrony"] == 1.0
    # members without any evidence count as 0, which decides the median here: [0, 0, 0, 1, 1] -> 0
    quiet = _one_cluster(["x:a", "x:b", "x:d", "x:e", "x:f"], shareable=[1, 1, 2, 2, 2],
                         evidence=[("x:a", "x:b", "p:a1", "p:b1")])
    assert quiet["synchrony"] == 0.0


def test_explanation_wording() -> None:
    group = ["facebook:1", "telegram:2", "x:3"]
    bare = _one_cluster(group)
    assert bare["explanation"].startswith("3 accounts on facebook, telegram, x posted the same objects, close in "
                                          "time; 0% of a typical member's")
    edges = pl.DataFrame([{"src": "facebook:1", "dst": "telegram:2", "weight": 0.5, "n_shared": 4,
                           "signals": ["co_url", "co_zzz"], "min_gap_s": None, "median_gap_s": None,
                           "evidence": []}], schema=EDGES)
    named = _one_cluster(group, edges=edges)
    assert named["explanation"].startswith("3 accounts on facebook, telegram, x posted the same links, co_zzz, "
                                           "close in time;")


# -- captions and media ---------------------------------------------------------------------------------------
def _jaccard(a: str, b: str) -> float:
    def shingles(t: str) -> set[str]:
        w = t.split(" ")
        return set(w) | {f"{x} {y}" for x, y in zip(w, w[1:], strict=False)}

    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


def test_caption_threshold_is_inclusive_and_groups_are_connected() -> None:
    from cib.signals import near_duplicate_groups

    a = "one two three four five six seven eight nine ten eleven twelve"
    b = "one two three four five six seven eight nine ten eleven dozen"
    c = "zero two three four five six seven eight nine ten eleven dozen"
    exact = _jaccard(a, b)
    assert 0.6 < exact < 1 and _jaccard(a, c) < exact
    at = dict(near_duplicate_groups(pl.Series([a, b]), threshold=exact).iter_rows())
    assert set(at) == {a, b} and at[a] == at[b]
    assert near_duplicate_groups(pl.Series([a, b]), threshold=exact + 1e-9).height == 0
    chain = dict(near_duplicate_groups(pl.Series([c, b, a]), threshold=min(exact, _jaccard(b, c))).iter_rows())
    # a ~ b and b ~ c make one group even where a and c alone would not match; the id is the hash of the
    # smallest text of the group
    assert set(chain) == {a, b, c} and len(set(chain.values())) == 1
    assert chain[a] == str(pl.Series([min(a, b, c)]).hash(seed=0)[0])
    other_seed = dict(near_duplicate_groups(pl.Series([c, b, a]), threshold=0.6, seed=1).iter_rows())
    assert len(set(other_seed.values())) == 1 and other_seed[a] != chain[a]


def test_caption_minimum_tokens_and_bucket_cap() -> None:
    from cib.signals import near_duplicate_groups

    short = pl.Series(["red green blue white black", "red green blue white black pink"])  # five and six words
    assert near_duplicate_groups(short, min_tokens=6, threshold=0.5).height == 0
    assert near_duplicate_groups(short, min_tokens=5, threshold=0.5).height == 2
    texts = pl.Series([f"the same long sentence about the harvest and the port number {i}" for i in range(6)])
    assert near_duplicate_groups(texts).height == 6
    assert near_duplicate_groups(texts, max_bucket=1).height == 0  # every bucket is over the cap
    assert near_duplicate_groups(pl.Series([None, "x y"], dtype=pl.String)).height == 0


def test_media_blocks_caps_and_short_hashes() -> None:
    hashes = ["0" * 16, "0" * 15 + "1", "f" * 16, "f" * 15 + "e", "0" * 14 + "ff"]
    pairs = hamming_pairs(hashes, max_distance=1)
    assert pairs == [(0, 1), (2, 3)]
    assert hamming_pairs(hashes, max_distance=1, block=1) == pairs == hamming_pairs(hashes, max_distance=1, block=2)
    assert hamming_pairs(hashes, max_distance=8, block=2) == [(0, 1), (0, 4), (1, 4), (2, 3)]
    series = pl.Series(hashes)
    grouped = perceptual_groups(series, max_distance=8, block=2)
    assert dict(grouped.iter_rows()) == {"0" * 16: "0" * 16, "0" * 15 + "1": "0" * 16, "0" * 14 + "ff": "0" * 16,
                                         "f" * 15 + "e": "f" * 15 + "e", "f" * 16: "f" * 15 + "e"}
    assert grouped["hash"].to_list() == sorted(grouped["hash"].to_list())
    assert perceptual_groups(series, max_distance=8, max_unique=4).height == 0  # too many: exact matches only
    assert perceptual_groups(series, max_distance=8, max_unique=5).height == 5
    assert perceptual_groups(pl.Series(["0" * 16, None, "0" * 16])).height == 0


def test_edge_defaults_and_degenerate_weights() -> None:
    import math

    # defaults: 3 distinct events, weight >= 0.15, five evidence pairs per edge
    rows = [(acc, f"{acc}{k}", 600 * k + off, f"rare{k}") for k in range(6) for acc, off in (("x:a", 0), ("x:b", 7))]
    rows += [(f"x:bg{i}", f"bg{i}", 99_999, f"bg{i}") for i in range(20)]
    coded = encode(_acts(rows))
    pairs, _ = coded_pairs(coded, window_s=60)
    edges = coded_edges(coded, pairs)
    assert edges.height == 1 and edges["n_shared"].to_list() == [6] and len(edges["evidence"][0]) == 5
    assert edges["weight"][0] == round(edges["weight"][0], 9) == 1.0
    assert coded_edges(coded, pairs.head(2)).height == 0  # 2 < 3 events
    assert coded_edges(coded, pairs.head(3)).height == 1
    one = coded_edges(coded, pairs.head(1), min_shared=1, min_weight=0.0)
    assert one.height == 1 and one["n_shared"].to_list() == [1]
    # objects everyone touched carry no weight: 0, not NaN and not 1
    both = encode(_acts([(acc, f"{acc}{k}", 10 * k, f"o{k}") for k in range(3) for acc in ("x:a", "x:b")]))
    flat = coded_edges(both, coded_pairs(both, window_s=60)[0], min_shared=1, min_weight=0.0)
    assert flat["weight"].to_list() == [0.0]
    # weights are rounded to 9 decimals
    odd = encode(_acts(rows + [("x:a", "own", 5, "own1"), ("x:c", "c1", 0, "rare0")]))
    w = coded_edges(odd, coded_pairs(odd, window_s=60)[0])["weight"][0]
    assert w == round(w, 9) and w != round(w, 8) and not math.isnan(w)


def test_events_are_counted_on_the_less_active_side() -> None:
    # a posts three links in three posts, b posts all three in one post: one co-posting event, not three
    rows = [("x:a", f"a{k}", k, f"u{k}") for k in range(3)] + [("x:b", "b0", 5, f"u{k}") for k in range(3)]
    rows += [(f"x:bg{i}", f"bg{i}", 9_999, f"bg{i}") for i in range(5)]
    edges = pair_edges(_acts(rows), window_s=60, min_shared=1, min_weight=0.0)
    assert edges.select("src", "dst", "n_shared").rows() == [("x:a", "x:b", 1)]
    mirrored = [("x:b", f"b{k}", k, f"u{k}") for k in range(3)] + [("x:a", "a0", 5, f"u{k}") for k in range(3)]
    edges = pair_edges(_acts(mirrored + rows[6:]), window_s=60, min_shared=1, min_weight=0.0)
    assert edges.select("src", "dst", "n_shared").rows() == [("x:a", "x:b", 1)]
