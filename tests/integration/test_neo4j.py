"""Against a REAL Neo4j server started by the test setup (Neo4j Community 5.26 from Maven Central)."""

from __future__ import annotations

import csv
import io
import json
import logging
import socket
import threading
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from cib.cli import cli
from cib.store import ParquetStore

pytestmark = [
    pytest.mark.integration,
    # the dropping proxy kills sockets on purpose; the driver may report them as unclosed when collected
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]


@pytest.fixture(autouse=True)
def _collect_dropped_sockets():  # noqa: ANN202
    """Sockets the proxy killed are collected here, inside these tests, not during a later one."""
    yield
    import gc

    gc.collect()


def expected_counts(store: ParquetStore) -> dict[str, int]:
    links = store.links().collect()
    media = store.media().collect()
    return {
        "posts": store.posts().select(pl.len()).collect().item(),
        "accounts": store.accounts().select(pl.len()).collect().item(),
        "posted": store.posts().select(pl.len()).collect().item(),
        "media": media["key"].n_unique(), "has_media": media.select("post_uid", "key").unique().height,
        "urls": links.filter(pl.col("kind") == "url")["target"].n_unique(),
        "links": links.filter(pl.col("kind") == "url").height,
        "hashtags": links.filter(pl.col("kind") == "hashtag")["target"].n_unique(),
        "tags": links.filter(pl.col("kind") == "hashtag").height,
        "reposts": links.filter(pl.col("kind") == "repost").height,
    }


@pytest.fixture(scope="module")
def loaded_ws(tmp_path_factory: pytest.TempPathFactory, samples: Path, scenario_ws: dict[str, Path]) -> Path:
    ws = tmp_path_factory.mktemp("neo4j-ws")
    result = CliRunner().invoke(cli, ["load", str(samples), str(scenario_ws["scenario"]), "-w", str(ws), "--silent",
                                      "--platform", "facebook"])  # the CooRTweet sample names no platform
    assert result.exit_code == 0, result.output
    return ws


def test_load_counts_match_parquet_and_reload_adds_nothing(neo4j_store, loaded_ws: Path) -> None:  # noqa: ANN001
    store = ParquetStore(loaded_ws)
    neo4j_store.load_from(store)
    counts = neo4j_store.counts()
    expected = expected_counts(store)
    assert {k: counts[k] for k in expected} == expected
    neo4j_store.load_from(store)
    assert neo4j_store.counts() == counts


