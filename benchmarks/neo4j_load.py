"""Neo4j load throughput: batched ``UNWIND $rows`` writes vs naive one-statement-per-row, in posts/s.

Starts a real Neo4j Community 5.26 (scripts/neo4j_server.py), loads a generated scenario of about
``--posts`` posts (accounts, posts, media, URL/hashtag/repost links), then times the naive path on the
first ``--naive`` posts of the same data in an emptied database.

Usage::

    python benchmarks/neo4j_load.py --posts 100000 [--naive 5000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from neo4j_server import Server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=5_000, help="posts written the naive way")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    from click.testing import CliRunner

    from cib.cli import cli
    from cib.scenario import generate
    from cib.store import ParquetStore
    from cib.store.neo4j import Neo4jStore

    work = Path(tempfile.mkdtemp(prefix="cib-neo4j-bench-"))
    generate(work / "s", seed=1, accounts=max(200, args.posts // (4 * 21)))
    assert CliRunner().invoke(cli, ["load", str(work / "s"), "-w", str(work / "ws"), "--silent"]).exit_code == 0
    store = ParquetStore(work / "ws")
    posts = store.posts().collect()
    with Server() as server, Neo4jStore.from_env(server.uri, batch_size=args.batch) as graph:
        start = time.perf_counter()
        graph.load_from(store)
        batched = time.perf_counter() - start
        counts = graph.counts()
        start = time.perf_counter()
        graph.load_from(store)
        again = time.perf_counter() - start
        assert graph.counts() == counts, "a re-load must not change the graph"
        with graph.driver.session() as session:  # batched delete: one huge transaction would exhaust memory
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
        subset = posts.head(args.naive)
        uids = subset["account_uid"].unique().to_list()
        accounts = store.accounts().filter(pl.col("uid").is_in(uids)).collect()
        links = store.links().filter(pl.col("post_uid").is_in(subset["uid"].to_list())).collect()
        media = store.media().filter(pl.col("post_uid").is_in(subset["uid"].to_list())).collect()
        naive_store = Neo4jStore(graph.driver, batch_size=1)  # one transaction per row: the naive way
        start = time.perf_counter()
        naive_store.load_frames(accounts, subset, media, links)
        naive = time.perf_counter() - start
    n = posts.height
    print(f"posts {n:,}; nodes/relationships after load: {counts}")
    print(f"batched ({args.batch} rows/tx): {batched:8.1f} s  {n / batched:10,.0f} posts/s "
          f"(with their accounts, media and links)")
    print(f"re-load (no changes):    {again:8.1f} s  {n / again:10,.0f} posts/s")
    print(f"naive (1 row/tx), first {subset.height:,} posts: {naive:8.1f} s  {subset.height / naive:10,.0f} posts/s")


if __name__ == "__main__":
    main()
