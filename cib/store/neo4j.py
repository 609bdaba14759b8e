"""Neo4j graph store: the real graph database investigators query.

Model: (:Account)-[:POSTED]->(:Post)-[:LINKS]->(:Url), -[:TAGS]->(:Hashtag), -[:HAS_MEDIA]->(:Media),
-[:REPOSTS]->(:Post); scoring adds (:Account)-[:COORDINATED_WITH {signals, weight, n_shared, evidence, …}]->(:Account)
and (:Account)-[:MEMBER_OF]->(:Cluster). The frames come from :mod:`cib.store.neo4j_model`, shared with the bulk
import (:mod:`cib.store.neo4j_import`), so both paths build the same graph.

Incremental writes (:meth:`Neo4jStore.load_from`) read each label's key → (internal id, content hash) map first.
New keys go in with ``CREATE`` in batches of 1,000 rows (the server's commit work per post grows with the
transaction: on the 1.34M-post workspace, freshly started server, 1,000-row batches cost it 77-85 µs of CPU per
post, 5,000-row ones 107, 20,000-row ones 120; 500-row ones no less), changed rows (hash differs) have their
properties replaced, unchanged rows are skipped. A new post is created together with its POSTED, LINKS, TAGS and
HAS_MEDIA relationships in the same statement (``CREATE`` to nodes given by internal id: no index look-up, no
second pass over the post; measured on 300,000 posts: 45 s of server CPU instead of 60 s for separate passes). A create
batch that meets an existing key (a retried batch that had committed) rolls back and falls back to its ``MERGE``
twin, so nothing is duplicated. The remaining relationships (of changed posts, REPOSTS, POSTED of known posts
whose account is new, scores) are written by internal id with ``MERGE``, so a batch the driver retries after a
dropped connection adds nothing. Node batches, new posts included, run in ``writers`` parallel transactions
(new posts in account order, so two batches take shared account locks in the same order; the driver retries
a transaction Neo4j ends on a deadlock); the ``MERGE`` relationship batches run one at a time (parallel ones
deadlock on shared dense nodes).

Every statement comes from ``queries/``; data travels only as parameters. Credentials come from
``CIB_NEO4J_USER`` / ``CIB_NEO4J_PASSWORD`` and never appear in messages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import polars as pl

import queries
from cib.errors import StoreError
from cib.schema import ACCOUNTS, MEDIA_STRUCT, POSTS
from cib.store.neo4j_model import (
    HASH,
    ISO_UTC,
    KEYS,
    REL_ENDS,
    GraphFrames,
    account_nodes,
    graph_frames,
    score_frames,
)

if TYPE_CHECKING:
    import neo4j

__all__ = ["SCHEMES", "Neo4jStore", "bind_parameters", "check_uri", "query_parameters"]

SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
_MEDIA_PROPS = [c for c in MEDIA_STRUCT.to_schema() if c != "key"]
_FILES = {"Account": "accounts", "Post": "posts", "Media": "media", "Url": "urls", "Hashtag": "hashtags",
          "Cluster": "clusters"}
_CONNECT_TIMEOUT_S = 5.0
_UNSURE_RETRIES = 3  # re-runs of a batch whose commit outcome a dropped connection hid
# relationships written together with a new post by write/create_posts: type → parameter name
_WITH_POST = {"POSTED": "account", "LINKS": "links", "TAGS": "tags", "HAS_MEDIA": "media"}


def check_uri(uri: str) -> str:
    """`uri` if it is a Bolt URI without credentials, else a one-line StoreError that never shows a password.

    Examples
    --------
    >>> check_uri("bolt://localhost:7687")
    'bolt://localhost:7687'
    >>> check_uri("http://localhost:7474")
    Traceback (most recent call last):
    cib.errors.StoreError: --neo4j http://localhost:7474: not a Bolt URI; use bolt://HOST:7687 or neo4j://HOST:7687 (schemes: bolt, bolt+s, bolt+ssc, neo4j, neo4j+s, neo4j+ssc)
    >>> check_uri("bolt://neo4j:hunter2@db:7687")
    Traceback (most recent call last):
    cib.errors.StoreError: --neo4j bolt://***@db:7687: credentials in the URI are not accepted; set CIB_NEO4J_USER and CIB_NEO4J_PASSWORD
    """
    try:
        parts = urlsplit(uri)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise StoreError(f"--neo4j {_redact(uri)}: not a valid URI; use bolt://HOST:7687") from None
    if parts.username is not None or parts.password is not None:
        raise StoreError(f"--neo4j {_redact(uri)}: credentials in the URI are not accepted; "
                         "set CIB_NEO4J_USER and CIB_NEO4J_PASSWORD")
    if parts.scheme not in SCHEMES or not host:
        hint = f" (did you mean bolt://{uri}?)" if "://" not in uri else ""
        raise StoreError(f"--neo4j {_redact(uri)}: not a Bolt URI; use bolt://HOST:7687 or neo4j://HOST:7687"
                         f"{hint} (schemes: {', '.join(SCHEMES)})")
    del port
    return uri


_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_DEFAULT = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*) \(default ([^)]*)\)")
_INT = re.compile(r"-?[0-9]+", re.ASCII)
_FLOAT = re.compile(r"-?[0-9]+\.[0-9]+", re.ASCII)


def _value(text: str) -> Any:
    """A ``-p`` value: ASCII integers and decimals become numbers, everything else stays text.

    >>> _value("2"), _value("-0.5"), _value("²"), _value("c-01")
    (2, -0.5, '²', 'c-01')
    """
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def query_parameters(name: str) -> dict[str, Any]:
    """Parameters of query `name` with their defaults (``...`` when required), from its text and purpose line.

    >>> query_parameters("read/cross_platform_clusters")
    {'min_platforms': 2}
    >>> query_parameters("read/accounts_sharing_url")
    {'url': Ellipsis}
    """
    text = queries.cypher(name)
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))
    defaults = {k: _value(v.strip()) for k, v in _DEFAULT.findall(text.splitlines()[0])}
    return {k: defaults.get(k, ...) for k in dict.fromkeys(_PARAM.findall(body))}


def bind_parameters(name: str, given: list[tuple[str, str]]) -> dict[str, Any]:
    """Values for query `name` from ``KEY=VALUE`` pairs, defaults applied; one-line StoreError naming any
    unknown, repeated or missing parameter.

    >>> bind_parameters("read/cross_platform_clusters", [])
    {'min_platforms': 2}
    >>> bind_parameters("read/cross_platform_clusters", [("self", "x")])
    Traceback (most recent call last):
    cib.errors.StoreError: query read/cross_platform_clusters: unknown parameter self; it takes: min_platforms (default 2)
    """
    wanted = query_parameters(name)
    values: dict[str, Any] = {}
    for key, text in given:
        if key in values:
            raise StoreError(f"query {name}: parameter {key} given twice")
        values[key] = _value(text)
    takes = ", ".join(k if v is ... else f"{k} (default {v})" for k, v in wanted.items()) or "no parameters"
    unknown = sorted(set(values) - set(wanted))
    if unknown:
        raise StoreError(f"query {name}: unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                         f"it takes: {takes}")
    missing = [k for k, v in wanted.items() if v is ... and k not in values]
    if missing:
        raise StoreError(f"query {name}: missing parameter{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                         f"(give -p {missing[0]}=VALUE); it takes: {takes}")
    return {k: values.get(k, v) for k, v in wanted.items()}


def _redact(uri: str) -> str:
    """`uri` with anything before an ``@`` in its authority replaced by ``***``."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        scheme, rest = "", uri
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{sep}{authority}{slash}{path}"


