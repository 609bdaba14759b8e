"""The Neo4j graph model as Polars frames: one frame per node label and per relationship type.

Both ways into Neo4j start here — the incremental writer (:mod:`cib.store.neo4j`) and the bulk import
(:mod:`cib.store.neo4j_import`) — so they produce the same nodes, relationships and properties. The workspace
is read only through the store's public methods (``posts()``, ``accounts()``, ``media()``, ``links()``,
``scores(name)``), and every column that exists is written, so columns added later reach Neo4j unchanged.

Property rules: nulls and empty lists are absent properties; nested values (structs, lists of lists) are
not storable in Neo4j and are left out; ``cib_hash`` on accounts, posts and media is a content hash of the
workspace row, which lets an incremental load skip what is already there. A post's author, media, URLs and
hashtags are its POSTED, HAS_MEDIA, LINKS and TAGS relationships only (no ``urls``/``hashtags`` list properties
that would repeat them).

Examples
--------
>>> import polars as pl
>>> _storable(pl.List(pl.String())), _storable(pl.Struct({"a": pl.String()}))
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from cib.errors import StoreError

__all__ = ["HASH", "ISO_UTC", "KEYS", "REL_ENDS", "GraphFrames", "account_nodes", "graph_frames", "score_frames"]

KEYS = {"Account": "uid", "Post": "uid", "Media": "key", "Url": "url", "Hashtag": "tag", "Cluster": "cluster_id"}
REL_ENDS = {"POSTED": ("Account", "Post"), "LINKS": ("Post", "Url"), "TAGS": ("Post", "Hashtag"),
            "REPOSTS": ("Post", "Post"), "HAS_MEDIA": ("Post", "Media"), "MEMBER_OF": ("Account", "Cluster"),
            "COORDINATED_WITH": ("Account", "Account")}
HASH = "cib_hash"
ISO_UTC = "%Y-%m-%dT%H:%M:%S%.6fZ"  # how both paths write time-zoned datetimes (after conversion to UTC)
_HASH_SEED = 20240613  # fixed: the hash must be equal across processes for the same row
_SCALARS = (pl.String, pl.Boolean, pl.Float32, pl.Float64, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8,
            pl.UInt16, pl.UInt32, pl.Datetime, pl.Date)
# post columns that are relationships in the graph (POSTED, HAS_MEDIA, LINKS, TAGS), not Post properties: one
# fact in one place, and array properties are the dearest thing a Post costs Neo4j (dropping the two lists took
# an incremental 1.34M-post load from 74 to 64.5 s; ``posts_for_scoring`` rebuilds them from the relationships)
_POST_EDGE_COLUMNS = ("account_uid", "media", "urls", "hashtags")
_MEDIA_CONTEXT = ("post_uid", "account_uid", "platform", "created_at")


@dataclass
class GraphFrames:
    """Node frames (key column first, then properties) and relationship frames (``s``, ``t``, properties)."""

    nodes: dict[str, pl.DataFrame] = field(default_factory=dict)
    rels: dict[str, pl.DataFrame] = field(default_factory=dict)


def graph_frames(store: Any, *, scores: bool = True) -> GraphFrames:
    """Everything the workspace puts into Neo4j; scores only when `scores` and the workspace has them."""
    posts = store.posts().collect()
    accounts = store.accounts().collect()
    media = store.media().collect()
    links = store.links().collect()
    g = GraphFrames()
    g.nodes["Account"] = account_nodes(accounts)
    post_nodes = _with_hash(_props(posts.drop(*[c for c in _POST_EDGE_COLUMNS if c in posts.columns])), posts)
    reposts = links.filter(pl.col("kind") == "repost").select(s="post_uid", t="target")
    stubs = reposts.select(uid="t").unique().join(posts.select("uid"), on="uid", how="anti")
    g.nodes["Post"] = pl.concat([post_nodes, stubs], how="diagonal_relaxed").sort("uid")
    g.nodes["Media"] = _with_hash(_media_nodes(media), None)
    g.nodes["Url"] = links.filter(pl.col("kind") == "url").select(url="target").unique().sort("url")
    g.nodes["Hashtag"] = links.filter(pl.col("kind") == "hashtag").select(tag="target").unique().sort("tag")
    g.rels["POSTED"] = (posts.select(s="account_uid", t="uid")
                        .join(accounts.select(s="uid"), on="s", how="semi").sort("s", "t"))
    g.rels["LINKS"] = links.filter(pl.col("kind") == "url").select(s="post_uid", t="target").unique().sort("s", "t")
    g.rels["TAGS"] = links.filter(pl.col("kind") == "hashtag").select(s="post_uid", t="target").unique().sort("s", "t")
    g.rels["REPOSTS"] = reposts.unique().sort("s", "t")
    g.rels["HAS_MEDIA"] = media.select(s="post_uid", t="key").unique().sort("s", "t")
    if scores:
        try:
            scored = score_frames(store, accounts["uid"])
        except StoreError:  # never scored: nothing to add
            scored = GraphFrames()
        g.nodes.update(scored.nodes)
        g.rels.update(scored.rels)
    return g


def account_nodes(accounts: pl.DataFrame) -> pl.DataFrame:
    """The Account node frame of the workspace's `accounts` (properties and content hash)."""
    return _with_hash(_props(accounts), accounts)


