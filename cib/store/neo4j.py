"""Neo4j graph store: the real graph database investigators query.

Model: (:Account)-[:POSTED]->(:Post)-[:LINKS]->(:Url), -[:TAGS]->(:Hashtag), -[:HAS_MEDIA]->(:Media),
-[:REPOSTS]->(:Post); scoring adds (:Account)-[:COORDINATED_WITH {signals, weight, n_shared, evidence}]->(:Account)
and (:Account)-[:MEMBER_OF]->(:Cluster).

Every statement comes from ``queries/``; data travels only as parameters, in ``UNWIND $rows`` batches
(nodes before edges, constraints first). MERGE on unique keys makes every write idempotent, so a batch the
driver retries after a dropped connection, or a whole re-load, adds nothing. Credentials come from
``CIB_NEO4J_USER`` / ``CIB_NEO4J_PASSWORD`` and never appear in messages.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl

import queries
from cib.errors import StoreError
from cib.schema import ACCOUNTS, MEDIA_STRUCT, POSTS

if TYPE_CHECKING:
    import neo4j

__all__ = ["Neo4jStore"]

_POST_PROPS = [c for c in POSTS.names() if c not in ("uid", "account_uid", "media")]
_ACCOUNT_PROPS = [c for c in ACCOUNTS.names() if c != "uid"]
_MEDIA_PROPS = [c for c in MEDIA_STRUCT.to_schema() if c != "key"]


class Neo4jStore:
    """A Neo4j database behind the store interface. The driver is injected; construction does no I/O."""

    def __init__(self, driver: neo4j.Driver, *, database: str | None = None, batch_size: int = 1000) -> None:
        self.driver = driver
        self.database = database
        self.batch_size = batch_size

    @classmethod
    def from_env(cls, uri: str, **kwargs: Any) -> Neo4jStore:
        import neo4j

        user = os.environ.get("CIB_NEO4J_USER", "neo4j")
        password = os.environ.get("CIB_NEO4J_PASSWORD", "")
        return cls(neo4j.GraphDatabase.driver(uri, auth=(user, password), notifications_min_severity="OFF"),
                   database=os.environ.get("CIB_NEO4J_DATABASE") or None, **kwargs)

    def __enter__(self) -> Neo4jStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.driver.close()

    # -- writing ------------------------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        for name in queries.names("schema"):
            self._run(name)

    def write_rows(self, name: str, rows: Iterable[dict[str, Any]]) -> int:
        """Run write query `name` over `rows` in batches of ``batch_size``; returns the rows written."""
        total = 0
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= self.batch_size:
                self._run(name, rows=batch)
                total += len(batch)
                batch = []
        if batch:
            self._run(name, rows=batch)
            total += len(batch)
        return total

    def load_from(self, store: Any) -> dict[str, int]:
        """Copy a loaded Parquet workspace into Neo4j (idempotent)."""
        return self.load_frames(store.accounts().collect(), store.posts().collect(), store.media().collect(),
                                store.links().collect())

    def load_frames(self, accounts: pl.DataFrame, posts: pl.DataFrame, media: pl.DataFrame,
                    links: pl.DataFrame) -> dict[str, int]:
        self.ensure_schema()
        written = {
            "accounts": self.write_rows("write/accounts", (
                {"uid": r["uid"], "props": _props(r, _ACCOUNT_PROPS)} for r in accounts.iter_rows(named=True))),
            "posts": self.write_rows("write/posts", (
                {"uid": r["uid"], "account_uid": r["account_uid"], "props": _props(r, _POST_PROPS)}
                for r in posts.drop("media").iter_rows(named=True))),
        }
        written["media"] = self.write_rows("write/media", (
            {"post_uid": r["post_uid"], "key": r["key"], "props": _props(r, _MEDIA_PROPS)}
            for r in media.iter_rows(named=True)))
        for kind, name in (("url", "write/links_url"), ("hashtag", "write/links_hashtag"),
                           ("repost", "write/links_repost")):
            subset = links.filter(pl.col("kind") == kind).select("post_uid", "target")
            written[kind] = self.write_rows(name, subset.iter_rows(named=True))
        return written

    def write_scores(self, tables: dict[str, pl.DataFrame]) -> None:
        """Replace earlier scoring results with these clusters, memberships and coordination edges."""
        self.ensure_schema()
        self._run("write/clear_scores")
        self._run("write/clear_coordination")
        self.write_rows("write/coordinated", tables["edges"].select(
            "src", "dst", "signals", "weight", "n_shared", "evidence").iter_rows(named=True))
        self.write_rows("write/clusters", (
            {"cluster_id": r["cluster_id"], "props": {k: v for k, v in r.items() if k != "cluster_id"}}
            for r in tables["clusters"].iter_rows(named=True)))
        self.write_rows("write/members", tables["members"].iter_rows(named=True))

    # -- reading ------------------------------------------------------------------------------------------
    @staticmethod
    def named_queries() -> list[tuple[str, str]]:
        """(name, purpose) of every read query in ``queries/read``."""
        return [(name, queries.describe(name)) for name in queries.names("read")]

    def query(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """Run read query `name` in a read transaction; rows as plain dicts (temporal values as datetimes)."""
        text = queries.cypher(name)

        def work(tx: Any) -> list[dict[str, Any]]:
            return [{k: _native(v) for k, v in record.items()} for record in tx.run(text, **params)]

        try:
            with self.driver.session(database=self.database) as session:
                return session.execute_read(work)
        except Exception as exc:  # noqa: BLE001 - every driver failure becomes StoreError
            raise _store_error(exc, name) from exc

    def counts(self) -> dict[str, int]:
        return {row["what"]: row["n"] for row in self.query("read/counts")}

    def posts(self, page: int = 50_000) -> pl.LazyFrame:
        rows: list[dict[str, Any]] = []
        skip = 0
        while True:
            chunk = self.query("read/posts_for_scoring", skip=skip, limit=page)
            for row in chunk:
                post = row["post"]
                post["media"] = [{"key": m.get("key"), **{k: m.get(k) for k in _MEDIA_PROPS}}
                                 for m in sorted(row["media"], key=lambda m: m.get("key") or "")]
                rows.append(post)
            if len(chunk) < page:
                break
            skip += page
        return _conform(rows, POSTS)

    def accounts(self) -> pl.LazyFrame:
        return _conform([row["account"] for row in self.query("read/accounts_for_scoring")], ACCOUNTS)

    # -- helpers ------------------------------------------------------------------------------------------
    def _run(self, name: str, **params: Any) -> None:
        try:
            self.driver.execute_query(queries.cypher(name), parameters_=params, database_=self.database)
        except Exception as exc:  # noqa: BLE001 - every driver failure becomes StoreError
            raise _store_error(exc, name) from exc


def _props(row: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    return {k: row[k] for k in keys if row.get(k) is not None and row.get(k) != []}


def _native(value: Any) -> Any:
    if hasattr(value, "to_native"):
        return value.to_native()
    if isinstance(value, list):
        return [_native(v) for v in value]
    if isinstance(value, dict):
        return {k: _native(v) for k, v in value.items()}
    return value


def _conform(rows: list[dict[str, Any]], schema: pl.Schema) -> pl.LazyFrame:
    fixed: Iterator[dict[str, Any]] = (
        {name: _default(row.get(name), dtype) for name, dtype in schema.items()} for row in rows)
    return pl.DataFrame(list(fixed), schema=schema).sort("uid").lazy()


def _default(value: Any, dtype: pl.DataType) -> Any:
    if value is None and isinstance(dtype, pl.List):
        return []
    if isinstance(value, datetime) and value.tzinfo is None:
        raise StoreError("Neo4j returned a timestamp without a time zone")
    return value


def _store_error(exc: Exception, name: str) -> StoreError:
    kind = type(exc).__name__
    message = getattr(exc, "message", None) or str(exc)
    return StoreError(f"Neo4j {kind} while running {name}: {message}")