class Neo4jStore:
    """A Neo4j database behind the store interface. The driver is injected; construction does no I/O."""

    def __init__(self, driver: neo4j.Driver, *, database: str | None = None, batch_size: int = 1_000,
                 writers: int = 2) -> None:
        self.driver = driver
        self.database = database
        self.batch_size = batch_size
        self.writers = writers

    @classmethod
    def from_env(cls, uri: str, *, verify: bool = True, **kwargs: Any) -> Neo4jStore:
        """Connect to `uri` with credentials from the environment; fails within ~5 s when unreachable."""
        import neo4j

        check_uri(uri)
        user = os.environ.get("CIB_NEO4J_USER", "neo4j")
        password = os.environ.get("CIB_NEO4J_PASSWORD", "")
        try:
            driver = neo4j.GraphDatabase.driver(uri, auth=(user, password), notifications_min_severity="OFF",
                                                connection_timeout=_CONNECT_TIMEOUT_S,
                                                connection_acquisition_timeout=4 * _CONNECT_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - e.g. ConfigurationError; its text may contain the URI
            raise StoreError(f"--neo4j {_redact(uri)}: {type(exc).__name__}") from None
        store = cls(driver, database=os.environ.get("CIB_NEO4J_DATABASE") or None, **kwargs)
        if verify:
            try:
                driver.verify_connectivity()
            except Exception as exc:  # noqa: BLE001 - unreachable, refused, bad credentials …
                driver.close()
                raise _store_error(exc, f"connecting to {_redact(uri)}") from None
        return store

    def __enter__(self) -> Neo4jStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.driver.close()

    # -- writing ------------------------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        for name in queries.names("schema"):
            self._run(name)

    def load_from(self, store: Any) -> dict[str, int]:
        """Bring Neo4j up to date with a loaded workspace (idempotent); returns what was written per kind.

        The account nodes go in first, while a second thread builds the other frames from Parquet (Polars works
        outside the GIL): the server has work from the start instead of waiting ~2.5 s per million posts.
        """
        self.ensure_schema()
        accounts = account_nodes(store.accounts().collect())  # read here first: this pins the workspace's snapshot
        with ThreadPoolExecutor(max_workers=1) as pool:  # before a second thread reads it
            frames = pool.submit(graph_frames, store, scores=False)
            synced = self._sync_nodes("Account", accounts)
            return self.write_graph(frames.result(), synced={"Account": synced})

    def write_graph(self, g: GraphFrames, synced: dict[str, tuple[pl.DataFrame, pl.DataFrame, int]] | None = None,
                    ) -> dict[str, int]:
        """Write node and relationship frames incrementally: create new keys, replace changed, skip the rest.

        New posts go in with their POSTED, LINKS, TAGS and HAS_MEDIA relationships in the same statement
        (:data:`_WITH_POST`), so those relationships cost no second look-up of the post; the relationship passes
        below then only cover changed posts, REPOSTS (whose target may be created in a later batch) and POSTED
        for known posts whose account is new. `synced`: labels already written, with what :meth:`_sync_nodes`
        returned for them.
        """
        written: dict[str, int] = {}
        ids: dict[str, pl.DataFrame] = {}
        fresh: dict[str, pl.DataFrame] = {}  # keys created or changed in this run
        for label in ("Account", "Media", "Url", "Hashtag", "Cluster", "Post"):  # posts point at the others
            if synced and label in synced:
                ids[label], fresh[label], written[label] = synced[label]
            elif label in g.nodes:
                edges = _post_edges(g, ids) if label == "Post" else None
                ids[label], fresh[label], written[label] = self._sync_nodes(label, g.nodes[label], edges)
                if edges is not None:
                    new = fresh[label].filter(~pl.col("changed")).select(s="k")
                    for rel, column in _WITH_POST.items():
                        if rel in g.rels:
                            n = pl.col(column).count() if column == "account" else pl.col(column).list.len().sum()
                            written[rel] = edges.join(new, on="s").select(n).item() or 0
        if "Post" in fresh:
            changed_posts = fresh["Post"].filter(pl.col("changed")).join(ids["Post"], on="k")
            self._write("write/detach_post_edges", changed_posts.select(ids="i"), lists=("ids",))
        for rel, frame in g.rels.items():
            src, dst = REL_ENDS[rel]
            if rel == "POSTED":  # a changed post, or an unchanged post whose account is new
                frame = pl.concat([frame.join(fresh["Post"].filter(pl.col("changed")).select(t="k"), on="t", how="semi"),
                                   frame.join(fresh["Account"].filter(~pl.col("changed")).select(s="k"),
                                              on="s", how="semi")
                                   .join(fresh["Post"].filter(~pl.col("changed")).select(t="k"), on="t", how="anti")
                                   ]).unique()
            elif rel in _WITH_POST:  # new posts have theirs already
                frame = frame.join(fresh["Post"].filter(pl.col("changed")).select(s="k"), on="s", how="semi")
            elif src == "Post":
                frame = frame.join(fresh["Post"].select(s="k"), on="s", how="semi")
            rows = (frame.join(ids[src].select(s="k", s_id="i"), on="s")
                    .join(ids[dst].select(t="k", t_id="i"), on="t"))
            props = [c for c in frame.columns if c not in ("s", "t")]
            rows = rows.sort("t_id", "s_id").select(pl.col("s_id").alias("s"), pl.col("t_id").alias("t"), *props)
            written[rel] = written.get(rel, 0) + self._write(f"write/rel_{rel.lower()}", rows, lists=("s", "t"),
                                                             parallel=False)
        return written

    def write_scores(self, store: Any) -> dict[str, int]:
        """Replace earlier scoring results with the workspace's clusters, memberships and coordination edges."""
        self.ensure_schema()
        for name in ("write/clear_scores", "write/clear_coordination"):
            self._run_autocommit(name)
        accounts = self._id_map("Account")
        scored = score_frames(store, accounts["k"])
        return self.write_graph(GraphFrames(nodes={"Account": _keys_only(accounts), **scored.nodes}, rels=scored.rels))

    def _sync_nodes(self, label: str, frame: pl.DataFrame, edges: pl.DataFrame | None = None,
                    ) -> tuple[pl.DataFrame, pl.DataFrame, int]:
        """Create new and replace changed nodes; (key → id map, fresh keys with a `changed` flag, rows written).

        `edges` (posts only): per key the internal ids the new node's relationships point to (:func:`_post_edges`);
        the new rows are then written in account order, so parallel batches take the account locks in one order.
        """
        key = KEYS[label]
        known = _id_frame() if label == "Cluster" else self._id_map(label)  # clusters were just cleared
        joined = frame.join(known.rename({"k": key}), on=key, how="left")
        new = joined.filter(pl.col("i").is_null()).select(frame.columns)
        has_hash = HASH in frame.columns
        changed = joined.filter(pl.col("i").is_not_null() & (
            pl.col(HASH).ne_missing(pl.col("h")) if has_hash else pl.lit(False)))
        lists: tuple[str, ...] = ("keys",)
        rows = new.rename({key: "keys"})
        if edges is not None:
            lists += tuple(edges.columns[1:])
            rows = rows.join(edges.rename({"s": "keys"}), on="keys", how="left").sort("account", "keys")
        created = self._write(f"write/create_{_FILES[label]}", rows, lists=lists,
                              returns=True, fallback=f"write/merge_{_FILES[label]}")
        self._write("write/update_nodes", changed.select(pl.col("i").alias("ids"), *frame.columns), lists=("ids",))
        id_map = pl.concat([known.select("k", "i"), created]).unique("k", keep="last")
        fresh = pl.concat([new.select(k=key, changed=pl.lit(False)), changed.select(k=key, changed=pl.lit(True))])
        return id_map, fresh, new.height + changed.height

    def _id_map(self, label: str) -> pl.DataFrame:
        """Key → (internal id, content hash) of every `label` node, read as three aligned lists in one record
        (one record per node costs the driver ~15x more; measured on 131,709 posts)."""
        records, _, _ = self.driver.execute_query(queries.cypher(f"ids/{_FILES[label]}"), database_=self.database,
                                                  routing_="r")
        keys, ids, hashes = records[0].values()
        return pl.DataFrame({"k": keys, "i": ids, "h": [h[0] for h in hashes]},
                            schema={"k": pl.String, "i": pl.Int64, "h": pl.Int64})

    def _write(self, name: str, rows: pl.DataFrame, *, lists: tuple[str, ...], returns: bool = False,
               fallback: str | None = None, parallel: bool = True) -> Any:
        """Run write query `name` over `rows` in batches, across ``writers`` transactions when `parallel`.

        Each batch travels column by column (:func:`_columns`): the `lists` columns as parameters of their own
        name, the others as properties. Relationship batches run one at a time: Neo4j locks both ends of a new
        relationship, and parallel batches sharing dense nodes (hashtags, URLs, accounts) deadlock and retry.

        With `returns`, the (k, i) lists the query returns, as a frame; else the number of rows written.
        """
        keys: list[Any] = []
        ids: list[Any] = []
        if rows.height:
            workers = max(1, self.writers) if parallel else 1
            step = max(1, self.batch_size)
            rows, zoned = _iso_text(rows)
            with ThreadPoolExecutor(max_workers=workers) as pool:
                window = []  # at most `workers` batches converted at a time: memory stays bounded
                for start in range(0, rows.height, step):
                    batch = _columns(rows.slice(start, step), lists, zoned)
                    window.append(pool.submit(self._batch, name, batch, fallback))
                    if len(window) >= workers:
                        k, i = window.pop(0).result()
                        keys += k
                        ids += i
                for future in window:
                    k, i = future.result()
                    keys += k
                    ids += i
        if returns:
            return pl.DataFrame({"k": keys, "i": ids}, schema={"k": pl.String, "i": pl.Int64})
        return rows.height

    def _batch(self, name: str, batch: dict[str, Any], fallback: str | None,
               unsure: int = _UNSURE_RETRIES) -> tuple[list[Any], list[Any]]:
        """Run one batch; the (keys, ids) lists it returns (empty for queries that return nothing).

        When the connection drops during the commit the driver cannot know whether the batch went in
        (``IncompleteCommit``, which it does not retry): the batch then runs again through its ``MERGE`` twin
        (every other write query is idempotent as it is), at most `unsure` times.
        """
        import neo4j.exceptions

        try:
            records, _, _ = self.driver.execute_query(queries.cypher(name), parameters_=batch,
                                                      database_=self.database)
        except neo4j.exceptions.ConstraintError:
            if fallback is None:
                raise StoreError(f"Neo4j refused {name}: a key already exists") from None
            return self._batch(fallback, batch, None)
        except neo4j.exceptions.IncompleteCommit as exc:
            if unsure <= 0:
                raise _store_error(exc, name) from None
            return self._batch(fallback or name, batch, None, unsure - 1)
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001 - every driver failure becomes StoreError
            raise _store_error(exc, name) from None
        return (records[0]["k"], records[0]["i"]) if records else ([], [])

    # -- reading ------------------------------------------------------------------------------------------
    @staticmethod
    def named_queries() -> list[tuple[str, str]]:
        """(name, purpose) of every read query in ``queries/read``."""
        return [(name, queries.describe(name)) for name in queries.names("read")]

    def query(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run read query `name` with `params` in a read transaction; rows as plain dicts (datetimes native)."""
        text = queries.cypher(name)
        values = dict(params or {})

        def work(tx: Any) -> list[dict[str, Any]]:
            return [{k: _native(v) for k, v in record.items()} for record in tx.run(text, parameters=values)]

        try:
            with self.driver.session(database=self.database) as session:
                return session.execute_read(work)
        except Exception as exc:  # noqa: BLE001 - every driver failure becomes StoreError
            raise _store_error(exc, name) from None

    def counts(self) -> dict[str, int]:
        return {row["what"]: row["n"] for row in self.query("read/counts")}

    def posts(self, page: int = 50_000) -> pl.LazyFrame:
        rows: list[dict[str, Any]] = []
        after = ""
        while True:
            chunk = self.query("read/posts_for_scoring", {"after": after, "limit": page})
            for row in chunk:
                post = row["post"]
                post["media"] = [{"key": m.get("key"), **{k: m.get(k) for k in _MEDIA_PROPS}}
                                 for m in sorted(row["media"], key=lambda m: m.get("key") or "")]
                rows.append(post)
            if len(chunk) < page:
                break
            after = chunk[-1]["post"]["uid"]
        return _conform(rows, POSTS)

    def accounts(self) -> pl.LazyFrame:
        return _conform([row["account"] for row in self.query("read/accounts_for_scoring")], ACCOUNTS)

    # -- helpers ------------------------------------------------------------------------------------------
    def _run(self, name: str, **params: Any) -> None:
        try:
            self.driver.execute_query(queries.cypher(name), parameters_=params, database_=self.database)
        except Exception as exc:  # noqa: BLE001 - every driver failure becomes StoreError
            raise _store_error(exc, name) from None

    def _run_autocommit(self, name: str) -> None:
        """For ``CALL {…} IN TRANSACTIONS``, which needs an auto-commit transaction."""
        try:
            with self.driver.session(database=self.database) as session:
                session.run(queries.cypher(name)).consume()
        except Exception as exc:  # noqa: BLE001 - every driver failure becomes StoreError
            raise _store_error(exc, name) from None


def _iso_text(frame: pl.DataFrame) -> tuple[pl.DataFrame, frozenset[str]]:
    """`frame` with its time-zoned datetime columns as ISO text in UTC, converted in one vectorised pass (not per
    batch), and the names of those columns."""
    zoned = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime) and t.time_zone]
    return frame.with_columns(pl.col(zoned).dt.convert_time_zone("UTC").dt.to_string(ISO_UTC)), frozenset(zoned)


def _columns(frame: pl.DataFrame, lists: tuple[str, ...], zoned: frozenset[str]) -> dict[str, Any]:
    """Batch parameters, column by column: each of `lists` as a list under its own name; the other columns as
    property ``names`` with their values in ``cols``, the `zoned` ones (time-zoned datetimes as ISO text, see
    :func:`_iso_text`, which Neo4j parses far faster than the driver packs Python datetimes) apart in
    ``dnames``/``dcols``. A list per column instead of a map per row: measured on 131,709 posts, 7x less client
    time to build and about half the server time to unpack. A column that is null in every row of the batch is
    left out (setting null on a new node or on one whose properties were just cleared changes nothing, and each
    skipped column saves a property write per row).

    >>> from datetime import datetime, timezone
    >>> f = pl.DataFrame({"uid": ["a", "b"], "n": [1, None], "gone": [None, None],
    ...                   "at": [datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc), None]})
    >>> iso, zoned = _iso_text(f.rename({"uid": "keys"}))
    >>> batch = _columns(iso, ("keys",), zoned)
    >>> batch
    {'keys': <2 values>, 'names': ['n'], 'cols': [<2 values>], 'dnames': ['at'], 'dcols': [<2 values>]}
    >>> list(batch["keys"]), list(batch["cols"][0]), list(batch["dcols"][0])
    (['a', 'b'], [1, None], ['2024-01-02T03:04:05.000006Z', None])
    """
    nulls = dict(zip(frame.columns, frame.null_count().row(0), strict=True))
    given = [c for c in frame.columns if c not in lists and nulls[c] < frame.height]
    plain = [c for c in given if c not in zoned]
    dated = [c for c in given if c in zoned]
    return {**{c: _Values(frame[c].to_list()) for c in lists}, "names": plain,
            "cols": [_Values(frame[c].to_list()) for c in plain], "dnames": dated,
            "dcols": [_Values(frame[c].to_list()) for c in dated]}


class _Values(list):  # type: ignore[type-arg]
    """A batch column: a plain list to the driver's packer, but ``repr`` names only its length.

    The driver formats every RUN message for its debug log whether or not that log is on (neo4j 6.4,
    ``Bolt5x5.run``: ``" ".join(map(repr, fields))``), which for a 1,000-post batch means a half-megabyte string
    of untrusted text each time: 2.6 s of client CPU on the 1.34M-post workspace. With this type the log line
    shows ``<1000 values>`` instead (and no captions end up in a debug log).

    >>> _Values(["a", "b"]), _Values([1]) == [1]
    (<2 values>, True)
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} values>"


