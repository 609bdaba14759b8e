"""Bulk import and incremental writes build the same graph; increments touch only what changed (REAL Neo4j)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

import queries
from cib.cli import cli
from cib.errors import StoreError
from cib.store import ParquetStore
from cib.store.neo4j import Neo4jStore, query_parameters

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _server_module() -> Any:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import neo4j_server
    finally:
        sys.path.pop(0)
    return neo4j_server


@pytest.fixture(scope="module")
def scored_ws(tmp_path_factory: pytest.TempPathFactory, samples: Path, scenario_ws: dict[str, Path]) -> Path:
    """Real samples plus a generated scenario, loaded and scored."""
    ws = tmp_path_factory.mktemp("paths-ws")
    runner = CliRunner()
    load = runner.invoke(cli, ["load", str(samples), str(scenario_ws["scenario"]), "-w", str(ws), "--silent",
                                "--platform", "facebook"])  # the samples hold a CooRTweet CSV of Facebook data
    assert load.exit_code == 0, load.output
    score = runner.invoke(cli, ["score", "-w", str(ws), "--silent"])
    assert score.exit_code == 0, score.output
    return ws


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory, scored_ws: Path, neo4j_server: str) -> Iterator[Neo4jStore]:
    """A second real server started on the database that `cib neo4j import` wrote."""
    server_module = _server_module()
    home = tmp_path_factory.mktemp("neo4j-home")
    result = CliRunner().invoke(cli, ["neo4j", "import", "-w", str(scored_ws), "--neo4j-home", str(home),
                                      "--jars", str(server_module.fetch()), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["counts"]["Post"] >= ParquetStore(scored_ws).counts()["posts"]
    with server_module.Server(data_dir=home / "data") as server, Neo4jStore.from_env(server.uri) as graph:
        graph.ensure_schema()
        yield graph


def _dump(graph: Neo4jStore) -> dict[str, list[str]]:
    """Every node and relationship with all properties, as sorted JSON lines (order-free comparison)."""
    key = "coalesce(x.uid, x.key, x.url, x.tag, x.cluster_id)"
    nodes, _, _ = graph.driver.execute_query(
        f"MATCH (x) RETURN labels(x) AS labels, properties(x) AS props, {key} AS k")
    rels, _, _ = graph.driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(r) AS props, "
        "coalesce(a.uid, a.key, a.url, a.tag, a.cluster_id) AS s, coalesce(b.uid, b.key, b.url, b.tag, b.cluster_id) AS t")
    out = {
        "nodes": sorted(json.dumps([r["labels"], r["k"], _plain(r["props"])], sort_keys=True, default=str) for r in nodes),
        "rels": sorted(json.dumps([r["type"], r["s"], r["t"], _plain(r["props"])], sort_keys=True, default=str)
                       for r in rels),
    }
    return out


def _dump_and_empty(graph: Neo4jStore) -> dict[str, list[str]]:
    """:func:`_dump` of the graph, which is then deleted: the reference a second load into it must reproduce."""
    dump = _dump(graph)
    graph.driver.execute_query("MATCH (n) DETACH DELETE n")
    return dump


def _plain(value: Any) -> Any:
    if hasattr(value, "to_native"):
        return value.to_native().isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _parameters_from_data(store: ParquetStore) -> dict[str, dict[str, Any]]:
    """For every read query, parameters that make it return rows on this workspace."""
    clusters, edges = store.scores("clusters"), store.scores("edges")
    posts = store.posts().collect()
    url = posts.explode("urls").drop_nulls("urls").group_by("urls").len().sort(["len", "urls"], descending=[True, False])
    media = store.media().collect().group_by("key").len().sort(["len", "key"], descending=[True, False])
    caption = posts.drop_nulls("text_norm").group_by("text_norm").len().sort(["len", "text_norm"],
                                                                            descending=[True, False])
    return {
        "read/cluster_members": {"cluster_id": clusters["cluster_id"][0]},
        "read/posts_tying_accounts": {"a": edges["src"][0], "b": edges["dst"][0]},
        "read/accounts_sharing_url": {"url": url["urls"][0]},
        "read/accounts_sharing_media": {"key": media["key"][0]},
        "read/accounts_sharing_caption": {"text_norm": caption["text_norm"][0]},
        "read/posts_for_scoring": {"after": "", "limit": 100_000},
        "read/creation_bursts": {"min_accounts": 3},
    }


def test_import_and_incremental_paths_give_identical_graphs(neo4j_store, imported: Neo4jStore,  # noqa: ANN001
                                                            scored_ws: Path) -> None:
    store = ParquetStore(scored_ws)
    neo4j_store.load_from(store)
    neo4j_store.write_scores(store)
    incremental, bulk = _dump(neo4j_store), _dump(imported)
    assert len(incremental["nodes"]) == len(bulk["nodes"]) and len(incremental["rels"]) == len(bulk["rels"])
    assert incremental == bulk  # every node, relationship and property value
    assert neo4j_store.counts() == imported.counts()
    counts = imported.counts()
    assert counts["posts"] == store.counts()["posts"] and counts["accounts"] == store.counts()["accounts"]
    assert counts["media"] == store.media().collect()["key"].n_unique()
    assert counts["clusters"] == store.scores("clusters").height
    assert counts["coordinated_with"] == store.scores("edges").height
    chosen = _parameters_from_data(store)
    for name in queries.names("read"):
        params = {k: v for k, v in query_parameters(name).items() if v is not ...} | chosen.get(name, {})
        rows = neo4j_store.query(name, params)
        assert rows == imported.query(name, params), name
        if name not in ("read/creation_bursts",):
            assert rows, f"{name} returned nothing: the comparison would prove little"


def test_incremental_load_after_import_writes_nothing(imported: Neo4jStore, scored_ws: Path) -> None:
    before = imported.counts()
    written = imported.load_from(ParquetStore(scored_ws))
    assert set(written.values()) == {0}  # content hashes match: the import wrote what the increment would
    assert imported.counts() == before


class _Edited:
    """The workspace seen through its public methods, with one post's caption and URLs changed."""

    def __init__(self, store: ParquetStore, uid: str) -> None:
        self.store, self.uid = store, uid

    def posts(self) -> pl.LazyFrame:
        edited = pl.col("uid") == self.uid
        return self.store.posts().with_columns(
            text=pl.when(edited).then(pl.lit("edited caption")).otherwise(pl.col("text")),
            urls=pl.when(edited).then(pl.lit(["https://example.org/new"])).otherwise(pl.col("urls")))

    def links(self) -> pl.LazyFrame:
        from cib.store import derive_links

        return derive_links(self.posts())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_a_changed_post_is_rewritten_with_its_relationships(neo4j_store, scored_ws: Path) -> None:  # noqa: ANN001
    store = ParquetStore(scored_ws)
    neo4j_store.load_from(store)
    uid = store.posts().filter(pl.col("urls").list.len() > 0).select("uid").head(1).collect().item()
    written = neo4j_store.load_from(_Edited(store, uid))
    assert written["Post"] == 1 and written["LINKS"] == 1 and written["Account"] == 0
    rows, _, _ = neo4j_store.driver.execute_query(
        "MATCH (p:Post {uid: $uid}) OPTIONAL MATCH (p)-[:LINKS]->(u) RETURN p.text AS text, collect(u.url) AS urls",
        uid=uid)
    assert rows[0]["text"] == "edited caption" and rows[0]["urls"] == ["https://example.org/new"]
    fresh = _dump_and_empty(neo4j_store)
    neo4j_store.load_from(_Edited(store, uid))
    assert _dump(neo4j_store) == fresh  # the increment equals a fresh load of the edited data