def test_captions_stay_out_of_the_drivers_debug_log(neo4j_store, loaded_ws: Path,  # noqa: ANN001
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """The driver formats every RUN message for its debug log, parameters included: a batch shows there as
    ``<n values>``, never as the untrusted text it carries (and formatting it costs nothing)."""
    store = ParquetStore(loaded_ws)
    captions = [t for t in store.posts().select("text").collect()["text"].to_list() if t and len(t) >= 20]
    assert len(captions) > 100
    with caplog.at_level(logging.DEBUG, logger="neo4j"):
        neo4j_store.load_from(store)
    assert "C: RUN" in caplog.text and " values>" in caplog.text
    assert [c for c in captions if c in caplog.text] == []


def test_post_urls_and_hashtags_live_in_relationships_and_read_back(neo4j_store, loaded_ws: Path) -> None:  # noqa: ANN001
    """No urls/hashtags list property repeats LINKS/TAGS; posts read back for scoring get them from the graph."""
    store = ParquetStore(loaded_ws)
    neo4j_store.load_from(store)
    props = neo4j_store.driver.execute_query("MATCH (p:Post) UNWIND keys(p) AS k RETURN collect(DISTINCT k) AS k")
    assert {"uid", "text", "created_at"} <= set(props.records[0]["k"])
    assert not {"urls", "hashtags", "media", "account_uid"} & set(props.records[0]["k"])
    sets = [pl.col(c).list.sort() for c in ("urls", "hashtags")]
    ours = store.posts().select("uid", *sets).sort("uid").collect()
    back = neo4j_store.posts().select("uid", *sets).collect().join(ours.select("uid"), on="uid", how="semi")
    assert back.height == ours.height and ours.filter(pl.col("urls").list.len() > 0).height > 0
    assert back.equals(ours)


def test_cli_load_and_score_through_neo4j(neo4j_server: str, neo4j_store, scenario_ws: dict[str, Path],  # noqa: ANN001
                                          tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CIB_NEO4J_USER", "neo4j")
    monkeypatch.setenv("CIB_NEO4J_PASSWORD", "s3cret-never-printed")
    runner = CliRunner()
    load = runner.invoke(cli, ["load", str(scenario_ws["scenario"]), "-w", str(tmp_path), "--neo4j", neo4j_server,
                               "--silent"])
    assert load.exit_code == 0, load.output
    assert "s3cret" not in load.output
    score = runner.invoke(cli, ["score", "-w", str(tmp_path), "--neo4j", neo4j_server, "--silent"])
    assert score.exit_code == 0, score.output
    parquet = ParquetStore(scenario_ws["ws"]).scores("clusters")
    from_neo4j = ParquetStore(tmp_path).scores("clusters")
    assert from_neo4j.select("cluster_id", "score", "size").equals(parquet.select("cluster_id", "score", "size"))
    counts = neo4j_store.counts()
    members = ParquetStore(tmp_path).scores("members")
    assert counts["clusters"] == parquet.height and counts["member_of"] == members.height
    assert counts["coordinated_with"] == ParquetStore(tmp_path).scores("edges").height
    _check_every_query(neo4j_server, neo4j_store, tmp_path)


def test_score_writes_only_scores_and_scores_from_neo4j_when_workspace_is_empty(
        neo4j_server: str, neo4j_store, scenario_ws: dict[str, Path], tmp_path: Path) -> None:  # noqa: ANN001
    from cib.store.neo4j import Neo4jStore

    store = ParquetStore(scenario_ws["ws"])
    neo4j_store.load_from(store)
    before = neo4j_store.counts()
    calls: list[str] = []
    original = Neo4jStore.load_from
    Neo4jStore.load_from = lambda self, s: calls.append("load_from") or original(self, s)  # type: ignore[method-assign]
    try:
        empty_ws = tmp_path / "empty"
        score = CliRunner().invoke(cli, ["score", "-w", str(empty_ws), "--neo4j", neo4j_server, "--silent"])
    finally:
        Neo4jStore.load_from = original  # type: ignore[method-assign]
    assert score.exit_code == 0, score.output
    assert calls == []  # no reload of posts, accounts or links
    after = neo4j_store.counts()
    assert {k: after[k] for k in before if before[k]} == {k: before[k] for k in before if before[k]}
    scored = ParquetStore(empty_ws)
    assert scored.scores("clusters").select("cluster_id", "score").equals(
        store.scores("clusters").select("cluster_id", "score"))  # read back from Neo4j, same clusters
    assert after["clusters"] == scored.scores("clusters").height
    assert after["coordinated_with"] == scored.scores("edges").height
    again = CliRunner().invoke(cli, ["score", "-w", str(empty_ws), "--neo4j", neo4j_server, "--silent"])
    assert again.exit_code == 0 and neo4j_store.counts() == after  # replaced, not added


def _check_every_query(uri: str, graph, ws: Path) -> None:  # noqa: ANN001
    store = ParquetStore(ws)
    clusters = store.scores("clusters")
    members = store.scores("members")
    edges = store.scores("edges")
    top = clusters.row(0, named=True)
    rows = graph.query("read/cluster_members", {"cluster_id": top["cluster_id"]})
    assert sorted(r["account"] for r in rows) == sorted(
        members.filter(pl.col("cluster_id") == top["cluster_id"])["account_uid"].to_list())
    assert all(r["evidence"] and r["evidence"][0]["signals"] for r in rows)
    edge = edges.row(0, named=True)
    tying = graph.query("read/posts_tying_accounts", {"a": edge["src"], "b": edge["dst"]})
    assert {f"{r['post_a']}|{r['post_b']}" for r in tying} == set(edge["evidence"])
    cross = graph.query("read/cross_platform_clusters", {"min_platforms": 2})
    assert {r["cluster_id"] for r in cross} == {
        c for c, p in clusters.select("cluster_id", "platforms").iter_rows() if len(p) >= 2}
    posts = store.posts().collect()
    url = posts.explode("urls").drop_nulls("urls").group_by("urls").agg(n=pl.col("account_uid").n_unique()) \
        .sort(["n", "urls"], descending=[True, False]).row(0)
    assert len({r["account"] for r in graph.query("read/accounts_sharing_url", {"url": url[0]})}) == url[1]
    media = store.media().collect().group_by("key").agg(n=pl.col("account_uid").n_unique()).sort(
        ["n", "key"], descending=[True, False]).row(0)
    assert len({r["account"] for r in graph.query("read/accounts_sharing_media", {"key": media[0]})}) == media[1]
    caption = posts.drop_nulls("text_norm").group_by("text_norm").agg(n=pl.col("account_uid").n_unique()).sort(
        ["n", "text_norm"], descending=[True, False]).row(0)
    assert len({r["account"] for r in graph.query("read/accounts_sharing_caption", {"text_norm": caption[0]})}) == caption[1]
    bursts = graph.query("read/creation_bursts", {"min_accounts": 10})
    assert bursts and all(r["created"] >= 10 for r in bursts)  # the bot and sound farms were created in bursts
    counts = graph.query("read/counts")
    assert {r["what"] for r in counts} >= {"posts", "accounts", "clusters"}
    assert len(graph.query("read/accounts_for_scoring")) == store.accounts().collect().height
    assert len(graph.query("read/posts_for_scoring", {"after": "", "limit": 10})) == 10
    result = CliRunner().invoke(cli, ["query", "cluster_members", "-p", f"cluster_id={top['cluster_id']}",
                                      "--format", "csv", "--neo4j", uri])
    assert result.exit_code == 0, result.output
    header, *body = list(csv.reader(io.StringIO(result.output)))
    assert header[:3] == ["account", "handle", "platform"]
    assert sorted(r[0] for r in body) == sorted(r["account"] for r in rows) and len(body) == len(rows) > 0
    # defaults shown by --list are applied: no -p needed
    result = CliRunner().invoke(cli, ["query", "cross_platform_clusters", "--format", "json", "--neo4j", uri])
    assert result.exit_code == 0, result.output
    assert [r["cluster_id"] for r in json.loads(result.output)] == [r["cluster_id"] for r in cross]


class DroppingProxy:
    """A TCP proxy that cuts every open connection once, after `drop_after` bytes from the client."""

    def __init__(self, target_port: int, drop_after: int) -> None:
        self.target_port, self.drop_after = target_port, drop_after
        self.sent = 0
        self.dropped = False
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
                if count:
                    with self.lock:
                        self.sent += len(data)
                        drop = not self.dropped and self.sent > self.drop_after
                        if drop:
                            self.dropped = True
                    if drop:
                        self._drop_all()
                        return
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def _drop_all(self) -> None:
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()
        self._drop_all()


def test_connection_dropped_mid_load_is_retried_without_duplicates(neo4j_server: str, neo4j_store,  # noqa: ANN001
                                                                   loaded_ws: Path) -> None:
    from cib.store.neo4j import Neo4jStore

    store = ParquetStore(loaded_ws)
    proxy = DroppingProxy(int(neo4j_server.rsplit(":", 1)[1]), drop_after=2_000_000)
    try:
        with Neo4jStore.from_env(f"bolt://127.0.0.1:{proxy.port}", batch_size=500) as flaky:
            flaky.load_from(store)
    finally:
        proxy.close()
    assert proxy.dropped, "the proxy never cut the connection: raise the load or lower drop_after"
    counts = neo4j_store.counts()
    expected = expected_counts(store)
    assert {k: counts[k] for k in expected} == expected


def test_driver_failures_are_store_errors_without_the_secret(neo4j_server: str) -> None:
    import neo4j

    from cib.errors import StoreError
    from cib.store.neo4j import Neo4jStore

    driver = neo4j.GraphDatabase.driver("bolt://127.0.0.1:1", auth=("neo4j", "hunter2-secret"),
                                        max_transaction_retry_time=0.5, connection_timeout=1)
    with Neo4jStore(driver) as unreachable, pytest.raises(StoreError) as info:
        unreachable.counts()
    assert "hunter2" not in str(info.value) and "read/counts" in str(info.value)