def score_frames(store: Any, account_uids: pl.Series) -> GraphFrames:
    """Cluster nodes, MEMBER_OF and COORDINATED_WITH from the workspace's scores (StoreError if none)."""
    clusters, members, edges = store.scores("clusters"), store.scores("members"), store.scores("edges")
    known = pl.DataFrame({"s": account_uids})
    g = GraphFrames()
    g.nodes["Cluster"] = _props(clusters).sort("cluster_id")
    g.rels["MEMBER_OF"] = (_props(members.rename({"account_uid": "s", "cluster_id": "t"}))
                           .join(known, on="s", how="semi").sort("s", "t"))
    g.rels["COORDINATED_WITH"] = (_props(edges.rename({"src": "s", "dst": "t"}))
                                  .join(known, on="s", how="semi")
                                  .join(known.rename({"s": "t"}), on="t", how="semi").sort("s", "t"))
    return g


def _media_nodes(media: pl.DataFrame) -> pl.DataFrame:
    """One row per media key; each property is the last non-null value in post order."""
    props = [c for c in media.columns if c not in (*_MEDIA_CONTEXT, "key")]
    return _props(media.sort("post_uid", "key").group_by("key", maintain_order=True)
                  .agg([pl.col(c).drop_nulls().last() for c in props]).sort("key"))


def _storable(dtype: pl.DataType) -> bool:
    if isinstance(dtype, pl.List):
        return isinstance(dtype.inner, _SCALARS)
    return isinstance(dtype, _SCALARS)


def _props(frame: pl.DataFrame) -> pl.DataFrame:
    """Only storable columns; empty lists become null and nulls inside lists are dropped."""
    exprs = []
    for name, dtype in frame.schema.items():
        if not _storable(dtype):
            continue
        col = pl.col(name)
        if isinstance(dtype, pl.List):
            col = col.list.drop_nulls()
            col = pl.when(col.list.len() > 0).then(col).otherwise(None).alias(name)
        elif isinstance(dtype, pl.UInt32 | pl.UInt16 | pl.UInt8):
            col = col.cast(pl.Int64)
        exprs.append(col)
    return frame.select(exprs)


def _with_hash(props: pl.DataFrame, source: pl.DataFrame | None) -> pl.DataFrame:
    """`props` with ``cib_hash``: a hash of the whole `source` row (default: the properties themselves)."""
    source = props if source is None else source
    if source.height == 0:
        return props.with_columns(pl.lit(None, pl.Int64).alias(HASH))
    columns = sorted(source.columns)
    digest = source.select(pl.struct(columns).hash(seed=_HASH_SEED).reinterpret(signed=True).alias(HASH))
    return props.with_columns(digest[HASH])
