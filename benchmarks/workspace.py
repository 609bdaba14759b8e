"""Workspace overhead: many small input files in one load (per-file cost must stay flat: the list of inputs is
written once per load, not once per file), and the cost of committing a generation.

    python benchmarks/workspace.py --files 50 400

Prints, per run: files, posts, wall seconds of `cib load` and milliseconds per file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, nargs="+", default=[50, 400])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cib-bench/workspace"))
    args = parser.parse_args()
    from cib.scenario import generate

    shutil.rmtree(args.workdir, ignore_errors=True)
    generate(args.workdir / "scenario", seed=3, accounts=100, days=3, posts_per_account=4)
    lines = (args.workdir / "scenario" / "x" / "tweets.jsonl").read_text("utf-8").splitlines()
    for n in args.files:
        inputs = args.workdir / f"in{n}"
        inputs.mkdir()
        for i in range(n):  # n distinct small exports
            page = json.loads(lines[i % len(lines)])
            page["meta"] = {**page.get("meta", {}), "next_token": f"bench{i}"}  # distinct content, same posts
            (inputs / f"part{i:05d}.jsonl").write_text(json.dumps(page) + "\n", "utf-8")
        ws = args.workdir / f"ws{n}"
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "cib", "load", str(inputs), "-w", str(ws), "--silent", "--json"],
                             capture_output=True, text=True, check=True).stdout
        seconds = time.perf_counter() - start
        summary = json.loads(out)
        print(json.dumps({"files": n, "posts": summary["workspace"]["posts"], "load_seconds": round(seconds, 2),
                          "ms_per_file": round(1000 * seconds / n, 1)}))


if __name__ == "__main__":
    main()
