"""Presentation-only facts for the report: nothing here scores, weighs or clusters.

Every function takes already-scored frames (``EDGES``, ``EVIDENCE``, ``MEMBERS``) plus the loaded posts and
accounts and only filters, counts, sorts and formats: first/last seen, posts in the data, degree and strength
inside a cluster (read from the edges the scorer kept), and, per shared object, the posts that shared it with
the gap to the first share. Columns that the detector may or may not provide (leader/follower role, k-core,
chance expectation, cluster class) are picked up when present and silently left out when absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

__all__ = ["EvidenceGroup", "evidence_groups", "first_present", "member_facts", "object_label",
           "MAX_OBJECTS", "MAX_POSTS_PER_OBJECT"]

MAX_OBJECTS = 150  # shared objects listed per cluster page (rarest and tightest first)
MAX_POSTS_PER_OBJECT = 40  # posts listed per shared object (earliest first); the total is always shown

# Optional score columns, by the names a detector may give them (first present wins).
ROLE_COLUMNS = ("role", "member_role")
CORE_COLUMNS = ("k_core", "core_number", "kcore")
CHANCE_COLUMNS = ("chance", "expected", "chance_expectation", "expected_by_chance", "expected_chance")
CLASS_COLUMNS = ("cluster_class", "class", "classification", "verdict")
CONDUCTANCE_COLUMNS = ("conductance",)


def first_present(frame: pl.DataFrame, names: tuple[str, ...]) -> str | None:
    """The first of `names` that is a column of `frame`, else ``None``.

    >>> first_present(pl.DataFrame({"b": [1]}), ("a", "b"))
    'b'
    >>> first_present(pl.DataFrame({"c": [1]}), ("a", "b")) is None
    True
    """
    return next((n for n in names if n in frame.columns), None)


def member_facts(uids: list[str], accounts: pl.DataFrame, posts: pl.DataFrame, edges: pl.DataFrame,
                 members: pl.DataFrame) -> pl.DataFrame:
    """One row per member: account fields, posts in the data, first/last seen, degree/strength inside the cluster.

    `posts` holds the members' posts (``account_uid``, ``created_at``); `edges` the edges inside the cluster;
    `members` the cluster's ``MEMBERS`` rows (optional role / k-core columns are carried through).

    >>> from datetime import datetime, UTC
    >>> acc = pl.DataFrame({"uid": ["x:1", "x:2"], "platform": ["x", "x"], "handle": ["a", None],
    ...                     "profile_url": [None, None]})
    >>> posts = pl.DataFrame({"account_uid": ["x:1", "x:1"], "created_at": [datetime(2025, 1, 1, tzinfo=UTC)] * 2})
    >>> edges = pl.DataFrame({"src": ["x:1"], "dst": ["x:2"], "weight": [0.5]})
    >>> m = member_facts(["x:1", "x:2"], acc, posts, edges, pl.DataFrame({"account_uid": ["x:1", "x:2"]}))
    >>> m.select("uid", "posts", "degree", "strength").rows()
    [('x:1', 2, 1, 0.5), ('x:2', 0, 1, 0.5)]
    """
    base = pl.DataFrame({"uid": uids}, schema={"uid": pl.String})
    ends = pl.concat([edges.select(uid="src", weight="weight"), edges.select(uid="dst", weight="weight")])
    deg = ends.group_by("uid").agg(degree=pl.len().cast(pl.Int64), strength=pl.col("weight").sum())
    seen = posts.group_by(uid="account_uid").agg(posts=pl.len().cast(pl.Int64), first_seen=pl.col("created_at").min(),
                                                 last_seen=pl.col("created_at").max())
    keep = [c for c in ("uid", "platform", "account_id", "handle", "display_name", "profile_url", "created_at",
                        "followers", "verified") if c in accounts.columns]
    extra = [c for c in (first_present(members, ROLE_COLUMNS), first_present(members, CORE_COLUMNS)) if c]
    out = (base.join(accounts.select(keep), on="uid", how="left").join(seen, on="uid", how="left")
           .join(deg, on="uid", how="left")
           .join(members.select("account_uid", *extra).rename({"account_uid": "uid"}), on="uid", how="left")
           .with_columns(posts=pl.col("posts").fill_null(0), degree=pl.col("degree").fill_null(0),
                         strength=pl.col("strength").fill_null(0.0).round(4),
                         platform=pl.coalesce(pl.col("platform") if "platform" in keep else pl.lit(None),
                                              pl.col("uid").str.split(":").list.first())))
    return out.sort(["degree", "strength", "uid"], descending=[True, True, False])


@dataclass
class EvidenceGroup:
    """One shared object and the member posts that shared it (earliest first)."""

    signal: str
    object: str
    idf: float
    min_gap_s: float
    n_posts: int
    n_accounts: int
    chance: float | None
    posts: list[dict[str, Any]] = field(default_factory=list)  # post, account_uid, created_at, gap_s, text


def evidence_groups(evidence: pl.DataFrame, posts: pl.DataFrame, *, max_objects: int = MAX_OBJECTS,
                    max_posts: int = MAX_POSTS_PER_OBJECT) -> tuple[list[EvidenceGroup], int]:
    """Group a cluster's evidence pairs by shared object; rarest (highest IDF) and tightest first.

    Returns the first `max_objects` groups and the total number of objects. Each group lists up to `max_posts`
    posts with their gap to the object's first share among these posts.

    >>> from datetime import datetime, UTC
    >>> ev = pl.DataFrame({"signal": ["co_url"], "object": ["url:https://a.b/"], "post_a": ["x:1"],
    ...                    "post_b": ["x:2"], "gap_s": [5.0], "idf": [3.0]})
    >>> posts = pl.DataFrame({"uid": ["x:1", "x:2"], "account_uid": ["x:a", "x:b"], "text": ["hi", "hi"],
    ...                       "created_at": [datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC),
    ...                                      datetime(2025, 1, 1, 0, 0, 5, tzinfo=UTC)]})
    >>> groups, total = evidence_groups(ev, posts)
    >>> total, [(p["post"], p["gap_s"]) for p in groups[0].posts]
    (1, [('x:1', 0.0), ('x:2', 5.0)])
    """
    if evidence.height == 0:
        return [], 0
    chance = first_present(evidence, CHANCE_COLUMNS)
    stats = (evidence.group_by("signal", "object")
             .agg(idf=pl.col("idf").max(), min_gap_s=pl.col("gap_s").min(),
                  chance=pl.col(chance).max() if chance else pl.lit(None, pl.Float64))
             .sort(["idf", "min_gap_s", "signal", "object"], descending=[True, False, False, False]))
    total = stats.height
    stats = stats.head(max_objects)
    pairs = (pl.concat([evidence.select("signal", "object", post="post_a"),
                        evidence.select("signal", "object", post="post_b")])
             .join(stats.select("signal", "object"), on=["signal", "object"], how="semi").unique())
    text = posts["text"] if "text" in posts.columns else pl.Series([None] * posts.height, dtype=pl.String)
    rows = (pairs.join(posts.select(post="uid", account_uid="account_uid", created_at="created_at",
                                    text=text), on="post", how="left")
            .with_columns(account_uid=pl.coalesce("account_uid", pl.lit("unknown")))
            .with_columns(gap_s=(pl.col("created_at") - pl.col("created_at").min().over("signal", "object"))
                          .dt.total_seconds().cast(pl.Float64),
                          n_posts=pl.len().over("signal", "object"),
                          n_accounts=pl.col("account_uid").n_unique().over("signal", "object"))
            .sort(["signal", "object", "created_at", "post"], nulls_last=True))
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    for r in rows.iter_rows(named=True):
        key = (r["signal"], r["object"])
        counts[key] = (r["n_posts"], r["n_accounts"])
        bucket = by_key.setdefault(key, [])
        if len(bucket) < max_posts:
            bucket.append({k: r[k] for k in ("post", "account_uid", "created_at", "gap_s", "text")})
    groups = []
    for s in stats.iter_rows(named=True):
        key = (s["signal"], s["object"])
        n_posts, n_accounts = counts.get(key, (0, 0))
        groups.append(EvidenceGroup(signal=s["signal"], object=s["object"], idf=float(s["idf"] or 0.0),
                                    min_gap_s=float(s["min_gap_s"] or 0.0), n_posts=n_posts, n_accounts=n_accounts,
                                    chance=s["chance"], posts=by_key.get(key, [])))
    return groups, total


def object_label(obj: str, first_text: str | None) -> tuple[str, str]:
    """A (kind, readable value) pair for a shared-object key such as ``url:https://…`` or ``cap:123``.

    >>> object_label("url:https://a.b/c", None)
    ('link', 'https://a.b/c')
    >>> object_label("cap:123", "same words")
    ('caption', 'same words')
    >>> object_label("xl:0123abcd:they lie about the elections", None)
    ('same narrative, other languages', 'they lie about the elections')
    >>> object_label("media:sha256:abcdef0123456789", None)
    ('identical file', 'sha256 abcdef012345…')
    """
    kind, _, rest = obj.partition(":")
    if kind == "url":
        return "link", rest
    if kind in ("cap", "capn"):
        return ("caption" if kind == "cap" else "near-identical caption"), (first_text or "")[:280]
    if kind == "xl":  # co_caption_xlingual: xl:<group hash>:<start of the group's smallest caption>
        return "same narrative, other languages", (first_text or rest.partition(":")[2])[:280]
    if kind == "media":
        algo, _, digest = rest.partition(":")
        return "identical file", f"{algo} {digest[:12]}…"
    if kind in ("pdq", "phash"):
        return "similar picture", f"{kind} {rest[:12]}…"
    if kind in ("repost", "fwd"):
        target = rest.rsplit(":", 1)[0] if kind == "fwd" and rest.count(":") >= 2 else rest
        return ("repost of" if kind == "repost" else "forward from"), target
    if kind == "tags":
        return "hashtag set", " ".join(f"#{t}" for t in rest.split())
    if kind == "sound":
        return "sound", rest
    return kind or "object", rest


def fmt_ts(value: datetime | None, with_seconds: bool = True) -> str:
    """UTC timestamp as text.

    >>> from datetime import UTC
    >>> fmt_ts(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    '2025-01-02 03:04:05'
    >>> fmt_ts(None)
    ''
    """
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def fmt_gap(seconds: float | None) -> str:
    """Human-readable gap.

    >>> fmt_gap(0), fmt_gap(75), fmt_gap(7300), fmt_gap(200000)
    ('0 s', '1 min 15 s', '2 h 1 min', '2 d 7 h')
    """
    if seconds is None:
        return ""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"