def _post_edges(g: GraphFrames, ids: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Per post key ``s``: the internal id of its ``account`` and the sorted ids of its ``links``, ``tags`` and
    ``media`` (null when it has none), for the relationships :data:`_WITH_POST` created with a new post.

    >>> g = GraphFrames(rels={"POSTED": pl.DataFrame({"s": ["a1"], "t": ["p1"]}),
    ...                       "TAGS": pl.DataFrame({"s": ["p1", "p1"], "t": ["y", "x"]})})
    >>> ids = {"Account": pl.DataFrame({"k": ["a1"], "i": [7]}), "Hashtag": pl.DataFrame({"k": ["x", "y"], "i": [3, 2]})}
    >>> _post_edges(g, ids).to_dicts()
    [{'s': 'p1', 'account': 7, 'links': None, 'tags': [2, 3], 'media': None}]
    """
    out = pl.DataFrame(schema={"s": pl.String, "account": pl.Int64})
    if "POSTED" in g.rels:
        out = (g.rels["POSTED"].join(ids["Account"].select(s="k", account="i"), on="s")
               .select(pl.col("t").alias("s"), "account"))
    for rel, column in _WITH_POST.items():
        if column == "account":
            continue
        targets = pl.DataFrame(schema={"s": pl.String, column: pl.List(pl.Int64)})
        if rel in g.rels:
            targets = (g.rels[rel].join(ids[REL_ENDS[rel][1]].select(t="k", i="i"), on="t").sort("s", "i")
                       .group_by("s", maintain_order=True).agg(pl.col("i").alias(column)))
        out = out.join(targets, on="s", how="full", coalesce=True)
    return out.with_columns(pl.col("account").cast(pl.Int64))


def _keys_only(id_map: pl.DataFrame) -> pl.DataFrame:
    """Account nodes as known keys only (no hash column): score writes never touch their properties."""
    return id_map.select(uid="k").head(0)


def _id_frame() -> pl.DataFrame:
    """An empty key → (internal id, hash) map."""
    return pl.DataFrame(schema={"k": pl.String, "i": pl.Int64, "h": pl.Int64})


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


def _store_error(exc: Exception, what: str) -> StoreError:
    import neo4j.exceptions as ne

    kind = type(exc).__name__
    if isinstance(exc, ne.AuthError):
        return StoreError(f"Neo4j refused the credentials from CIB_NEO4J_USER/CIB_NEO4J_PASSWORD ({what})")
    if isinstance(exc, ne.ServiceUnavailable):
        return StoreError(f"Neo4j is unreachable ({what}); is the server running?")
    message = (getattr(exc, "message", None) or str(exc)).splitlines()[0] if str(exc) else kind
    return StoreError(f"Neo4j {kind} while {what if ' ' in what else 'running ' + what}: {message}")
