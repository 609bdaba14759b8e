"""`cib load` speed: records/s on a mixed four-platform export, file-count scaling, peak RSS, media hashing.

Usage::

    python benchmarks/load_speed.py --posts 1000000 --files 10000 [--jobs 2] [--workdir /tmp/cib-load-bench]

Figures printed:

1. **mixed**: the scenario generator's four-platform export (X v2 JSONL, Telegram result.json, TikTok
   Zeeschuimer NDJSON, CrowdTangle CSV) of about `--posts` posts, loaded by ``cib load`` in a child
   process. Media files are moved aside first, so records/s excludes media hashing.
2. **scaling**: the same Telegram messages written once as one big channel export and once as `--files`
   small channel exports; both loaded; records/s of each and their ratio (1.0 = linear in file count).
3. **media**: sha256 + PDQ + pHash of the scenario's images (files/s), the cost records/s leaves out.

Wall time, CPU time (user+sys of cib and its worker processes) and peak RSS (the largest single process)
are reported. On a shared machine, wall-clock figures depend on the load; CPU seconds show the work.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

CIB = [sys.executable, "-m", "cib"]


def run_load(paths: list[Path], ws: Path, jobs: int) -> dict[str, float]:
    """Run ``cib load`` in a child; return wall s, CPU s, peak RSS MiB, records read."""
    shutil.rmtree(ws, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run([*CIB, "load", *map(str, paths), "-w", str(ws), "--silent", "--json", "--jobs", str(jobs)],
                         capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode not in (0, 3):
        sys.exit(f"cib load failed ({out.returncode}): {out.stderr[-2000:]}")
    summary = json.loads(out.stdout)
    assert summary["reconciled"], "counts do not reconcile"
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "rss": after.ru_maxrss / 1024, "read": summary["read"],
            "posts": summary["workspace"]["posts"]}


def show(label: str, r: dict[str, float]) -> None:
    print(f"{label:28} {r['read']:>10,.0f} records  wall {r['wall']:7.1f} s -> {r['read'] / r['wall']:>9,.0f} records/s"
          f"   CPU {r['cpu']:7.1f} s -> {r['read'] / max(r['cpu'], 1e-9):>9,.0f} records/CPU-s   peak RSS {r['rss']:6.0f} MiB")


def mixed(work: Path, posts: int, jobs: int) -> Path:
    scenario = work / f"mixed-{posts}"
    if not (scenario / "ground_truth.json").exists():
        from cib.scenario import generate

        shutil.rmtree(scenario, ignore_errors=True)
        generate(scenario, seed=1, accounts=max(200, posts // (4 * 21)))
    media = work / f"media-{posts}"
    for folder in scenario.rglob("photos"):
        if folder.is_dir():
            shutil.rmtree(media, ignore_errors=True)
            shutil.move(str(folder), media)
    show(f"mixed four-platform, j={jobs}", run_load([scenario], work / "ws-mixed", jobs))
    return media


def channel(chat_id: int, messages: list[dict[str, object]]) -> str:
    return json.dumps({"name": f"channel {chat_id}", "type": "public_channel", "id": chat_id, "messages": messages},
                      ensure_ascii=False)


def scaling(work: Path, files: int, per_file: int, jobs: int) -> None:
    rng = random.Random(7)
    words = "правда news breaking вони брешуть sanctions world today video watch share now".split()
    big, small = work / f"tg-one-{files}", work / f"tg-many-{files}"
    if not (small / f"{files - 1:05d}" / "result.json").exists():
        shutil.rmtree(big, ignore_errors=True)
        shutil.rmtree(small, ignore_errors=True)
        all_msgs = []
        for f in range(files):
            msgs = [{"id": m + 1, "type": "message", "date": "2024-03-01T10:00:00",
                     "date_unixtime": str(1709287200 + rng.randrange(86400 * 30)), "from": f"channel {f}",
                     "from_id": f"channel{1000 + f}", "text": " ".join(rng.choices(words, k=12)),
                     **({"forwarded_from": "hub", "forwarded_from_id": "channel7"} if rng.random() < 0.2 else {})}
                    for m in range(per_file)]
            (small / f"{f:05d}").mkdir(parents=True)
            (small / f"{f:05d}" / "result.json").write_text(channel(1000 + f, msgs), "utf-8")
            all_msgs.extend({**m, "id": len(all_msgs) + i + 1} for i, m in enumerate(msgs))
        big.mkdir(parents=True)
        (big / "result.json").write_text(channel(999, all_msgs), "utf-8")
    one = run_load([big], work / "ws-one", jobs)
    many = run_load([small], work / "ws-many", jobs)
    show("telegram, 1 file", one)
    show(f"telegram, {files:,} files", many)
    print(f"{'file-count scaling':28} records/s of {files:,} files / 1 file = "
          f"{(many['read'] / many['wall']) / (one['read'] / one['wall']):.2f} (wall), "
          f"{(many['read'] / many['cpu']) / (one['read'] / one['cpu']):.2f} (CPU)")


def media_speed(media: Path) -> None:
    from cib.mediahash import default_hasher

    files = sorted(p for p in media.rglob("*") if p.is_file())[:500]
    if not files:
        print("media: no media files in the scenario")
        return
    start = time.perf_counter()
    hasher = default_hasher()
    for path in files:
        hasher.hash_file(path)
    seconds = time.perf_counter() - start
    print(f"{'media hashing (images)':28} {len(files):>10,} files  {seconds:7.1f} s -> {len(files) / seconds:,.0f} files/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1_000_000, help="approximate posts in the mixed export")
    parser.add_argument("--files", type=int, default=10_000, help="small Telegram exports for the scaling test")
    parser.add_argument("--per-file", type=int, default=20, help="messages per small Telegram export")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="cib load --jobs")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cib-load-bench"))
    parser.add_argument("--skip", choices=["mixed", "scaling", "media"], action="append", default=[])
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    media = args.workdir / f"media-{args.posts}"
    if "mixed" not in args.skip:
        media = mixed(args.workdir, args.posts, args.jobs)
    if "scaling" not in args.skip:
        scaling(args.workdir, args.files, args.per_file, args.jobs)
    if "media" not in args.skip:
        media_speed(media)


if __name__ == "__main__":
    main()
