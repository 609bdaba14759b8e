"""Takedown exports: CSV/JSON in `EXPORT` column order, per-platform files, a manifest, optional STIX 2.1.

CSV cells that a spreadsheet would run as a formula (starting with = + - @, tab or carriage return) are
prefixed with a single quote; JSON keeps values as they are (JSON is never evaluated).

List cells (``signals``, ``evidence_post_ids``, ``evidence_urls``) are joined with one separator,
`LIST_SEPARATOR` (a single space): no item can contain one, because ids and signal names have none and
evidence URLs are percent-encoded (:func:`cib.textsafe.safe_http_url`). Telegram rows carry the channel's
public username and ``https://t.me/<username>`` when the export has it; otherwise ``identity_note`` says that
only the numeric id is known and that the ``t.me/c/…`` link opens only for members.
"""

from __future__ import annotations

import csv
import hashlib
import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from cib.errors import SchemaError
from cib.schema import EXPORT
from cib.textsafe import neutralise_cell, safe_http_url

__all__ = ["LIST_SEPARATOR", "neutralise_cell", "takedown_rows", "write_takedown"]

LIST_SEPARATOR = " "
_TG_USERNAME = r"^@?[A-Za-z][A-Za-z0-9_]{3,31}$"
ID_ONLY = {"telegram": "only the numeric id is known: no public username in the data; the t.me/c/ or tg:// link "
                       "opens only for members or contacts"}

_NAMESPACE = uuid.UUID("6f1c6f39-2b0b-4a8c-9d1e-0c1b5e0c1b00")


def _require(frame: pl.DataFrame, name: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(f"{name} frame lacks column(s): {', '.join(missing)}")


def takedown_rows(clusters: pl.DataFrame, members: pl.DataFrame, accounts: pl.DataFrame, evidence: pl.DataFrame,
                  posts: pl.DataFrame, *, evidence_per_account: int = 10) -> pl.DataFrame:
    """One EXPORT row per account of a flagged cluster, sorted by cluster rank then platform and id."""
    _require(clusters, "clusters", ["cluster_id", "rank", "score", "flagged", "signals"])
    _require(members, "members", ["cluster_id", "account_uid"])
    _require(accounts, "accounts", ["uid", "platform", "account_id", "handle", "profile_url"])
    _require(evidence, "evidence", ["src", "dst", "post_a", "post_b", "idf", "gap_s"])
    _require(posts, "posts", ["uid", "account_uid", "created_at", "post_url"])
    flagged = members.join(clusters.filter(pl.col("flagged")), on="cluster_id")
    if flagged.height == 0:
        return pl.DataFrame(schema=EXPORT)
    mine = pl.concat([evidence.select(account_uid="src", post="post_a", idf="idf", gap_s="gap_s"),
                      evidence.select(account_uid="dst", post="post_b", idf="idf", gap_s="gap_s")])
    mine = (mine.join(flagged.select("account_uid"), on="account_uid", how="semi")
            .sort(["account_uid", "idf", "gap_s", "post"], descending=[False, True, False, False])
            .unique(["account_uid", "post"], keep="first", maintain_order=True)
            .group_by("account_uid", maintain_order=True).head(evidence_per_account)
            .join(posts.select(pl.col("uid").alias("post"), "post_url"), on="post", how="left")
            .with_columns(post_url=pl.col("post_url").map_elements(safe_http_url, return_dtype=pl.String))
            .group_by("account_uid").agg(evidence_post_ids=pl.col("post").str.join(LIST_SEPARATOR),
                                         evidence_urls=pl.col("post_url").drop_nulls().str.join(LIST_SEPARATOR)))
    seen = (posts.join(flagged.select("account_uid"), on="account_uid", how="semi")
            .group_by("account_uid").agg(first=pl.col("created_at").min(), last=pl.col("created_at").max()))
    iso = "%Y-%m-%dT%H:%M:%SZ"
    rows = (flagged.join(accounts.rename({"uid": "account_uid"}), on="account_uid", how="left")
            .join(mine, on="account_uid", how="left").join(seen, on="account_uid", how="left")
            .with_columns(platform=pl.coalesce("platform", pl.col("account_uid").str.split(":").list.first()))
            .sort("rank", "platform", "account_id")
            .with_columns(_telegram_identity())
            .select(platform="platform", account_id="account_id", handle="handle", profile_url="profile_url",
                    cluster_id="cluster_id", cluster_score="score",
                    signals=pl.col("signals").list.join(LIST_SEPARATOR),
                    evidence_post_ids=pl.col("evidence_post_ids").fill_null(""),
                    evidence_urls=pl.col("evidence_urls").fill_null(""),
                    first_seen=pl.col("first").dt.strftime(iso), last_seen=pl.col("last").dt.strftime(iso),
                    identity_note="identity_note"))
    return rows.select([pl.col(c).cast(t) for c, t in EXPORT.items()])


def _telegram_identity() -> list[pl.Expr]:
    """Telegram: public username -> handle and ``https://t.me/<username>``; otherwise a note that only the id is known."""
    tg = pl.col("platform") == "telegram"
    public = tg & pl.col("handle").fill_null("").str.contains(_TG_USERNAME)
    name = pl.col("handle").str.strip_chars_start("@")
    return [pl.when(public).then(name).when(tg).then(pl.lit(None, pl.String)).otherwise(pl.col("handle")).alias("handle"),
            pl.when(public).then(pl.lit("https://t.me/") + name).otherwise(pl.col("profile_url")).alias("profile_url"),
            pl.when(tg & ~public).then(pl.lit(ID_ONLY["telegram"]))
            .when(pl.col("handle").fill_null("") == "").then(pl.lit("only the numeric id is known: no handle in the data"))
            .otherwise(pl.lit("")).alias("identity_note")]


def write_takedown(rows: pl.DataFrame, out: Path, fmt: str, *, manifest: Mapping[str, Any],
                   clusters: pl.DataFrame | None = None, stix: bool = False) -> list[Path]:
    """Write the main file, per-platform files beside it, ``manifest.json`` and optionally a STIX bundle."""
    out.parent.mkdir(parents=True, exist_ok=True)
    written = [out]
    if fmt == "csv":
        _write_csv(rows, out)
    else:
        out.write_text(json.dumps(rows.to_dicts(), indent=2, ensure_ascii=False), "utf-8")
    for platform in sorted(set(rows["platform"].to_list())):
        path = out.with_name(f"{out.stem}-{platform}.csv")
        subset = rows.filter(pl.col("platform") == platform).select(
            "account_id", "handle", "profile_url", "evidence_urls", "cluster_id", "identity_note")
        _write_csv(subset, path)
        written.append(path)
    if stix:
        path = out.with_name(f"{out.stem}.stix.json")
        path.write_text(_stix_bundle(rows, clusters), "utf-8")
        written.append(path)
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in written}
    man_path = out.with_name(f"{out.stem}.manifest.json")
    man_path.write_text(json.dumps({**manifest, "outputs": files, "accounts": rows.height,
                                    "clusters": rows["cluster_id"].n_unique()}, indent=2, sort_keys=True), "utf-8")
    return [*written, man_path]


