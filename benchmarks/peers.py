"""Peer comparison: coordination-network-toolkit (PyPI ``coordination_network_toolkit``) and cib on the same
generated scenario, with the same window and minimum edge weight. Prints precision / recall / F1 of the
flagged accounts against ground truth, wall time and peak memory, side by side.

CNT has no scoring or clustering, so every account on any of its co-retweet / co-link / co-tweet edges
counts as flagged — exactly how its output is used in practice.

Usage::

    pip install coordination-network-toolkit==1.5.2
    python benchmarks/peers.py [--accounts 300] [--seed 7] [--window 3600] [--min-weight 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable


def run(code: str) -> tuple[float, float, str]:
    """Run `code` in a fresh Python: (seconds, that child's own peak RSS in MiB, its stdout)."""
    start = time.perf_counter()
    proc = subprocess.run([PY, "-c", code + _RSS], check=True, capture_output=True, text=True)
    text, _, rss = proc.stdout.rpartition("@@RSS ")
    return time.perf_counter() - start, int(rss) / 1024, text


_RSS = "\nimport resource as _r; print('@@RSS', _r.getrusage(_r.RUSAGE_SELF).ru_maxrss)"


def prf(flagged: set[str], truth: set[str]) -> tuple[float, float, float]:
    tp = len(flagged & truth)
    p = tp / len(flagged) if flagged else 1.0
    r = tp / len(truth) if truth else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--window", type=int, default=3600)
    parser.add_argument("--min-weight", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cib-peers-"))
    from cib.scenario import generate

    generate(work / "scenario", seed=args.seed, accounts=args.accounts)
    truth = set(json.loads((work / "scenario" / "ground_truth.json").read_text())["coordinated"])
    # cib, end to end (load + score), in one child process
    cib_code = (
        "import json; from click.testing import CliRunner; from cib.cli import cli; from cib.store import ParquetStore; "
        f"r = CliRunner().invoke(cli, ['load', {str(work / 'scenario')!r}, '-w', {str(work / 'ws')!r}, '--silent']); "
        f"r = CliRunner().invoke(cli, ['score', '-w', {str(work / 'ws')!r}, '--silent', '--window', '{args.window}', "
        f"'--min-shared', '{args.min_weight}']); s = ParquetStore({str(work / 'ws')!r}); "
        "c = s.scores('clusters'); m = s.scores('members'); "
        "print(json.dumps(m.join(c.filter('flagged'), on='cluster_id')['account_uid'].to_list()))")
    cib_s, cib_rss, out = run(cib_code)
    cib_flagged = set(json.loads(out))
    # the same posts, as CNT's CSV input (exported from cib's workspace so both read identical data)
    import polars as pl

    from cib.store import ParquetStore

    posts = ParquetStore(work / "ws").posts().collect()
    with open(work / "cnt.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"])
        for row in posts.select("uid", "account_uid", "handle", "repost_of", "reply_to", "text", "created_at",
                                pl.col("urls").list.join(" ")).iter_rows():
            writer.writerow([row[0], row[1], row[2] or "", row[3] or "", row[4] or "", row[5] or "",
                             int(row[6].timestamp()), row[7]])
    cnt_code = (
        "import json, sqlite3; import coordination_network_toolkit as cnt; "
        "from coordination_network_toolkit.preprocess import preprocess_csv_files; "
        "from coordination_network_toolkit.compute_networks import compute_co_retweet_parallel, "
        "compute_co_link_network, compute_co_tweet_network; "
        f"db = {str(work / 'cnt.db')!r}; preprocess_csv_files(db, [{str(work / 'cnt.csv')!r}]); "
        f"compute_co_retweet_parallel(db, {args.window}, n_threads=2, min_edge_weight={args.min_weight}); "
        f"compute_co_link_network(db, {args.window}, n_threads=2, min_edge_weight={args.min_weight}); "
        f"compute_co_tweet_network(db, {args.window}, n_threads=2, min_edge_weight={args.min_weight}); "
        "con = sqlite3.connect(db); users = set(); "
        "[users.update(r) for q in ('select user_1, user_2 from co_retweet_network', "
        "'select user_1, user_2 from co_link_network', 'select user_1, user_2 from co_tweet_network') "
        " for r in con.execute(q) if r[0] != r[1]]; "
        "print('@@' + json.dumps(sorted(users)))")
    cnt_s, cnt_rss, out = run(cnt_code)
    cnt_flagged = set(json.loads(out.split("@@", 1)[1]))
    print(f"scenario: seed {args.seed}, {posts.height:,} posts, {len(truth)} coordinated accounts; "
          f"window {args.window} s, min edge weight {args.min_weight}")
    print(f"{'tool':<34} {'precision':>9} {'recall':>7} {'F1':>6} {'flagged':>8} {'time s':>7} {'peak MiB':>9}")
    for name, flagged, seconds, rss in (("cib (load + score)", cib_flagged, cib_s, cib_rss),
                                        ("coordination-network-toolkit 1.5.2", cnt_flagged, cnt_s, cnt_rss)):
        p, r, f = prf(flagged, truth)
        print(f"{name:<34} {p:9.3f} {r:7.3f} {f:6.3f} {len(flagged):8,} {seconds:7.1f} {rss:9.0f}")


if __name__ == "__main__":
    main()