def test_a_stale_id_map_falls_back_to_merge_without_duplicates(neo4j_store, scored_ws: Path,  # noqa: ANN001
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A create batch that meets existing keys (as after a retried, committed batch) upserts instead."""
    store = ParquetStore(scored_ws)
    neo4j_store.load_from(store)
    before = _dump(neo4j_store)
    original = Neo4jStore._id_map
    monkeypatch.setattr(Neo4jStore, "_id_map",
                        lambda self, label: original(self, label).head(0) if label == "Post" else original(self, label))
    neo4j_store.load_from(store)
    assert _dump(neo4j_store) == before


class _LostCommitAck:
    """The real driver, except that the first `fail` commits of the queries `names` go through and then report
    the connection lost (``IncompleteCommit``): the batch is in the database but the writer cannot know it."""

    def __init__(self, driver: Any, names: tuple[str, ...], fail: int) -> None:
        self.driver, self.texts, self.fail = driver, {queries.cypher(n) for n in names}, fail

    def execute_query(self, query: str, *args: Any, **kwargs: Any) -> Any:
        import neo4j.exceptions

        result = self.driver.execute_query(query, *args, **kwargs)
        if query in self.texts and self.fail > 0:
            self.fail -= 1
            raise neo4j.exceptions.IncompleteCommit("connection lost during commit (injected)")
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.driver, name)


def test_a_commit_whose_outcome_was_lost_is_rerun_without_duplicates(neo4j_server: str, neo4j_store,  # noqa: ANN001
                                                                     scored_ws: Path) -> None:
    store = ParquetStore(scored_ws)
    neo4j_store.load_from(store)
    reference = _dump_and_empty(neo4j_store)
    with Neo4jStore.from_env(neo4j_server, batch_size=200) as other:
        other.driver = _LostCommitAck(other.driver, ("write/create_posts",), fail=2)
        other.load_from(store)
        assert other.driver.fail == 0, "the injected failures never happened"
    assert _dump(neo4j_store) == reference  # the re-run batches went through MERGE: no post or edge twice


def test_a_commit_lost_too_often_is_one_store_error(neo4j_server: str, neo4j_store, scored_ws: Path) -> None:  # noqa: ANN001
    neo4j_store.driver.execute_query("MATCH (n) DETACH DELETE n")
    with Neo4jStore.from_env(neo4j_server, writers=1) as other:
        # every re-run reports the loss again
        other.driver = _LostCommitAck(other.driver, ("write/create_accounts", "write/merge_accounts"), fail=10)
        with pytest.raises(StoreError, match="unreachable"):
            other.load_from(ParquetStore(scored_ws))


def test_batch_sizes_and_parallel_writers_give_the_same_graph(neo4j_server: str, neo4j_store,  # noqa: ANN001
                                                              scored_ws: Path) -> None:
    store = ParquetStore(scored_ws)
    neo4j_store.load_from(store)
    reference = _dump_and_empty(neo4j_store)
    with Neo4jStore.from_env(neo4j_server, batch_size=777, writers=3) as other:
        other.load_from(store)
    assert _dump(neo4j_store) == reference


HOSTILE = "[link=https://evil.example]click[/link] [/] \x1b[31mred\x1b[0m \u202eabc"


def test_query_output_is_escaped_in_every_format(neo4j_server: str, neo4j_store) -> None:  # noqa: ANN001
    neo4j_store.driver.execute_query(
        "CREATE (a:Account {uid: 'x:1', handle: $h, platform: 'x'})-[:POSTED]->(:Post {uid: 'x:p', created_at: "
        "datetime()})-[:LINKS]->(:Url {url: 'https://u.example/'}) "
        "CREATE (:Account {uid: 'x:2', handle: '=HYPERLINK(\"http://evil\")', platform: 'x'})-[:POSTED]->"
        "(:Post {uid: 'x:q', created_at: datetime()})-[:LINKS]->(:Url {url: 'https://v.example/'})", h=HOSTILE)
    runner = CliRunner(env={"COLUMNS": "400"})  # wide enough that rich does not fold the handle across lines
    args = ["query", "accounts_sharing_url", "-p", "url=https://u.example/", "--neo4j", neo4j_server]
    table = runner.invoke(cli, [*args, "--format", "table"])
    assert table.exit_code == 0, table.output
    assert "\x1b" not in table.output and "\u202e" not in table.output
    assert "\\x1b[31m" in table.output and "[link=https://evil.example]" in table.output  # shown, not interpreted
    as_csv = runner.invoke(cli, [*args, "--format", "csv"])
    assert as_csv.exit_code == 0 and "\x1b" not in as_csv.output and "[/]" in as_csv.output
    formula = runner.invoke(cli, ["query", "accounts_sharing_url", "-p", "url=https://v.example/", "--format", "csv",
                                  "--neo4j", neo4j_server])
    assert "'=HYPERLINK" in formula.output
    as_json = runner.invoke(cli, [*args, "--format", "json"])
    assert as_json.exit_code == 0 and "\x1b" not in as_json.output and "\u202e" not in as_json.output
    assert json.loads(as_json.output)[0]["handle"] == HOSTILE  # JSON keeps the exact data
    digits = runner.invoke(cli, ["query", "cluster_members", "-p", "cluster_id=²", "--neo4j", neo4j_server])
    assert digits.exit_code == 0, digits.output  # a unicode digit is text, not an int() crash