def _write_csv(frame: pl.DataFrame, path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(frame.columns)
        for row in frame.iter_rows():
            writer.writerow([neutralise_cell(v) for v in row])


def _stix_bundle(rows: pl.DataFrame, clusters: pl.DataFrame | None) -> str:
    import stix2

    objects: list[Any] = []
    explanations = dict(clusters.select("cluster_id", "explanation").iter_rows()) if clusters is not None else {}
    by_cluster: dict[str, list[str]] = {}
    for row in rows.iter_rows(named=True):
        ident = stix2.Identity(
            id=f"identity--{uuid.uuid5(_NAMESPACE, row['platform'] + ':' + row['account_id'])}",
            name=row["handle"] or row["account_id"], identity_class="individual",
            created="2000-01-01T00:00:00Z", modified="2000-01-01T00:00:00Z",
            description=f"{row['platform']} account {row['account_id']} in cluster {row['cluster_id']}",
            external_references=[{"source_name": row["platform"], "url": row["profile_url"],
                                  "external_id": row["account_id"]}] if row["profile_url"] else None,
        )
        objects.append(ident)
        by_cluster.setdefault(row["cluster_id"], []).append(ident.id)
    for cid, refs in sorted(by_cluster.items()):
        objects.append(stix2.Grouping(
            id=f"grouping--{uuid.uuid5(_NAMESPACE, cid)}", name=f"cib cluster {cid}", context="suspicious-activity",
            object_refs=refs, description=explanations.get(cid, ""),
            created="2000-01-01T00:00:00Z", modified="2000-01-01T00:00:00Z"))
    bundle = stix2.Bundle(objects=objects, id=f"bundle--{uuid.uuid5(_NAMESPACE, 'takedown')}", allow_custom=False)
    return str(bundle.serialize(pretty=True))
