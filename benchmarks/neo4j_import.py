"""Neo4j: bulk import vs incremental load vs re-load, side by side on the same workspace, in posts/s.

Every figure counts the posts *with everything else* (accounts, media, URLs, hashtags, reposts, clusters,
COORDINATED_WITH, MEMBER_OF) and runs against a real Neo4j Community 5.26 (scripts/neo4j_server.py):

1. ``cib neo4j import`` into an empty database (CSV export + ``neo4j-admin database import full``), then the
   uniqueness constraints on the started server (reported separately);
2. incremental ``load_from`` + ``write_scores`` (what ``cib load --neo4j`` / ``cib score --neo4j`` run) into an
   empty database, once per ``--batch-sizes`` value, each on a freshly started server (cold JVM: on 2 cores its
   JIT compiler takes ~30 CPU-s during the first ~40 s), and with ``--warm WS`` once more on a running server
   (the usual case: the docker-compose server stays up) whose JVM first loaded and scored another workspace
   ``WS`` that was then deleted, so the timed load still starts from an empty database;
3. a re-load of the same data into the last of those (must write nothing and change no count);
4. with ``--baseline N``: the previous writer (``UNWIND`` + ``MERGE`` per row, 1,000-row batches, no id maps) on
   the first N posts, in the same conditions, for comparison on a shared machine.

Next to each wall time it prints the CPU seconds spent by this process (client) and by the Neo4j server
(from ``/proc``): on a machine shared with other jobs the wall time stretches, the CPU work does not. The
servers get the 1 GiB page cache of ``docker-compose.yml`` (``CIB_NEO4J_PAGECACHE_MB``; tests use 256 MiB).

Usage::

    python benchmarks/scale.py --posts 1000000 --keep      # or any loaded workspace
    python benchmarks/neo4j_import.py --workspace /tmp/cib-bench/p1000000/ws [--batch-sizes 1000 5000 10000 20000]
        [--warm /tmp/cib-neo4j-bench/p100000/ws]   # another workspace (e.g. made by --posts 100000)
        [--repeat 3]                               # worst and best of 3 runs at the first batch size
    python benchmarks/neo4j_import.py --posts 100000       # generate, load and score a scenario first
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from neo4j_server import Server, fetch  # noqa: E402


def _workspace(args: argparse.Namespace) -> Path:
    from click.testing import CliRunner

    from cib.cli import cli
    from cib.scenario import generate
    from cib.store import ParquetStore

    if args.workspace:
        ws = args.workspace
    else:
        work = Path(tempfile.gettempdir()) / "cib-neo4j-bench" / f"p{args.posts}"
        ws = work / "ws"
        if not (ws / "posts.parquet").exists():
            generate(work / "scenario", seed=1, accounts=max(200, args.posts // (4 * 21)))
            result = CliRunner().invoke(cli, ["load", str(work / "scenario"), "-w", str(ws), "--silent"])
            assert result.exit_code == 0, result.output
    try:
        ParquetStore(ws).scores("clusters")
    except Exception:  # noqa: BLE001 - not scored yet
        result = CliRunner().invoke(cli, ["score", "-w", str(ws), "--silent"])
        assert result.exit_code == 0, result.output
    return ws


# the writer this replaces: MERGE per row in 1,000-row batches (kept here only as the benchmark's baseline)
_OLD = {
    "accounts": "UNWIND $rows AS row MERGE (a:Account {uid: row.uid}) SET a += row.props",
    "posts": "UNWIND $rows AS row MERGE (p:Post {uid: row.uid}) SET p += row.props WITH p, row "
             "MATCH (a:Account {uid: row.account_uid}) MERGE (a)-[:POSTED]->(p)",
    "media": "UNWIND $rows AS row MATCH (p:Post {uid: row.post_uid}) MERGE (m:Media {key: row.key}) "
             "MERGE (p)-[:HAS_MEDIA]->(m)",
    "url": "UNWIND $rows AS row MATCH (p:Post {uid: row.post_uid}) MERGE (u:Url {url: row.target}) "
           "MERGE (p)-[:LINKS]->(u)",
    "hashtag": "UNWIND $rows AS row MATCH (p:Post {uid: row.post_uid}) MERGE (h:Hashtag {tag: row.target}) "
               "MERGE (p)-[:TAGS]->(h)",
    "repost": "UNWIND $rows AS row MATCH (p:Post {uid: row.post_uid}) MERGE (o:Post {uid: row.target}) "
              "MERGE (p)-[:REPOSTS]->(o)",
}


def _baseline(graph: object, store: object, n: int) -> float:
    import polars as pl

    posts = store.posts().head(n).collect()  # type: ignore[attr-defined]
    uids = posts["uid"].to_list()
    accounts = store.accounts().filter(pl.col("uid").is_in(posts["account_uid"].unique().to_list())).collect()  # type: ignore[attr-defined]
    links = store.links().filter(pl.col("post_uid").is_in(uids)).collect()  # type: ignore[attr-defined]
    media = store.media().filter(pl.col("post_uid").is_in(uids)).collect()  # type: ignore[attr-defined]
    drop = ("uid", "account_uid", "media")
    work = [("accounts", [{"uid": r["uid"], "props": {k: v for k, v in r.items() if k != "uid" and v is not None}}
                          for r in accounts.iter_rows(named=True)]),
            ("posts", [{"uid": r["uid"], "account_uid": r["account_uid"],
                        "props": {k: v for k, v in r.items() if k not in drop and v not in (None, [])}}
                       for r in posts.iter_rows(named=True)]),
            ("media", media.select("post_uid", "key").to_dicts())]
    work += [(kind, links.filter(pl.col("kind") == kind).select("post_uid", "target").to_dicts())
             for kind in ("url", "hashtag", "repost")]
    start = time.perf_counter()
    for name, rows in work:
        for i in range(0, len(rows), 1000):
            graph.driver.execute_query(_OLD[name], parameters_={"rows": rows[i:i + 1000]})  # type: ignore[attr-defined]
    return time.perf_counter() - start


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid`."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Clock:
    """Wall time, this process's CPU time and the server's CPU time since construction."""

    def __init__(self, server: Server) -> None:
        self.pid = server.proc.pid
        self.start = (time.perf_counter(), time.process_time(), _cpu(self.pid))

    def stop(self, posts: int) -> tuple[float, str]:
        wall = time.perf_counter() - self.start[0]
        client = time.process_time() - self.start[1]
        server = _cpu(self.pid) - self.start[2]
        return wall, (f"CPU: client {client:.1f} s, server {server:.1f} s = {server / posts * 1e6:.0f} µs per post; "
                      f"load average {os.getloadavg()[0]:.1f}")


def _say(lines: list[str], line: str) -> None:
    """Collect `line` for the summary and show it now (long runs report as they go)."""
    lines.append(line)
    print(line, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, help="a loaded workspace (scored here if it has no scores)")
    parser.add_argument("--posts", type=int, default=100_000, help="without --workspace: scenario size")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1_000, 5_000, 10_000, 20_000])
    parser.add_argument("--warm", type=Path, help="another loaded, scored workspace to warm a server with; "
                                                  "then the first batch size is timed again on that server")
    parser.add_argument("--writers", type=int, default=2, help="parallel writer transactions")
    parser.add_argument("--repeat", type=int, default=1, help="time the first batch size (fresh server, and with "
                                                              "--warm on a running one) this many times; the "
                                                              "summary gives the worst and best of each")
    parser.add_argument("--baseline", type=int, default=0, help="posts written with the previous MERGE writer")
    args = parser.parse_args()
    from click.testing import CliRunner

    from cib.cli import cli
    from cib.store import ParquetStore
    from cib.store.neo4j import Neo4jStore

    os.environ.setdefault("CIB_NEO4J_PASSWORD", "bench-password")
    os.environ.setdefault("CIB_NEO4J_PAGECACHE_MB", "1024")  # as docker-compose.yml
    ws = _workspace(args)
    store = ParquetStore(ws)
    n = store.counts()["posts"]
    lines = [f"workspace {ws}: {n:,} posts, {store.counts()['accounts']:,} accounts; machine: {os.cpu_count()} cores, "
             f"load average {os.getloadavg()[0]:.1f} at start"]
    home = Path(tempfile.mkdtemp(prefix="cib-neo4j-home-"))
    try:
        start = time.perf_counter()
        result = CliRunner().invoke(cli, ["neo4j", "import", "-w", str(ws), "--neo4j-home", str(home),
                                          "--jars", str(fetch()), "--json"])
        seconds = time.perf_counter() - start
        assert result.exit_code == 0, result.output
        with Server(data_dir=home / "data") as server, Neo4jStore.from_env(server.uri) as graph:
            start = time.perf_counter()
            graph.ensure_schema()
            constraints = time.perf_counter() - start
            imported = graph.counts()
        _say(lines, f"{'cib neo4j import':34} {seconds:8.1f} s {n / seconds:10,.0f} posts/s   "
                     f"(+ constraints on the started server {constraints:.1f} s)")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    runs = [(batch, None) for batch in args.batch_sizes] + [(args.batch_sizes[0], None)] * (args.repeat - 1)
    if args.warm:
        runs += [(args.batch_sizes[0], ParquetStore(_workspace(argparse.Namespace(workspace=args.warm))))] * args.repeat
    rates: dict[str, list[float]] = {}
    reloaded = False
    for batch, warm in runs:
        with Server() as server, Neo4jStore.from_env(server.uri, batch_size=batch, writers=args.writers) as graph:
            label = f"incremental load, batch {batch:,}"
            if warm is not None:
                label = f"same, batch {batch:,}, warm server"
                clock = _Clock(server)
                graph.load_from(warm)
                graph.write_scores(warm)
                with graph.driver.session() as session:
                    session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS").consume()
                assert not any(graph.counts().values()), "the warm-up data must be gone"
                seconds, cpu = clock.stop(warm.counts()["posts"])
                _say(lines, f"{'warm-up (' + str(warm.root) + ')':34} {seconds:8.1f} s, loaded, scored, deleted ({cpu})")
            clock = _Clock(server)
            graph.load_from(store)
            graph.write_scores(store)
            seconds, cpu = clock.stop(n)
            counts = graph.counts()
            assert counts == imported, f"incremental {counts} != imported {imported}"
            _say(lines, f"{label:34} {seconds:8.1f} s {n / seconds:10,.0f} posts/s   ({cpu})")
            rates.setdefault(label, []).append(n / seconds)
            if warm is None and batch == args.batch_sizes[-1] and not reloaded:
                reloaded = True
                clock = _Clock(server)
                written = graph.load_from(store)
                seconds, cpu = clock.stop(n)
                assert graph.counts() == counts and not any(written.values()), "a re-load must change nothing"
                _say(lines, f"{'re-load of the same data':34} {seconds:8.1f} s {n / seconds:10,.0f} posts/s   "
                             f"(no duplicates: every count unchanged; {cpu})")
    if args.baseline:
        with Server() as server, Neo4jStore.from_env(server.uri) as graph:
            graph.ensure_schema()
            seconds = _baseline(graph, store, args.baseline)
            _say(lines, f"{f'previous MERGE writer, {args.baseline:,} posts':34} {seconds:8.1f} s "
                         f"{args.baseline / seconds:10,.0f} posts/s")
    for label, seen in rates.items():
        if len(seen) > 1:
            _say(lines, f"{label:34} worst {min(seen):,.0f} posts/s, best {max(seen):,.0f} of {len(seen)} runs")
    _say(lines, f"graph: {imported}")
    _say(lines, f"load average at end {os.getloadavg()[0]:.1f}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
